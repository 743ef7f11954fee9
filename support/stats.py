"""The numbers on the review pages: outcomes over a date range, per day, source and checker; a version's flow with
counts through its branches; the median time to an ending; the commonest paths to escalate.

Everything is an aggregate query (GROUP BY in the database) whose row count is bounded by the content (days,
sources, checkers, steps), never by the number of runs; Python only pivots those rows. Settled days are read from
their day-by-day counts (`rollups`), the others from the runs, and the two are added up here. One rule, written
once: a run's status is `Run.objects.with_status()` (open runs idle past HELPCENTER_ABANDON_AFTER_MINUTES are
abandoned).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, F, IntegerField, Q, QuerySet, Sum, Value
from django.db.models.functions import Cast
from django.utils import timezone

from troubleshoot.models import LIVE_ANSWER, Answer, Checker, FollowUp, Run

from . import rollups, totals
from .models import RANKED_BY, DayAnswer, DayDuration, DayOutcome, DayPath, DayPosition, DaySource

DEFAULT_DAYS = 30
CHECKERS_SHOWN = 100  # the overview's checkers: a large library has thousands with a run
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
    def rate_text(self) -> str:
        """The self-service rate as the pages show it: "38 %", or "–" with no ended run."""
        return "–" if self.self_service_rate is None else f"{round(self.self_service_rate * 100)} %"

    @property
    def followups_answered(self) -> int:
        return self.confirmed_fixed + self.came_back


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
    by_checker: list[tuple[dict, Outcomes]]  # the first `most` checkers in the chosen order
    checkers: int = 0  # how many checkers had runs in the period, shown or not


SORTS = {
    "runs": lambda o: o.runs,
    "resolved": lambda o: o.resolved,
    "escalated": lambda o: o.escalated,
    "abandoned": lambda o: o.abandoned,
    "rate": lambda o: -1 if o.self_service_rate is None else o.self_service_rate,
    "confirmed": lambda o: o.confirmed_fixed,
}
# The same orders in SQL, over `CHECKERS_RANKED`'s totals (a test holds each equal to its SORTS twin).
ENDED_SQL = "(resolved + escalated + abandoned)"
SORTS_SQL = {
    "runs": "(resolved + escalated + abandoned + in_progress)",
    "resolved": "resolved",
    "escalated": "escalated",
    "abandoned": "abandoned",
    "rate": f"CASE WHEN {ENDED_SQL} > 0 THEN CAST(resolved AS FLOAT) / {ENDED_SQL} ELSE -1 END",
    "confirmed": "confirmed",
}


def _live_rows(runs: QuerySet, *fields: str) -> list[dict]:
    """`runs` grouped by `fields` and status, as rows with `effective_status`, `n`, `confirmed` and `came_back`.

    Grouped by the stored outcome (not the abandoned rule's CASE), so the database can group from the covering
    index; open runs are then split into abandoned and in progress by a count.
    """
    cutoff = Run.objects.abandon_cutoff()
    grouped = (
        runs.values(*fields, "outcome")
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
    return rows


def _rolled_rows(rolled: QuerySet, *fields: str) -> QuerySet:
    """Day… table rows (`DayOutcome`, `DaySource`) summed by `fields` and status, as rows like `_live_rows`'."""
    return (
        rolled.values(*fields, effective_status=F("status"))
        .annotate(n=Sum("runs"), confirmed=Sum("confirmed"), came_back=Sum("came_back"))
        .order_by()
    )


def compiled(rows: QuerySet) -> tuple[str, tuple] | None:
    """The SQL and parameters of `rows`; None when it can match nothing (`filter(day__in=[])`, `none()`)."""
    try:
        return rows.query.sql_with_params()
    except EmptyResultSet:
        return None


def union_all(parts: list[QuerySet], *, numbered: bool = False) -> tuple[str, list] | None:
    """The SQL and parameters of `parts` as one UNION ALL, each row led by its part's number if `numbered`; None when
    no part can match anything (no days of its kind)."""
    selects, params = [], []
    for number, part in enumerate(parts):
        query = compiled(part)
        if query is not None:
            led = f"SELECT {number}, p{number}.* FROM ({query[0]}) AS p{number}"  # noqa: S608 - the ORM's SQL
            selects.append(led if numbered else query[0])
            params.extend(query[1])
    return (" UNION ALL ".join(selects), params) if selects else None


# The checkers of a period ranked in the database: the parts' rows (checker, then its runs by outcome side by side,
# its follow-up answers) added up per checker and ranked in the page's order (`SORTS_SQL`); those that can be among
# the first few (ties at the cut included) are named, ordered (ties by title) and cut, each row with how many
# checkers there are (those counted, kept with the total, and those with runs on other days only). At 5,000
# checkers a hundred rows come back, instead of one per checker to tally, name and sort here, and only those are
# joined to their names; in the orders of `RANKED_BY` the parts hold only the counted checkers that can lead.
CHECKERS_RANKED = """
WITH parts (checker, resolved, escalated, abandoned, in_progress, confirmed, came_back) AS ({parts}),
counted (n) AS ({counted}),
uncounted (checker) AS ({uncounted}),
totals AS (
    SELECT checker, COALESCE(SUM(resolved), 0) AS resolved, COALESCE(SUM(escalated), 0) AS escalated,
        COALESCE(SUM(abandoned), 0) AS abandoned, COALESCE(SUM(in_progress), 0) AS in_progress,
        COALESCE(SUM(confirmed), 0) AS confirmed, COALESCE(SUM(came_back), 0) AS came_back
    FROM parts GROUP BY checker
),
ranked AS (
    SELECT totals.*, {order} AS sort_value, RANK() OVER (ORDER BY {order} {direction}) AS place,
        (SELECT n FROM counted) + (SELECT COUNT(*) FROM uncounted) AS checkers
    FROM totals
)
SELECT checker.id, checker.title, checker.slug, resolved, escalated, abandoned, in_progress, confirmed, came_back,
    checkers
FROM ranked JOIN {checkers} AS checker ON checker.id = ranked.checker
WHERE place <= %s
ORDER BY sort_value {direction}, checker.title {direction}, checker.id {direction}
LIMIT %s
"""


def _integers(**columns) -> dict:
    """`columns` (aggregates) cast to integers: a PostgreSQL sum of sums would be numeric, slower to add up."""
    return {name: Cast(value, IntegerField()) for name, value in columns.items()}


def _ranked_checkers(days: rollups.Days, sort: str, descending: bool, most: int) -> tuple[list, int]:
    """The first `most` checkers of `days` in the order `sort` (`SORTS_SQL`), as (name, Outcomes) pairs, and how many
    checkers had runs: one query."""
    # In the descending orders of columns that runs not counted can only raise (`RANKED_BY`), only the counted
    # checkers that can lead are read; rates can fall as well as rise, and ascending orders read every checker.
    found = [totals.checkers(days)]
    if descending and sort in RANKED_BY:
        found = totals.leading_checkers(days, sort, most, days.live_runs().values("checker_id"))
    # The parts' columns after the checker: runs by status in STATUSES' order, then the two follow-up answers.
    live = (
        days.live_runs()
        .with_status()
        .values_list("checker_id")
        .annotate(
            **_integers(
                **{f"n_{status}": Count("started_at", filter=Q(effective_status=status)) for status in STATUSES},
                n_confirmed=Count("followup_answer", filter=Q(followup_answer=FollowUp.FIXED)),
                n_came_back=Count("followup_answer", filter=Q(followup_answer=FollowUp.CAME_BACK)),
            )
        )
        .order_by()
    )
    columns = ("checker_id", "resolved", "escalated", "abandoned", Value(0), "confirmed", "came_back")  # none open
    parts = union_all([*(rows.values_list(*columns).order_by() for rows in found), live])
    if parts is None:
        return [], 0
    # How many checkers had runs: those counted (kept with the total), and those with runs on the other days only.
    counted, uncounted = (
        compiled(totals.checker_count(days)) or ("SELECT 0", ()),
        compiled(totals.uncounted_checkers(days, days.live_runs())) or ("SELECT 0 WHERE 1 = 0", ()),
    )
    sql = CHECKERS_RANKED.format(
        parts=parts[0],
        counted=counted[0],
        uncounted=uncounted[0],
        checkers=connection.ops.quote_name(Checker._meta.db_table),
        order=SORTS_SQL[sort],
        direction="DESC" if descending else "ASC",
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*parts[1], *counted[1], *uncounted[1], most, most])
        rows = cursor.fetchall()
    ranked = [
        ({"id": pk, "title": title, "slug": slug}, Outcomes(*counts))  # integers: `_integers` in the parts
        for pk, title, slug, *counts, _ in rows
    ]
    return ranked, rows[0][-1] if rows else 0


