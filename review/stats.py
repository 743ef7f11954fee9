"""The numbers on the review pages: a period, how its runs ended (`Outcomes`), and the overview's readout (outcomes
per day, source and checker). A version's flow with counts is `flowcounts.py`; the gap inbox `gaps.py`.

Everything is an aggregate query (GROUP BY in the database) whose row count is bounded by the content (days,
sources, checkers), never by the number of runs; Python only adds up and ranks those rows. The days the job has
filled are read from the Day… tables (`rollups`), the days after them (today, mostly) from the runs, and the two are
added up here. One rule, written once: a run's status is `Run.objects.with_status()` (open runs idle past
HELPCENTER_ABANDON_AFTER_MINUTES are abandoned).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone

from troubleshoot.models import Checker, FollowUp, Run

from . import rollups
from .models import DayChecker, DaySource

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


def tally(rows, key) -> dict:
    """Pivot aggregate rows (one per group and status) into Outcomes per group."""
    found: dict = {}
    for row in rows:
        found.setdefault(key(row), Outcomes()).add(
            row["effective_status"], row["n"], row.get("confirmed", 0), row.get("came_back", 0)
        )
    return found


def outcomes(runs: QuerySet) -> Outcomes:
    """How the runs of `runs` ended, in one query."""
    return tally(live_rows(runs), lambda row: None).get(None, Outcomes())


def live_rows(runs: QuerySet, *fields: str) -> list[dict]:
    """`runs` grouped by `fields` and status, as rows with `effective_status`, `n`, `confirmed` and `came_back`.

    Grouped by the stored outcome (not the abandoned rule's CASE), so the database can group from the covering
    index; open runs are then split into abandoned and in progress by a count.
    """
    cutoff = Run.objects.abandon_cutoff()
    grouped = (
        runs.values(*fields, "outcome")
        .annotate(
            # COUNT(*) and indexed columns only: a run's primary key (a UUID) isn't in the covering indexes.
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


def counted_rows(counted: QuerySet, *fields: str) -> QuerySet:
    """Day… table rows (`DayOutcome`, `DaySource`) summed by `fields` and status, as rows like `live_rows`'."""
    return (
        counted.values(*fields, effective_status=F("status"))
        .annotate(n=Sum("runs"), confirmed=Sum("confirmed"), came_back=Sum("came_back"))
        .order_by()
    )


@dataclass
class Overview:
    period: Period
    days: rollups.Days  # where the filled days end: what the page says is counted live
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


def checker_outcomes(days: rollups.Days) -> dict[int, Outcomes]:
    """Each checker's outcomes over `days` (checker id → Outcomes): the filled days' `DayChecker` rows summed per
    checker, and the live days' runs grouped per checker; two queries."""
    counted = (
        days.rows(DayChecker)
        .values_list("checker_id")
        .annotate(*(Sum(column) for column in ("resolved", "escalated", "abandoned", "confirmed", "came_back")))
        .order_by()
    )
    found = {
        checker: Outcomes(resolved, escalated, abandoned, 0, confirmed, came_back)
        for checker, resolved, escalated, abandoned, confirmed, came_back in counted
    }
    for row in live_rows(days.live_runs(), "checker_id"):
        found.setdefault(row["checker_id"], Outcomes()).add(
            row["effective_status"], row["n"], row["confirmed"], row["came_back"]
        )
    return found


def ranked(found: dict[int, Outcomes], sort: str, descending: bool, most: int) -> list[tuple[dict, Outcomes]]:
    """The first `most` of `found` in the order `sort` (ties by title, then id), named: the names read are those
    of the checkers as high as the `most`-th or higher (one query)."""
    rule = SORTS[sort]
    ordered = sorted(found.items(), key=lambda item: rule(item[1]), reverse=descending)
    if not ordered:
        return []
    cut = rule(ordered[min(most, len(ordered)) - 1][1])
    leading = [(pk, o) for pk, o in ordered if (rule(o) >= cut if descending else rule(o) <= cut)]
    names = {
        row["id"]: row for row in Checker.objects.filter(pk__in=[pk for pk, _ in leading]).values("id", "title", "slug")
    }
    leading = [(names[pk], o) for pk, o in leading if pk in names]
    leading.sort(key=lambda item: (rule(item[1]), item[0]["title"], item[0]["id"]), reverse=descending)
    return leading[:most]


def overview(period: Period, sort: str = "runs", descending: bool = True, most: int = CHECKERS_SHOWN) -> Overview:
    """Outcomes over `period`, by day, by source and by checker (the first `most` in the order `sort`).

    Filled days come from the Day… tables (`DaySource` by day and source, a few rows a day; `DayChecker` by checker),
    the others from grouped scans of their runs (through the covering index `run_review_overview`): 6 queries at
    most, whatever the number of runs or checkers.
    """
    sort = sort if sort in SORTS else "runs"
    days = rollups.days(period.first, period.last)
    counted = ({**row, "started_on": row["day"]} for row in counted_rows(days.rows(DaySource), "day", "source"))
    by_day_source = [*live_rows(days.live_runs(), "started_on", "source"), *counted]
    by_day = tally(by_day_source, lambda row: row["started_on"])
    sources = tally(by_day_source, lambda row: row["source"])
    checkers = checker_outcomes(days)
    order, labels = SORTS[sort], dict(Run.Source.choices)
    return Overview(
        period=period,
        days=days,
        total=tally(by_day_source, lambda row: None).get(None, Outcomes()),
        by_day=[(day, by_day.get(day, Outcomes())) for day in period.dates()],
        by_source=sorted(
            ((labels.get(source, source), found) for source, found in sources.items()),
            key=lambda item: (order(item[1]), item[0]),
            reverse=descending,
        ),
        by_checker=ranked(checkers, sort, descending, most),
        checkers=len(checkers),
    )
