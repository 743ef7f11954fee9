"""The day-by-day counts of settled days (support/rollups.py): the review pages read them instead of the runs, and
every number stays exact across their boundaries: a day becoming settled, a seller back on a run after its day was
counted, a follow-up answer arriving later, personal data purged; with fixed query counts."""

import itertools
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from support import followups, gaps, rollups, stats, totals
from support.models import RANKED_BY, DayChecker, DayOutcome, PeriodChecker, PeriodTotal, RolledDay
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
    """The period's outcomes, as the overview's days and sources add them up; its checkers (ranked from the period's
    total of counted days, `totals`) must add up to the same."""
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
    assert left() == {"second": (1, 0), "third": (1, 0)}
    walk.record_answer(flow, Run.objects.get(pk=r[5].pk), "third", 0)
    assert numbers() == (9, 4, 4, 1, 0, 1, 1)
    assert left() == {"second": (1, 0)}
    assert day in rollups.split(WEEK.first, WEEK.last).live  # the run is active: its day is counted live for now
    time_passes(hours=1)
    assert numbers() == (9, 4, 4, 1, 0, 1, 1)
    assert day in rollups.split(WEEK.first, WEEK.last).rolled  # counted again
    assert left() == {"second": (1, 0)}  # from a new total: the day's counting time is in its key
    v1 = stats.version_numbers(r[5].version_id, rollups.split(WEEK.first, WEEK.last))
    assert v1.steps["third"].answers == {0: 2, 1: 1} and v1.steps["third"].abandoned == 0


def test_a_day_counted_again_by_another_process_at_the_same_moment_is_read_live(known, monkeypatch):  # noqa: F811
    """Counting a stale day fails when another process counts it at the same moment: its old counts are not read
    (nor their total), the day is counted live this once."""
    _, r = known
    age(r.values(), 3)
    assert numbers() == (9, 3, 4, 2, 0, 1, 1)
    day = timezone.localdate() - timedelta(days=3)
    walk.record_answer(versions.flow_of(r[5].version_id), Run.objects.get(pk=r[5].pk), "third", 0)
    time_passes(hours=1)  # settled again: the day is counted again when next read

    def counted_elsewhere(runs) -> None:
        for started_on in {run.started_on for run in runs}:
            RolledDay.objects.create(day=started_on, settled_before=timezone.now())

    monkeypatch.setattr(rollups, "_count", counted_elsewhere)
    assert day in rollups.split(WEEK.first, WEEK.last).live
    assert numbers() == (9, 4, 4, 1, 0, 1, 1)
    assert left() == {"second": (1, 0)}


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
    # Every day from the first run to yesterday, runs or none, and those of the default period's totals (below).
    assert set(RolledDay.objects.values_list("day", flat=True)) == {today - timedelta(days=n) for n in range(1, 60)}
    # and the default period's totals are made, for the overview and the gap inbox (its trends: the period before)
    assert PeriodTotal.objects.count() == 2
    stats.overview(stats.Period.ending_today())
    gaps.inbox(stats.Period.ending_today())
    assert PeriodTotal.objects.count() == 2
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
        ("/support/", {}, 10),  # the period's counted days are read from their total (`totals`), found by its key
        ("/support/checkers/demo/", {"version": 2, "compare": 1}, 28),
        ("/support/checkers/demo/", {}, 18),
        # A checker source reads the period before for its leading steps apart; both periods' totals are looked up.
        ("/support/gaps/", {}, 22),
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
    age(Run.objects.filter(checker__slug__in=["c0", "c2", "c3"]), 3)
    age(Run.objects.filter(checker__slug="c4", outcome=Run.Outcome.ESCALATED), 3)  # c4: counted and live runs
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
    # Every cut: in the orders of `support.models.RANKED_BY` only the counted checkers that can lead are ranked.
    for (sort, rule), descending, most in itertools.product(stats.SORTS.items(), (True, False), range(1, 7)):
        expected = sorted(own.items(), key=lambda item: (rule(item[1]), item[0].title), reverse=descending)
        data = stats.overview(WEEK, sort, descending, most=most)
        assert data.checkers == 6
        found = [(c["slug"], o) for c, o in data.by_checker]
        assert found == [(c.slug, o) for c, o in expected[:most]], (sort, descending, most)


