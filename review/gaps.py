"""The gap inbox: one ranked list of what to fix next, most sellers first.

Each source is one small function `source(period, days) -> list[Gap]` (a few grouped queries, whatever the amount of
data); `SOURCES` lists them: steps where sellers said "None of these fit", escalated or left (which steps lead is
`gap_steps.py`'s to say); articles voted unhelpful; and, from the search app's logs, searches that found no guide
(nothing, or only "might be related") or whose results nobody opened, and unknown error codes on /e/<code>/. A new
signal is one more function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Case, Count, IntegerField, Max, Q, Value, When
from django.urls import reverse

from search.log import unknown_code_counts
from search.models import SearchLog
from support.models import ArticleFeedback, SupportRequest
from troubleshoot import versioncache
from troubleshoot.models import Answer, CheckerVersion, Run

from . import gap_steps, gapitems, rollups
from .models import GapItem
from .stats import Period

EXAMPLES = 3


@dataclass
class Gap:
    """One thing to fix: how many sellers it hit in the period (and in the period before), what they said.

    `key` is what the team's handling is kept under (`GapItem`): (source, version id or None, subject), the subject
    being the step's key, the article's id, the normalised search or the error code."""

    kind: str
    title: str
    where: str | int  # the checker's or article's name (a checker's id until `inbox` reads the names)
    count: int
    before: int | None  # None when the source keeps no dates to compare with (unknown codes: a running count)
    fix_url: str
    fix_label: str
    examples: list[str] = field(default_factory=list)
    key: tuple = ()
    fix_checker: int | None = None  # the checker whose draft fixes it: `inbox` links it (for the rows shown only)
    # Read by `inbox`: the version's number and whether it is no longer live; the team's handling.
    version_number: int | None = None
    older: bool = False
    item: GapItem | None = None
    back: bool = False  # handled, and sellers hit it again since

    @property
    def trend(self) -> int | None:
        return None if self.before is None else self.count - self.before

    @property
    def source(self) -> str:
        return self.key[0]

    @property
    def handled(self) -> bool:
        return self.item is not None and self.item.handled_at is not None and not self.back


def _now_or_before(period: Period, field_name: str):
    """1 for rows in `period`, 0 for rows in the period before it (the query is filtered to both)."""
    return Case(
        When(Q(**{f"{field_name}__gte": period.start}), then=Value(1)), default=Value(0), output_field=IntegerField()
    )


def _both(period: Period, field_name: str) -> dict:
    return {f"{field_name}__gte": period.before().start, f"{field_name}__lt": period.end}


def _pivot(rows, key: Callable, make: Callable) -> dict:
    """Rows grouped by (key…, now) into one Gap per key, with its count now and before."""
    gaps: dict = {}
    for row in rows:
        k = key(row)
        gap = gaps.get(k) or gaps.setdefault(k, make(row))
        if row["now"]:
            gap.count += row["n"]
        else:
            gap.before += row["n"]
    return gaps


def _attach(gaps: dict, examples, key: Callable, text: str) -> None:
    for row in examples:
        gap = gaps.get(key(row))
        if gap is not None and row[text] and row[text] not in gap.examples and len(gap.examples) < EXAMPLES:
            gap.examples.append(row[text])


def none_fit(period: Period, days: rollups.Days | None = None) -> list[Gap]:
    """Steps where sellers said "None of these fit", with their lines."""

    gaps = _leading(
        period, days, gap_steps.none_fit, GapItem.Source.NONE_FIT, "sellers' situation wasn't among the answers"
    )
    # The latest 200, newest first from the (answer, time) index; empty lines (purged, so older than any kept) are
    # skipped by `_attach`. Filtered out here, PostgreSQL expected a few rows and joined all 8,000 of 181 days to
    # their runs first (0.3 s).
    examples = (
        Answer.objects.live()
        .filter(answer_index=Answer.NONE_FIT, answered_at__gte=period.start, answered_at__lt=period.end)
        .order_by("-answered_at")
        .values("run__version_id", "step_key", "note")[:200]
    )
    _attach(gaps, examples, lambda row: (row["run__version_id"], row["step_key"]), "note")
    return list(gaps.values())


def _split(period: Period) -> rollups.Days:
    """The days of `period` and the period before (for trends), split where the Day… tables are filled through."""
    return rollups.days(period.before().first, period.last)


def _leading(period: Period, days: rollups.Days | None, parts: Callable, source: str, says: str | None) -> dict:
    """A gap of `source` for each step of `parts` (a kind of `gap_steps`) that can be among the SHOWN the inbox shows,
    keyed by (version, step key), with its sellers in `period` and in the period before; titled "“step”: `says`", or
    by the step's key when `says` is None (until `inbox` reads its title from the version)."""
    gaps = {}
    for step in gap_steps.leading(period, days or _split(period), parts, SHOWN):
        gaps[(step.version, step.key)] = Gap(
            kind=GapItem.Source(source).label,
            title=f"“{step.title}”: {says}" if says else step.key,
            key=(source, step.version, step.key),
            where=step.checker,
            count=step.count,
            before=step.before,
            fix_url="",
            fix_checker=step.checker,
            fix_label="Edit the checker's draft",
        )
    return gaps


