"""The day-by-day counts (review/rollups.py): the scheduled job (`manage.py rollupruns`) fills them and the review
pages only read. Every number stays exact across the job: a day becoming settled, a seller back on a run of a filled
day, a follow-up answer arriving later, personal data purged; the pages write nothing on GET; query counts are exact
and the same for a small and a larger library."""

import itertools
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from review import flowcounts, gaps, rollups, stats
from review.models import DayChecker, DayOutcome, FillState
from support import followups
from tests.conftest import TODAY
from tests.factories import make_checker, review_pages, reviewer, walk_path
from troubleshoot import versioncache, walk
from troubleshoot.models import Answer, Checker, FollowUp, Run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("midday")]  # counted by day: see conftest.TODAY

WEEK = stats.Period(TODAY - timedelta(days=6), TODAY)


def age(runs, days: int, *, active: timedelta | None = None) -> None:
    """Move `runs` (and their answers) `days` back in time, as if walked then; with `active`, their last activity
    is that long ago instead."""
    shift = timedelta(days=days)
    ids = [run.pk for run in runs]
    Run.objects.filter(pk__in=ids).update(
        started_at=F("started_at") - shift,
        last_activity_at=F("last_activity_at") - shift,
        ended_at=F("ended_at") - shift,
    )
    Answer.objects.filter(run__in=ids).update(answered_at=F("answered_at") - shift)
    for run in Run.objects.filter(pk__in=ids):
        run.started_on = timezone.localdate(run.started_at)
        if active is not None:
            run.last_activity_at = timezone.now() - active
        run.save(update_fields=["started_on", "last_activity_at"])


def job() -> None:
    call_command("rollupruns", stdout=None)


def numbers(period=WEEK) -> tuple:
    """The period's outcomes, as the overview's days and sources add them up; its checkers must add up to the
    same."""
    data = stats.overview(period)
    t = data.total
    found = (t.runs, t.resolved, t.escalated, t.abandoned, t.open, t.confirmed_fixed, t.came_back)
    by_checker = [
        (o.runs, o.resolved, o.escalated, o.abandoned, o.open, o.confirmed_fixed, o.came_back)
        for _, o in data.by_checker
    ]
    assert tuple(map(sum, zip(*by_checker, strict=True))) == (found if t.runs else ())
    return found


def left(period=WEEK) -> dict:
    """The gap inbox's abandons: step key → (sellers in the period, in the period before)."""
    return {gap.key[2]: (gap.count, gap.before) for gap in gaps.abandons(period)}


def filled_through():
    return FillState.objects.get().filled_through


def test_the_job_fills_the_settled_days_and_every_number_stays_exact(known):
    checker, r = known
    age(r.values(), 3)
    day = TODAY - timedelta(days=3)
    # Before the job every day is read from the runs; run 6 was on its second step "just now": three days on it is
    # abandoned there.
    assert numbers() == (9, 3, 4, 2, 0, 1, 1)
    job()
    assert filled_through() == TODAY - timedelta(days=1)
    assert DayOutcome.objects.filter(day=day).exists()
    assert numbers() == (9, 3, 4, 2, 0, 1, 1)  # read back from the day tables

    days = rollups.days(WEEK.first, WEEK.last)
    assert days.counted == (WEEK.first, TODAY - timedelta(days=1)) and days.live == (TODAY, TODAY)
    v1 = flowcounts.version_numbers(checker.versions.get(number=1).pk, days)
    o = v1.outcomes
    assert (o.runs, o.resolved, o.escalated, o.abandoned, o.open) == (7, 2, 3, 2, 0)
    start, second, third = v1.steps["start"], v1.steps["second"], v1.steps["third"]
    assert start.answers == {0: 6, 1: 1} and start.withdrawn == 1
    assert (start.reached, start.escalated, start.abandoned) == (7, 1, 0)
    assert second.answers == {0: 1, 1: 3, Answer.NONE_FIT: 1}
    assert (second.reached, second.abandoned, second.in_progress, second.escalated, second.resolved) == (6, 1, 0, 1, 1)
    assert (third.reached, third.abandoned, third.escalated, third.resolved) == (3, 1, 1, 1)
    assert v1.median == timedelta(seconds=180)
    assert {tuple(p.steps): p.runs for p in v1.paths} == {
        (("start", 1),): 1,
        (("start", 0), ("second", 1), ("third", 1)): 1,
        (("start", 0), ("second", Answer.NONE_FIT)): 1,
    }
    found = {(gap.kind, gap.title, gap.version_number): gap.count for gap in gaps.inbox(WEEK)}
    # Each version its own row: run 2 escalated at "First" on version 1, run 9 on version 2.
    assert found[("Escalations", "“First”: runs ended here in escalate", 1)] == 1
    assert found[("Escalations", "“First”: runs ended here in escalate", 2)] == 1
    assert found[("Escalations", "“Third”: runs ended here in escalate", 1)] == 1
    assert found[("Abandoned", "“Third”: sellers left here", 1)] == 1
    assert found[("Abandoned", "“Second”: sellers left here", 1)] == 1  # as the version the seller walked names it
    # From the day tables too, titled as the version the seller walked named the step.
    assert found[("None of these fit", "“Second”: sellers' situation wasn't among the answers", 1)] == 1
    (none_fit,) = gaps.none_fit(WEEK)
    assert (none_fit.count, none_fit.before, none_fit.examples) == (1, 0, ["My bank feed is different"])
    # The period after: the filled day is in its trend ("before"), not in its count.
    later = stats.Period(WEEK.last + timedelta(days=1), WEEK.last + timedelta(days=7))
    escalated = gaps.escalations(stats.Period(day, day))
    first = {gap.key[1]: (gap.count, gap.before) for gap in escalated if gap.key[2] == "start"}
    assert first[r[9].version_id] == (1, 0) and first[r[2].version_id] == (1, 0)
    assert numbers(later)[0] == 0


