"""Day-by-day counts, so the review pages read a few rows a day instead of every run.

The scheduled job (`manage.py rollupruns`, hourly from cron) fills the Day… tables of `models.py`, and the pages only
read them (after Zulip's analytics: one `FillState` row says up to which day the tables are filled, and the job fills
on from there). A day is filled once it is **settled**: every run that started on it has been idle past the abandon
time (HELPCENTER_ABANDON_AFTER_MINUTES), so its runs' outcomes can only change if a seller comes back to one (an
answer or a Back moves the run's `last_activity_at`) or answers the "Still fixed?" email. Each fill counts those
days again too: those with a run active since the last fill (once it has settled again) or a follow-up answered
since. The pages add the days after the filled ones (today, mostly) counted live from the runs, so a new run shows
at once; a change to a run of a filled day shows after the next fill.

Nothing on a request path writes here: not the seller's steps, not the review pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.utils import timezone

from troubleshoot.models import LIVE_ANSWER, Answer, FollowUp, Run

from .models import DayAnswer, DayChecker, DayDuration, DayOutcome, DayPath, DayPosition, DaySource, FillState

BATCH = 5000
MONTH = 30  # days filled in one transaction: a first fill of a long history keeps what it has done so far


def midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass(frozen=True)
class Days:
    """The days from `first` to `last`: those up to `filled_through` are read from the Day… tables, the others from
    the runs (`filled_at`: when the job last filled the tables; both None before it first has)."""

    first: date
    last: date
    filled_through: date | None = None
    filled_at: datetime | None = None

    @property
    def counted(self) -> tuple[date, date] | None:
        """The first and last day read from the Day… tables; None when none is."""
        if self.filled_through is None or self.filled_through < self.first:
            return None
        return self.first, min(self.last, self.filled_through)

    @property
    def live(self) -> tuple[date, date] | None:
        """The first and last day read from the runs; None when none is."""
        first = self.first if self.counted is None else self.counted[1] + timedelta(days=1)
        return (first, self.last) if first <= self.last else None

    def rows(self, table) -> QuerySet:
        """`table`'s rows of the counted days (none when no day is counted)."""
        return table.objects.filter(day__range=self.counted) if self.counted else table.objects.none()

    def live_runs(self) -> QuerySet:
        """The runs started on the live days (by `started_at` too, so the indexes on it narrow the scan)."""
        if self.live is None:
            return Run.objects.none()
        first, last = self.live
        end = midnight(last + timedelta(days=1))
        return Run.objects.filter(started_on__range=self.live, started_at__gte=midnight(first), started_at__lt=end)

    def within(self, first: date, last: date) -> Days:
        """The days from `first` to `last`, split at the same day."""
        return Days(first, last, self.filled_through, self.filled_at)


def days(first: date, last: date) -> Days:
    """The days from `first` to `last`, split where the Day… tables are filled through: one query, no write."""
    state = FillState.objects.filter(name=FillState.DAY_TABLES).values_list("filled_through", "filled_at").first()
    return Days(first, last, *(state or (None, None)))


# Filling: the job.


def fill() -> int:
    """Fill the Day… tables (the job): the filled days whose runs changed since the last fill, then the settled days
    after the filled ones, up to the first that isn't settled; how many days were counted."""
    cutoff = Run.objects.abandon_cutoff()
    state = FillState.objects.filter(name=FillState.DAY_TABLES).first()
    if state is None:
        first = Run.objects.order_by("started_on").values_list("started_on", flat=True).first()
        if first is None:
            return 0
        state = FillState(name=FillState.DAY_TABLES, filled_through=first - timedelta(days=1), settled_before=cutoff)
    latest = active_since(min(state.settled_before, cutoff))
    changed = changed_days(state, latest, cutoff)
    with transaction.atomic():
        count_days(changed)
        _mark(state, state.filled_through, cutoff)
    new = new_days(state.filled_through, latest, cutoff)
    for n in range(0, len(new), MONTH):
        with transaction.atomic():
            count_days(new[n : n + MONTH])
            _mark(state, new[n : n + MONTH][-1], cutoff)
    return len(changed) + len(new)


