"""The review pages under /support/: exact numbers from a known set of runs (branches, withdrawn answers, abandoned
runs, two versions), permissions on every page and export, flat query counts, the queue, CSV exports."""

import csv
import io
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from review import flowcounts, gaps, stats
from support import escalation
from support.models import ArticleFeedback, SupportRequest
from support.readouts import inert
from tests.conftest import TODAY
from tests.factories import make_checker, review_pages, reviewer, walk_path
from troubleshoot import versions
from troubleshoot.models import Answer, Article, Checker, Run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("midday")]  # counted by day: see conftest.TODAY

PERIOD = {"from": (TODAY - timedelta(days=6)).isoformat(), "to": TODAY.isoformat()}


# The numbers


def test_overview_counts_are_exact(known):
    data = stats.overview(stats.Period.from_params(PERIOD))
    t = data.total
    assert (t.runs, t.resolved, t.escalated, t.abandoned, t.open) == (9, 3, 4, 1, 1)
    assert t.ended == 8 and t.self_service_rate == 3 / 8
    assert (t.confirmed_fixed, t.came_back) == (1, 1)
    by_source = dict(data.by_source)
    assert by_source["Error email"].escalated == 1 and by_source["Error email"].runs == 1
    assert by_source["Search"].resolved == 1
    assert by_source["Direct"].runs == 7
    today = dict(data.by_day)[timezone.localdate()]
    assert today.runs == 9
    assert sum(o.runs for _, o in data.by_day) == 9 and len(data.by_day) == 7
    ((checker, o),) = data.by_checker
    assert checker["slug"] == "demo" and o.runs == 9


def test_step_counts_go_through_the_branches(known):
    checker, _ = known
    v1 = checker.versions.get(number=1)
    counts = flowcounts.step_counts(Run.objects.filter(version=v1))
    start, second, third = counts["start"], counts["second"], counts["third"]
    assert start.answers == {0: 6, 1: 1} and start.withdrawn == 1
    assert (start.reached, start.escalated, start.abandoned) == (7, 1, 0)
    assert second.answers == {0: 1, 1: 3, Answer.NONE_FIT: 1} and second.none_fit == 1
    assert (second.reached, second.in_progress, second.escalated, second.resolved) == (6, 1, 1, 1)
    assert third.answers == {0: 1, 1: 1}
    assert (third.reached, third.abandoned, third.escalated, third.resolved) == (3, 1, 1, 1)
    assert third.drop_off == 1 / 3
    o = stats.outcomes(Run.objects.filter(version=v1))
    assert (o.runs, o.resolved, o.escalated, o.abandoned, o.open) == (7, 2, 3, 1, 1)
    assert flowcounts.median_time_to_end(Run.objects.filter(version=v1)) == timedelta(seconds=180)
    paths = {tuple(p.steps): p.runs for p in flowcounts.escalation_paths(Run.objects.filter(version=v1))}
    assert paths == {
        (("start", 1),): 1,
        (("start", 0), ("second", 1), ("third", 1)): 1,
        (("start", 0), ("second", Answer.NONE_FIT)): 1,
    }
    v2 = checker.versions.get(number=2)
    counts = flowcounts.step_counts(Run.objects.filter(version=v2))
    assert counts["start"].answers == {0: 1, 1: 1} and counts["second"].answers == {0: 1}
    assert "third" not in counts


def escalated_at(gaps_found, version_of) -> dict:
    """Escalation gaps as {(title, version number): count}."""
    return {(gap.title, version_of[gap.key[1]]): gap.count for gap in gaps_found if gap.kind == "Escalations"}