def test_a_day_with_a_seller_still_on_it_is_filled_once_it_settles(known, time_machine):
    _, r = known
    age(r.values(), 2, active=timedelta(minutes=20))  # last active 20 minutes ago: open, still in progress
    job()
    assert filled_through() == TODAY - timedelta(days=3)  # not past the day a seller is on
    assert numbers() == (9, 3, 4, 0, 2, 1, 1)
    time_machine.shift(timedelta(minutes=15))  # past the abandon time: settled, and its open runs abandoned
    assert numbers() == (9, 3, 4, 2, 0, 1, 1)  # read live until the job fills it
    job()
    assert filled_through() == TODAY - timedelta(days=1)
    assert numbers() == (9, 3, 4, 2, 0, 1, 1)


def test_a_seller_back_on_an_old_run_shows_after_the_next_job_run(known, time_machine):
    _, r = known
    age(r.values(), 3)
    job()
    assert numbers() == (9, 3, 4, 2, 0, 1, 1)
    assert left() == {"second": (1, 0), "third": (1, 0)}
    # The seller left at the third step comes back three days on and answers it: resolved.
    walk.record_answer(versioncache.flow_of(r[5].version_id), Run.objects.get(pk=r[5].pk), "third", 0)
    assert numbers() == (9, 3, 4, 2, 0, 1, 1)  # the page reads the day as filled
    job()  # a seller still on one of its runs: the day waits
    assert numbers() == (9, 3, 4, 2, 0, 1, 1)
    time_machine.shift(timedelta(minutes=31))
    job()
    assert numbers() == (9, 4, 4, 1, 0, 1, 1)
    assert left() == {"second": (1, 0)}
    v1 = flowcounts.version_numbers(r[5].version_id, rollups.days(WEEK.first, WEEK.last))
    assert v1.steps["third"].answers == {0: 2, 1: 1} and v1.steps["third"].abandoned == 0


def test_a_back_on_a_run_of_a_filled_day_shows_after_the_next_job_run(known, time_machine):
    _, r = known
    age(r.values(), 3)
    job()
    run = Run.objects.get(pk=r[1].pk)  # resolved at the second step
    walk.go_back(run, run.answers.live().last().pk)
    time_machine.shift(timedelta(minutes=31))
    assert numbers() == (9, 3, 4, 2, 0, 1, 1)
    job()
    assert numbers() == (9, 2, 4, 3, 0, 1, 1)  # open again on the second step, and left there since


def test_a_follow_up_answer_shows_after_the_next_job_run(known):
    _, r = known
    age(r.values(), 3)
    job()
    assert numbers() == (9, 3, 4, 2, 0, 1, 1)
    followups.record(Run.objects.get(pk=r[8].pk), FollowUp.FIXED)  # a week later, by the email's link
    assert numbers() == (9, 3, 4, 2, 0, 1, 1)
    job()
    assert numbers() == (9, 3, 4, 2, 0, 2, 1)
    followups.record(Run.objects.get(pk=r[1].pk), FollowUp.CAME_BACK)  # a seller changes their mind
    job()
    assert numbers() == (9, 3, 4, 2, 0, 1, 2)
    job()  # nothing changed since: nothing counted again
    assert numbers() == (9, 3, 4, 2, 0, 1, 2)


def test_purging_personal_data_keeps_the_counted_numbers(known):
    _, r = known
    age(r.values(), 40)
    month = stats.Period(TODAY - timedelta(days=45), TODAY)
    job()
    before = numbers(month)
    assert before == (9, 3, 4, 2, 0, 1, 1)
    call_command("purgeruns", "--older-than", "30", stdout=None)
    assert Run.objects.exclude(followup_email="").count() == 0
    assert numbers(month) == before
    FillState.objects.all().delete()  # filled again from the purged runs
    job()
    assert numbers(month) == before