def _mark(state: FillState, filled_through: date, cutoff: datetime) -> None:
    state.filled_through, state.settled_before, state.filled_at = filled_through, cutoff, timezone.now()
    state.save()


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


def changed_days(state: FillState, latest: dict[date, datetime], cutoff: datetime) -> list[date]:
    """The filled days to count again: those with a run active since the last fill, or a follow-up answered since
    (a scan of the runs' answer times: an hourly job's read, no page's), once no run of theirs is active (a seller
    still on one: counted by a later fill, as their activity is after this fill's `cutoff`)."""
    since = min(state.settled_before, cutoff)
    answered = Run.objects.filter(followup_answered_at__gte=since, started_on__lte=state.filled_through)
    found = set(answered.values_list("started_on", flat=True).distinct().order_by())
    found.update(day for day in latest if day <= state.filled_through)
    return sorted(day for day in found if latest.get(day, since) < cutoff)


def new_days(filled_through: date, latest: dict[date, datetime], cutoff: datetime) -> list[date]:
    """The days after `filled_through` that are settled, up to the first that isn't: the last day that ended
    before `cutoff` at most (no run of a later day can be idle past the abandon time yet), and before any day with
    a run active since `cutoff`."""
    last = timezone.localdate(cutoff) - timedelta(days=1)
    active = [day for day, at in latest.items() if at >= cutoff and day > filled_through]
    if active:
        last = min(last, min(active) - timedelta(days=1))
    return [filled_through + timedelta(days=n) for n in range(1, (last - filled_through).days + 1)]


def count_days(days: list[date]) -> None:
    """Count the runs of `days` into every Day… table, replacing what was there."""
    if not days:
        return
    for table in TABLES:
        table.objects.filter(day__in=days).delete()
    runs = Run.objects.filter(started_on__in=days)
    for count in COUNTS:
        count(runs, days)


def count_outcomes(runs: QuerySet, days: list[date]) -> None:
    """`DayOutcome`: runs by day, checker, version, source and outcome, with their follow-up answers."""
    rows = (
        runs.with_status()
        .values("started_on", "checker_id", "version_id", "source", "effective_status")
        .annotate(
            n=Count("*"),
            fixed=Count("followup_answer", filter=Q(followup_answer=FollowUp.FIXED)),
            back=Count("followup_answer", filter=Q(followup_answer=FollowUp.CAME_BACK)),
        )
        .order_by()
    )
    DayOutcome.objects.bulk_create(
        (
            DayOutcome(
                day=row["started_on"],
                checker_id=row["checker_id"],
                version_id=row["version_id"],
                source=row["source"],
                status=row["effective_status"],
                runs=row["n"],
                confirmed=row["fixed"],
                came_back=row["back"],
            )
            for row in rows
        ),
        batch_size=BATCH,
    )


def count_sources(runs: QuerySet, days: list[date]) -> None:
    """`DaySource`: `DayOutcome` (counted first) summed by day, source and outcome."""
    rows = (
        DayOutcome.objects.filter(day__in=days)
        .values("day", "source", "status")
        .annotate(n=Sum("runs"), fixed=Sum("confirmed"), back=Sum("came_back"))
        .order_by()
    )
    DaySource.objects.bulk_create(
        (
            DaySource(
                day=row["day"],
                source=row["source"],
                status=row["status"],
                runs=row["n"],
                confirmed=row["fixed"],
                came_back=row["back"],
            )
            for row in rows
        ),
        batch_size=BATCH,
    )


def count_checkers(runs: QuerySet, days: list[date]) -> None:
    """`DayChecker`: `DayOutcome` (counted first) summed by day and checker, the outcomes side by side (a settled
    day's runs are resolved, escalated or abandoned: none open)."""
    statuses = {"resolved": Run.Outcome.RESOLVED, "escalated": Run.Outcome.ESCALATED, "abandoned": Run.ABANDONED}
    rows = (
        DayOutcome.objects.filter(day__in=days)
        .values("day", "checker_id")
        .annotate(
            **{name: Sum("runs", filter=Q(status=status), default=0) for name, status in statuses.items()},
            fixed=Sum("confirmed"),
            back=Sum("came_back"),
        )
        .order_by()
    )
    DayChecker.objects.bulk_create(
        (
            DayChecker(
                day=row["day"],
                checker_id=row["checker_id"],
                **{name: row[name] for name in statuses},
                confirmed=row["fixed"],
                came_back=row["back"],
            )
            for row in rows
        ),
        batch_size=BATCH,
    )