def test_gap_inbox_ranks_and_counts_per_version(known):
    checker, _ = known
    version_of = dict(checker.versions.values_list("pk", "number"))
    walk_path(checker, [("start", 1)])  # escalated at "First" on version 2, as run 9
    article = Article.objects.create(slug="a", title="An article", body="Text")
    versions.publish_article(article)
    ArticleFeedback.objects.create(article=article, helpful=False, comment="Too vague")
    ArticleFeedback.objects.create(article=article, helpful=True)
    inbox = gaps.inbox(stats.Period.from_params(PERIOD))
    found = {(gap.kind, gap.title, gap.version_number): gap for gap in inbox}
    none_fit = next(gap for (kind, _, _), gap in found.items() if kind == "None of these fit")
    assert none_fit.count == 1 and none_fit.examples == ["My bank feed is different"] and none_fit.before == 0
    assert escalated_at(inbox, version_of) == {
        ("“First”: runs ended here in escalate", 2): 2,
        ("“First”: runs ended here in escalate", 1): 1,  # version 1's sellers, apart
        ("“Third”: runs ended here in escalate", 1): 1,
        ("“Second”: runs ended here in escalate", 1): 1,
    }
    third = found[("Escalations", "“Third”: runs ended here in escalate", 1)]
    assert third.examples == ["Still broken after all"] and third.older and third.where == "Demo checker demo"
    assert not found[("Escalations", "“First”: runs ended here in escalate", 2)].older  # the live version
    abandoned = [gap for (kind, _, _), gap in found.items() if kind == "Abandoned"]
    assert [(gap.title, gap.count, gap.version_number) for gap in abandoned] == [("“Third”: sellers left here", 1, 1)]
    article_gap = found[("Unhelpful article", "Voted not helpful", None)]
    assert article_gap.count == 1 and article_gap.examples == ["Too vague"] and not article_gap.older
    assert (inbox[0].title, inbox[0].count, inbox[0].version_number) == ("“First”: runs ended here in escalate", 2, 2)


def test_gap_sources_keep_only_the_steps_the_inbox_could_show(known, monkeypatch):
    checker, _ = known
    walk_path(checker, [("start", 1)])  # "First" on version 2: 2 sellers
    period = stats.Period.from_params(PERIOD)
    everything = gaps.inbox(period)
    escalated = {gap.key: gap.count for gap in gaps.escalations(period)}
    assert sorted(escalated.values()) == [1, 1, 1, 2]
    monkeypatch.setattr(gaps, "SHOWN", 1)
    assert [(gap.title, gap.count) for gap in gaps.escalations(period)] == [("“First”: runs ended here in escalate", 2)]
    monkeypatch.setattr(gaps, "SHOWN", 2)
    assert {gap.key: gap.count for gap in gaps.escalations(period)} == escalated  # the three tied second are kept
    shown = gaps.inbox(period, most=2)
    assert [(gap.kind, gap.title, gap.count) for gap in shown] == [
        (gap.kind, gap.title, gap.count) for gap in everything[:2]
    ]


def test_gap_trend_compares_with_the_period_before(known):
    checker, r = known
    ten_days_ago = timezone.now() - timedelta(days=10)
    Run.objects.filter(pk=r[9].pk).update(started_at=ten_days_ago, started_on=timezone.localdate(ten_days_ago))
    walk_path(checker, [("start", 1)])  # "First" on version 2 again, today
    found = {gap.key: gap for gap in gaps.escalations(stats.Period.from_params(PERIOD))}
    first = found[("escalated", r[9].version_id, "start")]
    assert (first.count, first.before, first.trend) == (1, 1, 0)
    assert found[("escalated", r[2].version_id, "start")].before == 0  # version 1's own


def test_gap_sources_keep_every_step_tied_at_the_cut_whatever_its_growth(known, monkeypatch):
    """The steps are ranked on the period's sellers alone: every step tied with the SHOWN-th is kept, the one that
    grew and the one that did not, and the inbox picks among them as it would among all the steps."""
    checker, r = known
    version_of = dict(checker.versions.values_list("pk", "number"))
    period = stats.Period.from_params(PERIOD)
    walk_path(checker, [("start", 1)])  # "First" on version 2: 2 sellers
    walk_path(checker, [("start", 0), ("second", Answer.NONE_FIT)])  # "Second" on version 2, today
    earlier = walk_path(checker, [("start", 0), ("second", Answer.NONE_FIT)])  # and 10 days ago
    ten_days_ago = timezone.now() - timedelta(days=10)
    Run.objects.filter(pk=earlier.pk).update(started_at=ten_days_ago, started_on=timezone.localdate(ten_days_ago))
    assert gaps._split(period).live[0] <= timezone.localdate(ten_days_ago)  # not filled by the job: read live
    everything = gaps.inbox(period)
    monkeypatch.setattr(gaps, "SHOWN", 2)
    found = {(gap.title, version_of[gap.key[1]]): (gap.count, gap.before) for gap in gaps.escalations(period)}
    assert found == {
        ("“First”: runs ended here in escalate", 2): (2, 0),
        ("“Second, reworded”: runs ended here in escalate", 2): (1, 1),  # tied at the cut, grew less
        ("“First”: runs ended here in escalate", 1): (1, 0),
        ("“Third”: runs ended here in escalate", 1): (1, 0),
        ("“Second”: runs ended here in escalate", 1): (1, 0),
    }
    assert [(gap.kind, gap.title, gap.count, gap.before) for gap in gaps.inbox(period, most=2)] == [
        (gap.kind, gap.title, gap.count, gap.before) for gap in everything[:2]
    ]


