"""The gap inbox: one ranked list of what to fix next, most sellers first.

Each source is one small function `source(period) -> list[Gap]` (a few grouped queries, whatever the amount of
data); `SOURCES` lists them: steps where sellers said "None of these fit", escalated or left; articles voted
unhelpful; and, from the search app's logs, searches that found nothing or whose results nobody opened, and
unknown error codes on /e/<code>/. A new signal is one more function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Case, Count, IntegerField, Max, Q, QuerySet, Value, When
from django.urls import reverse

from search.log import unknown_code_counts
from search.models import SearchLog
from troubleshoot import versions
from troubleshoot.models import Answer, Checker, Run

from . import rollups, totals
from .models import ArticleFeedback, PeriodStep, SupportRequest
from .stats import Period, union_all

EXAMPLES = 3


@dataclass
class Gap:
    """One thing to fix: how many sellers it hit in the period (and in the period before), what they said."""

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

    @property
    def trend(self) -> int | None:
        return None if self.before is None else self.count - self.before


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


def _none_fit_rows(days: rollups.Days, most: int | None = None) -> list[QuerySet]:
    """Sellers who said "None of these fit" on the `days`, as parts for `_leading`: settled days from their total
    (`totals`, one row per step), the others from their runs' answers (counted by the day the run started, like every
    count on these pages)."""
    answers = (
        Answer.objects.live()
        # Given after their run started: the bound lets the database read none-fit answers by time (a few) instead
        # of every answer of every run of the live days.
        .filter(answer_index=Answer.NONE_FIT, answered_at__gte=days.live_start(), run__in=days.live_runs())
        .order_by()
        if days.live
        else Answer.objects.none()
    )
    checkers, keys = answers.values("run__checker_id"), answers.values("step_key")
    return [
        answers.values_list("run__checker_id", "step_key", Value(1), "step_title"),
        *_counted(days, PeriodStep.NONE_FIT, most, checkers, keys),
    ]


def _counted(days: rollups.Days, kind: str, most: int | None, checkers: QuerySet, keys: QuerySet) -> list[QuerySet]:
    """The parts of `days`' counted steps: all, or with `most` those that can lead (`totals.leading_steps`)."""
    found = [totals.steps(days, kind)] if most is None else totals.leading_steps(days, kind, most, checkers, keys)
    return [rows.values_list("checker_id", "step_key", "sellers", "step_title") for rows in found]


def none_fit(period: Period, days: rollups.Days | None = None) -> list[Gap]:
    """Steps where sellers said "None of these fit", with their lines."""

    def make(checker: int, key: str, title: str) -> Gap:
        return Gap(
            kind="None of these fit",
            title=f"“{title}”: sellers' situation wasn't among the answers",
            where=checker,
            count=0,
            before=0,
            fix_url="",
            fix_checker=checker,
            fix_label="Edit the checker's draft",
        )

    gaps = _leading(period, days or _split(period), _none_fit_rows, make)
    # The latest 200, newest first from the (answer, time) index; empty lines (purged, so older than any kept) are
    # skipped by `_attach`. Filtered out here, PostgreSQL expected a few rows and joined all 8,000 of 181 days to
    # their runs first (0.3 s).
    examples = (
        Answer.objects.live()
        .filter(answer_index=Answer.NONE_FIT, answered_at__gte=period.start, answered_at__lt=period.end)
        .order_by("-answered_at")
        .values("run__checker_id", "step_key", "note")[:200]
    )
    _attach(gaps, examples, lambda row: (row["run__checker_id"], row["step_key"]), "note")
    return list(gaps.values())


def _split(period: Period) -> rollups.Days:
    """The days of `period` and the period before (for trends), split into counted and live ones."""
    return rollups.split(period.before().first, period.last)


def _halves(days: rollups.Days, period: Period) -> tuple[rollups.Days, rollups.Days]:
    """`_split(period)`'s days in `period`, and in the period before."""
    before = period.before()
    return days.within(period.first, period.last), days.within(before.first, before.last)


def make_totals(period: Period) -> None:
    """Make the totals of counted days the inbox reads for `period` and the period before (the overview's for
    `period` too) ahead of the first page that would: `rollupruns` does, for the default period."""
    for days in _halves(_split(period), period):
        totals.total(days)


