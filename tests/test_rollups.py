"""The day-by-day counts of settled days (support/rollups.py): the review pages read them instead of the runs, and
every number stays exact across their boundaries: a day becoming settled, a seller back on a run after its day was
counted, a follow-up answer arriving later, personal data purged; with fixed query counts."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from support import followups, gaps, rollups, stats
from support.models import DayChecker, DayOutcome, RolledDay
from tests.conftest import TODAY, make_checker
from tests.test_support import known, reviewer, walk_path  # noqa: F401 - the fixture of the exact numbers
from troubleshoot import versions, walk
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


def time_passes(hours: int) -> None:
    """As if `hours` passed: every last activity, and every time the counts of a day hold before, moves back."""
    shift = timedelta(hours=hours)
    Run.objects.update(last_activity_at=F("last_activity_at") - shift)
    RolledDay.objects.update(settled_before=F("settled_before") - shift)


def numbers(period=WEEK) -> tuple:
    t = stats.overview(period).total
    return (t.runs, t.resolved, t.escalated, t.abandoned, t.open, t.confirmed_fixed, t.came_back)


def test_a_settled_day_is_counted_once_and_every_number_stays_exact(known):  # noqa: F811
    checker, r = known
    age(r.values(), 3)
    day = timezone.localdate() - timedelta(days=3)
    assert not RolledDay.objects.exists()
    # Run 6 was on its second step "just now": three days on it is abandoned there.
    assert numbers() == (9, 3, 4, 2, 0, 1, 1)
    # Counted when first read: every settled day of the period, with runs or none.
    assert set(RolledDay.objects.values_list("day", flat=True)) == {WEEK.first + timedelta(days=n) for n in range(6)}
    assert DayOutcome.objects.filter(day=day).exists()
    assert numbers() == (9, 3, 4, 2, 0, 1, 1)  # and read back from the counts

    days = rollups.split(WEEK.first, WEEK.last)
    assert day in days.rolled and days.live == [timezone.localdate()]
    v1 = stats.version_numbers(checker.versions.get(number=1).pk, days)
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
    found = {(gap.kind, gap.title): gap.count for gap in gaps.inbox(WEEK)}
    assert found[("Escalations", "“First”: runs ended here in escalate")] == 2
    assert found[("Escalations", "“Third”: runs ended here in escalate")] == 1
    assert found[("Abandoned", "“Third”: sellers left here")] == 1
    assert found[("Abandoned", "“Second, reworded”: sellers left here")] == 1  # as the live version names it
    # From the counts too, titled as the version the seller walked named the step.
    assert found[("None of these fit", "“Second”: sellers' situation wasn't among the answers")] == 1
    (none_fit,) = gaps.none_fit(WEEK)
    assert (none_fit.count, none_fit.before, none_fit.examples) == (1, 0, ["My bank feed is different"])
    # The period after: the counted day is in its trend ("before"), not in its count.
    later = stats.Period(WEEK.last + timedelta(days=1), WEEK.last + timedelta(days=7))
    first = next(gap for gap in gaps.escalations(stats.Period(day, day)) if gap.title.startswith("“First”"))
    assert (first.count, first.before) == (2, 0)
    assert numbers(later)[0] == 0


def test_a_day_is_counted_only_once_no_seller_is_on_its_runs(known):  # noqa: F811
    _, r = known
    age(r.values(), 2, active=timedelta(minutes=20))  # last active 20 minutes ago: open, still in progress
    day = timezone.localdate() - timedelta(days=2)
    assert numbers() == (9, 3, 4, 0, 2, 1, 1)
    assert not RolledDay.objects.filter(day=day).exists()
    # Time passes: past the abandon time, the day is settled, counted, and the open runs are abandoned.
    Run.objects.update(last_activity_at=timezone.now() - timedelta(minutes=45))
    assert numbers() == (9, 3, 4, 2, 0, 1, 1)
    assert RolledDay.objects.filter(day=day).exists()


def test_a_seller_back_on_a_run_after_its_day_was_counted(known):  # noqa: F811
    checker, r = known
    age(r.values(), 3)
    assert numbers() == (9, 3, 4, 2, 0, 1, 1)
    day = timezone.localdate() - timedelta(days=3)
    assert RolledDay.objects.filter(day=day).exists()
    # The seller left at the third step comes back three days on and answers it: resolved.
    flow = versions.flow_of(r[5].version_id)
    walk.record_answer(flow, Run.objects.get(pk=r[5].pk), "third", 0)
    assert numbers() == (9, 4, 4, 1, 0, 1, 1)
    assert day in rollups.split(WEEK.first, WEEK.last).live  # the run is active: its day is counted live for now
    time_passes(hours=1)
    assert numbers() == (9, 4, 4, 1, 0, 1, 1)
    assert day in rollups.split(WEEK.first, WEEK.last).rolled  # counted again
    v1 = stats.version_numbers(r[5].version_id, rollups.split(WEEK.first, WEEK.last))
    assert v1.steps["third"].answers == {0: 2, 1: 1} and v1.steps["third"].abandoned == 0


def test_a_back_after_the_day_was_counted_reopens_the_run_in_the_numbers(known):  # noqa: F811
    _, r = known
    age(r.values(), 3)
    assert numbers() == (9, 3, 4, 2, 0, 1, 1)
    run = Run.objects.get(pk=r[1].pk)  # resolved at the second step
    walk.go_back(run, run.answers.live().last().pk)
    assert numbers() == (9, 2, 4, 2, 1, 1, 1)  # open again, on the second step


def test_a_follow_up_answer_after_the_day_was_counted(known):  # noqa: F811
    _, r = known
    age(r.values(), 3)
    assert numbers() == (9, 3, 4, 2, 0, 1, 1)
    followups.record(Run.objects.get(pk=r[8].pk), FollowUp.FIXED)  # a week later, by the email's link
    assert numbers() == (9, 3, 4, 2, 0, 2, 1)
    followups.record(Run.objects.get(pk=r[1].pk), FollowUp.CAME_BACK)  # a seller changes their mind
    assert numbers() == (9, 3, 4, 2, 0, 1, 2)


def test_purging_personal_data_keeps_the_counted_numbers(known):  # noqa: F811
    _, r = known
    age(r.values(), 40)
    month = stats.Period(timezone.localdate() - timedelta(days=45), timezone.localdate())
    before = numbers(month)
    assert before == (9, 3, 4, 2, 0, 1, 1)
    call_command("purgeruns", "--older-than", "30", stdout=None)
    assert Run.objects.exclude(followup_email="").count() == 0
    assert numbers(month) == before
    RolledDay.objects.all().delete()  # counted again from the purged runs
    assert numbers(month) == before


def test_rollupruns_counts_every_settled_day(known):  # noqa: F811
    _, r = known
    age([r[1], r[2]], 10)
    age([r[3]], 5)
    call_command("rollupruns", stdout=None)
    today = timezone.localdate()
    assert set(RolledDay.objects.values_list("day", flat=True)) == {
        today - timedelta(days=n) for n in range(1, 11)
    }  # every day from the first run to yesterday, runs or none
    assert numbers() == (7, 2, 3, 1, 1, 0, 1)  # the runs 10 days ago are before this week
    assert numbers(stats.Period(today - timedelta(days=10), today - timedelta(days=10))) == (2, 1, 1, 0, 0, 1, 0)


def test_review_pages_read_the_counts_in_a_fixed_number_of_queries(
    client,
    known,  # noqa: F811
    django_assert_num_queries,
):
    """Counted days cost no query per day or per run: the same count for a week and for half a year (the counts
    include the session, the user and their permissions)."""
    checker, r = known
    reviewer(client)
    age(r.values(), 3)
    call_command("rollupruns", stdout=None)
    half_year = (timezone.localdate() - timedelta(days=180)).isoformat()
    pages = [
        ("/support/", {}, 9),
        ("/support/checkers/demo/", {"version": 2, "compare": 1}, 28),
        ("/support/checkers/demo/", {}, 18),
        ("/support/gaps/", {}, 20),  # a checker source reads the period before for its leading steps apart
        ("/support/runs/", {"checker": "demo"}, 5),  # the checker suggestions come apart (checker-options)
        ("/support/requests/", {"status": "all"}, 8),  # a count per queue tab (`views.TALLY_CAP`)
    ]
    for url, query, queries in pages:
        for period in ({}, {"from": half_year}):
            params = {**query, **period}
            client.get(url, params)  # the days before the first run are counted (as none) when first read
            with django_assert_num_queries(queries):
                assert client.get(url, params).status_code == 200


def test_a_gap_adds_counted_and_live_days_under_the_counted_title(known):  # noqa: F811
    """A step with runs on counted days and on live ones is one gap with both counts, titled as the counted days'
    runs read it (the database ranks the steps: `gaps.RANKED`)."""
    first = Run.objects.filter(outcome=Run.Outcome.ESCALATED, end_step_title="First")
    counted, live = list(first.order_by("started_at"))
    age([counted], 3)
    Run.objects.filter(pk=live.pk).update(end_step_title="First, reworded")
    period = stats.Period(WEEK.first, WEEK.last)
    assert timezone.localdate(counted.started_at) - timedelta(days=3) in gaps._split(period).rolled
    found = {gap.title: (gap.count, gap.before) for gap in gaps.escalations(period)}
    assert found["“First”: runs ended here in escalate"] == (2, 0)
    assert not any("reworded" in title for title in found)


def test_a_gap_adds_counted_and_live_days_in_the_period_and_in_the_period_before(known):  # noqa: F811
    """The period's sellers (`gaps.RANKED`) and the period before's (`gaps.BEFORE`) each add the counted days to the
    live ones."""
    checker, r = known
    before = [walk_path(checker, [("start", 1)]) for _ in range(2)]  # escalated at "First", as runs 2 and 9
    age([r[2]], 3)
    age([before[0]], 10)
    age([before[1]], 9, active=timedelta(minutes=20))  # a seller still on it: its day is counted live
    days = gaps._split(WEEK)
    today = timezone.localdate()
    assert {today - timedelta(days=3), today - timedelta(days=10)} <= set(days.rolled)
    assert {today - timedelta(days=9), today} <= set(days.live)
    found = {gap.title: (gap.count, gap.before) for gap in gaps.escalations(WEEK)}
    assert found["“First”: runs ended here in escalate"] == (2, 2)


def test_overview_ranks_checkers_in_the_database_as_the_sorts_say(known):  # noqa: F811
    """The overview's checkers are added up, ordered and cut in SQL (`stats.SORTS_SQL`): for every column and both
    directions, the same order as the pages' Python rule (`stats.SORTS`, ties by title) over each checker's own
    outcomes, counted days and live ones together; `checkers` counts those cut."""
    demo, r = known
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
    age(Run.objects.filter(checker__slug__in=["c0", "c2"]), 3)
    Run.objects.filter(checker__slug="c1", outcome=Run.Outcome.OPEN).update(
        last_activity_at=timezone.now() - timedelta(hours=2)
    )
    Run.objects.filter(checker__slug="c4").update(followup_answer=FollowUp.FIXED)
    call_command("rollupruns", stdout=None)
    assert DayChecker.objects.filter(checker__slug="c0").exists()  # c0's runs are read from the counts
    own = {
        checker: stats.outcomes(Run.objects.filter(checker=checker, started_on__gte=WEEK.first))
        for checker in Checker.objects.all()
    }
    for sort, rule in stats.SORTS.items():
        for descending in (True, False):
            expected = sorted(own.items(), key=lambda item: (rule(item[1]), item[0].title), reverse=descending)
            data = stats.overview(WEEK, sort, descending, most=4)
            assert data.checkers == 6
            assert [(c["slug"], o) for c, o in data.by_checker] == [(c.slug, o) for c, o in expected[:4]], (
                sort,
                descending,
            )