def test_checker_page_shows_counts_in_the_flow_and_the_table(client, known):
    checker, _ = known
    reviewer(client)
    html = client.get(f"/support/checkers/demo/?version=1&compare=2&from={PERIOD['from']}").content.decode()
    assert "Version 1" in html and "Version 2" in html
    assert "reached 7 · left 0 · escalated 1" in html  # start, in the flow picture
    assert "reached 3 · left 1 · escalated 1" in html  # third
    assert "Yes · 6" in html and "None of these fit" in html
    assert "3 min 0 s" in html
    assert "My bank feed" not in html  # free text stays on the run and the gap inbox


def test_overview_page_shows_numbers_with_sample_sizes(client, known):
    reviewer(client)
    html = client.get("/support/", PERIOD).content.decode()
    assert "n = 8" in html and "38 %" in html  # 3 resolved of 8 ended
    assert "<svg" in html and "Runs by day" in html and "<table" in html


# Permissions


@pytest.mark.parametrize("who", ["anonymous", "seller"])
def test_review_pages_send_everyone_not_signed_in_to_the_admin_to_the_login(client, known, who):
    if who != "anonymous":
        client.force_login(User.objects.create_user(who, password="pw-for-tests-only"))
    for url in review_pages(known):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/admin/login/"), (who, url)


@pytest.mark.parametrize("who", ["staff", "editor"])
def test_review_pages_tell_other_staff_they_are_for_reviewers(client, known, who):
    """Signed in to the admin without the Reviewer role: a 403 that says why and whom to ask (tests/test_queue.py
    has the page's words)."""
    user = User.objects.create_user(who, password="pw-for-tests-only", is_staff=True)
    if who == "editor":
        user.groups.add(Group.objects.get(name="Editors"))
    client.force_login(user)
    for url in review_pages(known):
        response = client.get(url)
        assert response.status_code == 403 and b"for Reviewers" in response.content, (who, url)


@pytest.mark.parametrize("who", ["reviewer", "editor and reviewer", "superuser"])
def test_review_pages_open_for_reviewers_and_superusers(client, known, who):
    if who == "superuser":
        client.force_login(User.objects.create_superuser("boss", password="pw-for-tests-only"))
    else:
        user = reviewer(client)
        if who.startswith("editor"):
            user.groups.add(Group.objects.get(name="Editors"))
    for url in review_pages(known):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"], url


def test_reviewer_handles_a_request(client, known):
    _, r = known
    user = reviewer(client)
    reference = r[3].support_request.reference
    html = client.get(f"/support/requests/{reference}/").content.decode()
    assert "Still broken after all" in html and "Still broken" in html and "seller@shop.test" in html
    response = client.post(
        f"/support/requests/{reference}/", {"status": "in_progress", "assignee": user.pk, "internal_note": "On it"}
    )
    assert response.status_code == 302
    request = SupportRequest.objects.get(reference=reference)
    assert (request.status, request.assignee, request.internal_note) == ("in_progress", user, "On it")
    html = client.get("/support/requests/?status=in_progress").content.decode()
    assert reference in html and "In progress (1)" in html


# Query counts stay flat as data grows


def test_every_review_page_has_a_flat_query_count(client, known, django_assert_num_queries):
    checker, _ = known
    reviewer(client)
    urls = [*review_pages(known), "/support/checkers/demo/?version=2&compare=1"]
    # In the order of `review_pages`: the overview, the checker, runs, its CSV, a run, requests, their CSV, a
    # request, the gap inbox, the checker suggestions; then two versions compared. The session, the user and their
    # permissions included.
    queries = [8, 12, 5, 5, 6, 8, 5, 7, 22, 5, 17]
    for more in (0, 5):
        for _ in range(more):
            walk_path(checker, [("start", 0), ("second", 1), ("third", 1)])
            run = walk_path(checker, [("start", 1)])
            escalation.request_support(run, SupportRequest(email="more@shop.test", description="More"))
        for url, count in zip(urls, queries, strict=True):
            with django_assert_num_queries(count):
                response = client.get(url)
                assert response.status_code == 200, url
                b"".join(response.streaming_content) if response.streaming else None