def _positions(status: str) -> Callable[..., list[QuerySet]]:
    """`_leading`'s parts for the runs escalated or abandoned (`status`) on some days, by checker and step (where
    they ended, or were left), with the step's title as it read when they ended there: settled days from their
    total (`totals`, one row per step), the others from their runs."""
    ended = status == Run.Outcome.ESCALATED

    def rows(days: rollups.Days, most: int | None = None) -> list[QuerySet]:
        live = days.live_runs().order_by()
        live = live.filter(outcome=status) if ended else live.abandoned()
        step = "end_step_key" if ended else "current_step_key"
        return [
            live.values_list("checker_id", step, Value(1), "end_step_title"),
            *_counted(days, status, most, live.values("checker_id"), live.values(step)),
        ]

    return rows


# The parts' rows (the part's number, checker, step key, sellers, the step's title) as one table for `RANKED` and
# `BEFORE`.
PARTS = "WITH parts (part, checker, step, sellers, title) AS ({parts})"
# The steps of a checker source that can be among the SHOWN the inbox shows, ranked in the database on the period's
# days alone: the rows added up per step, titled as the counted days' total has it, else as the live runs (part 0);
# then those with as many sellers as the SHOWN-th, ties included (the inbox orders them by growth and the rest). At
# 5,000 checkers 6,000 steps have an escalation in 30 days; the parts hold only the counted steps that can lead and
# today's (`totals.leading_steps`), and a few dozen rows come back. One grouping, of the rows
# themselves: its sums of integers are bigints, where sums of grouped counts were numerics (23 ms with the period
# before, against 7).
RANKED = """
SELECT checker, step, sellers, title FROM (
    SELECT checker, step, SUM(sellers) AS sellers,
        COALESCE(MAX(title) FILTER (WHERE part > 0), MAX(title) FILTER (WHERE part = 0)) AS title,
        RANK() OVER (ORDER BY SUM(sellers) DESC) AS place
    FROM parts GROUP BY checker, step HAVING SUM(sellers) > 0
) AS ranked WHERE place <= %s
"""
# Their sellers in the period before (for the trend): the steps of those checkers with those keys (a few pairs more,
# left out by the caller).
BEFORE = """
SELECT checker, step, SUM(sellers) FROM parts WHERE checker IN ({checkers}) AND step IN ({steps})
GROUP BY checker, step
"""


def _leading(
    period: Period,
    days: rollups.Days,
    parts: Callable[..., list[QuerySet]],
    make: Callable[[int, str, str], Gap],
) -> dict:
    """Gaps (by `make(checker, key, title)`) for the steps that can be among the SHOWN the inbox shows, with their
    sellers in `period` (`RANKED`) and in the period before (`BEFORE`): two queries at most. `parts(days, most)`
    gives queries of (checker, step key, sellers, title) rows on those days, one row per run or per counted step
    (with `most`, only the counted steps that can be among the first `most`: `totals.leading_steps`)."""
    gaps = {}
    during, earlier = _halves(days, period)
    for checker, key, now, title in _rows(RANKED, parts(during, SHOWN), [SHOWN]):
        gap = gaps[(checker, key)] = make(checker, key, title)
        gap.count = now
    if gaps:
        checkers, keys = {checker for checker, _ in gaps}, {key for _, key in gaps}
        before = BEFORE.format(checkers=", ".join(["%s"] * len(checkers)), steps=", ".join(["%s"] * len(keys)))
        for checker, key, sellers in _rows(before, parts(earlier), [*checkers, *keys]):
            if (checker, key) in gaps:
                gaps[(checker, key)].before = sellers
    return gaps


def _rows(sql: str, parts: list[QuerySet], params: list) -> list[tuple]:
    """The rows of `sql` over `PARTS`, the UNION ALL of `parts` (each row led by its part's number); none, and no
    query, when no part has days of its kind."""
    union = union_all(parts, numbered=True)
    if union is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(PARTS.format(parts=union[0]) + sql, [*union[1], *params])
        return cursor.fetchall()


