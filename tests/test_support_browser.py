"""The review pages in Debian's chromium: a reviewer signs in, reads the dashboard, opens a checker and reads its flow
with counts; an axe-core audit of each page. Screenshots review-{overview,checker,gaps}.png go into a temporary folder,
or into $SCREENSHOT_DIR when set (`make screenshots` refreshes docs/screenshots/ that way)."""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import Group, Permission, User
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.factories import sign_in, some_runs
from troubleshoot import versioncache
from troubleshoot.models import Answer, Checker, Run

browser_test = pytest.mark.django_db(transaction=True)
AXE = Axe()
SLUG = "wrong-xero-organisation"


def assert_accessible(page: Page, what: str) -> None:
    results = AXE.run(page)
    assert results.violations_count == 0, f"{what}:\n{results.generate_report()}"


@browser_test
def test_reviewer_reads_the_dashboard_and_a_checkers_flow_with_counts(live_server, page, library, tmp_path):
    shots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    some_runs()
    reviewer = User.objects.create_user("rita", password="pw-for-tests-only", is_staff=True)
    # Earlier transactional tests flush the database, and with it the groups the migrations made.
    group, _ = Group.objects.get_or_create(name="Reviewers")
    group.permissions.add(Permission.objects.get(content_type__app_label="review", codename="view_pages"))
    reviewer.groups.add(group)
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server.url, "rita", "pw-for-tests-only")

    expect(page.get_by_role("heading", level=1)).to_have_text("How self-service is doing")
    runs = Run.objects.filter(started_at__gte=timezone.now() - timedelta(days=29))
    tile = page.locator(".tiles > div").filter(has_text="Runs").first
    expect(tile.locator("dd")).to_have_text(str(runs.count()))
    resolved = runs.filter(outcome=Run.Outcome.RESOLVED).count()
    expect(page.locator(".tiles .resolved dd")).to_have_text(str(resolved))
    expect(page.locator(".chart svg")).to_be_visible()
    page.screenshot(path=shots / "review-overview.png", full_page=True)
    assert_accessible(page, "overview")

    page.get_by_role("link", name="Switching to a new Xero organisation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Switching to a new Xero organisation")
    version = Checker.objects.get(slug=SLUG).live_version
    first = versioncache.flow_of(version.id).start
    reached = Answer.objects.live().filter(run__version=version, step_key=first.key).count()
    reached += Run.objects.filter(version=version, outcome=Run.Outcome.OPEN, current_step_key=first.key).count()
    box = page.locator(".flow-picture svg .node.step.first").first
    expect(box).to_contain_text(f"reached {reached}")
    row = page.locator("table.steps tbody tr").first
    expect(row.locator("td").first).to_have_text(str(reached))
    page.screenshot(path=shots / "review-checker.png", full_page=True)
    assert_accessible(page, "checker page")

    page.get_by_role("link", name="Gap inbox").click()
    expect(page.locator("table.gaps tbody tr").first).to_be_visible()
    page.screenshot(path=shots / "review-gaps.png", full_page=True)
    assert_accessible(page, "gap inbox")

    # The runs filter's checker suggestions arrive when the field is first focused (htmx, under the CSP).
    page.get_by_role("navigation", name="Review pages").get_by_role("link", name="Runs").click()
    suggestions = page.locator("#checker-slugs option")
    expect(suggestions).to_have_count(0)
    page.get_by_label("Checker").focus()
    expect(suggestions).to_have_count(Checker.objects.count())
    page.get_by_label("Checker").fill(SLUG)
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(f"checker={SLUG}"))
    expect(page.locator("table.runs tbody tr").first).to_contain_text("Switching to a new Xero organisation")
    assert_accessible(page, "runs")

    page.get_by_role("link", name="Support requests").click()
    page.locator("table tbody tr th a").first.click()
    expect(page.get_by_role("heading", name="Handling")).to_be_visible()
    assert_accessible(page, "support request")


@browser_test
def test_review_pages_work_without_javascript(live_server, browser, library):
    some_runs(20)
    User.objects.create_superuser("boss", password="pw-for-tests-only")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live_server.url, "boss", "pw-for-tests-only")
    expect(page.get_by_role("heading", level=1)).to_have_text("How self-service is doing")
    page.get_by_text("The numbers by day").click()
    expect(page.locator("table.numbers").first).to_be_visible()
    page.get_by_role("navigation", name="Review pages").get_by_role("link", name="Runs").click()
    page.get_by_label("Outcome").select_option("escalated")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"outcome=escalated"))
    context.close()


@browser_test
@pytest.mark.parametrize("javascript", [True, False])
def test_seller_says_none_of_these_fit_and_goes_to_support_with_their_line(live_server, browser, checker, javascript):
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(f"{live_server.url}/troubleshoot/demo/")
    page.get_by_text("None of these fit?").click()
    page.get_by_label("In one line, what's different for you?").fill("I sell on two Amazon regions")
    page.get_by_role("button", name="Take this to support").click()
    expect(page.locator("#panel-heading")).to_have_text("Let's get support on it")
    expect(page.get_by_label("What happened?")).to_have_value("I sell on two Amazon regions")
    run = Run.objects.get()
    answer = run.answers.get()
    assert (run.outcome, run.end_step_key, answer.answer_index, answer.note) == (
        Run.Outcome.ESCALATED,
        "start",
        Answer.NONE_FIT,
        "I sell on two Amazon regions",
    )
    context.close()


@browser_test
def test_seller_asks_to_be_followed_up_at_a_resolved_ending(live_server, page, checker):
    page.goto(f"{live_server.url}/troubleshoot/demo/")
    page.locator("#checker").get_by_role("button", name="Yes", exact=True).click()
    expect(page.locator("#panel-heading")).to_have_text("Second")
    page.locator("#checker").get_by_role("button", name="Yes", exact=True).click()
    expect(page.locator("#panel-heading")).to_have_text("Glad it's fixed!")
    page.get_by_label("Your email (optional)").fill("seller@shop.test")
    page.get_by_role("button", name="Ask me in a few days").click()
    expect(page.get_by_text("We'll ask you on")).to_be_visible()
    run = Run.objects.get()
    assert run.followup_email == "seller@shop.test" and run.followup_due > timezone.now()