# Exports


def test_the_runs_filter_fetches_its_checker_suggestions_apart(client, known):
    """Every checker's slug, labelled with its title, comes from its own URL when the field is first focused: the
    runs page does not carry them (thousands of checkers made it half a megabyte)."""
    checker, _ = known
    reviewer(client)
    page = client.get("/support/runs/").content.decode()
    assert 'hx-get="/support/checker-options/"' in page and 'list="checker-slugs"' in page
    assert f'<option value="{checker.slug}">' not in page
    options = client.get("/support/checker-options/").content.decode()
    assert options.count("<option") == Checker.objects.count()
    assert f'<option value="{checker.slug}">{checker.title}</option>' in options


def test_runs_csv_honours_the_filters_and_is_streamed(client, known):
    reviewer(client)
    response = client.get("/support/runs.csv", {**PERIOD, "outcome": "escalated"})
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "Started" and len(rows) == 1 + 4
    assert {row[6] for row in rows[1:]} == {"escalated"}
    response = client.get("/support/runs.csv", {**PERIOD, "outcome": "abandoned"})
    assert len(list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))) == 2


def test_csv_cells_that_a_spreadsheet_would_run_are_inert(client, known):
    _, r = known
    SupportRequest.objects.filter(run=r[3]).update(description='=HYPERLINK("http://evil.test","x")')
    reviewer(client)
    body = b"".join(client.get("/support/requests.csv").streaming_content).decode()
    assert "'=HYPERLINK" in body
    for bad in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"]:
        assert inert(bad).startswith("'")
    assert inert("fine") == "fine" and inert(3) == "3"


def test_run_list_pages_with_a_cursor(client, known):
    reviewer(client)
    from support import readouts

    readouts.PAGE_SIZE, size = 4, readouts.PAGE_SIZE
    try:
        html = client.get("/support/runs/", PERIOD).content.decode()
        assert "Older runs" in html
        seen = html.count("/support/runs/") - 1
        older = html.split('href="?')[-1].split('"')[0].replace("&amp;", "&")
        html = client.get("/support/runs/?" + older).content.decode()
        assert html.count('<td><a href="/support/runs/') >= 1
    finally:
        readouts.PAGE_SIZE = size
    assert seen >= 4


def test_run_timeline_shows_withdrawn_answers_and_the_note(client, known):
    _, r = known
    reviewer(client)
    html = client.get(f"/support/runs/{r[5].pk}/").content.decode()
    assert "withdrawn with Back" in html and "Abandoned" in html
    html = client.get(f"/support/runs/{r[7].pk}/").content.decode()
    assert "My bank feed is different" in html and "None of these fit" in html


def test_bad_filters_are_not_errors(client, known):
    reviewer(client)
    for query in ["from=nope", "to=2026-13-40", "version=abc", "outcome=weird", "before=garbage", "sort=zzz"]:
        for url in ["/support/", "/support/runs/", "/support/gaps/", "/support/checkers/demo/"]:
            assert client.get(f"{url}?{query}").status_code == 200, (url, query)


def test_checker_without_versions_has_a_page(client, db):
    reviewer(client)
    checker = make_checker("other")
    Checker.objects.filter(pk=checker.pk).update(live_version=None)
    assert client.get("/support/checkers/other/").status_code == 200


def test_overview_tables_sort_by_any_column(known):
    checker, r = known
    other = make_checker("other")
    walk_path(other, [("start", 0), ("second", 0)])
    period = stats.Period.from_params(PERIOD)
    by_runs = [c["slug"] for c, _ in stats.overview(period, "runs").by_checker]
    assert by_runs == ["demo", "other"]
    by_rate = [c["slug"] for c, _ in stats.overview(period, "rate").by_checker]
    assert by_rate == ["other", "demo"]  # 1 of 1 resolved beats 3 of 8
    ascending = [c["slug"] for c, _ in stats.overview(period, "rate", descending=False).by_checker]
    assert ascending == ["demo", "other"]


def test_admin_links_reviewers_to_the_review_pages(client, db):
    user = reviewer(client)
    assert 'href="/support/"' in client.get("/admin/").content.decode()
    user.groups.set([Group.objects.get(name="Editors")])
    assert 'href="/support/"' not in client.get("/admin/").content.decode()


