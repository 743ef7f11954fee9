"""The gap inbox's leading steps (review/gap_steps.py): read best first from the day tables, only as many rows as it
takes to rank them exactly, and the same steps and counts as reading every row."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from review import gap_steps, rollups
from review.models import DayPosition
from review.stats import Period
from tests.factories import make_checker
from troubleshoot.models import Run

pytestmark = pytest.mark.django_db

ESCALATED = gap_steps.ended_at(Run.Outcome.ESCALATED)


def filled(checker, counts: dict[str, int], day: date) -> None:
    """Escalated runs of a filled day at each step key."""
    DayPosition.objects.bulk_create(
        DayPosition(
            day=day,
            checker=checker,
            version=checker.live_version,
            status=Run.Outcome.ESCALATED,
            step_key=key,
            step_title=f"Step {key}",
            runs=runs,
        )
        for key, runs in counts.items()
    )


def escalated_today(checker, key: str, runs: int) -> None:
    for _ in range(runs):
        Run.objects.create(
            checker=checker,
            version=checker.live_version,
            outcome=Run.Outcome.ESCALATED,
            end_step_key=key,
            end_step_title=f"Step {key}",
        )


def every_row(period: Period, days: rollups.Days, most: int) -> dict:
    """The leading steps as reading every row ranks them."""
    steps = gap_steps._sellers(ESCALATED(days.within(period.first, period.last)))
    ordered = sorted((s.count for s in steps.values() if s.count), reverse=True)
    cut = ordered[min(most, len(ordered)) - 1]
    return {key: s.count for (_, key), s in steps.items() if s.count >= cut}


def leading(period: Period, days: rollups.Days, most: int) -> dict:
    return {step.key: step.count for step in gap_steps.leading(period, days, ESCALATED, most)}


@pytest.fixture
def today():
    return timezone.localdate()


def rows_read(monkeypatch):
    """The day-table rows gap_steps adds up from now on, listed as they are read."""
    read, add = [], gap_steps._add

    def counting(found, rows, *args, **kwargs):
        rows = list(rows)
        read.extend(rows)
        add(found, rows, *args, **kwargs)

    monkeypatch.setattr(gap_steps, "_add", counting)
    return read


def test_only_the_best_rows_are_read_when_they_rank_the_steps_exactly(monkeypatch, today):
    monkeypatch.setattr(gap_steps, "READ_AHEAD", 2)
    checker = make_checker()
    filled(checker, {f"s{n}": n + 1 for n in range(40)}, today - timedelta(days=1))
    period = Period(today - timedelta(days=6), today)
    days = rollups.Days(period.before().first, period.last, filled_through=today)
    read = rows_read(monkeypatch)
    assert leading(period, days, most=5) == {"s39": 40, "s38": 39, "s37": 38, "s36": 37, "s35": 36}
    assert len(read) == 10  # 5 × READ_AHEAD of the 40 rows; the period before had none
    monkeypatch.undo()
    assert leading(period, days, most=5) == every_row(period, days, most=5)


def test_a_step_only_the_live_days_lift_into_the_lead_is_counted_whole(monkeypatch, today):
    """ "s0" has 1 escalation on a filled day (not among the rows read) and 50 today: it leads, with 51."""
    monkeypatch.setattr(gap_steps, "READ_AHEAD", 1)
    checker = make_checker()
    filled(checker, {f"s{n}": n + 1 for n in range(20)}, today - timedelta(days=1))
    escalated_today(checker, "s0", 50)
    period = Period(today - timedelta(days=6), today)
    days = rollups.Days(period.before().first, period.last, filled_through=today - timedelta(days=1))
    found = leading(period, days, most=3)
    assert found == {"s0": 51, "s19": 20, "s18": 19}
    assert found == every_row(period, days, most=3)


def test_ties_at_the_cut_beyond_the_rows_read_are_all_kept(monkeypatch, today):
    """Eight steps tie at 5 sellers; reading 2 × 2 rows can't rank them, so every row is read and all eight kept."""
    monkeypatch.setattr(gap_steps, "READ_AHEAD", 2)
    checker = make_checker()
    filled(checker, {"top": 9, **{f"tie{n}": 5 for n in range(8)}, "low": 1}, today - timedelta(days=1))
    period = Period(today - timedelta(days=6), today)
    days = rollups.Days(period.before().first, period.last, filled_through=today)
    found = leading(period, days, most=2)
    assert found == {"top": 9, **{f"tie{n}": 5 for n in range(8)}}
    assert found == every_row(period, days, most=2)


def test_a_step_only_the_live_days_have_is_not_read_again_when_it_cannot_lead(monkeypatch, today):
    """ "s0" has 1 escalation on a filled day and 1 today; every step not read had at most 15 on the filled days (the
    last row read), so "s0" has at most 16 where the 3rd has 18: its filled days aren't read."""
    monkeypatch.setattr(gap_steps, "READ_AHEAD", 2)
    checker = make_checker()
    filled(checker, {f"s{n}": n + 1 for n in range(20)}, today - timedelta(days=1))
    escalated_today(checker, "s0", 1)
    period = Period(today - timedelta(days=6), today)
    days = rollups.Days(period.before().first, period.last, filled_through=today - timedelta(days=1))
    read = rows_read(monkeypatch)
    assert leading(period, days, most=3) == {"s19": 20, "s18": 19, "s17": 18}
    assert len(read) == 7  # the 3 × READ_AHEAD best rows and today's one; not s0's filled day
    monkeypatch.undo()
    assert leading(period, days, most=3) == every_row(period, days, most=3)
