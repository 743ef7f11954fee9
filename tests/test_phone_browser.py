"""A seller on a phone (360×640, touch), in Debian's chromium: failed taps said where the thumb is, form errors
focused, the phone's Back and Forward inside a run, titles that name the step, the first answer above the fold.

The hand-built `checker` fixture (slug "demo") branches like this (see tests/conftest.py):

    First ─Yes→ Second ─Yes→ resolved
      │            └No→ Third ─Fixed→ resolved
      └No→ escalate              └Still broken→ escalate
"""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from troubleshoot.models import Answer, Run

browser_test = pytest.mark.django_db(transaction=True)

PHONE = {"width": 360, "height": 640}


def answer(page: Page, label: str) -> None:
    page.locator("#checker").get_by_role("button", name=label, exact=True).click()


def heading(page: Page):
    return page.locator("#panel-heading")


def live_labels(run: Run) -> list[str]:
    return list(run.answers.filter(withdrawn_at__isnull=True).values_list("choice_label", flat=True))


def tap_problem(page: Page):
    """The message beside the answers of the panel's form."""
    return page.locator("#checker form fieldset + .tap-problem")


@pytest.fixture
def phone(browser: Browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == []


@pytest.fixture
def no_js_phone(browser: Browser):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


# 1. A failed tap


@browser_test
def test_offline_first_tap_is_told_beside_the_answers_and_retry_starts_one_run(live_server, phone, checker):
    phone.goto(f"{live_server.url}/troubleshoot/demo/")
    phone.context.set_offline(True)
    answer(phone, "Yes")
    expect(tap_problem(phone)).to_contain_text("You seem to be offline.")
    expect(tap_problem(phone)).not_to_contain_text("saved")  # nothing is stored before the first answer arrives
    expect(tap_problem(phone)).to_be_in_viewport()
    expect(phone.locator("#connection-problem")).to_be_hidden()
    assert Run.objects.count() == 0

    phone.context.set_offline(False)
    tap_problem(phone).get_by_role("button", name="Retry").click()
    expect(heading(phone)).to_have_text("Second")
    run = Run.objects.get()
    assert live_labels(run) == ["Yes"]
    assert Answer.objects.count() == 1


@browser_test
def test_offline_tap_on_a_run_retries_the_same_answer_once(live_server, phone, checker):
    phone.goto(f"{live_server.url}/troubleshoot/demo/")
    answer(phone, "Yes")
    expect(heading(phone)).to_have_text("Second")
    phone.context.set_offline(True)
    answer(phone, "No")
    expect(tap_problem(phone)).to_have_text(re.compile(r"You seem to be offline\..*Your answers so far are saved\."))
    expect(tap_problem(phone)).to_be_in_viewport()
    expect(heading(phone)).to_have_text("Second")

    phone.context.set_offline(False)
    tap_problem(phone).get_by_role("button", name="Retry").click()
    expect(heading(phone)).to_have_text("Third")
    expect(tap_problem(phone)).to_have_count(0)
    assert live_labels(Run.objects.get()) == ["Yes", "No"]
    assert Answer.objects.count() == 2


@browser_test
def test_server_error_and_timeout_say_so_beside_the_answers(live_server, phone, checker):
    phone.goto(f"{live_server.url}/troubleshoot/demo/")
    answer(phone, "Yes")
    expect(heading(phone)).to_have_text("Second")

    phone.route("**/answer/", lambda route: route.fulfill(status=500, body="Server Error"))
    answer(phone, "No")
    expect(tap_problem(phone)).to_contain_text("Something went wrong on our side.")
    phone.unroute("**/answer/")

    phone.evaluate("htmx.config.timeout = 300")
    phone.route("**/answer/", lambda route: None)  # never answered
    tap_problem(phone).get_by_role("button", name="Retry").click()
    expect(tap_problem(phone)).to_contain_text("This is taking longer than it should.")
    phone.unroute("**/answer/")

    phone.evaluate("htmx.config.timeout = 0")
    tap_problem(phone).get_by_role("button", name="Retry").click()
    expect(heading(phone)).to_have_text("Third")
    assert live_labels(Run.objects.get()) == ["Yes", "No"]


# 2. Form errors


@browser_test
@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_empty_support_form_focuses_its_first_invalid_field(live_server, browser, checker, javascript):
    context = browser.new_context(viewport=PHONE, java_script_enabled=javascript, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/troubleshoot/demo/")
    answer(page, "No")
    expect(heading(page)).to_have_text("Let's get support on it")
    page.get_by_role("button", name="Send to support").click()
    email = page.get_by_label("Your email")
    expect(email).to_be_focused()
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_be_in_viewport()
    expect(page.get_by_role("alert").filter(has_text="Please give the email support should reply to.")).to_have_count(1)
    context.close()


@browser_test
def test_none_fit_without_a_line_says_so_once_and_focuses_the_line(live_server, phone, checker):
    phone.goto(f"{live_server.url}/troubleshoot/demo/")
    phone.get_by_text("None of these fit?").click()
    phone.get_by_role("button", name="Take this to support").click()
    line = phone.get_by_label("In one line, what's different for you?")
    expect(line).to_be_focused()
    expect(phone.get_by_text("Tell us in a line what's different for you")).to_have_count(1)
    assert Run.objects.count() == 0


# 3. The phone's Back and Forward

RUN_STEP = r"/troubleshoot/demo/(?P<run>[0-9a-f-]{36})/\?at=(?P<at>\d+)$"


def where(page: Page) -> tuple[str, int]:
    """The run and the step number in the page's address."""
    found = re.search(RUN_STEP, page.url)
    assert found, page.url
    return found["run"], int(found["at"])


@browser_test
@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_back_and_forward_move_one_step_of_the_same_run(live_server, browser, checker, javascript):
    context = browser.new_context(viewport=PHONE, java_script_enabled=javascript, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/troubleshoot/demo/")
    answer(page, "Yes")
    expect(heading(page)).to_have_text("Second")
    answer(page, "No")
    expect(heading(page)).to_have_text("Third")
    run = str(Run.objects.get().pk)
    assert where(page) == (run, 3)

    page.go_back()
    expect(heading(page)).to_have_text("Second")
    assert where(page) == (run, 2)
    expect(page.locator("#checker .progress")).to_contain_text("Step 2")
    if javascript:  # the start page's entry became step 1 of the run
        page.go_back()
        expect(heading(page)).to_have_text("First")
        assert where(page) == (run, 1)
        page.go_forward()
        expect(heading(page)).to_have_text("Second")
    page.go_forward()
    expect(heading(page)).to_have_text("Third")
    assert where(page) == (run, 3)

    # Answering from an earlier step goes back to it, then answers: one run, Third's answer withdrawn.
    page.go_back()
    expect(heading(page)).to_have_text("Second")
    answer(page, "Yes")
    expect(heading(page)).to_have_text("Glad it's fixed!")
    assert Run.objects.count() == 1
    assert live_labels(Run.objects.get()) == ["Yes", "Yes"]
    assert Run.objects.get().outcome == Run.Outcome.RESOLVED
    context.close()


@browser_test
def test_without_javascript_back_to_the_start_page_stays_in_the_run(live_server, no_js_phone, checker):
    """Back from step 2 shows the start page as the browser kept it, with the run's id: answering it there answers
    the run's first step again (the answers after it withdrawn), so it is still one run."""
    page = no_js_phone
    page.goto(f"{live_server.url}/troubleshoot/demo/")
    answer(page, "Yes")
    answer(page, "No")
    expect(heading(page)).to_have_text("Third")
    run = Run.objects.get()
    page.go_back()
    page.go_back()
    expect(heading(page)).to_have_text("First")
    answer(page, "No")
    expect(page.locator("#checker")).to_contain_text("support")
    assert Run.objects.count() == 1 and where(page)[0] == str(run.pk)
    run.refresh_from_db()
    assert (live_labels(run), run.outcome) == (["No"], Run.Outcome.ESCALATED)


# 4. The first answer above the fold


@browser_test
def test_first_answer_of_every_checker_is_visible_without_scrolling(live_server, phone, library):
    from troubleshoot.models import Checker

    checkers = list(Checker.objects.published().order_by("slug"))
    assert len(checkers) >= 33  # the whole library, the new checkers included
    below = []
    for checker in checkers:
        phone.goto(f"{live_server.url}{checker.get_absolute_url()}")
        first = phone.locator("#checker .choices button").first
        box = first.bounding_box()
        if box["y"] + box["height"] > PHONE["height"]:
            below.append(f"{checker.slug}: {box['y'] + box['height']:.0f}px")
    assert below == [], below


# 6. The title names the step or the ending


@browser_test
@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_title_names_the_step_and_the_ending(live_server, browser, checker, javascript):
    context = browser.new_context(viewport=PHONE, java_script_enabled=javascript, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/troubleshoot/demo/")
    expect(page).to_have_title("Demo checker demo · Seller help")
    answer(page, "Yes")
    expect(page).to_have_title("Step 2: Second – Demo checker demo · Seller help")
    answer(page, "No")
    expect(page).to_have_title("Step 3: Third – Demo checker demo · Seller help")
    answer(page, "Fixed")
    expect(page).to_have_title("Fixed – Demo checker demo · Seller help")
    page.goto(f"{live_server.url}/troubleshoot/demo/")
    answer(page, "No")
    expect(page).to_have_title("Contact support – Demo checker demo · Seller help")
    context.close()


# 7. Focus and what a screen reader hears


@browser_test
def test_new_steps_heading_has_visible_focus_and_its_progress_after_it(live_server, phone, checker):
    phone.goto(f"{live_server.url}/troubleshoot/demo/")
    answer(phone, "Yes")
    expect(heading(phone)).to_be_focused()
    assert heading(phone).evaluate("h => getComputedStyle(h).outlineStyle") != "none"
    after = heading(phone).evaluate("h => h.nextElementSibling.textContent")
    assert " ".join(after.split()) == "Step 2 of up to 3"


@browser_test
def test_skip_link_moves_focus_to_the_main_content(live_server, page, checker):
    page.goto(f"{live_server.url}/troubleshoot/demo/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


@browser_test
def test_search_as_you_type_announces_only_how_many_results(live_server, phone, library):
    phone.goto(live_server.url)
    phone.get_by_label("Search help or paste an error message").fill("ebay token expired")
    expect(phone.locator("#search-results .card").first).to_be_visible()
    shown = phone.locator("#search-results .card").count()
    expect(phone.get_by_role("status")).to_have_text(f"{shown} result{'s' if shown != 1 else ''}")
    assert phone.locator("#search-results[aria-live], #search-results [aria-live]").count() == 0