def overview(period: Period, sort: str = "runs", descending: bool = True, most: int = CHECKERS_SHOWN) -> Overview:
    """Outcomes over `period`, by day, by source and by checker (the first `most` in the order `sort`).

    Settled days come from the day-by-day counts (`rollups`: `DaySource` by day and source, a few rows a day;
    by checker, their total: `totals`, one row per checker), the others from grouped scans of their runs (through the
    covering index `run_review_overview`); the checkers are ranked and named in the database (`CHECKERS_RANKED`): 6
    queries once the total is made, whatever the number of runs or checkers.
    """
    sort = sort if sort in SORTS else "runs"
    days = rollups.split(period.first, period.last)
    live = _live_rows(days.live_runs(), "started_on", "source")
    by_source = DaySource.objects.filter(day__in=days.rolled)
    by_day_source = [*live, *({**row, "started_on": row["day"]} for row in _rolled_rows(by_source, "day", "source"))]
    total = _tally(by_day_source, lambda row: None).get(None, Outcomes())
    by_day = _tally(by_day_source, lambda row: row["started_on"])
    sources = _tally(by_day_source, lambda row: row["source"])
    by_checker, checkers = _ranked_checkers(days, sort, descending, most)
    order = SORTS[sort]
    labels = dict(Run.Source.choices)
    return Overview(
        period=period,
        total=total,
        by_day=[(day, by_day.get(day, Outcomes())) for day in period.dates()],
        by_source=sorted(
            ((labels.get(source, source), found) for source, found in sources.items()),
            key=lambda item: (order(item[1]), item[0]),
            reverse=descending,
        ),
        by_checker=by_checker,
        checkers=checkers,
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


def _add_answers(steps: dict[str, StepCount], rows) -> None:
    """Rows of (step_key, answer_index, live, withdrawn) added into `steps`."""
    for row in rows:
        step = steps.setdefault(row["step_key"], StepCount(row["step_key"]))
        if row["live"]:
            step.answers[row["answer_index"]] = step.answers.get(row["answer_index"], 0) + row["live"]
        step.withdrawn += row["withdrawn"]


POSITION = {
    Run.ABANDONED: "abandoned",
    Run.Outcome.OPEN: "in_progress",
    Run.Outcome.ESCALATED: "escalated",
    Run.Outcome.RESOLVED: "resolved",
}


def _add_position(steps: dict[str, StepCount], status: str, key: str, runs: int) -> None:
    """`runs` runs of `status` at step `key` (where an open run is, or an ended run ended) added into `steps`."""
    step = steps.setdefault(key, StepCount(key))
    setattr(step, POSITION[status], getattr(step, POSITION[status]) + runs)


def step_counts(runs: QuerySet, steps: dict[str, StepCount] | None = None) -> dict[str, StepCount]:
    """Counts per step for `runs` (one version's runs), added into `steps`: 2 queries, through every branch.

    Only live answers count as "answered": each run is counted once per step on the path it took in the end;
    answers undone with Back are counted apart, as withdrawn.
    """
    steps = {} if steps is None else steps
    # Live and withdrawn answers in one pass over the version's answers (the biggest table there is).
    _add_answers(
        steps,
        Answer.objects.filter(run__in=runs)
        .values("step_key", "answer_index")
        .annotate(live=Count("pk", filter=LIVE_ANSWER), withdrawn=Count("pk", filter=~LIVE_ANSWER))
        .order_by(),
    )
    positions = (
        runs.with_status()
        .values("effective_status", "current_step_key", "end_step_key")
        .annotate(n=Count("*"))
        .order_by()
    )
    for row in positions:
        status = row["effective_status"]
        ended = status in (Run.Outcome.RESOLVED, Run.Outcome.ESCALATED)
        _add_position(steps, status, row["end_step_key"] if ended else row["current_step_key"], row["n"])
    return steps


def median_time_to_end(runs: QuerySet, rolled: Counter | None = None) -> timedelta | None:
    """The median time from start to an ending (resolved or escalated), to the second; `rolled` holds more such
    runs already counted (whole seconds → runs). One query over `runs`."""
    took = Counter(rolled or {})
    took.update(rollups.whole_seconds(t) for t in rollups.ended_runs(runs).values_list("took", flat=True))
    count = sum(took.values())
    if not count:
        return None
    middle = (count - 1) // 2
    for seconds in sorted(took):
        middle -= took[seconds]
        if middle < 0:
            return timedelta(seconds=seconds)
    return None  # not reached


@dataclass
class PathCount:
    steps: list[tuple[str, int]]  # (step key, answer number) in order
    runs: int


def escalation_paths(runs: QuerySet, most: int = 5, rolled: Counter | None = None) -> list[PathCount]:
    """The commonest paths that end in escalate (one query over the runs' stored paths), with `rolled` (path →
    runs) already counted."""
    paths = Counter(rolled or {})
    for row in runs.filter(outcome=Run.Outcome.ESCALATED).values("path").annotate(n=Count("*")).order_by():
        paths[row["path"]] += row["n"]
    found = []
    for path, n in sorted(paths.items(), key=lambda item: (-item[1], item[0]))[:most]:
        steps = []
        for part in path.split("/") if path else []:
            key, _, index = part.rpartition(":")
            steps.append((key, int(index) if index.isdigit() else -1))
        found.append(PathCount(steps, n))
    return found


@dataclass
class VersionNumbers:
    """Everything the checker page counts for one version over a period."""

    outcomes: Outcomes
    steps: dict[str, StepCount]
    median: timedelta | None
    paths: list[PathCount]


def version_numbers(version_id: int, days: rollups.Days) -> VersionNumbers:
    """One version's outcomes, step counts, median time to an ending and escalation paths over `days`: the settled
    days from the day-by-day counts (5 queries, a few rows a day), the others from their runs (4 queries)."""
    rolled = {"version_id": version_id, "day__in": days.rolled}
    live = days.live_runs().filter(version_id=version_id)
    outcomes = _tally([*_live_rows(live), *_rolled_rows(DayOutcome.objects.filter(**rolled))], lambda row: None).get(
        None, Outcomes()
    )
    steps: dict[str, StepCount] = {}
    _add_answers(
        steps,
        DayAnswer.objects.filter(**rolled)
        .values("step_key", "answer_index")
        .annotate(live=Sum("live"), withdrawn=Sum("withdrawn"))
        .order_by(),
    )
    for row in DayPosition.objects.filter(**rolled).values("status", "step_key").annotate(n=Sum("runs")).order_by():
        _add_position(steps, row["status"], row["step_key"], row["n"])
    step_counts(live, steps)
    durations = DayDuration.objects.filter(**rolled).values_list("seconds").annotate(n=Sum("runs")).order_by()
    paths = DayPath.objects.filter(**rolled).values_list("path").annotate(n=Sum("runs")).order_by()
    return VersionNumbers(
        outcomes=outcomes,
        steps=steps,
        median=median_time_to_end(live, Counter(dict(durations))),
        paths=escalation_paths(live, rolled=Counter(dict(paths))),
    )
