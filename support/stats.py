"""The numbers on the review pages: outcomes over a date range, per day, source and checker; a version's flow with
counts through its branches; the median time to an ending; the commonest paths to escalate.

Everything is an aggregate query (GROUP BY in the database) whose row count is bounded by the content (days,
sources, checkers, steps), never by the number of runs; Python only pivots those rows. One rule, written once: a
run's status is `Run.objects.with_status()` (open runs idle past HELPCENTER_ABANDON_AFTER_MINUTES are abandoned).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from troubleshoot.models import LIVE_ANSWER, Answer, Checker, FollowUp, Run

DEFAULT_DAYS = 30
STATUSES = [Run.Outcome.RESOLVED, Run.Outcome.ESCALATED, Run.ABANDONED, Run.Outcome.OPEN]


@dataclass(frozen=True)
class Period:
    """Days from `first` to `last`, both included (in the portal's time zone)."""

    first: date
    last: date

    @classmethod
    def ending_today(cls, days: int = DEFAULT_DAYS) -> Period:
        today = timezone.localdate()
        return cls(today - timedelta(days=days - 1), today)

    @classmethod
    def from_params(cls, params) -> Period:
        """The `from`/`to` dates of a page's query string (YYYY-MM-DD); the last 30 days for anything else."""
        default = cls.ending_today()
        try:
            first = date.fromisoformat(params.get("from", "")[:10]) if params.get("from") else default.first
            last = date.fromisoformat(params.get("to", "")[:10]) if params.get("to") else default.last
        except ValueError:
            return default
        if first > last or (last - first).days > 3660:
            return default
        return cls(first, last)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.first, time.min))

    @property
    def end(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.last + timedelta(days=1), time.min))

    def before(self) -> Period:
        """The period of the same length just before this one (for trends)."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.days)]

    def params(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


@dataclass
class Outcomes:
    """How runs ended, with the sample sizes behind the rates."""

    resolved: int = 0
    escalated: int = 0
    abandoned: int = 0
    open: int = 0
    confirmed_fixed: int = 0
    came_back: int = 0

    def add(self, status: str, count: int, confirmed: int = 0, came_back: int = 0) -> None:
        setattr(self, status, getattr(self, status) + count)
        self.confirmed_fixed += confirmed
        self.came_back += came_back

    @property
    def runs(self) -> int:
        return self.resolved + self.escalated + self.abandoned + self.open

    @property
    def ended(self) -> int:
        """Runs that are over: resolved, escalated or abandoned (runs still in progress are left out)."""
        return self.resolved + self.escalated + self.abandoned

    @property
    def self_service_rate(self) -> float | None:
        """Resolved ÷ ended; None with no ended run (shown as "–", never as 0 %)."""
        return self.resolved / self.ended if self.ended else None

    @property
    def followups_answered(self) -> int:
        return self.confirmed_fixed + self.came_back


def runs_between(period: Period) -> QuerySet:
    return Run.objects.filter(started_at__gte=period.start, started_at__lt=period.end)


def _tally(rows, key) -> dict:
    """Pivot aggregate rows (one per group and status) into Outcomes per group."""
    found: dict = {}
    for row in rows:
        found.setdefault(key(row), Outcomes()).add(
            row["effective_status"], row["n"], row.get("confirmed", 0), row.get("came_back", 0)
        )
    return found


def _grouped(runs: QuerySet, *fields: str):
    return (
        runs.with_status()
        .values(*fields, "effective_status")
        .annotate(
            # COUNT(*) and indexed columns only: a run's primary key (a UUID) isn't in the covering indexes.
            n=Count("*"),
            confirmed=Count("followup_answer", filter=Q(followup_answer=FollowUp.FIXED)),
            came_back=Count("followup_answer", filter=Q(followup_answer=FollowUp.CAME_BACK)),
        )
        .order_by()
    )


def outcomes(runs: QuerySet) -> Outcomes:
    """How the runs of `runs` ended, in one query."""
    return _tally(_grouped(runs), lambda row: None).get(None, Outcomes())


@dataclass
class Overview:
    period: Period
    total: Outcomes
    by_day: list[tuple[date, Outcomes]]
    by_source: list[tuple[str, Outcomes]]
    by_checker: list[tuple[dict, Outcomes]]


SORTS = {
    "runs": lambda o: o.runs,
    "resolved": lambda o: o.resolved,
    "escalated": lambda o: o.escalated,
    "abandoned": lambda o: o.abandoned,
    "rate": lambda o: -1 if o.self_service_rate is None else o.self_service_rate,
    "confirmed": lambda o: o.confirmed_fixed,
}


def overview(period: Period, sort: str = "runs", descending: bool = True) -> Overview:
    """Outcomes over `period`, by day, by source and by checker.

    One grouped scan (day × checker × source × outcome, read in order from the covering index
    `run_review_overview`), pivoted here, plus one query for the checkers' names: 2 queries whatever the number of
    runs.
    """
    # Grouped by the stored outcome (not the abandoned rule's CASE), in the covering index's order, so the database
    # streams the groups without sorting; open runs are then split into abandoned and in progress by a count.
    cutoff = Run.objects.abandon_cutoff()
    grouped = (
        Run.objects.filter(started_on__gte=period.first, started_on__lte=period.last)
        .values("started_on", "checker_id", "source", "outcome")
        .annotate(
            n=Count("*"),
            idle=Count("last_activity_at", filter=Q(outcome=Run.Outcome.OPEN, last_activity_at__lt=cutoff)),
            confirmed=Count("followup_answer", filter=Q(followup_answer=FollowUp.FIXED)),
            came_back=Count("followup_answer", filter=Q(followup_answer=FollowUp.CAME_BACK)),
        )
        .order_by()
    )
    rows = []
    for row in grouped:
        if row["outcome"] == Run.Outcome.OPEN and row["idle"]:
            rows.append({**row, "effective_status": Run.ABANDONED, "n": row["idle"], "confirmed": 0, "came_back": 0})
            row = {**row, "n": row["n"] - row["idle"]}
        rows.append({**row, "effective_status": row["outcome"]})
    total = _tally(rows, lambda row: None).get(None, Outcomes())
    days = _tally(rows, lambda row: row["started_on"])
    sources = _tally(rows, lambda row: row["source"])
    checkers = _tally(rows, lambda row: row["checker_id"])
    names = {c["id"]: c for c in Checker.objects.filter(pk__in=list(checkers)).values("id", "title", "slug")}
    order = SORTS.get(sort, SORTS["runs"])
    labels = dict(Run.Source.choices)
    return Overview(
        period=period,
        total=total,
        by_day=[(day, days.get(day, Outcomes())) for day in period.dates()],
        by_source=sorted(
            ((labels.get(source, source), found) for source, found in sources.items()),
            key=lambda item: (order(item[1]), item[0]),
            reverse=descending,
        ),
        by_checker=sorted(
            ((names[key], found) for key, found in checkers.items() if key in names),
            key=lambda item: (order(item[1]), item[0]["title"]),
            reverse=descending,
        ),
    )


# A version's flow with counts


@dataclass
class StepCount:
    """What happened at one step of one version: the drop-off through the branches."""

    key: str
    answers: dict[int, int] = field(default_factory=dict)  # answer number → runs whose live path chose it
    withdrawn: int = 0  # answers given here and then undone with Back
    abandoned: int = 0  # open runs idle at this step past the abandon time: left here
    in_progress: int = 0  # open runs on this step now
    escalated: int = 0  # runs that ended here in escalate (an escalate answer or "None of these fit")
    resolved: int = 0

    @property
    def answered(self) -> int:
        return sum(self.answers.values())

    @property
    def reached(self) -> int:
        """Runs whose live path came to this step: they answered it, or are (or were left) on it."""
        return self.answered + self.abandoned + self.in_progress

    @property
    def none_fit(self) -> int:
        return self.answers.get(Answer.NONE_FIT, 0)

    @property
    def drop_off(self) -> float | None:
        return self.abandoned / self.reached if self.reached else None


def step_counts(runs: QuerySet) -> dict[str, StepCount]:
    """Counts per step for `runs` (one version's runs): 2 queries, through every branch.

    Only live answers count as "answered": each run is counted once per step on the path it took in the end;
    answers undone with Back are counted apart, as withdrawn.
    """
    steps: dict[str, StepCount] = {}

    def at(key: str) -> StepCount:
        return steps.setdefault(key, StepCount(key))

    # Live and withdrawn answers in one pass over the version's answers (the biggest table there is).
    answers = (
        Answer.objects.filter(run__in=runs)
        .values("step_key", "answer_index")
        .annotate(
            live=Count("pk", filter=LIVE_ANSWER),
            withdrawn=Count("pk", filter=~LIVE_ANSWER),
        )
        .order_by()
    )
    for row in answers:
        step = at(row["step_key"])
        if row["live"]:
            step.answers[row["answer_index"]] = row["live"]
        step.withdrawn += row["withdrawn"]
    positions = (
        runs.with_status()
        .values("effective_status", "current_step_key", "end_step_key")
        .annotate(n=Count("*"))
        .order_by()
    )
    for row in positions:
        status = row["effective_status"]
        if status == Run.ABANDONED:
            at(row["current_step_key"]).abandoned += row["n"]
        elif status == Run.Outcome.OPEN:
            at(row["current_step_key"]).in_progress += row["n"]
        elif status == Run.Outcome.ESCALATED:
            at(row["end_step_key"]).escalated += row["n"]
        else:
            at(row["end_step_key"]).resolved += row["n"]
    return steps


def median_time_to_end(runs: QuerySet) -> timedelta | None:
    """The median time from start to an ending (resolved or escalated), in 2 queries (a count, then one row)."""
    ended = runs.filter(outcome__in=[Run.Outcome.RESOLVED, Run.Outcome.ESCALATED], ended_at__isnull=False)
    count = ended.count()
    if not count:
        return None
    row = (
        ended.annotate(took=F("ended_at") - F("started_at"))
        .order_by("took")
        .values_list("took", flat=True)[(count - 1) // 2]
    )
    return row


@dataclass
class PathCount:
    steps: list[tuple[str, int]]  # (step key, answer number) in order
    runs: int


def escalation_paths(runs: QuerySet, most: int = 5) -> list[PathCount]:
    """The commonest paths that end in escalate (one query over the runs' stored paths)."""
    rows = (
        runs.filter(outcome=Run.Outcome.ESCALATED).values("path").annotate(n=Count("*")).order_by("-n", "path")[:most]
    )
    found = []
    for row in rows:
        steps = []
        for part in row["path"].split("/") if row["path"] else []:
            key, _, index = part.rpartition(":")
            steps.append((key, int(index) if index.isdigit() else -1))
        found.append(PathCount(steps, row["n"]))
    return found