def test_a_periods_counted_days_are_added_up_once_and_read_from_their_total_after(known):  # noqa: F811
    """The first read of a period's counted days makes their total (`totals`); the overview and the gap inbox then
    rank from it, not from the day-by-day rows, and the period's days make one total for both pages."""
    _, r = known
    age(r.values(), 3)
    first = (stats.overview(WEEK), gaps.inbox(WEEK))
    assert PeriodTotal.objects.count() == 2  # the week, and the week before for the inbox's trends
    with CaptureQueriesContext(connection) as read:
        again = (stats.overview(WEEK), gaps.inbox(WEEK))
    assert again == first
    sql = " ".join(query["sql"] for query in read.captured_queries)
    assert "support_periodchecker" in sql and "support_periodstep" in sql
    assert not any(table in sql for table in ("support_daychecker", "support_dayposition", "support_dayanswer"))
    assert PeriodTotal.objects.count() == 2


def test_totals_no_page_reads_are_deleted_when_a_new_one_is_made(known):  # noqa: F811
    """Made a while ago and superseded by a newer total of the same days, or made over a day ago: deleted, rows and
    all. Superseded only moments ago (a page may still be reading it): kept."""
    _, r = known
    age(r.values(), 3)
    days = rollups.split(WEEK.first, WEEK.last)
    now = timezone.now()

    def made(name: str, ago: timedelta, first=days.rolled[0]) -> PeriodTotal:
        return PeriodTotal.objects.create(key=name, first=first, last=days.rolled[-1], made_at=now - ago)

    made("old", timedelta(days=2), first=WEEK.first - timedelta(days=30))
    made("superseded", timedelta(hours=3))
    made("newer", timedelta(hours=2))  # supersedes the one above an hour before this read
    made("just superseded", timedelta(minutes=10), first=WEEK.first - timedelta(days=1))
    made("just made", timedelta(minutes=1), first=WEEK.first - timedelta(days=1))
    PeriodChecker.objects.create(
        total=PeriodTotal.objects.get(key="old"),
        checker=known[0],
        runs=1,
        resolved=1,
        escalated=0,
        abandoned=0,
        confirmed=0,
        came_back=0,
    )
    made_now = totals.total(days)
    assert set(PeriodTotal.objects.values_list("key", flat=True)) == {
        "newer",
        "just superseded",
        "just made",
        totals.key(days),
    }
    assert set(PeriodChecker.objects.values_list("total_id", flat=True)) == {made_now}


def test_a_total_made_by_another_page_at_the_same_moment_is_read(known):  # noqa: F811
    """Two pages make the same total at once: the one that loses reads the other's (one total, no error)."""
    _, r = known
    age(r.values(), 3)
    days = rollups.split(WEEK.first, WEEK.last)
    theirs = PeriodTotal.objects.create(key=totals.key(days), first=days.rolled[0], last=days.rolled[-1])
    assert totals._make(days, totals.key(days)) == theirs.pk
    assert PeriodTotal.objects.count() == 1