def escalations(period: Period, days: rollups.Days | None = None) -> list[Gap]:
    """Steps where the most runs ended in escalate (with "None of these fit" ones, also listed on their own), with
    what sellers then told support."""

    gaps = _leading(
        period, days, gap_steps.ended_at(Run.Outcome.ESCALATED), GapItem.Source.ESCALATED, "runs ended here in escalate"
    )
    examples = (
        SupportRequest.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
        .order_by("-created_at")
        .values("run__version_id", "run__end_step_key", "description")[:200]
    )
    _attach(gaps, examples, lambda row: (row["run__version_id"], row["run__end_step_key"]), "description")
    return list(gaps.values())


def abandons(period: Period, days: rollups.Days | None = None) -> list[Gap]:
    """Steps where sellers gave up: open runs left idle there past the abandon time."""

    return list(_leading(period, days, gap_steps.ended_at(Run.ABANDONED), GapItem.Source.ABANDONED, None).values())


def unhelpful_articles(period: Period, days: rollups.Days | None = None) -> list[Gap]:
    """Articles voted "not helpful", with sellers' comments."""
    votes = ArticleFeedback.objects.filter(helpful=False, **_both(period, "created_at"))
    rows = (
        votes.annotate(now=_now_or_before(period, "created_at"))
        .values("article_id", "now")
        .annotate(n=Count("pk"), title=Max("article__title"))
        .order_by()
    )

    def make(row) -> Gap:
        return Gap(
            kind="Unhelpful article",
            title="Voted not helpful",
            where=row["title"],
            count=0,
            before=0,
            fix_url=reverse("admin:troubleshoot_article_change", args=[row["article_id"]]),
            fix_label="Edit the article's draft",
            key=(GapItem.Source.ARTICLE, None, str(row["article_id"])),
        )

    gaps = _pivot(rows, lambda row: row["article_id"], make)
    examples = (
        votes.filter(created_at__gte=period.start)
        .exclude(comment="")
        .order_by("-created_at")
        .values("article_id", "comment")[:200]
    )
    _attach(gaps, examples, lambda row: row["article_id"], "comment")
    return list(gaps.values())


def _searches(period: Period, source: str, title: str, **flags) -> list[Gap]:
    """The most frequent searches of `period` by the search log's own rule (`SearchLog.objects.top(**flags)`), with
    their count in the period before."""

    def during(days: Period):
        return SearchLog.objects.filter(created_at__gte=days.start, created_at__lt=days.end).top(**flags)

    top = list(during(period)[:MOST_SEARCHES])
    before = {
        row["normalised"]: row["searches"]
        for row in during(period.before()).filter(normalised__in=[row["normalised"] for row in top])
    }
    return [
        Gap(
            kind=GapItem.Source(source).label,
            title=f"“{row['query']}”: {title}",
            key=(source, None, row["normalised"]),
            where="Search",
            count=row["searches"],
            before=before.get(row["normalised"], 0),
            fix_url=reverse("admin:search_searchlog_top"),
            fix_label="Attach it to a checker",
        )
        for row in top
    ]


