"""The gap inbox's items a team handles (issue 26, item 11): marked handled (hidden unless "Show handled", back when
sellers hit the gap again after it was handled), assigned and noted; a row per published version, older versions
apart; a step removed since titled as the version walked had it. Exact status codes and query counts."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client

from review import gapitems, gaps, stats
from review.models import GapItem
from search.log import record_unknown_code
from search.models import SearchLog
from support.models import ArticleFeedback
from tests.conftest import TODAY
from tests.factories import make_checker, reviewer, walk_path
from troubleshoot import versioncache, versions
from troubleshoot.models import Answer, Article, Choice, Run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("midday")]

PERIOD = {"from": (TODAY - timedelta(days=6)).isoformat(), "to": TODAY.isoformat()}
BACK = {"back-from": PERIOD["from"], "back-to": PERIOD["to"]}
INBOX = f"/support/gaps/?from={PERIOD['from']}&to={PERIOD['to']}"
FIRST = "“First”: runs ended here in escalate"


def post(client, key, action="handled", **fields):
    source, version, subject = key
    data = {**BACK, "source": source, "version": version or "", "key": subject, "action": action, **fields}
    return client.post("/support/gaps/item/", data)


def page(client, **query) -> str:
    response = client.get("/support/gaps/", {**PERIOD, **query})
    assert response.status_code == 200
    return response.content.decode()


def rows(html: str) -> list[str]:
    return re.findall(r"<tr(?: class=\"older-version\")?>\s*<td>.*?</tr>", html, re.S)


def row_of(html: str, title: str, version: int | None = None) -> str | None:
    """The inbox's row of the gap titled `title` (of that version), or None."""
    for row in rows(html):
        if title in row and (version is None or f", version {version}" in row):
            return row
    return None


def said(html: str) -> str:
    found = re.search(r'<ul class="messages" role="status">(.*?)</ul>', html, re.S)
    return found[1] if found else ""


@pytest.fixture
def escalated(db):
    """The demo checker with two runs escalated at its first step, on version 1."""
    checker = make_checker()
    for _ in range(2):
        walk_path(checker, [("start", 1)])
    return checker


def key_of(checker, step: str = "start", source: str = "escalated", number: int | None = None) -> tuple:
    version = checker.live_version if number is None else checker.versions.get(number=number)
    return (source, version.pk, step)


# Handled, hidden, back


def test_marking_a_gap_handled_hides_it_and_says_so(client, escalated):
    user = reviewer(client)
    assert row_of(page(client), FIRST) is not None
    response = post(client, key_of(escalated), note="Reworded the first answer")
    assert response.status_code == 302 and response.url == INBOX
    item = GapItem.objects.get()
    assert (item.source, item.version_id, item.key) == key_of(escalated)
    assert item.handled_by == user and item.handled_at is not None and item.note == "Reworded the first answer"
    html = client.get(response.url).content.decode()
    assert "Marked handled: it leaves the list, and comes back if sellers hit it again." in said(html)
    assert row_of(html, FIRST) is None
    assert "1 handled gap not shown." in html and 'href="?from=' in html and "handled=on" in html
    shown = page(client, handled="on")
    row = row_of(shown, FIRST)
    assert row is not None and "Handled " in row and "by reviewer" in row and "Not handled" in row


def test_a_handled_gap_comes_back_when_sellers_hit_it_again(client, escalated, time_machine):
    reviewer(client)
    post(client, key_of(escalated))
    time_machine.shift(timedelta(minutes=5))
    assert row_of(page(client), FIRST) is None
    walk_path(escalated, [("start", 1)])  # after it was handled
    row = row_of(page(client), FIRST)
    assert row is not None and "Back since handled" in row and "Mark handled" in row
    assert "<td>3</td>" in row  # the period's sellers, before and after handling


def test_reopening_a_handled_gap_puts_it_back(client, escalated):
    reviewer(client)
    post(client, key_of(escalated))
    response = post(client, key_of(escalated), action="reopen")
    assert response.status_code == 302
    assert GapItem.objects.get().handled_at is None
    html = client.get(response.url).content.decode()
    assert "Marked not handled: it is back in the list." in said(html) and row_of(html, FIRST) is not None


def test_assigning_and_noting_a_gap_keeps_it_listed(client, escalated):
    reviewer(client)
    ana = User.objects.create_user("ana", is_staff=True)
    ana.groups.add(Group.objects.get(name="Reviewers"))
    response = post(client, key_of(escalated), action="save", assignee=ana.pk, note="Asking Xero")
    assert response.status_code == 302
    item = GapItem.objects.get()
    assert (item.assignee, item.note, item.handled_at) == (ana, "Asking Xero", None)
    html = client.get(response.url).content.decode()
    row = row_of(html, FIRST)
    assert "Saved." in said(html) and "With ana" in row and "Asking Xero" in row
    assert f'<option value="{ana.pk}" selected>ana</option>' in row


