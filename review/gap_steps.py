"""The gap inbox's steps: where the most sellers said "None of these fit", ended in escalate or gave up, over a
period, with their sellers in the period before (for the trend).

Each kind of step is read from two places: the days the job has filled, from the Day… tables (`DayAnswer`,
`DayPosition`: one row per step and day), and the days after them (today, mostly) from the runs; the two are added
up per step of each published version here and ranked (a step of version 1 and the same step of version 2 are two
rows: fixing it in a new version doesn't mix with the old one's sellers). A step is titled as the filled days have
it (the step's title in the version those sellers walked), else as today's runs do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, F, Max, QuerySet, Sum

from troubleshoot.models import Answer, Run

from . import rollups
from .models import DayAnswer, DayPosition
from .stats import Period


@dataclass
class StepSellers:
    """Sellers at one step of one published version of a checker, in a period and in the period before."""

    checker: int
    version: int
    key: str
    title: str
    count: int = 0
    before: int = 0


def _grouped(rows: QuerySet, checker: str, version: str, key: str, title: str, sellers) -> QuerySet:
    """`rows` summed per (checker, version, step key), as (checker, version, key, title, sellers) rows named alike
    for every kind."""
    named = rows.annotate(gap_checker=F(checker), gap_version=F(version), gap_step=F(key))
    grouped = named.values_list("gap_checker", "gap_version", "gap_step")
    return grouped.annotate(gap_title=Max(title), gap_sellers=sellers).order_by()


def none_fit(days: rollups.Days) -> tuple[QuerySet, QuerySet]:
    """The "None of these fit" answers still live on the filled days and on the live days (counted by the day the run
    started, like every count on these pages)."""
    counted = days.rows(DayAnswer).filter(answer_index=Answer.NONE_FIT, live__gt=0)
    live = Answer.objects.none()
    if days.live:
        # Given after their run started: the bound lets the database read none-fit answers by time (a few) instead
        # of every answer of every run of the live days.
        start = rollups.midnight(days.live[0])
        live = Answer.objects.live().filter(answer_index=Answer.NONE_FIT, answered_at__gte=start)
        live = live.filter(run__in=days.live_runs())
    return (
        _grouped(counted, "version__checker_id", "version_id", "step_key", "step_title", Sum("live")),
        _grouped(live, "run__checker_id", "run__version_id", "step_key", "step_title", Count("pk")),
    )


def ended_at(status: str) -> Callable[[rollups.Days], tuple[QuerySet, QuerySet]]:
    """Runs escalated or abandoned (`status`), by the step where they ended or were left (an open run stores only
    its step's key: its title is left empty)."""

    def parts(days: rollups.Days) -> tuple[QuerySet, QuerySet]:
        counted = days.rows(DayPosition).filter(status=status)
        live = days.live_runs()
        live = live.filter(outcome=status) if status == Run.Outcome.ESCALATED else live.abandoned()
        key = "end_step_key" if status == Run.Outcome.ESCALATED else "current_step_key"
        return (
            _grouped(counted, "checker_id", "version_id", "step_key", "step_title", Sum("runs")),
            _grouped(live, "checker_id", "version_id", key, "end_step_title", Count("*")),
        )

    return parts


def _add(found: dict[tuple, StepSellers], rows, only: set | None = None, *, their_title: bool = False) -> None:
    """Add `rows` (checker, version, key, title, sellers) up per step of a version into `found`; with `only`, just
    those (version, key) pairs; titled by the first rows that have a title, or by these with `their_title`."""
    for checker, version, key, title, sellers in rows:
        if only is not None and (version, key) not in only:
            continue
        step = found.setdefault((version, key), StepSellers(checker, version, key, title))
        step.count += sellers
        step.title = (title or step.title) if their_title else (step.title or title)


def _sellers(parts: tuple[QuerySet, QuerySet], only: set | None = None) -> dict[tuple, StepSellers]:
    """The parts' rows added up per step of a version, titled as the filled days have it; with `only` (version, key)
    pairs, just those steps (the rows read are those of their versions and keys)."""
    found: dict[tuple, StepSellers] = {}
    for rows in parts:
        if only is not None:
            rows = rows.filter(gap_version__in={v for v, _ in only}, gap_step__in={k for _, k in only})
        _add(found, rows, only)
    return found


def _most_sellers(parts: tuple[QuerySet, QuerySet], most: int) -> dict[tuple, StepSellers]:
    """The parts' rows added up per step, enough of them to rank the `most` steps with the most sellers exactly.

    The filled days' rows are read best first, `most` × READ_AHEAD of them (at 5,000 checkers, 181 days had 6,000
    steps a kind, read and added up in Python on every look at the inbox); the live days' (since the job last ran)
    all. Every step not read has at most as many sellers on the filled days as the last row read (`floor`), so a
    step only the live days have gets its filled days' sellers read only when they could lift it to the `most`-th
    (at 1,000,000 runs none could: today's 3,000 such steps had been read, 80,000 rows, on every look); when the
    `most`-th step has more than `floor`, the ranking is exact; else (ties at the cut) every row is read."""
    counted, live = parts
    limit = most * READ_AHEAD
    top = list(counted.order_by("-gap_sellers", "gap_version", "gap_step")[:limit])
    found: dict[tuple, StepSellers] = {}
    _add(found, top)
    if len(top) < limit:  # every filled-days row was read
        _add(found, live)
        return found
    read, floor = set(found), top[-1][4]
    _add(found, live)
    only_live = set(found) - read
    # The `most`-th count so far, live-only steps at their live sellers alone: it can only rise as more is read.
    cut = _cut([step.count for step in found.values()], most)
    could_lead = {pair for pair in only_live if found[pair].count + floor >= cut}
    if could_lead:
        rows = counted.filter(gap_version__in={v for v, _ in could_lead}, gap_step__in={k for _, k in could_lead})
        _add(found, rows, could_lead, their_title=True)
    for pair in only_live - could_lead:  # below the cut whatever their filled days had: left out, not miscounted
        del found[pair]
    counts = sorted((step.count for step in found.values()), reverse=True)
    if len(counts) < most or counts[most - 1] <= floor:
        return _sellers(parts)
    return found


def _cut(counts: list[int], most: int) -> int:
    """The `most`-th largest of `counts` (the smallest when fewer)."""
    ordered = sorted(counts, reverse=True)
    return ordered[min(most, len(ordered)) - 1] if ordered else 0


READ_AHEAD = 4


def leading(
    period: Period, days: rollups.Days, parts: Callable[[rollups.Days], tuple[QuerySet, QuerySet]], most: int
) -> list[StepSellers]:
    """The steps with the most sellers in `period` (as many as the `most`-th or more: ties at the cut are kept, for
    the inbox to order by growth), with their sellers in the period before. Two to five queries."""
    now = _most_sellers(parts(days.within(period.first, period.last)), most)
    ordered = sorted((step for step in now.values() if step.count > 0), key=lambda step: -step.count)
    if not ordered:
        return []
    cut = _cut([step.count for step in ordered], most)
    shown = {(step.version, step.key): step for step in ordered if step.count >= cut}
    before = period.before()
    for pair, step in _sellers(parts(days.within(before.first, before.last)), set(shown)).items():
        shown[pair].before = step.count
    return list(shown.values())