def count_answers(runs: QuerySet, days: list[date]) -> None:
    """`DayAnswer`: the runs' answers by day, version, step and answer, live and withdrawn with Back."""
    rows = (
        Answer.objects.filter(run__in=runs)
        .values("run__started_on", "run__version_id", "step_key", "answer_index")
        .annotate(
            live=Count("pk", filter=LIVE_ANSWER),
            withdrawn=Count("pk", filter=~LIVE_ANSWER),
            title=Max("step_title"),  # one title per step of a version: a published version never changes
        )
        .order_by()
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
            for row in rows
        ),
        batch_size=BATCH,
    )


ENDED = (Run.Outcome.RESOLVED, Run.Outcome.ESCALATED)


def count_positions(runs: QuerySet, days: list[date]) -> None:
    """`DayPosition`: runs by where they stand: the step they ended at (resolved, escalated, with its title as it
    read then) or were left at (abandoned: an open run stores only its step's key)."""
    rows = (
        runs.with_status()
        .values("started_on", "checker_id", "version_id", "effective_status", "current_step_key", "end_step_key")
        .annotate(n=Count("*"), title=Max("end_step_title"))
        .order_by()
    )
    positions: dict[tuple, int] = {}
    for row in rows:
        status = row["effective_status"]
        at = (row["end_step_key"], row["title"]) if status in ENDED else (row["current_step_key"], "")
        key = (row["started_on"], row["checker_id"], row["version_id"], status, *at)
        positions[key] = positions.get(key, 0) + row["n"]
    DayPosition.objects.bulk_create(
        (
            DayPosition(
                day=day, checker_id=checker, version_id=version, status=status, step_key=step, step_title=title, runs=n
            )
            for (day, checker, version, status, step, title), n in positions.items()
        ),
        batch_size=BATCH,
    )


def count_paths(runs: QuerySet, days: list[date]) -> None:
    """`DayPath`: escalated runs by day, version and path (their live answers in order)."""
    rows = runs.filter(outcome=Run.Outcome.ESCALATED).values("started_on", "version_id", "path").annotate(n=Count("*"))
    DayPath.objects.bulk_create(
        (
            DayPath(day=row["started_on"], version_id=row["version_id"], path=row["path"], runs=row["n"])
            for row in rows.order_by()
        ),
        batch_size=BATCH,
    )


def count_durations(runs: QuerySet, days: list[date]) -> None:
    """`DayDuration`: ended runs by day, version and whole seconds from start to end (the median is read from
    these)."""
    durations: dict[tuple, int] = {}
    for day, version, took in ended_runs(runs).values_list("started_on", "version_id", "took"):
        key = (day, version, whole_seconds(took))
        durations[key] = durations.get(key, 0) + 1
    DayDuration.objects.bulk_create(
        (
            DayDuration(day=day, version_id=version, seconds=seconds, runs=n)
            for (day, version, seconds), n in durations.items()
        ),
        batch_size=BATCH,
    )


def ended_runs(runs: QuerySet) -> QuerySet:
    """The runs that ended (resolved or escalated), with `took`: the time from start to end."""
    ended = runs.filter(outcome__in=ENDED, ended_at__isnull=False)
    return ended.annotate(took=F("ended_at") - F("started_at")).order_by()


def whole_seconds(took: timedelta) -> int:
    return max(0, int(took.total_seconds()))


TABLES = [DayOutcome, DaySource, DayChecker, DayAnswer, DayPosition, DayPath, DayDuration]
# One function per table, in this order: sources and checkers add up the outcomes counted first.
COUNTS = [count_outcomes, count_sources, count_checkers, count_answers, count_positions, count_paths, count_durations]
