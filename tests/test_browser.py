"""Browser tests: a seller walking a checker in Debian's chromium, with htmx (JavaScript on) and without it.

Every test drives the real page served by `live_server` and then checks what was logged in the database.
`transaction=True` lets the server thread see the test's data; Playwright's `expect` waits for each change, so no
test sleeps. The hand-built `checker` fixture (slug "demo") branches like this:

    First ─Yes→ Second ─Yes→ resolved
      │            └No→ Third ─Fixed→ resolved
      └No→ escalate              └Still broken→ escalate

The mobile test also takes screenshots {home,checker,support}-mobile.png: into a temporary folder, or into
$SCREENSHOT_DIR when set (`make screenshots` refreshes docs/screenshots/ that way). Truly simultaneous duplicate
requests are not tested here: the test database is in-memory SQLite, whose one connection the live server's threads
share, so parallel requests fail with "database table is locked" in a way production never would. (A double click
sends one request in chromium, with or without htmx; the server's duplicate handling belongs in the flow tests.)
"""

import os
import re
import uuid
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from support.models import SupportRequest
from tests.factories import categories_with_checkers
from troubleshoot.models import Answer, Run, Step

browser_test = pytest.mark.django_db(transaction=True)

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
REFERENCE = re.compile(r"^HC-[A-HJ-NP-Z2-9]{6}$")
MOBILE = {"width": 375, "height": 740}


# Helpers


def run_url(slug: str) -> re.Pattern:
    """The address of a run of checker `slug`, as pushed by htmx or redirected to without JavaScript."""
    return re.compile(rf"/troubleshoot/{slug}/{UUID}/(\?at=\d+)?$")


def answer(page: Page, label: str) -> None:
    page.locator("#checker").get_by_role("button", name=label, exact=True).click()


def heading(page: Page):
    return page.locator("#panel-heading")


def progress(page: Page):
    return page.locator("#checker .progress")


def expect_step(page: Page, title: str, number: int, up_to: int) -> None:
    expect(heading(page)).to_have_text(title)
    expect(progress(page)).to_have_text(re.compile(rf"^\s*Step {number}\s+of up to {up_to}\s*$"))


def mark_page(page: Page) -> None:
    """Set a flag that only survives while the document does: a full page load wipes it."""
    page.evaluate("window.__marker = 1")


def assert_same_document(page: Page) -> None:
    assert page.evaluate("window.__marker") == 1, "the answer reloaded the whole page instead of swapping the panel"


def the_run() -> Run:
    return Run.objects.get()


def live_labels(run: Run) -> list[str]:
    return list(run.answers.filter(withdrawn_at__isnull=True).values_list("choice_label", flat=True))


def send_to_support(page: Page, email: str, description: str) -> None:
    page.get_by_label("Your email").fill(email)
    page.get_by_label("What happened?").fill(description)
    page.get_by_role("button", name="Send to support").click()


def no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= MOBILE["width"], f"{page.url} scrolls sideways: {width}px wide"


# Fixtures


