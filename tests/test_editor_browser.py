"""The checker editor in chromium (issue 26): authoring a checker in few clicks, one save for a change, no lost edit,
and the keyboard alone.

Each test signs in to the admin served by `live_server` and checks what was stored. Clicks are counted by `Clicks`:
every click of the mouse the test makes goes through it, and a choice in a list counts as two (open it, pick one);
typing and Tab are not clicks.
"""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import Locator, Page, expect

from troubleshoot import versions
from troubleshoot.models import Article, Category, Checker, Choice, Step

browser_test = pytest.mark.django_db(transaction=True)
AXE = Axe()


class Clicks:
    """The mouse, counted."""

    def __init__(self):
        self.count = 0

    def click(self, target: Locator) -> None:
        target.click()
        self.count += 1

    def choose(self, select: Locator, value: str) -> None:
        select.select_option(value)
        self.count += 2


def sign_in(page: Page, live_server) -> None:
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()


def step_card(page: Page, n: int) -> Locator:
    """The n-th step on the page (0-based, as its form is numbered)."""
    return page.locator(f"#steps-{n}")


def answer_row(page: Page, step: int, n: int) -> Locator:
    return page.locator(f"#steps-{step}-choices-{n}")


def fill_step(page: Page, n: int, title: str, question: str, body: str = "") -> None:
    page.locator(f'[name="steps-{n}-title"]').fill(title)
    page.locator(f'[name="steps-{n}-question"]').fill(question)
    if body:
        page.locator(f'[name="steps-{n}-body"]').fill(body)


def targets(checker: Checker) -> dict[tuple[str, str], str]:
    rows = Choice.objects.filter(step__checker=checker).values_list("step__key", "label", "outcome", "next_step__key")
    return {(step, label): next_key or outcome for step, label, outcome, next_key in rows}