def escalations(period: Period, days: rollups.Days | None = None) -> list[Gap]:
    """Steps where the most runs ended in escalate (with "None of these fit" ones, also listed on their own), with
    what sellers then told support."""

    def make(checker: int, key: str, title: str) -> Gap:
        return Gap(
            kind="Escalations",
            title=f"“{title}”: runs ended here in escalate",
            where=checker,
            count=0,
            before=0,
            fix_url="",
            fix_checker=checker,
            fix_label="Edit the checker's draft",
        )

    gaps = _leading(period, days or _split(period), _positions(Run.Outcome.ESCALATED), make)
    examples = (
        SupportRequest.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
        .order_by("-created_at")
        .values("run__checker_id", "run__end_step_key", "description")[:200]
    )
    _attach(gaps, examples, lambda row: (row["run__checker_id"], row["run__end_step_key"]), "description")
    return list(gaps.values())


def abandons(period: Period, days: rollups.Days | None = None) -> list[Gap]:
    """Steps where sellers gave up: open runs left idle there past the abandon time."""

    def make(checker: int, key: str, title: str) -> Gap:
        return Gap(
            kind="Abandoned",
            title=key,  # the step's key until `inbox` reads its title
            key=("left at", checker, key),
            where=checker,
            count=0,
            before=0,
            fix_url="",
            fix_checker=checker,
            fix_label="Edit the checker's draft",
        )

    return list(_leading(period, days or _split(period), _positions(Run.ABANDONED), make).values())


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


def _searches(period: Period, kind: str, title: str, **flags) -> list[Gap]:
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
            kind=kind,
            title=f"“{row['query']}”: {title}",
            where="Search",
            count=row["searches"],
            before=before.get(row["normalised"], 0),
            fix_url=reverse("admin:search_searchlog_top"),
            fix_label="Attach it to a checker",
        )
        for row in top
    ]


def searches_without_results(period: Period, days: rollups.Days | None = None) -> list[Gap]:
    """Searches that found nothing (the search log of issue #13)."""
    return _searches(period, "Search: nothing found", "found nothing", no_results=True)


def searches_without_clicks(period: Period, days: rollups.Days | None = None) -> list[Gap]:
    """Searches whose results nobody opened."""
    return _searches(period, "Search: no click", "results nobody opened", no_click=True)


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
        )
        for row in unknown_code_counts(period.first, period.last, limit=MOST_SEARCHES)
    ]


MOST_SEARCHES = 20
SHOWN = 50  # gaps the inbox shows
# Each source takes the period and its days split into counted and live ones (split once for them all; a source
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


def inbox(period: Period, most: int = SHOWN) -> list[Gap]:
    """Every source's gaps with sellers in `period`, most sellers first (ties: the fastest growing first); `most` up
    to SHOWN (the checker sources keep the SHOWN they could show).

    Checker sources leave `where` as the checker's id (reading names in each grouped scan would read every run's
    row, not just the index); the names are read here once.
    """
    days = _split(period)
    gaps = [gap for source in SOURCES for gap in source(period, days) if gap.count]
    ids = {gap.where for gap in gaps if isinstance(gap.where, int)}
    # Only the checkers named (each checker source keeps about SHOWN steps): 0.2 ms where all 5,000 took 3.
    checkers = {
        pk: (title, live)
        for pk, title, live in Checker.objects.filter(pk__in=ids)
        .order_by()
        .values_list("pk", "title", "live_version_id")
    }
    for gap in gaps:
        if isinstance(gap.where, int):
            gap.where = checkers.get(gap.where, ("", None))[0]
    gaps.sort(key=lambda gap: (-gap.count, -(gap.trend or 0), gap.kind, gap.where, gap.title))
    shown = gaps[:most]
    for gap in shown:
        if gap.fix_checker is not None:  # reversed for the rows shown: a large library has thousands of gaps
            gap.fix_url = reverse(
                "admin:troubleshoot_checker_change", args=[gap.fix_checker]
            )  # only the rows shown: a large library has thousands of steps with an abandon or two
        if gap.key[:1] == ("left at",):
            # An open run stores only its step's key: its title is read from the checker's live version (cached).
            live = checkers.get(gap.key[1], ("", None))[1]
            step = versions.flow_of(live).by_key.get(gap.key[2]) if live else None
            gap.title = f"“{step.title if step else gap.key[2]}”: sellers left here"
    return shown
