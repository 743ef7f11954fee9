"""Every review page a team works from, in Debian's chromium (issue 26, item 11): on a 390 px phone no page scrolls
sideways (wide tables scroll inside their own box, long words and links wrap), and axe finds no violation (none
serious or critical, nor any other) at 1366 px or at 390 px. A reviewer changes requests' status in bulk and is
told where they went."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import Group, Permission, User
from playwright.sync_api import Page, expect

from review.models import GapItem
from support import escalation
from support.models import SupportRequest
from tests.factories import sign_in, some_runs
from troubleshoot.models import Checker, Run

browser_test = pytest.mark.django_db(transaction=True)
AXE = Axe()
LONG = "x" * 180  # no break in it: must wrap, not widen the page


def a_reviewer() -> User:
    user = User.objects.create_user("rita", password="pw-for-tests-only", is_staff=True)
    # Earlier transactional tests flush the database, and with it the groups the migrations made.
    group, _ = Group.objects.get_or_create(name="Reviewers")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="review", codename__in=["view_pages", "change_gapitem"]),
        *Permission.objects.filter(content_type__app_label="support", codename="change_supportrequest"),
    )
    user.groups.add(group)
    return user


def data() -> list[str]:
    """Runs over two weeks, a request with long unbroken text, a handled gap; the review pages' paths."""
    some_runs(40)
    run = Run.objects.filter(outcome=Run.Outcome.ESCALATED, support_request__isnull=True).first()
    long_one = escalation.request_support(
        run,
        SupportRequest(
            email=f"{'a' * 60}@{'b' * 60}.test",
            description=f"It broke: {LONG}",
            error_message=LONG,
            recording_url=f"https://recordings.test/{LONG}",
        ),
    )
    checker = Checker.objects.published().first()
    return [
        "/support/",
        f"/support/checkers/{checker.slug}/",
        "/support/runs/",
        f"/support/runs/{run.pk}/",
        "/support/requests/",
        "/support/requests/?status=all&mine=on",
        f"/support/requests/?q={long_one.reference}",
        f"/support/requests/{long_one.reference}/",
        "/support/gaps/",
        "/support/gaps/?handled=on",
    ]


def no_sideways_scroll(page: Page, path: str) -> None:
    scroll, client = page.evaluate("[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]")
    assert scroll <= client, f"{path}: {scroll} px wide in a {client} px window"


def no_violation(page: Page, path: str, width: int) -> None:
    """No axe violation at all: serious and critical ones were the ask, and the pages have none of the others
    either (two landmarks named alike once slipped in)."""
    violations = AXE.run(page).response["violations"]
    assert violations == [], f"{path} at {width} px:\n" + "\n".join(
        f"{v['id']} ({v['impact']}): {[node['target'] for node in v['nodes']]}" for v in violations
    )


@browser_test
@pytest.mark.parametrize("width, height", [(390, 844), (1366, 900)])
def test_review_pages_fit_the_window_and_pass_axe(live_server, page, library, width, height):
    paths = data()
    a_reviewer()
    GapItem.objects.create(source="no_results", key="payout gone", note=LONG)
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_server.url, "rita", "pw-for-tests-only")
    expect(page.get_by_role("heading", level=1)).to_have_text("How self-service is doing")
    for path in paths:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        page.locator("details").evaluate_all("all => all.forEach(d => d.open = true)")  # the tables within too
        no_sideways_scroll(page, path)
        no_violation(page, path, width)


@browser_test
def test_a_wide_table_scrolls_inside_its_box_on_a_phone(live_server, page, library):
    data()
    a_reviewer()
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server.url, "rita", "pw-for-tests-only")
    page.goto(f"{live_server.url}/support/runs/")
    box = page.get_by_role("region", name="Runs")
    widths = box.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert widths[0] > widths[1]  # the table is wider than the phone: it scrolls in its box
    box.focus()
    page.keyboard.press("ArrowRight")
    expect(box).not_to_have_js_property("scrollLeft", 0)
    no_sideways_scroll(page, "/support/runs/")


@browser_test
def test_a_reviewer_moves_requests_in_bulk_and_is_told_where_they_went(live_server, page, library):
    data()
    a_reviewer()
    sign_in(page, live_server.url, "rita", "pw-for-tests-only")
    page.get_by_role("link", name="Support requests").first.click()
    new = list(SupportRequest.objects.filter(status="new").order_by("-created_at", "-pk")[:2])
    for request in new:
        page.get_by_label(f"Choose {request.reference}").check()
    page.get_by_label("Move the chosen requests to").select_option("done")
    page.get_by_role("button", name="Apply").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("2 requests moved to Done:")
    for request in new:
        expect(page.get_by_role("link", name=request.reference)).to_have_count(1)  # in the message, not the tab
    status.get_by_role("link", name="Done").click()
    for request in new:
        expect(page.locator("table.requests").get_by_role("link", name=request.reference)).to_be_visible()
    assert set(SupportRequest.objects.filter(pk__in=[r.pk for r in new]).values_list("status", flat=True)) == {"done"}