@browser_test
def test_a_four_step_checker_is_authored_and_published_in_30_clicks_and_changed_in_one_save(
    live_server, page, page_errors, admin_user
):
    Category.objects.create(slug="orders", name="Orders")
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/troubleshoot/checker/")
    clicks = Clicks()
    clicks.click(page.get_by_role("link", name="Add checker"))

    page.locator("#id_title").fill("Orders stopped syncing")  # the slug follows
    category = page.locator("#id_category")
    clicks.choose(category, category.locator("option", has_text="Orders").get_attribute("value"))
    page.locator("#id_symptom").fill("New orders don't reach Xero any more.")
    clicks.click(page.get_by_role("link", name="Add another Error Code"))
    page.locator('[name="error_codes-0-code"]').fill("SYNC-42")

    # The first step is on the page already, with two answer rows; "New step…" adds the step an answer goes to.
    fill_step(page, 0, "Check the connection", "Does it say Connected?", "Open **Settings → Connections**.")
    page.locator('[name="steps-0-choices-0-label"]').fill("Yes")
    clicks.choose(page.locator('[name="steps-0-choices-0-next_step"]'), "__new__")  # step 2
    page.locator('[name="steps-0-choices-1-label"]').fill("No")
    clicks.choose(page.locator('[name="steps-0-choices-1-next_step"]'), "__new__")  # step 3
    clicks.click(step_card(page, 0).get_by_role("link", name="Add another action link"))
    page.locator('[name="steps-0-links-0-label"]').fill("Open connections")
    page.locator('[name="steps-0-links-0-url"]').fill("https://go.example.test/connections")
    expect(page.locator('[name="steps-1-key"]')).to_have_value("step-2")

    fill_step(page, 1, "Check the token", "Is the token valid?", "The token is under *Apps*.")
    expect(page.locator('[name="steps-1-key"]')).to_have_value("check-the-token")  # suggested from the title
    expect(page.locator('[name="steps-0-choices-0-next_step"]')).to_have_value("check-the-token")  # followed it
    page.locator('[name="steps-1-choices-0-label"]').fill("Valid")
    clicks.choose(page.locator('[name="steps-1-choices-0-next_step"]'), "__new__")  # step 4
    page.locator('[name="steps-1-choices-1-label"]').fill("Expired")
    clicks.choose(page.locator('[name="steps-1-choices-1-next_step"]'), "step-3")  # before step 3 has a title

    fill_step(page, 2, "Reconnect the store", "Did reconnecting fix it?", "Press **Reconnect**.")
    expect(page.locator('[name="steps-1-choices-1-next_step"]')).to_have_value("reconnect-the-store")
    page.locator('[name="steps-2-choices-0-label"]').fill("Fixed")
    clicks.choose(page.locator('[name="steps-2-choices-0-outcome"]'), "resolved")
    page.locator('[name="steps-2-choices-1-label"]').fill("Still broken")
    clicks.choose(page.locator('[name="steps-2-choices-1-outcome"]'), "escalate")

    fill_step(page, 3, "Resync the orders", "Did the orders arrive?", "Press **Resync** and wait a minute.")
    page.locator('[name="steps-3-choices-0-label"]').fill("Arrived")
    clicks.choose(page.locator('[name="steps-3-choices-0-outcome"]'), "resolved")
    page.locator('[name="steps-3-choices-1-label"]').fill("Still missing")
    clicks.choose(page.locator('[name="steps-3-choices-1-next_step"]'), "reconnect-the-store")

    clicks.click(page.get_by_role("button", name="Save and continue editing"))
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")  # the first save, taken
    expect(page.locator(".flow-picture")).to_contain_text("Every path ends in resolved or escalate.")
    clicks.click(page.get_by_role("link", name="Publish…"))
    clicks.click(page.get_by_role("button", name="Publish version 1"))
    expect(page.locator(".messagelist")).to_contain_text("Version 1 of Orders stopped syncing is live")
    assert clicks.count == 24  # at most 30, the issue asks (it took 82)

    checker = Checker.objects.get(slug="orders-stopped-syncing")
    assert [s["key"] for s in checker.live_version.data["steps"]] == [
        "check-the-connection",
        "check-the-token",
        "reconnect-the-store",
        "resync-the-orders",
    ]
    assert targets(checker) == {
        ("check-the-connection", "Yes"): "check-the-token",
        ("check-the-connection", "No"): "reconnect-the-store",
        ("check-the-token", "Valid"): "resync-the-orders",
        ("check-the-token", "Expired"): "reconnect-the-store",
        ("reconnect-the-store", "Fixed"): "resolved",
        ("reconnect-the-store", "Still broken"): "escalate",
        ("resync-the-orders", "Arrived"): "resolved",
        ("resync-the-orders", "Still missing"): "reconnect-the-store",
    }
    assert checker.live_version.data["error_codes"] == ["SYNC-42"]
    assert checker.live_version.data["steps"][0]["links"] == [
        {"label": "Open connections", "url": "https://go.example.test/connections"}
    ]

    # Version 2 in one save: a text edited, "Yes" re-pointed past the token step, and the token step deleted.
    clicks = Clicks()
    page.locator('[name="steps-3-body"]').fill("Press **Resync**, then wait two minutes.")
    clicks.choose(page.locator('[name="steps-0-choices-0-next_step"]'), "resync-the-orders")
    clicks.click(step_card(page, 1).get_by_text("Delete", exact=True))
    clicks.click(page.get_by_role("button", name="Save and continue editing"))
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    expect(page.locator(".errornote")).to_have_count(0)
    assert clicks.count == 4
    assert list(checker.steps.values_list("key", flat=True)) == [
        "check-the-connection",
        "reconnect-the-store",
        "resync-the-orders",
    ]
    assert targets(checker)[("check-the-connection", "Yes")] == "resync-the-orders"
    assert checker.steps.get(key="resync-the-orders").body == "Press **Resync**, then wait two minutes."
    assert versions.flow_problems(versions.draft_data(checker)) == []
    assert page_errors == []


@browser_test
def test_a_refused_save_points_at_the_answer_and_keeps_every_edit(live_server, page, page_errors, checker, admin_user):
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/troubleshoot/checker/{checker.pk}/change/")
    page.locator('[name="steps-0-title"]').fill("First, edited")
    step_card(page, 2).get_by_text("Delete", exact=True).click()  # "No" on the second step still goes there
    page.get_by_role("button", name="Save and continue editing").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text('Step "Second", answer "No", next step')
    expect(summary).to_contain_text('Step "Third" is deleted in this save')
    summary.get_by_role("link").first.click()
    expect(page.locator('[name="steps-1-choices-1-next_step"]')).to_be_focused()
    expect(page.locator('[name="steps-0-title"]')).to_have_value("First, edited")
    expect(page.locator('[name="steps-1-choices-1-next_step"]')).to_have_value("third")
    page.locator('[name="steps-1-choices-1-outcome"]').select_option("escalate")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert list(checker.steps.values_list("title", flat=True)) == ["First, edited", "Second"]
    assert page_errors == []