def hit(source: str, checker, time_machine) -> tuple:
    """One more seller on the gap of `source` (after it was handled), and the gap's key."""
    time_machine.shift(timedelta(minutes=5))
    if source == "none_fit":
        walk_path(checker, [("start", Answer.NONE_FIT)], note="Not mine")
        return key_of(checker, source=source)
    if source == "abandoned":
        walk_path(checker, [("start", 0)])  # left on "second"
        time_machine.shift(timedelta(minutes=40))
        return key_of(checker, "second", source=source)
    if source == "article":
        article = Article.objects.get(slug="a")
        ArticleFeedback.objects.create(article=article, helpful=False)
        return (source, None, str(article.pk))
    if source == "no_results":
        SearchLog.objects.create(query="Payout gone", normalised="payout gone", result_count=0)
        return (source, None, "payout gone")
    raise AssertionError(source)


@pytest.mark.parametrize("source", ["none_fit", "abandoned", "article", "no_results"])
def test_every_kind_of_handled_gap_comes_back_only_with_sellers_after_handling(client, db, source, time_machine):
    checker = make_checker()
    article = Article.objects.create(slug="a", title="An article", body="Text")
    versions.publish_article(article)
    reviewer(client)
    key = hit(source, checker, time_machine)  # a first seller: the gap is listed
    (gap,) = [gap for gap in gaps.inbox(stats.Period.from_params(PERIOD)) if gap.key == key]
    assert post(client, key).status_code == 302
    time_machine.shift(timedelta(minutes=5))
    assert [gap for gap in gaps.read(stats.Period.from_params(PERIOD)).gaps if gap.key == key] == []
    hit(source, checker, time_machine)
    (back,) = [gap for gap in gaps.read(stats.Period.from_params(PERIOD)).gaps if gap.key == key]
    assert back.back and not back.handled and back.count == gap.count + 1


def test_an_unknown_code_comes_back_on_a_later_day(client, db, time_machine):
    """Unknown codes are counted by day: a code handled today is back when it arrives on a later day."""
    reviewer(client)
    record_unknown_code("XC-999")
    key = ("unknown_code", None, "XC-999")
    assert post(client, key).status_code == 302
    record_unknown_code("XC-999")
    assert [gap for gap in gaps.read(stats.Period.ending_today()).gaps if gap.key == key] == []
    time_machine.shift(timedelta(days=1))
    record_unknown_code("XC-999")
    (back,) = [gap for gap in gaps.read(stats.Period.ending_today()).gaps if gap.key == key]
    assert back.back and back.count == 3


# Per version


def test_fixing_a_step_in_a_new_version_keeps_each_versions_row_apart(client, escalated):
    reviewer(client)
    escalated.steps.filter(key="second").update(title="Second, reworded")
    versions.publish(escalated, note="v2")
    walk_path(escalated, [("start", 1)])  # on version 2
    html = page(client)
    live, older = html.split("From versions no longer live")
    assert row_of(live, FIRST, 2) is not None and "<td>1</td>" in row_of(live, FIRST, 2)
    v1 = row_of(older, FIRST, 1)
    assert v1 is not None and "<td>2</td>" in v1 and "older version" in v1
    # Handling version 1's row leaves version 2's.
    post(client, key_of(escalated, number=1))
    html = page(client)
    assert row_of(html, FIRST, 1) is None and row_of(html, FIRST, 2) is not None
    assert "From versions no longer live" not in html


def test_a_step_removed_since_is_titled_as_the_version_walked_had_it(client, db, time_machine):
    checker = make_checker()
    walk_path(checker, [("start", 0), ("second", 1)])  # left on "third" of version 1
    time_machine.shift(timedelta(minutes=40))
    Choice.objects.filter(step__checker=checker, next_step__key="third").update(
        next_step=None, outcome=Choice.Outcome.RESOLVED
    )
    checker.steps.get(key="third").delete()
    versions.publish(checker, note="Without the third step")
    assert "third" not in versioncache.flow_of(checker.live_version_id).by_key
    reviewer(client)
    row = row_of(page(client), "“Third”: sellers left here", 1)
    assert row is not None and "older version" in row
    assert ">third<" not in row and "“third”" not in row


# Bad input and permissions