def test_rollupruns_fills_every_settled_day_from_the_first_run(known, capsys):
    _, r = known
    age([r[1], r[2]], 70)  # more than two fills of a month in one job
    age([r[3]], 5)
    call_command("rollupruns")
    assert capsys.readouterr().out == f"70 day(s) counted; filled through {TODAY - timedelta(days=1)}.\n"
    assert filled_through() == TODAY - timedelta(days=1)
    assert numbers() == (7, 2, 3, 1, 1, 0, 1)  # the runs 70 days ago are before this week
    assert numbers(stats.Period(TODAY - timedelta(days=70), TODAY - timedelta(days=70))) == (2, 1, 1, 0, 0, 1, 0)
    call_command("rollupruns")
    assert capsys.readouterr().out == f"0 day(s) counted; filled through {TODAY - timedelta(days=1)}.\n"


def test_the_pages_show_todays_runs_before_the_job_has_ever_run(client, known):
    """`make run` has no cron: every day is read from the runs, and the pages say so."""
    reviewer(client)
    html = client.get("/support/").content.decode()
    assert "n = 8" in html and "the hourly count has not run yet" in html
    job()
    html = client.get("/support/").content.decode()
    assert "n = 8" in html and f"Days up to {TODAY - timedelta(days=1):%-d %b %Y} as counted at" in html


WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def every_review_page(known) -> list[str]:
    """Every review page and export, and the two that read more: a sorted overview, two versions compared."""
    return [*review_pages(known), "/support/?sort=rate&dir=asc", "/support/checkers/demo/?version=2&compare=1"]


@pytest.mark.parametrize("filled", [False, True])
def test_a_get_on_every_review_page_writes_nothing(client, known, filled, time_machine):
    """Before the job and after it, with days the job has not filled yet and a seller back on a filled day's run:
    no INSERT, UPDATE or DELETE."""
    _, r = known
    age([r[1], r[2], r[5]], 3)
    if filled:
        job()
        walk.record_answer(versioncache.flow_of(r[5].version_id), Run.objects.get(pk=r[5].pk), "third", 0)
        time_machine.shift(timedelta(days=1, minutes=31))  # yesterday is settled and not filled
    reviewer(client)
    for url in every_review_page(known):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
            b"".join(response.streaming_content) if response.streaming else None
        assert response.status_code == 200, url
        writes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)]
        assert writes == [], url


def grow(count: int) -> None:
    """`count` checkers, each with runs on a filled day and today: escalated, resolved, left and still open."""
    for n in range(count):
        checker = make_checker(f"c{n}")
        runs = [
            walk_path(checker, [("start", 1)]),
            walk_path(checker, [("start", 0), ("second", 0)]),
            walk_path(checker, [("start", 0), ("second", Answer.NONE_FIT)], note="Not mine"),
            walk_path(checker, [("start", 0)]),
        ]
        age(runs[:3], 3)
        walk_path(checker, [("start", 0), ("second", 1)])  # today, still on the third step


@pytest.mark.parametrize("size", [3, pytest.param(30, marks=pytest.mark.slow)])
def test_review_pages_read_in_the_same_exact_number_of_queries_for_a_small_and_a_larger_library(
    client,
    known,
    size,
    django_assert_num_queries,
):
    """No query per day, per run or per checker: the same count for 3 and 30 checkers, a week and half a year (the
    counts include the session, the user and their permissions)."""
    _, r = known
    age(r.values(), 3)
    grow(size)
    job()
    reviewer(client)
    half_year = (TODAY - timedelta(days=180)).isoformat()
    pages = [
        # The fill state, days by source (filled, live), checkers (filled, live) and the names of those shown.
        ("/support/", {}, 10),
        ("/support/", {"sort": "rate", "dir": "asc"}, 10),
        ("/support/checkers/demo/", {"version": 2, "compare": 1}, 27),
        ("/support/checkers/demo/", {}, 17),
        # A checker source: its steps on the filled and the live days, the period before's for the leading ones;
        # the team's items of the gaps listed and the reviewers to assign them to.
        ("/support/gaps/", {}, 25),
        ("/support/runs/", {"checker": "demo"}, 5),
        ("/support/requests/", {"status": "all"}, 8),
    ]
    for url, query, queries in pages:
        for period in ({}, {"from": half_year}):
            with django_assert_num_queries(queries):
                assert client.get(url, {**query, **period}).status_code == 200