@pytest.mark.parametrize("most", range(1, 8))
def test_the_inbox_reads_only_the_counted_steps_that_can_lead_and_leaves_out_none_that_do(most, monkeypatch):
    """A source ranks the counted steps with as many sellers as the `most`-th or more (`totals.steps(…, most)`)
    and every step with sellers on the days not counted: the same steps, ties included, as ranking every step over
    its own runs, for every cut."""
    plan = {"c0": (5, 0), "c1": (3, 0), "c2": (2, 0), "c3": (1, 2), "c4": (0, 2), "c5": (1, 0)}  # counted, live
    for slug, (counted, live) in plan.items():
        checker = make_checker(slug)
        age([walk_path(checker, [("start", 1)]) for _ in range(counted)], 3)
        for _ in range(live):
            walk_path(checker, [("start", 1)])
    monkeypatch.setattr(gaps, "SHOWN", most)
    found = {(gap.where, gap.count) for gap in gaps.escalations(WEEK)}
    sellers = Counter(Run.objects.filter(outcome=Run.Outcome.ESCALATED).values_list("checker_id", flat=True))
    cut = sorted(sellers.values(), reverse=True)[min(most, len(sellers)) - 1]
    assert found == {(checker, n) for checker, n in sellers.items() if n >= cut}
    # The counted steps read: those with as many counted sellers as the `most`-th or more, and today's.
    days = gaps._split(WEEK).within(WEEK.first, WEEK.last)
    live = Run.objects.filter(started_on=TODAY)
    read = totals.leading_steps(
        days, Run.Outcome.ESCALATED, most, live.values("checker_id"), live.values("end_step_key")
    )
    counted = sorted((n for n, _ in plan.values() if n), reverse=True)
    floor = counted[min(most, len(counted)) - 1]
    assert {row.checker.slug for rows in read for row in rows} == {
        slug for slug, (n, today) in plan.items() if n and (n >= floor or today)
    }


@pytest.mark.parametrize("most", range(1, 8))
def test_the_overview_reads_only_the_counted_checkers_that_can_lead_and_leaves_out_none_that_do(most):
    """In the orders a day not counted can only raise a checker in (`RANKED_BY`), the overview ranks the counted
    checkers as high as the `most`-th or higher and those with runs today (`totals.leading_checkers`): the same
    checkers, in the same order, as ranking every checker over its own runs, and the same count of checkers."""
    # c9 ties with c3 at the cut of 2 and wins it by its title: a counted checker can be shown at the cut.
    plan = {"c0": (5, 0), "c9": (3, 0), "c2": (2, 0), "c3": (1, 2), "c4": (0, 2), "c5": (1, 0)}  # counted, live
    for slug, (counted, live) in plan.items():
        checker = make_checker(slug)
        age([walk_path(checker, [("start", 1)]) for _ in range(counted)], 3)
        for _ in range(live):
            walk_path(checker, [("start", 1)])
    own = {checker: stats.outcomes(checker.runs.all()) for checker in Checker.objects.all()}
    for sort in RANKED_BY:
        rule = stats.SORTS[sort]
        expected = sorted(own.items(), key=lambda item: (rule(item[1]), item[0].title), reverse=True)
        data = stats.overview(WEEK, sort, True, most=most)
        assert data.checkers == len(plan)
        assert [(c["slug"], o) for c, o in data.by_checker] == [(c.slug, o) for c, o in expected[:most]], sort


def test_postgresql_learns_a_new_totals_rows_when_it_is_made(known):  # noqa: F811
    """A total's rows are analyzed as it is made: without statistics on them PostgreSQL planned for one row a total
    and read a 90-day overview in 0.46 s instead of 4 ms."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")
    _, r = known
    age(r.values(), 3)
    made = totals.total(rollups.split(WEEK.first, WEEK.last))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT most_common_vals::text, n_distinct FROM pg_stats"
            " WHERE tablename = 'support_periodchecker' AND attname = 'total_id'"
        )
        found = cursor.fetchone()
    assert found is not None, "no statistics"
    assert found[0] is None or str(made) in found[0].strip("{}").split(","), found


def test_a_day_counted_by_the_code_before_counted_at_gets_a_counting_time(known):  # noqa: F811
    """During a deploy an app server still on the code before migration 0008 writes counted days without
    `counted_at`: the database sets it, so their counts are kept and read from a total."""
    _, r = known
    age(r.values(), 3)
    day = timezone.localdate() - timedelta(days=3)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO support_rolledday (day, settled_before) VALUES (%s, %s)", [day, timezone.now()])
    assert RolledDay.objects.get(day=day).counted_at is not None
    days = rollups.split(day, day)
    assert days.rolled == [day] and totals.total(days) is not None