def searches_without_results(period: Period, days: rollups.Days | None = None) -> list[Gap]:
    """Searches that found no guide: nothing at all, or nothing likely (the page said "We don't have a guide for
    this message yet")."""
    return _searches(period, GapItem.Source.NO_RESULTS, "found no guide", no_guide=True)


def searches_without_clicks(period: Period, days: rollups.Days | None = None) -> list[Gap]:
    """Searches whose results nobody opened."""
    return _searches(period, GapItem.Source.NO_CLICK, "results nobody opened", no_click=True)


def unknown_codes(period: Period, days: rollups.Days | None = None) -> list[Gap]:
    """Error codes that reached /e/<code>/ with no checker in `period`, with their count in the period before (the
    search app counts them per day)."""
    return [
        Gap(
            kind="Unknown error code",
            title=f"{row['code']}: no checker has this code",
            where=f"/e/{row['code']}/",
            count=row["count"],
            before=row["before"],
            fix_url=reverse("admin:troubleshoot_checker_changelist"),
            fix_label="Add the code to a checker",
            key=(GapItem.Source.UNKNOWN_CODE, None, row["code"]),
        )
        for row in unknown_code_counts(period.first, period.last, limit=MOST_SEARCHES)
    ]


MOST_SEARCHES = 20
SHOWN = 50  # gaps the inbox shows
# Each source takes the period and its days split into filled and live ones (split once for them all; a source
# called alone splits them itself).
SOURCES: list[Callable[[Period, rollups.Days | None], list[Gap]]] = [
    none_fit,
    escalations,
    abandons,
    unhelpful_articles,
    searches_without_results,
    searches_without_clicks,
    unknown_codes,
]


@dataclass
class Inbox:
    """The gaps shown, most sellers first, and how many handled ones were left out."""

    gaps: list[Gap]
    handled: int


def inbox(period: Period, most: int = SHOWN) -> list[Gap]:
    """Every gap with sellers in `period`, handled or not (`read` for the page, which leaves handled ones out)."""
    return read(period, most, show_handled=True).gaps


def read(period: Period, most: int = SHOWN, *, show_handled: bool = False) -> Inbox:
    """Every source's gaps with sellers in `period`, most sellers first (ties: the fastest growing first), with the
    team's handling of each; handled ones (that sellers haven't hit since) left out unless `show_handled`; `most` up
    to SHOWN (the checker sources keep the SHOWN they could show).

    Checker sources leave `where` as the checker's id (reading names in each grouped scan would read every run's
    row, not just the index); the names and version numbers are read here once.
    """
    days = _split(period)
    gaps = [gap for source in SOURCES for gap in source(period, days) if gap.count]
    version_ids = {gap.key[1] for gap in gaps if gap.key[1] is not None}
    # Only the versions named (each checker source keeps about SHOWN steps): 0.2 ms where all 5,000 took 3.
    found = {
        pk: (number, title, live)
        for pk, number, title, live in CheckerVersion.objects.filter(pk__in=version_ids)
        .order_by()
        .values_list("pk", "number", "checker__title", "checker__live_version_id")
    }
    for gap in gaps:
        if gap.key[1] is not None:
            number, title, live = found.get(gap.key[1], (None, "", None))
            gap.where, gap.version_number, gap.older = title, number, live != gap.key[1]
    gaps.sort(key=lambda gap: (-gap.count, -(gap.trend or 0), gap.kind, gap.where, gap.title))
    gapitems.attach(gaps)
    left_out = [gap for gap in gaps if gap.handled]
    shown = gaps[:most] if show_handled else [gap for gap in gaps if not gap.handled][:most]
    for gap in shown:
        if gap.fix_checker is not None:  # reversed for the rows shown: a large library has thousands of gaps
            gap.fix_url = reverse("admin:troubleshoot_checker_change", args=[gap.fix_checker])
        if gap.source == GapItem.Source.ABANDONED:
            # An open run stores only its step's key: its title is read from the version the seller walked (cached;
            # a step since removed from the checker is still in that version).
            step = versioncache.flow_of(gap.key[1]).by_key.get(gap.key[2])
            gap.title = f"“{step.title if step else gap.key[2]}”: sellers left here"
    return Inbox(shown, 0 if show_handled else len(left_out))