def test_a_gap_adds_filled_and_live_days_under_the_filled_title(known):
    """A step of a version with runs on filled days and on live ones is one gap with both counts, titled as the
    filled days' runs read it."""
    checker, r = known
    walk_path(checker, [("start", 1)])  # escalated at "First" on version 2, as run 9
    first = Run.objects.filter(outcome=Run.Outcome.ESCALATED, end_step_title="First", version=r[9].version)
    counted, live = list(first.order_by("started_at"))
    age([counted], 3)
    Run.objects.filter(pk=live.pk).update(end_step_title="First, reworded")
    job()
    found = {(gap.title, gap.key[1]): (gap.count, gap.before) for gap in gaps.escalations(WEEK)}
    assert found[("“First”: runs ended here in escalate", r[9].version_id)] == (2, 0)
    assert found[("“First”: runs ended here in escalate", r[2].version_id)] == (1, 0)  # version 1's apart
    assert not any("reworded" in title for title, _ in found)


def test_a_gap_adds_filled_and_live_days_in_the_period_and_in_the_period_before(known):
    checker, r = known
    # Escalated at "First" on version 2, as run 9: one today, two in the period before.
    today, *before = [walk_path(checker, [("start", 1)]) for _ in range(3)]
    age([r[9]], 3)
    age([before[0]], 10)
    age([before[1]], 9, active=timedelta(minutes=20))  # a seller still on it: the job fills up to the day before
    job()
    days = gaps._split(WEEK)
    assert days.counted[1] == TODAY - timedelta(days=10) and days.live == (TODAY - timedelta(days=9), TODAY)
    found = {(gap.title, gap.key[1]): (gap.count, gap.before) for gap in gaps.escalations(WEEK)}
    assert found[("“First”: runs ended here in escalate", today.version_id)] == (2, 2)


def test_overview_ranks_checkers_as_the_sorts_say(known):
    """For every column and both directions, the order of the pages' rule (`stats.SORTS`, ties by title) over each
    checker's own outcomes, filled days and live ones together; `checkers` counts those cut."""
    paths = [
        [("start", 0), ("second", 0)],  # resolved
        [("start", 1)],  # escalated
        [("start", 0)],  # left open: abandoned below, or in progress
    ]
    for n, mix in enumerate([(2, 1, 0), (0, 0, 2), (1, 1, 1), (1, 1, 1), (0, 2, 0)]):
        checker = make_checker(f"c{n}")
        for path, times in zip(paths, mix, strict=True):
            for _ in range(times):
                walk_path(checker, path)
    age(Run.objects.filter(checker__slug__in=["c0", "c2", "c3"]), 3)
    age(Run.objects.filter(checker__slug="c4", outcome=Run.Outcome.ESCALATED), 3)  # c4: filled and live runs
    Run.objects.filter(checker__slug="c1", outcome=Run.Outcome.OPEN).update(
        last_activity_at=timezone.now() - timedelta(hours=2)
    )
    Run.objects.filter(checker__slug="c4").update(followup_answer=FollowUp.FIXED)
    job()
    assert DayChecker.objects.filter(checker__slug="c0").exists()  # c0's runs are read from the day tables
    own = {
        checker: stats.outcomes(Run.objects.filter(checker=checker, started_on__gte=WEEK.first))
        for checker in Checker.objects.all()
    }
    for (sort, rule), descending, most in itertools.product(stats.SORTS.items(), (True, False), range(1, 7)):
        expected = sorted(own.items(), key=lambda item: (rule(item[1]), item[0].title), reverse=descending)
        data = stats.overview(WEEK, sort, descending, most=most)
        assert data.checkers == 6
        found = [(c["slug"], o) for c, o in data.by_checker]
        assert found == [(c.slug, o) for c, o in expected[:most]], (sort, descending, most)


@pytest.mark.parametrize("most", range(1, 8))
def test_the_inbox_keeps_every_step_that_leads_filled_and_live_days_together(most, monkeypatch):
    """A source keeps the steps with as many sellers as the `most`-th or more, ties included, over filled and live
    days together: the same steps as ranking every step over its own runs, for every cut."""
    plan = {"c0": (5, 0), "c1": (3, 0), "c2": (2, 0), "c3": (1, 2), "c4": (0, 2), "c5": (1, 0)}  # filled, live
    for slug, (counted, live) in plan.items():
        checker = make_checker(slug)
        age([walk_path(checker, [("start", 1)]) for _ in range(counted)], 3)
        for _ in range(live):
            walk_path(checker, [("start", 1)])
    job()
    monkeypatch.setattr(gaps, "SHOWN", most)
    found = {(gap.where, gap.count) for gap in gaps.escalations(WEEK)}
    sellers = Counter(Run.objects.filter(outcome=Run.Outcome.ESCALATED).values_list("checker_id", flat=True))
    cut = sorted(sellers.values(), reverse=True)[min(most, len(sellers)) - 1]
    assert found == {(checker, n) for checker, n in sellers.items() if n >= cut}