@pytest.mark.parametrize(
    "change",
    [
        {"source": "weird"},
        {"version": ""},  # a checker source needs its version
        {"source": "article"},  # and the others have none
        {"version": "999999"},
        {"version": "abc"},
        {"key": "x" * 501},
        {"key": ""},
        {"action": "delete"},
        {"assignee": "999999"},
        {"note": "n" * 2001},
    ],
)
def test_bad_input_saves_nothing_and_says_so(client, escalated, change):
    reviewer(client)
    source, version, subject = key_of(escalated)
    data = {**BACK, "source": source, "version": version, "key": subject, "action": "handled", **change}
    response = client.post("/support/gaps/item/", data)
    assert response.status_code == 302 and response.url == INBOX
    assert GapItem.objects.count() == 0
    assert "Nothing saved:" in said(client.get(response.url).content.decode())


def test_a_bad_period_to_come_back_to_is_the_default_one(client, escalated):
    reviewer(client)
    source, version, subject = key_of(escalated)
    response = client.post(
        "/support/gaps/item/",
        {
            "back-from": "nope",
            "back-handled": "on",
            "source": source,
            "version": version,
            "key": subject,
            "action": "save",
        },
    )
    period = stats.Period.ending_today()
    assert response.status_code == 302
    assert response.url == f"/support/gaps/?from={period.first}&to={period.last}&handled=on"


def test_handling_needs_csrf(escalated):
    csrf_client = Client(enforce_csrf_checks=True)
    reviewer(csrf_client)
    assert post(csrf_client, key_of(escalated)).status_code == 403
    assert GapItem.objects.count() == 0


def test_handling_is_post_only(client, escalated):
    reviewer(client)
    assert client.get("/support/gaps/item/").status_code == 405


def test_handling_needs_the_permission_to_change_gap_items(client, escalated):
    user = User.objects.create_user("reader", is_staff=True)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="review", codename="view_pages"))
    client.force_login(user)
    html = page(client)
    assert row_of(html, FIRST) is not None and "/support/gaps/item/" not in html
    response = post(client, key_of(escalated))
    assert response.status_code == 403 and b"needs the permission to change them" in response.content
    assert GapItem.objects.count() == 0


def test_an_editor_is_told_the_gap_inbox_is_for_reviewers(client, escalated):
    user = User.objects.create_user("edna", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    client.force_login(user)
    for response in (client.get("/support/gaps/"), post(client, key_of(escalated))):
        assert response.status_code == 403 and b"The review pages are for Reviewers." in response.content
    assert GapItem.objects.count() == 0


def test_anonymous_handling_goes_to_the_login(client, escalated):
    response = post(client, key_of(escalated))
    assert response.status_code == 302 and response.url.startswith("/admin/login/?next=/support/gaps/item/")
    assert GapItem.objects.count() == 0


# Query counts


@pytest.mark.parametrize("size", [3, pytest.param(30, marks=pytest.mark.slow)])
def test_the_inbox_reads_the_same_exact_number_of_queries_with_handled_items_for_3_and_30_checkers(
    client, db, size, django_assert_num_queries, time_machine
):
    """Every checker's escalations, none-fit and abandons handled, one of each back: the items in one query, and
    one for each source with a handled gap listed."""
    checkers = [make_checker(f"c{n}") for n in range(size)]
    for checker in checkers:
        walk_path(checker, [("start", 1)])
        walk_path(checker, [("start", Answer.NONE_FIT)])
        walk_path(checker, [("start", 0)])
    time_machine.shift(timedelta(minutes=40))
    reviewer(client)
    for checker in checkers:
        for key in (key_of(checker), key_of(checker, source="none_fit"), key_of(checker, "second", "abandoned")):
            gapitems.save(key, None, action="handled")
    time_machine.shift(timedelta(minutes=1))
    walk_path(checkers[0], [("start", 1)])
    # Session, user, permissions (2); the fill state; per checker source its steps now and in the period before
    # (3 × 2) and the examples of two; articles (2), searches (2) and codes; the versions named; the items and the
    # three sources' later sellers; the reviewers; the fill state for the page's note.
    with django_assert_num_queries(25):
        html = page(client)
    assert len(rows(html)) == 1 and "Back since handled" in html
    with django_assert_num_queries(25):
        html = page(client, handled="on")
    assert len(rows(html)) == min(3 * size, gaps.SHOWN)


def test_the_team_can_record_handling_for_a_gap_with_no_run(db):
    """A gap's item is kept by its key alone: handling before the page lists it is harmless."""
    checker = make_checker()
    item = gapitems.save(key_of(checker, "third"), None, action="save", note="Watch this one")
    assert str(item).startswith("Escalations: third")
    assert Run.objects.count() == 0