def test_request_queue_pages_with_a_cursor(client, known, monkeypatch):
    from support import readouts

    checker, _ = known
    for n in range(5):
        run = walk_path(checker, [("start", 1)])
        escalation.request_support(run, SupportRequest(email="more@shop.test", description=f"Request {n}"))
    monkeypatch.setattr(readouts, "PAGE_SIZE", 4)
    reviewer(client)
    html = client.get("/support/requests/?status=new").content.decode()
    assert html.count("/support/requests/HC-") == 4 and "Older requests" in html
    older = html.split('rel="next"')[0].rsplit('href="?', 1)[1].split('"')[0].replace("&amp;", "&")
    html = client.get("/support/requests/?" + older).content.decode()
    assert html.count("/support/requests/HC-") == 2 and "Older requests" not in html
    assert client.get("/support/requests/?before=nonsense").status_code == 200


def test_request_queue_tabs_count_up_to_a_cap(client, known, monkeypatch):
    """Each tab counts its requests up to TALLY_CAP, then says "at least" (a count that reads the whole queue
    would grow with it); All adds up what the tabs show."""
    from support import views

    checker, _ = known
    for n in range(3):
        run = walk_path(checker, [("start", 1)])
        escalation.request_support(run, SupportRequest(email="more@shop.test", description=f"Request {n}"))
    SupportRequest.objects.filter(description="Request 0").update(status=SupportRequest.Status.DONE)
    reviewer(client)
    tabs = "New (3)", "In progress (0)", "Done (1)", "All (4)"  # 2 new here and the known fixture's
    html = client.get("/support/requests/").content.decode()
    assert all(tab in html for tab in tabs), html
    monkeypatch.setattr(views, "TALLY_CAP", 2)
    html = client.get("/support/requests/").content.decode()
    assert all(tab in html for tab in ("New (2+)", "In progress (0)", "Done (1)", "All (3+)")), html
    assert html.count("/support/requests/HC-") == 3  # the list itself is whole


def test_gap_inbox_lists_searches_and_unknown_codes(client, known):
    from search.log import record_unknown_code
    from search.models import SearchLog

    ten_days_ago = timezone.now() - timedelta(days=10)
    for query, results, opened in [
        ("payout missing", 0, ""),
        ("Payout missing!", 0, ""),
        ("payout missing", 0, ""),
        ("xero gone", 3, ""),
        ("xero gone", 3, "connection-error"),
    ]:
        SearchLog.objects.create(
            query=query, normalised=query.lower().strip("!"), result_count=results, opened_slug=opened
        )
    old = SearchLog.objects.create(query="payout missing", normalised="payout missing", result_count=0)
    SearchLog.objects.filter(pk=old.pk).update(created_at=ten_days_ago)
    for days_ago, times in [(0, 3), (2, 1), (10, 2), (40, 5)]:  # the period is the last 7 days
        with mock.patch("search.log.timezone.now", return_value=timezone.now() - timedelta(days=days_ago)):
            for _ in range(times):
                record_unknown_code("XC-999")
    found = {gap.kind: gap for gap in gaps.inbox(stats.Period.from_params(PERIOD))}
    nothing = found["Search: nothing found"]
    assert (nothing.count, nothing.before, nothing.trend) == (3, 1, 2) and "payout missing" in nothing.title.lower()
    no_click = found["Search: no click"]
    assert no_click.count == 1 and "xero gone" in no_click.title
    code = found["Unknown error code"]
    assert (code.count, code.before, code.trend) == (4, 2, 2) and code.title.startswith("XC-999")
    reviewer(client)
    html = client.get("/support/gaps/", PERIOD).content.decode()
    assert "XC-999" in html and "Attach it to a checker" in html


def test_runs_filter_by_incident(client, known):
    from incidents.models import Incident, IncidentRun

    _, r = known
    incident = Incident.objects.create(message="Xero is slow")
    IncidentRun.objects.bulk_create([IncidentRun(run=run, incident=incident) for run in (r[2], r[3])])
    reviewer(client)
    body = b"".join(client.get("/support/runs.csv", {**PERIOD, "incident": "during"}).streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert len(rows) == 3 and {row[10] for row in rows[1:]} == {"yes"}
    body = b"".join(client.get("/support/runs.csv", {**PERIOD, "incident": "outside"}).streaming_content).decode()
    assert len(list(csv.reader(io.StringIO(body)))) == 1 + 7
