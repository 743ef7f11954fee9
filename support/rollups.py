"""Day-by-day counts of settled days, so the review pages read a few rows a day instead of every run.

A day is **settled** once every run that started on it has been idle past the abandon time
(HELPCENTER_ABANDON_AFTER_MINUTES): its runs' outcomes can then only change if a seller comes back to one (an
answer or a Back moves the run's `last_activity_at`) or answers the "Still fixed?" email. Settled days are counted
once into the Day… tables of `models.py` (`RolledDay` says which days are, and before what time every run of the day
was last active); the review pages add the days not yet settled (today, mostly), counted live from the runs.

Who writes them: `manage.py rollupruns` (cron, see the README), and the review pages themselves for a settled day
nobody has counted yet, or one that went stale. Nothing on the seller's step-answer path writes here: a seller
back on an old run is found on the next read by its `last_activity_at` (one query over the runs active since the
days' `settled_before`, through the `run_outcome_activity` index), and that day is counted again. A follow-up answer
(rare) marks its run's day stale in `followups.record`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from troubleshoot.models import LIVE_ANSWER, Answer, FollowUp, Run

from .models import (
    DayAnswer,
    DayChecker,
    DayDuration,
    DayOutcome,
    DayPath,
    DayPosition,
    DaySource,
    RolledDay,
)

TABLES = [DayOutcome, DaySource, DayChecker, DayAnswer, DayPosition, DayPath, DayDuration]
# How far behind the days' `settled_before` may fall before a read moves it on (a write; the cron job does it too).
REFRESH_AFTER = timedelta(hours=1)


@dataclass
class Days:
    """The days of a period split in two: `rolled` ones are read from the Day… tables, `live` ones from the runs."""

    rolled: list[date] = field(default_factory=list)
    live: list[date] = field(default_factory=list)
    counted: dict[date, datetime] = field(default_factory=dict)  # when each rolled day was counted
    # The totals of rolled days found so far (`totals.total`: key → id), shared by the days `within` these.
    totals: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def within(self, first: date, last: date) -> Days:
        """The days of these from `first` to `last`, rolled and live ones."""
        rolled = [day for day in self.rolled if first <= day <= last]
        live = [day for day in self.live if first <= day <= last]
        return Days(rolled, live, {day: self.counted[day] for day in rolled}, self.totals)

    def live_start(self) -> datetime:
        """When the first live day began."""
        return _midnight(self.live[0])

    def live_runs(self):
        """The runs started on the live days: by `started_at` ranges, one per run of consecutive days (a day in
        the middle gone stale is read alone, not with every day up to today), so the indexes on it narrow the scan."""
        if not self.live:
            return Run.objects.none()
        spans, first = Q(), self.live[0]
        for day, after in zip(self.live, [*self.live[1:], None], strict=True):
            if after != day + timedelta(days=1):
                spans |= Q(started_at__gte=_midnight(first), started_at__lt=_midnight(day + timedelta(days=1)))
                first = after
        return Run.objects.filter(spans, started_on__in=self.live)


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def last_settleable(cutoff: datetime) -> date:
    """The last day that ended before `cutoff` (now less the abandon time): no run can have started on a later day
    and already be idle past the abandon time."""
    return timezone.localdate(cutoff) - timedelta(days=1)


def split(first: date, last: date, *, roll: bool = True) -> Days:
    """The days from `first` to `last` split into rolled and live ones; settled days not yet counted (or gone
    stale) are counted first when `roll`. Two queries, plus the counting of any day that needs it."""
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    cutoff = Run.objects.abandon_cutoff()
    candidates = [day for day in days if day <= last_settleable(cutoff)]
    if not candidates:
        return Days(live=days)
    known, counted = {}, {}
    for day, settled_before, counted_at in RolledDay.objects.filter(
        day__gte=candidates[0], day__lte=candidates[-1]
    ).values_list("day", "settled_before", "counted_at"):
        known[day], counted[day] = settled_before, counted_at
    since = min([*known.values(), cutoff])
    latest = active_since(since)
    fresh = [day for day in candidates if day in known and (day not in latest or latest[day] < known[day])]
    # A day with a run active after the cutoff isn't settled yet (a seller still on it): counted live.
    waiting = [day for day in candidates if day not in fresh and not (day in latest and latest[day] >= cutoff)]
    rolled = set(fresh)
    if roll and waiting:
        now_counted = count_days(waiting, cutoff)
        rolled.update(now_counted)
        counted.update(now_counted)
    if fresh and min(known[day] for day in fresh) < cutoff - REFRESH_AFTER:
        # No run of these days was active since their `settled_before`: their counts hold at `cutoff` too.
        RolledDay.objects.filter(day__in=fresh).update(settled_before=cutoff)
    return Days(
        rolled=[day for day in days if day in rolled],
        live=[day for day in days if day not in rolled],
        counted={day: counted[day] for day in rolled},
    )


def active_since(since: datetime) -> dict[date, datetime]:
    """The days whose runs were active at or after `since`, with the latest activity of each (through the index
    on outcome and last activity: only the recently active runs are read; grouped here, as a GROUP BY would have
    the database read the runs in day order instead)."""
    latest: dict[date, datetime] = {}
    active = Run.objects.filter(outcome__in=Run.Outcome.values, last_activity_at__gte=since).order_by()
    for day, at in active.values_list("started_on", "last_activity_at"):
        if day not in latest or at > latest[day]:
            latest[day] = at
    return latest


def count_days(days: list[date], cutoff: datetime) -> dict[date, datetime]:
    """Count the runs of `days` into the Day… tables, replacing what was there; the days counted, with when (none
    when another process counted them at the same moment: they are counted live this once)."""
    now = timezone.now()
    try:
        with transaction.atomic():
            for table in TABLES:
                table.objects.filter(day__in=days).delete()
            RolledDay.objects.filter(day__in=days).delete()
            runs = Run.objects.filter(started_on__in=days)
            _count(runs)
            RolledDay.objects.bulk_create([RolledDay(day=day, settled_before=cutoff, counted_at=now) for day in days])
    except IntegrityError:
        return {}
    return dict.fromkeys(days, now)


def _count(runs) -> None:
    batch = 5000
    statuses = runs.with_status()
    outcomes = DayOutcome.objects.bulk_create(
        [
            DayOutcome(
                day=row["started_on"],
                checker_id=row["checker_id"],
                version_id=row["version_id"],
                source=row["source"],
                status=row["effective_status"],
                runs=row["n"],
                confirmed=row["confirmed"],
                came_back=row["came_back"],
            )
            for row in statuses.values("started_on", "checker_id", "version_id", "source", "effective_status")
            .annotate(
                n=Count("*"),
                confirmed=Count("followup_answer", filter=Q(followup_answer=FollowUp.FIXED)),
                came_back=Count("followup_answer", filter=Q(followup_answer=FollowUp.CAME_BACK)),
            )
            .order_by()
        ],
        batch_size=batch,
    )
    by_source: dict = {}
    for row in outcomes:
        found = by_source.setdefault((row.day, row.source, row.status), [0, 0, 0])
        found[0] += row.runs
        found[1] += row.confirmed
        found[2] += row.came_back
    DaySource.objects.bulk_create(
        (
            DaySource(day=day, source=source, status=status, runs=n, confirmed=confirmed, came_back=came_back)
            for (day, source, status), (n, confirmed, came_back) in by_source.items()
        ),
        batch_size=batch,
    )
    by_checker: dict = {}
    for row in outcomes:
        found = by_checker.setdefault((row.day, row.checker_id), Counter())
        found[row.status] += row.runs  # a settled day's runs are resolved, escalated or abandoned: none open
        found["confirmed"] += row.confirmed
        found["came_back"] += row.came_back
    DayChecker.objects.bulk_create(
        (
            DayChecker(
                day=day,
                checker_id=checker,
                resolved=found[Run.Outcome.RESOLVED],
                escalated=found[Run.Outcome.ESCALATED],
                abandoned=found[Run.ABANDONED],
                confirmed=found["confirmed"],
                came_back=found["came_back"],
            )
            for (day, checker), found in by_checker.items()
        ),
        batch_size=batch,
    )
    DayAnswer.objects.bulk_create(
        (
            DayAnswer(
                day=row["run__started_on"],
                version_id=row["run__version_id"],
                step_key=row["step_key"],
                step_title=row["title"],
                answer_index=row["answer_index"],
                live=row["live"],
                withdrawn=row["withdrawn"],
            )
            for row in Answer.objects.filter(run__in=runs)
            .values("run__started_on", "run__version_id", "step_key", "answer_index")
            .annotate(
                live=Count("pk", filter=LIVE_ANSWER),
                withdrawn=Count("pk", filter=~LIVE_ANSWER),
                title=Max("step_title"),  # one title per step of a version: a published version never changes
            )
            .order_by()
        ),
        batch_size=batch,
    )
    positions: Counter = Counter()
    for row in (
        statuses.values(
            "started_on", "checker_id", "version_id", "effective_status", "current_step_key", "end_step_key"
        )
        .annotate(n=Count("*"), title=Max("end_step_title"))
        .order_by()
    ):
        status = row["effective_status"]
        ended = status in (Run.Outcome.RESOLVED, Run.Outcome.ESCALATED)
        key = (row["started_on"], row["checker_id"], row["version_id"], status)
        key += (row["end_step_key"], row["title"]) if ended else (row["current_step_key"], "")
        positions[key] += row["n"]
    DayPosition.objects.bulk_create(
        (
            DayPosition(
                day=day, checker_id=checker, version_id=version, status=status, step_key=key, step_title=title, runs=n
            )
            for (day, checker, version, status, key, title), n in positions.items()
        ),
        batch_size=batch,
    )
    DayPath.objects.bulk_create(
        (
            DayPath(day=row["started_on"], version_id=row["version_id"], path=row["path"], runs=row["n"])
            for row in runs.filter(outcome=Run.Outcome.ESCALATED)
            .values("started_on", "version_id", "path")
            .annotate(n=Count("*"))
            .order_by()
        ),
        batch_size=batch,
    )
    durations: Counter = Counter(
        (day, version, whole_seconds(took))
        for day, version, took in ended_runs(runs).values_list("started_on", "version_id", "took")
    )
    DayDuration.objects.bulk_create(
        (
            DayDuration(day=day, version_id=version, seconds=seconds, runs=n)
            for (day, version, seconds), n in durations.items()
        ),
        batch_size=batch,
    )


def ended_runs(runs):
    """The runs that ended (resolved or escalated), with `took`: the time from start to end."""
    ended = runs.filter(outcome__in=[Run.Outcome.RESOLVED, Run.Outcome.ESCALATED], ended_at__isnull=False)
    return ended.annotate(took=F("ended_at") - F("started_at")).order_by()


def whole_seconds(took: timedelta) -> int:
    return max(0, int(took.total_seconds()))


def mark_stale(day: date) -> None:
    """The counts of `day` no longer hold (a follow-up answer on one of its runs): it is counted again when read."""
    RolledDay.objects.filter(day=day).delete()


def roll_settled() -> int:
    """Count every settled day not yet counted or gone stale, a month at a time (the cron job, `manage.py
    rollupruns`); how many days are counted and up to date."""
    first = Run.objects.order_by("started_on").values_list("started_on", flat=True).first()
    if first is None:
        return 0
    last = last_settleable(Run.objects.abandon_cutoff())
    rolled = 0
    while first <= last:
        end = min(first + timedelta(days=30), last)
        rolled += len(split(first, end).rolled)
        first = end + timedelta(days=1)
    return rolled