@browser_test
def test_no_way_out_of_the_editor_loses_an_edit(live_server, page, page_errors, checker, admin_user):
    sign_in(page, live_server)
    editor = f"{live_server.url}/admin/troubleshoot/checker/{checker.pk}/change/"
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))

    # The editor's own links save first, then go on.
    for n, (link, lands) in enumerate(
        [
            ("Publish…", f"/admin/troubleshoot/checker/{checker.pk}/publish/?base=1"),
            ("Versions", f"/admin/troubleshoot/checker/{checker.pk}/versions/"),
            ("Change log", f"/admin/troubleshoot/checker/{checker.pk}/history/"),
            ("Preview draft", "/troubleshoot/demo/preview/"),
        ]
    ):
        page.goto(editor)
        title = f"First, edit {n}"
        page.locator('[name="steps-0-title"]').click()
        page.locator('[name="steps-0-title"]').fill(title)
        expect(page.get_by_role("status").filter(has_text="Unsaved changes")).to_be_visible()
        page.get_by_role("link", name=link).click()
        expect(page).to_have_url(f"{live_server.url}{lands}")
        assert Step.objects.get(checker=checker, key="start").title == title, link
    expect(page.locator("#panel-heading")).to_have_text("First, edit 3")  # the preview shows the saved edit

    # The publish page now offers version 2, with what changed; with nothing changed it offers no button.
    page.goto(f"{live_server.url}/admin/troubleshoot/checker/{checker.pk}/publish/?base=1")
    expect(page.get_by_role("button", name="Publish version 2")).to_be_visible()
    page.get_by_role("button", name="Publish version 2").click()
    page.goto(f"{live_server.url}/admin/troubleshoot/checker/{checker.pk}/publish/?base=2")
    expect(page.get_by_text("Nothing to publish: the draft is the same as version 2")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Publish"))).to_have_count(0)

    # Back, or any other link, asks first; staying keeps the edit.
    page.goto(editor)
    page.locator('[name="steps-0-title"]').click()
    page.locator('[name="steps-0-title"]').fill("Typed, not saved")
    page.evaluate("history.back()")
    wait_for(page, lambda: asked == ["beforeunload"])
    page.get_by_role("link", name="Checkers").first.click()
    wait_for(page, lambda: asked == ["beforeunload", "beforeunload"])
    expect(page).to_have_url(editor)
    expect(page.locator('[name="steps-0-title"]')).to_have_value("Typed, not saved")
    assert Step.objects.get(checker=checker, key="start").title == "First, edit 3"
    assert page_errors == []


def wait_for(page: Page, condition, seconds: float = 5) -> None:
    for _ in range(int(seconds * 20)):
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError("waited in vain")


def tab_to(page: Page, name: str, limit: int = 200, back: bool = False) -> int:
    """Press Tab (or Shift+Tab) until the focused element's accessible name is `name`; how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement;"
            " return e.getAttribute('aria-label') || e.textContent.trim() || e.value || ''; }"
        )
        if focused == name:
            return presses
    raise AssertionError(f"{name!r} not reached in {limit} presses")


@browser_test
def test_with_the_keyboard_alone_a_step_is_added_an_answer_reordered_and_the_first_step_changed(
    live_server, page, page_errors, checker, admin_user
):
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/troubleshoot/checker/{checker.pk}/change/")
    tab_to(page, "Skip to main content")  # the admin's first link: past its header and sidebar
    page.keyboard.press("Enter")
    # The tools (with "How sellers use it" and "Start from a copy"), listing fields, the flow picture's step links.
    assert tab_to(page, "Add a step") == 25  # it took 110-130 (one more since the platforms field)
    page.keyboard.press("Enter")
    title = page.locator('[name="steps-3-title"]')
    expect(title).to_be_focused()  # the cursor is in the new step
    page.keyboard.type("Restart the app")
    page.keyboard.press("Tab")
    expect(page.locator('[name="steps-3-key"]')).to_be_focused()
    expect(page.locator('[name="steps-3-key"]')).to_have_value("restart-the-app")
    page.keyboard.press("Tab")
    page.keyboard.type("Did a restart fix it?")
    tab_to(page, "Move answer 'new' of step 'Restart the app' up")  # the new step's first answer row
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type("Yes, fixed")
    page.keyboard.press("Tab")
    page.keyboard.type("Resolved")  # the outcome list, by its first letters
    expect(page.locator('[name="steps-3-choices-0-outcome"]')).to_have_value("resolved")

    tab_to(page, "Move answer 'No' of step 'First' up", back=True)  # the first step's second answer
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Move answer 'No' of step 'First' up")).to_be_focused()
    tab_to(page, "Move step 'Restart the app' up")
    for _ in range(3):
        page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Move step 'Restart the app' up")).to_be_focused()
    tab_to(page, "Save and continue editing")
    page.keyboard.press("Enter")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    assert list(checker.steps.order_by("position").values_list("key", flat=True)) == [
        "restart-the-app",
        "start",
        "second",
        "third",
    ]
    assert list(Step.objects.get(checker=checker, key="start").choices.values_list("label", flat=True)) == [
        "No",
        "Yes",
    ]
    assert versions.draft_flow(checker).start.key == "restart-the-app"
    assert list(Step.objects.get(checker=checker, key="restart-the-app").choices.values_list("label", "outcome")) == [
        ("Yes, fixed", "resolved")
    ]
    assert page_errors == []


@pytest.fixture
def page_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@browser_test
def test_without_javascript_an_answer_still_picks_a_saved_step(live_server, browser, checker, admin_user):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/troubleshoot/checker/{checker.pk}/change/")
    expect(page.locator('[name="steps-0-position"]')).to_be_visible()  # typed numbers, without the script
    page.locator('[name="steps-0-choices-1-outcome"]').select_option("next")
    page.locator('[name="steps-0-choices-1-next_step"]').select_option(label="3. Third")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert targets(checker)[("start", "No")] == "third"
    context.close()


def a_checker_with_long_texts(checker: Checker) -> Checker:
    """The fixture's checker with every text as long as its field allows, and words that don't break."""
    checker.slug = "a-slug-of-fifty-characters-that-goes-on-and-on-and"
    checker.save()
    for step in checker.steps.all():
        step.title = ("Check the connection settings again " * 4)[:117] + step.key[:3]
        step.save()
        for answer in step.choices.all():
            answer.label = ("Unbroken" * 10)[:80]
            answer.save()
        step.links.create(label="L" * 80, url="https://example.test/" + "u" * 400)
    checker.error_codes.create(code="E" * 40)
    return checker


def serious_violations(page: Page) -> list[str]:
    violations = AXE.run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {[node['target'] for node in v['nodes']][:3]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


@browser_test
def test_the_editor_and_its_pages_fit_1366_px_and_pass_axe(live_server, page, checker, admin_user):
    a_checker_with_long_texts(checker)
    article = Article.objects.create(slug="a-guide", title="A guide", body="Some **text**.")
    versions.publish_article(article)
    sign_in(page, live_server)
    pages = [
        reverse("admin:troubleshoot_checker_change", args=[checker.pk]),
        reverse("admin:troubleshoot_checker_add"),
        reverse("admin:troubleshoot_checker_publish", args=[checker.pk]) + "?base=1",
        reverse("admin:troubleshoot_checker_versions", args=[checker.pk]),
        reverse("admin:troubleshoot_checker_diff", args=[checker.pk]) + "?old=1",
        reverse("admin:troubleshoot_article_change", args=[article.pk]),
        reverse("admin:troubleshoot_article_publish", args=[article.pk]) + "?base=1",
        reverse("admin:troubleshoot_article_versions", args=[article.pk]),
        reverse("troubleshoot:preview", args=[checker.slug]) + "?path=999&note=Other",  # the support form, disabled
    ]
    for path in pages:
        assert page.goto(live_server.url + path).status == 200, path
        wide, window = page.evaluate("[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]")
        assert wide <= window, f"{path}: {wide} px wide in a {window} px window"
        assert serious_violations(page) == [], path
    expect(page.get_by_role("button", name="Send to support")).to_be_disabled()  # the preview's, last above
    expect(page.get_by_label("Your email")).to_be_disabled()
    page.goto(live_server.url + pages[0])
    page.get_by_role("button", name="Add a step").click()  # a row the script adds is named too
    expect(page.locator('[name="steps-3-choices-0-next_step"]')).to_have_attribute("aria-label", "Next step")
    assert serious_violations(page) == []


@browser_test
@pytest.mark.parametrize("model", ["checker", "article"])
def test_the_slug_filled_from_the_title_is_cut_at_a_word(live_server, page, page_errors, admin_user, model):
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/troubleshoot/{model}/add/")
    page.locator("#id_title").press_sequentially("Orders from the marketplace stopped arriving in Xero overnight")
    # The admin's own cut, at 50 characters, was "orders-from-the-marketplace-stopped-arriving-in-xe".
    expect(page.locator("#id_slug")).to_have_value("orders-from-the-marketplace-stopped-arriving-in")
    assert page_errors == []


@browser_test
def test_an_articles_checkers_are_chosen_by_typing_and_saved(live_server, page, page_errors, checker, admin_user):
    """The article editor's checkers are looked up as they are typed (the admin's autocomplete, not a list of every
    checker); the search box stays named for a screen reader once a checker is chosen."""
    article = Article.objects.create(slug="a-guide", title="A guide", body="Some text.")
    sign_in(page, live_server)
    page.goto(live_server.url + reverse("admin:troubleshoot_article_change", args=[article.pk]))
    search = page.get_by_role("searchbox", name="Checkers")
    search.fill("demo")
    page.get_by_role("option", name=checker.title).click()
    expect(page.get_by_role("searchbox", name="Checkers")).to_be_visible()
    assert serious_violations(page) == []
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert list(article.checkers.all()) == [checker]
    assert page_errors == []