@pytest.fixture
def page_errors(page: Page) -> list[str]:
    """JavaScript errors raised on `page`; tests assert there were none."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.fixture
def no_js_page(browser: Browser):
    context = browser.new_context(java_script_enabled=False)
    yield context.new_page()
    context.close()


@pytest.fixture
def mobile_page(browser: Browser):
    context = browser.new_context(viewport=MOBILE, device_scale_factor=2, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


# With htmx


@browser_test
def test_answers_swap_the_panel_in_place_and_a_fixed_note_is_saved(live_server, page, page_errors, checker):
    page.goto(f"{live_server.url}/troubleshoot/demo/")
    expect_step(page, "First", 1, 3)
    mark_page(page)

    answer(page, "Yes")
    expect_step(page, "Second", 2, 3)
    expect(page).to_have_url(run_url("demo"))
    expect(heading(page)).to_be_focused()
    assert_same_document(page)
    url_after_first_answer = page.url

    answer(page, "Yes")
    expect(heading(page)).to_have_text("Glad it's fixed!")
    expect(heading(page)).to_be_focused()
    expect(progress(page)).to_have_count(0)
    expect(page).to_have_url(url_after_first_answer.replace("?at=2", "?at=3"))  # each step its address
    assert_same_document(page)

    page.get_by_label("What fixed it? (optional)").fill("Logging out of Xero and back in.")
    page.get_by_role("button", name="Send note").click()
    expect(page.get_by_role("status")).to_have_text("Thanks for telling us what fixed it.")
    assert_same_document(page)

    run = the_run()
    assert page.url.endswith(f"/troubleshoot/demo/{run.pk}/?at=3")
    assert run.outcome == Run.Outcome.RESOLVED
    assert live_labels(run) == ["Yes", "Yes"]
    assert run.fixed_note == "Logging out of Xero and back in."
    assert run.source == Run.Source.DIRECT

    page.reload()
    expect(heading(page)).to_have_text("Glad it's fixed!")
    expect(page.get_by_role("status")).to_have_text("Thanks for telling us what fixed it.")
    expect(page.get_by_role("button", name="Send note")).to_have_count(0)
    assert page_errors == []


@browser_test
def test_escalated_run_keeps_typed_email_on_error_and_shows_the_stored_reference(
    live_server, page, page_errors, checker
):
    page.goto(f"{live_server.url}/troubleshoot/demo/")
    answer(page, "Yes")
    expect_step(page, "Second", 2, 3)
    answer(page, "No")
    expect_step(page, "Third", 3, 3)
    mark_page(page)
    answer(page, "Still broken")
    expect(heading(page)).to_have_text("Let's get support on it")
    expect(page.get_by_text("The settlement ID and the exact message.")).to_be_visible()

    send_to_support(page, "seller@example.com", "")
    expect(page.get_by_role("alert")).to_have_text("Please tell us what happened.")
    expect(page.get_by_label("Your email")).to_have_value("seller@example.com")
    expect(heading(page)).to_have_text("Let's get support on it")
    expect(page.locator("#connection-problem")).to_be_hidden()
    assert not SupportRequest.objects.exists()

    page.get_by_label("What happened?").fill("It still says the token is kaput.")
    page.get_by_role("button", name="Send to support").click()
    expect(heading(page)).to_have_text("Your request is with support")
    expect(page.locator(".reference")).to_have_text(REFERENCE)
    assert_same_document(page)

    request = SupportRequest.objects.select_related("run").get()
    expect(page.locator(".reference")).to_have_text(request.reference)
    assert request.email == "seller@example.com"
    assert request.description == "It still says the token is kaput."
    assert request.run.outcome == Run.Outcome.ESCALATED
    assert live_labels(request.run) == ["Yes", "No", "Still broken"]
    # Once sent, the answers can't be taken back.
    expect(page.get_by_role("button", name="← Back")).to_have_count(0)
    assert page_errors == []


@browser_test
def test_back_withdraws_the_last_answer_and_reopens_its_step(live_server, page, page_errors, checker):
    page.goto(f"{live_server.url}/troubleshoot/demo/")
    answer(page, "Yes")
    expect_step(page, "Second", 2, 3)
    mark_page(page)

    page.get_by_role("button", name="← Back").click()
    expect_step(page, "First", 1, 3)
    expect(heading(page)).to_be_focused()
    expect(page).to_have_url(run_url("demo"))
    assert_same_document(page)

    withdrawn = Answer.objects.get()
    assert withdrawn.choice_label == "Yes"
    assert withdrawn.withdrawn_at is not None
    assert the_run().current_step_key == "start"

    answer(page, "No")
    expect(heading(page)).to_have_text("Let's get support on it")
    run = the_run()
    assert run.outcome == Run.Outcome.ESCALATED
    assert live_labels(run) == ["No"]
    assert run.answers.count() == 2
    assert page_errors == []


@browser_test
def test_double_click_records_one_run_and_one_answer_per_step(live_server, page, page_errors, checker):
    page.goto(f"{live_server.url}/troubleshoot/demo/")
    page.get_by_role("button", name="Yes", exact=True).dblclick()
    expect_step(page, "Second", 2, 3)

    page.get_by_role("button", name="Yes", exact=True).dblclick()
    expect(heading(page)).to_have_text("Glad it's fixed!")

    run = the_run()
    assert run.outcome == Run.Outcome.RESOLVED
    assert list(run.answers.values_list("step_key", "choice_label", "withdrawn_at")) == [
        ("start", "Yes", None),
        ("second", "Yes", None),
    ]
    expect(page.locator("#connection-problem")).to_be_hidden()
    assert page_errors == []


@browser_test
def test_server_error_is_told_beside_the_answers_and_keeps_the_step(live_server, page, page_errors, checker):
    page.goto(f"{live_server.url}/troubleshoot/demo/")
    answer(page, "Yes")
    expect_step(page, "Second", 2, 3)

    page.route("**/answer/", lambda route: route.fulfill(status=500, body="Server Error"))
    answer(page, "No")
    expect(page.locator("#checker .tap-problem")).to_contain_text("Something went wrong on our side.")
    expect(page.locator("#connection-problem")).to_be_hidden()  # said where the seller tapped, not at the top
    expect_step(page, "Second", 2, 3)
    assert live_labels(the_run()) == ["Yes"]

    page.unroute("**/answer/")
    answer(page, "No")
    expect_step(page, "Third", 3, 3)
    assert page_errors == []


@browser_test
def test_browser_back_after_answers_shows_the_step_before_of_the_same_run(live_server, page, page_errors, checker):
    start = f"{live_server.url}/troubleshoot/demo/"
    page.goto(start)
    answer(page, "Yes")
    expect_step(page, "Second", 2, 3)
    answer(page, "No")
    expect_step(page, "Third", 3, 3)
    run_address = page.url

    # Each answer pushed its step's address (?at=<number>); the start page's entry became the run's step 1.
    page.go_back()
    expect_step(page, "Second", 2, 3)
    page.go_back()
    expect_step(page, "First", 1, 3)
    expect(page).to_have_url(re.compile(rf"/troubleshoot/demo/{the_run().pk}/\?at=1$"))

    page.go_forward()
    expect_step(page, "Second", 2, 3)
    page.go_forward()
    expect(page).to_have_url(run_address)
    expect_step(page, "Third", 3, 3)
    assert Run.objects.count() == 1
    assert page_errors == []


@browser_test
def test_stale_answer_from_a_second_tab_shows_the_current_step_without_an_error_banner(
    live_server, page, page_errors, checker
):
    page.goto(f"{live_server.url}/troubleshoot/demo/")
    answer(page, "Yes")
    expect_step(page, "Second", 2, 3)

    tab2 = page.context.new_page()
    tab2.goto(page.url)
    expect_step(tab2, "Second", 2, 3)

    answer(page, "No")
    expect_step(page, "Third", 3, 3)

    answer(tab2, "Yes")
    expect(tab2.get_by_role("alert")).to_contain_text("You've already answered that step")
    expect_step(tab2, "Third", 3, 3)
    expect(tab2.locator("#connection-problem")).to_be_hidden()

    run = the_run()
    assert run.outcome == Run.Outcome.OPEN
    assert run.current_step_key == "third"
    assert live_labels(run) == ["Yes", "No"]
    tab2.close()
    assert page_errors == []


# As `make run` serves it: DEBUG on, which adds django-htmx's debug script. It takes over 400/403/404/500 answers
# to htmx and shows them full page, which once wiped the seller's page on every refused answer.


@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True


@browser_test
def test_with_debug_on_refused_answers_and_form_errors_keep_the_page(live_server, page, page_errors, checker, debug_on):
    page.goto(f"{live_server.url}/troubleshoot/demo/")
    expect(page.locator('script[src$="django-htmx.js"]')).to_have_count(1)  # the debug script is really there
    answer(page, "Yes")
    expect_step(page, "Second", 2, 3)
    mark_page(page)

    tab2 = page.context.new_page()
    tab2.goto(page.url)
    answer(page, "No")
    expect_step(page, "Third", 3, 3)
    answer(tab2, "Yes")  # stale: refused with the current step
    expect(tab2.get_by_role("alert")).to_contain_text("You've already answered that step")
    expect(tab2.locator("header.site")).to_be_visible()
    expect(tab2).to_have_title(re.compile("Demo checker demo"))
    tab2.close()

    answer(page, "Still broken")
    expect(heading(page)).to_have_text("Let's get support on it")
    send_to_support(page, "", "It hangs.")  # the email left empty: a form error
    expect(page.get_by_role("alert")).to_contain_text("Please give the email support should reply to.")
    expect(page.get_by_label("What happened?")).to_have_value("It hangs.")
    expect(page.locator("header.site")).to_be_visible()
    expect(page.locator("h1")).to_have_text("Demo checker demo")
    expect(page).to_have_title(re.compile("Demo checker demo"))
    assert_same_document(page)
    assert page_errors == []


# Without JavaScript


@browser_test
def test_without_javascript_answers_post_and_redirect_and_support_form_works(live_server, no_js_page, checker):
    page = no_js_page
    start = f"{live_server.url}/troubleshoot/demo/"

    page.goto(start)
    answer(page, "Yes")
    expect(page).to_have_url(run_url("demo"))
    expect_step(page, "Second", 2, 3)
    resolved_url = page.url.replace("?at=2", "?at=3")
    answer(page, "Yes")
    expect(page).to_have_url(resolved_url)
    expect(heading(page)).to_have_text("Glad it's fixed!")
    page.get_by_label("What fixed it? (optional)").fill("Reconnected.")
    page.get_by_role("button", name="Send note").click()
    expect(page.get_by_role("status")).to_have_text("Thanks for telling us what fixed it.")
    expect(page).to_have_url(resolved_url)

    resolved = Run.objects.get(outcome=Run.Outcome.RESOLVED)
    assert resolved_url.endswith(f"{resolved.get_absolute_url()}?at=3")
    assert live_labels(resolved) == ["Yes", "Yes"]
    assert resolved.fixed_note == "Reconnected."

    page.goto(start)
    answer(page, "Yes")
    expect(page).to_have_url(run_url("demo"))
    escalated_url = page.url.replace("?at=2", "?at=4")  # where the run ends, after three answers
    assert escalated_url != resolved_url, "a new visit to the checker must start a new run"
    answer(page, "No")
    expect(page).to_have_url(escalated_url.replace("?at=4", "?at=3"))
    expect_step(page, "Third", 3, 3)
    answer(page, "Still broken")
    expect(page).to_have_url(escalated_url)
    expect(heading(page)).to_have_text("Let's get support on it")

    send_to_support(page, "nojs@example.com", "   ")
    expect(page.get_by_role("alert")).to_have_text("Please tell us what happened.")
    expect(page.get_by_label("Your email")).to_have_value("nojs@example.com")

    page.get_by_label("What happened?").fill("Still broken without JavaScript.")
    page.get_by_role("button", name="Send to support").click()
    expect(page).to_have_url(escalated_url)
    expect(heading(page)).to_have_text("Your request is with support")

    escalated = Run.objects.get(outcome=Run.Outcome.ESCALATED)
    assert escalated_url.endswith(f"{escalated.get_absolute_url()}?at=4")
    assert live_labels(escalated) == ["Yes", "No", "Still broken"]
    expect(page.locator(".reference")).to_have_text(escalated.support_request.reference)
    assert Run.objects.count() == 2


@browser_test
def test_without_javascript_double_click_records_one_run_and_one_answer_per_step(live_server, no_js_page, checker):
    page = no_js_page
    page.goto(f"{live_server.url}/troubleshoot/demo/")
    page.get_by_role("button", name="Yes", exact=True).dblclick()
    expect(page).to_have_url(run_url("demo"))
    expect_step(page, "Second", 2, 3)

    page.get_by_role("button", name="Yes", exact=True).dblclick()
    expect(heading(page)).to_have_text("Glad it's fixed!")

    run = the_run()
    assert page.url.endswith(f"{run.get_absolute_url()}?at=3")
    assert list(run.answers.values_list("step_key", "choice_label", "withdrawn_at")) == [
        ("start", "Yes", None),
        ("second", "Yes", None),
    ]


@browser_test
def test_without_javascript_back_and_start_over_work(live_server, no_js_page, checker):
    page = no_js_page
    page.goto(f"{live_server.url}/troubleshoot/demo/")
    answer(page, "Yes")
    expect_step(page, "Second", 2, 3)
    url = page.url

    page.get_by_role("button", name="← Back").click()
    expect(page).to_have_url(url.replace("?at=2", "?at=1"))
    expect_step(page, "First", 1, 3)
    assert Answer.objects.get().withdrawn_at is not None

    page.get_by_role("link", name="Start over").click()
    expect(page).to_have_url(f"{live_server.url}/troubleshoot/demo/?new")
    expect_step(page, "First", 1, 3)
    expect(page.get_by_role("button", name="← Back")).to_have_count(0)


# The real content library


@browser_test
def test_checker_opened_from_the_home_page_logs_source_home(live_server, page, page_errors, library):
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name=re.compile(r'^Stuck on the "Connect Bookkeeping Account" screen')).click()
    expect(page).to_have_url(re.compile(r"/troubleshoot/stuck-connect-bookkeeping/\?source=home$"))
    expect(heading(page)).to_have_text("Log in to Xero")
    mark_page(page)

    answer(page, "Yes")
    expect(heading(page)).to_have_text("Look at Xero's connected apps")
    expect(page).to_have_url(run_url("stuck-connect-bookkeeping"))
    answer(page, "No")
    expect(heading(page)).to_have_text("Connect again")
    answer(page, "Yes")
    expect(heading(page)).to_have_text("Glad it's fixed!")
    assert_same_document(page)

    run = the_run()
    assert run.checker.slug == "stuck-connect-bookkeeping"
    assert run.source == Run.Source.HOME
    assert run.outcome == Run.Outcome.RESOLVED
    assert live_labels(run) == ["Yes", "No", "Yes"]
    assert page_errors == []


@browser_test
def test_error_code_link_lands_on_its_checker_and_logs_source_email(live_server, page, page_errors, library):
    page.goto(f"{live_server.url}/e/XC-001/")
    expect(page).to_have_url(f"{live_server.url}/e/XC-001/")  # the checker's page at once, no redirect
    expect(heading(page)).to_have_text("Check which organisation is linked")

    answer(page, "It's an old or wrong organisation")
    expect(heading(page)).to_have_text("Has support unlinked it?")

    run = the_run()
    assert run.checker.slug == "wrong-xero-organisation"
    assert run.source == Run.Source.EMAIL
    assert run.error_code == "XC-001"
    assert page_errors == []


@browser_test
def test_search_as_you_type_on_the_home_page_and_the_opened_result_is_logged(live_server, page, page_errors, library):
    from search.models import SearchLog

    page.goto(f"{live_server.url}/")
    page.get_by_label("Search help or paste an error message").press_sequentially("xero disconected", delay=20)
    result = page.locator("#search-results").get_by_role("link", name=re.compile("^Xero shows as disconnected"))
    expect(result).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/")  # results came in place, no navigation
    result.click()
    expect(page).to_have_url(re.compile(r"/troubleshoot/xero-disconnected/\?source=search&q=xero"))
    answer(page, "Yes")
    expect(heading(page)).to_have_text("Reconnect Xero")

    row = SearchLog.objects.get()  # the box's as-you-type requests are one row
    assert (row.query, row.source, row.opened_slug) == ("xero disconected", "home", "xero-disconnected")
    run = the_run()
    assert run.source == Run.Source.SEARCH and run.source_detail == "xero disconected"
    assert page_errors == []


@browser_test
def test_without_javascript_search_is_a_plain_get(live_server, no_js_page, library):
    page = no_js_page
    page.goto(f"{live_server.url}/")
    page.get_by_label("Search help or paste an error message").fill("Error: Account Code Archived (400)")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page).to_have_url(re.compile(r"/search/\?q=Error"))
    expect(page.get_by_text("Matches your error")).to_be_visible()
    page.get_by_role("link", name=re.compile("^Account mapping errors")).click()
    expect(page).to_have_url(re.compile(r"/troubleshoot/account-mapping-error/\?source=search"))


@browser_test
def test_incident_banner_comes_first_and_search_pages_are_accessible(live_server, page, library):
    from incidents.models import Incident

    Incident.objects.create(message="Xero is having problems sending settlements.", everywhere=True)
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("status").first).to_contain_text("Known problem: Xero is having problems")
    page.get_by_label("Search help or paste an error message").press_sequentially("zzqx", delay=20)
    expect(page.locator("#search-results")).to_contain_text("We don't have a guide for this message yet")
    assert_accessible(page, "home with an incident and a search that found nothing")
    page.goto(f"{live_server.url}/category/sending-settlements/")
    assert_accessible(page, "category")
    page.goto(f"{live_server.url}/e/UNKNOWN-9/")
    expect(page.get_by_text("Known problem:")).to_be_visible()
    assert_accessible(page, "unknown code with an incident")


# Mobile


@browser_test
def test_mobile_pages_fit_the_screen_with_big_enough_buttons(live_server, mobile_page, library, tmp_path):
    page = mobile_page
    SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)  # noqa: N806
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="What's going wrong?")).to_be_visible()
    no_horizontal_scroll(page)
    page.screenshot(path=SCREENSHOTS / "home-mobile.png", full_page=True)

    page.goto(f"{live_server.url}/troubleshoot/wrong-xero-organisation/")
    expect(heading(page)).to_have_text("Check which organisation is linked")
    no_horizontal_scroll(page)
    buttons = page.locator("#checker .choices button")
    expect(buttons).to_have_count(2)
    for button in buttons.all():
        box = button.bounding_box()
        assert box is not None
        assert box["height"] >= 44, f"{button.inner_text()!r} is only {box['height']}px tall"
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= MOBILE["width"]
    page.screenshot(path=SCREENSHOTS / "checker-mobile.png", full_page=True)

    # The longest pages: a step with a link button, then the support form.
    answer(page, "It's an old or wrong organisation")
    expect(heading(page)).to_have_text("Has support unlinked it?")
    answer(page, "Yes")
    expect(heading(page)).to_have_text("Connect the new organisation")
    no_horizontal_scroll(page)
    answer(page, "No")
    expect(heading(page)).to_have_text("Let's get support on it")
    no_horizontal_scroll(page)
    box = page.get_by_role("button", name="Send to support").bounding_box()
    assert box is not None and box["height"] >= 44
    page.screenshot(path=SCREENSHOTS / "support-mobile.png", full_page=True)


@browser_test
def test_many_topics_fit_a_phone(live_server, mobile_page, library, tmp_path):
    """With more categories than the home page shows: the next ones are named in links big enough to tap, and the
    page of every topic fits the screen too."""
    categories_with_checkers(1, 20, 2)
    page = mobile_page
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="More topics")).to_be_visible()
    no_horizontal_scroll(page)
    for link in page.locator(".topics a").all():
        box = link.bounding_box()
        assert box is not None and box["height"] >= 44, f"{link.inner_text()!r} is only {box['height']}px tall"
    assert_accessible(page, "home with more topics")
    page.screenshot(path=Path(os.environ.get("SCREENSHOT_DIR") or tmp_path) / "home-topics-mobile.png", full_page=True)
    from troubleshoot.models import Category

    page.get_by_role("link", name=f"All {Category.objects.count()} topics").click()  # the library's and these 20
    expect(page.get_by_role("heading", name="All topics")).to_be_visible()
    no_horizontal_scroll(page)
    assert_accessible(page, "all topics")


# Accessibility: axe-core (shipped inside axe-playwright-python, no download) on every kind of seller page.

AXE = Axe()


def assert_accessible(page: Page, what: str) -> None:
    results = AXE.run(page)
    assert results.violations_count == 0, f"{what}:\n{results.generate_report()}"


@browser_test
def test_seller_pages_have_no_accessibility_violations(live_server, page, library):
    page.goto(f"{live_server.url}/")
    assert_accessible(page, "home")
    page.goto(f"{live_server.url}/search/?q=Account+Code+Archived")
    assert_accessible(page, "search results")
    page.goto(f"{live_server.url}/articles/troubleshooting-xero-connection/")
    assert_accessible(page, "article")
    page.goto(f"{live_server.url}/troubleshoot/no-such-checker/")
    assert_accessible(page, "not found")

    page.goto(f"{live_server.url}/troubleshoot/stuck-connect-bookkeeping/")
    assert_accessible(page, "first step")
    answer(page, "Yes")
    expect(progress(page)).to_contain_text("Step 2")
    assert_accessible(page, "second step, swapped in by htmx")
    answer(page, "Yes")
    expect(progress(page)).to_contain_text("Step 3")
    answer(page, "No")
    expect(heading(page)).to_have_text("Let's get support on it")
    page.get_by_role("button", name="Send to support").click()
    expect(page.get_by_text("Please tell us what happened.")).to_be_visible()
    assert_accessible(page, "support form with errors")


# The editor


@browser_test
def test_editor_adds_a_step_with_answers_publishes_and_a_seller_walks_it(
    live_server, page, page_errors, checker, admin_user
):
    """An editor adds a step to the draft on the one checker page, points an answer at it, publishes, and a seller
    walks the new version, while a run started on version 1 finishes on version 1."""
    from troubleshoot import versioncache, walk

    old_run = walk.start_run(versioncache.flow_of(checker.live_version_id), uuid.uuid4(), "start", 0)
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/admin/troubleshoot/checker/{checker.pk}/change/")
    expect(page.locator(".flow-picture svg .node.step")).to_have_count(3)

    page.get_by_role("link", name="Add another Step").click()
    page.locator('input[name="steps-3-key"]').fill("restart-app")
    page.locator('input[name="steps-3-title"]').fill("Restart the app")
    page.locator('input[name="steps-3-question"]').fill("Did a restart fix it?")
    page.locator('textarea[name="steps-3-body"]').fill("Close the app **completely**, then open it again.")
    new_step = page.locator("#steps-3")
    expect(new_step.locator(".md-preview strong")).to_have_text("completely")  # rendered as it is typed
    for label, outcome in [("Yes, fixed", "resolved"), ("No", "escalate")]:
        new_step.get_by_role("link", name="Add another Answer").click()
        row = new_step.locator(".djn-dynamic-form-troubleshoot-choice:not(.djn-empty-form)").last
        row.locator('input[name$="-label"]').fill(label)
        row.locator('select[name$="-outcome"]').select_option(outcome)
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    expect(page.locator(".flow-picture")).to_contain_text("can't be reached")  # saved, with the problem shown

    # Point "Still broken" on the third step at the new step, instead of escalating.
    page.locator('select[name="steps-2-choices-1-outcome"]').select_option("next")
    page.locator('select[name="steps-2-choices-1-next_step"]').select_option("restart-app")  # by the step's key
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".flow-picture")).to_contain_text("Every path ends in resolved or escalate.")
    expect(page.locator(".md-preview strong")).to_have_text("completely")

    page.get_by_role("link", name="Publish…").click()
    expect(page.locator("table.changes")).to_contain_text('Step "restart-app"')
    page.get_by_label("Change note (optional)").fill("Try a restart before escalating")
    page.get_by_role("button", name="Publish version 2").click()
    expect(page.locator(".messagelist")).to_contain_text("Version 2 of Demo checker demo is live")

    seller = page.context.browser.new_page()
    seller.goto(f"{live_server.url}/troubleshoot/demo/")
    expect_step(seller, "First", 1, 4)
    answer(seller, "Yes")
    expect_step(seller, "Second", 2, 4)
    answer(seller, "No")
    expect_step(seller, "Third", 3, 4)
    answer(seller, "Still broken")
    expect_step(seller, "Restart the app", 4, 4)
    expect(seller.locator("#checker .prose strong")).to_have_text("completely")
    answer(seller, "Yes, fixed")
    expect(heading(seller)).to_have_text("Glad it's fixed!")
    new_run = Run.objects.exclude(pk=old_run.pk).get()
    assert new_run.version.number == 2 and new_run.outcome == Run.Outcome.RESOLVED
    assert list(new_run.answers.values_list("step_key", "answer_index")) == [
        ("start", 0),
        ("second", 1),
        ("third", 1),
        ("restart-app", 0),
    ]

    seller.goto(f"{live_server.url}{old_run.get_absolute_url()}")
    expect_step(seller, "Second", 2, 3)
    answer(seller, "No")
    expect_step(seller, "Third", 3, 3)
    answer(seller, "Still broken")
    expect(heading(seller)).to_have_text("Let's get support on it")  # version 1 still escalates there
    seller.close()
    assert page_errors == []


def sign_in(page: Page, live_server) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()


@browser_test
def test_preview_walks_the_draft_with_and_without_javascript_and_logs_nothing(
    live_server, page, page_errors, no_js_page, checker, admin_user
):
    Step.objects.filter(checker=checker, key="second").update(title="Second, in the draft")
    for walker in (page, no_js_page):
        sign_in(walker, live_server)
        walker.goto(f"{live_server.url}/troubleshoot/demo/preview/")
        expect(walker.locator(".preview-note")).to_be_visible()
        expect_step(walker, "First", 1, 3)
        answer(walker, "Yes")
        expect_step(walker, "Second, in the draft", 2, 3)
        answer(walker, "No")
        expect_step(walker, "Third", 3, 3)
        walker.get_by_role("link", name="← Back").click()
        expect_step(walker, "Second, in the draft", 2, 3)
        answer(walker, "Yes")
        expect(heading(walker)).to_have_text("Glad it's fixed!")
    assert not Run.objects.exists()
    assert page_errors == []
