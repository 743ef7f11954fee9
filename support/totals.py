"""A period's counted days added up once and kept: the overview ranks its checkers, and the gap inbox its steps, from
one row per checker (or step) instead of one per checker (or step) and day.

At 5,000 checkers a checker has a run every other day, so the Day… rows of a month are nearly as many as its runs
(24,000 for the overview's checkers, 18,000 for the inbox's escalations), and adding them up on every read made these
two pages grow with the library and the period. A total holds one row per checker and per step, whatever the period's
length. The first page that reads a period's counted days makes it (an INSERT … SELECT per kind of row), the pages
after it read it; the days not yet counted are still added live from the runs, by the callers.

`PeriodTotal.key` names the counted days and when each was counted (`RolledDay.counted_at`): a day counted again (a
seller back on an old run, a follow-up answer) or one more day counted makes a new key, so a total is never stale,
only unused. Unused totals are deleted when a new one is made: those superseded a while ago, and any made over a day
ago.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from troubleshoot.models import Answer, Run

from . import rollups
from .models import DayAnswer, DayChecker, DayPosition, PeriodChecker, PeriodStep, PeriodTotal

# A page that looked up a total just before it was superseded may still be reading it for this long.
GRACE = timedelta(minutes=5)
# A total not superseded (a period of past days, counted once) is made again after this; its period's last day has
# moved on by then for every period ending today.
KEEP = timedelta(days=1)
STEP_KINDS = [Run.Outcome.ESCALATED, Run.ABANDONED, PeriodStep.NONE_FIT]


def key(days: rollups.Days) -> str:
    """What a total of `days`' counted days is known by: the days and when each was counted."""
    text = ";".join(f"{day.isoformat()}@{days.counted[day].isoformat()}" for day in days.rolled)
    return hashlib.sha256(text.encode()).hexdigest()


def total(days: rollups.Days) -> int | None:
    """The id of the total of `days`' counted days, made now if none was; None when no day is counted. One query
    when it was made (none when these days' were read already), more to make it."""
    if not days.rolled:
        return None
    found = key(days)
    if found not in days.totals:
        days.totals[found] = PeriodTotal.objects.filter(key=found).values_list("pk", flat=True).first() or _make(
            days, found
        )
    return days.totals[found]


def checkers(days: rollups.Days) -> QuerySet:
    """`days`' counted runs per checker (`PeriodChecker` rows)."""
    made = total(days)
    return PeriodChecker.objects.none() if made is None else PeriodChecker.objects.filter(total_id=made)


def leading_checkers(days: rollups.Days, column: str, most: int, others: QuerySet) -> list[QuerySet]:
    """`checkers(days)` cut to those that can be among the `most` with the highest `column` (one of `RANKED_BY`,
    which runs on other days can only raise) once those runs are added, ties included: by `leading_steps`' rule,
    those as high as the `most`-th or higher, and those among `others` (a query of the checkers with runs on the other
    days)."""
    found = checkers(days)
    at_least = Coalesce(Subquery(found.order_by(f"-{column}").values(column)[most - 1 : most]), 0)
    return [
        found.filter(**{f"{column}__gte": at_least}),
        found.filter(**{f"{column}__lt": at_least}, checker_id__in=others),
    ]


def uncounted_checkers(days: rollups.Days, runs: QuerySet) -> QuerySet:
    """The checkers of `runs` (on days not counted) with no run on `days`' counted ones: (checker,) rows."""
    made = total(days)
    counted = PeriodChecker.objects.filter(total_id=made, checker_id=OuterRef("checker_id"))
    return runs.exclude(Exists(counted)).values("checker_id").distinct().order_by()


def checker_count(days: rollups.Days) -> QuerySet:
    """How many checkers had runs on `days`' counted ones: a (count,) row, or none with no counted day."""
    made = total(days)
    return PeriodTotal.objects.filter(pk=made).values_list("checker_count") if made else PeriodTotal.objects.none()


def steps(days: rollups.Days, kind: str) -> QuerySet:
    """`days`' counted sellers per step for the inbox's source `kind`, one of STEP_KINDS (`PeriodStep` rows)."""
    made = total(days)
    return PeriodStep.objects.none() if made is None else PeriodStep.objects.filter(total_id=made, kind=kind)


def leading_steps(days: rollups.Days, kind: str, most: int, other_checkers: QuerySet, other_keys: QuerySet) -> list:
    """`steps(days, kind)` cut to those that can be among the `most` with the most sellers (ties included) once the
    sellers of other days are added: the steps with as many as the `most`-th or more, and those among the steps with
    sellers on the other days (`other_checkers` and `other_keys`: queries of their checkers and of their keys; a
    step of one with the key of another is read too, and ranked as it should be).

    A step with fewer and no seller on the other days has fewer sellers than at least `most` steps, whatever the
    other days add to them, so it cannot be ranked among the first `most`; and none of them is ahead of a step that
    can. So a ranking of these rows and the other days' ranks every step that can lead exactly as a ranking of every
    step would: a few dozen rows read from the top of an index, and those of today's steps, instead of one per step
    of the library (6,000 at 5,000 checkers over 30 days).
    """
    found = steps(days, kind)
    at_least = Coalesce(Subquery(found.order_by("-sellers").values("sellers")[most - 1 : most]), 0)
    return [
        found.filter(sellers__gte=at_least),
        found.filter(sellers__lt=at_least, checker_id__in=other_checkers, step_key__in=other_keys),
    ]


def _make(days: rollups.Days, found: str, tries: int = 2) -> int:
    """Add up `days`' counted days as the total known by `found`, in one transaction; its id."""
    now = timezone.now()
    try:
        with transaction.atomic():
            _purge(now)
            made = PeriodTotal.objects.create(key=found, first=days.rolled[0], last=days.rolled[-1], made_at=now)
            rows = {kind: _insert(table, columns, [made.pk, *kind], sums) for table, columns, kind, sums in _sums(days)}
            PeriodTotal.objects.filter(pk=made.pk).update(checker_count=rows[()])
            _analyze()
    except IntegrityError:
        # Made by another page at the same moment (PostgreSQL waited for it to commit): read that one.
        existing = PeriodTotal.objects.filter(key=found).values_list("pk", flat=True).first()
        if existing is None and tries > 1:  # theirs was rolled back
            return _make(days, found, tries - 1)
        if existing is None:
            raise
        return existing
    return made.pk


def _sums(days: rollups.Days):
    """What a total holds, as (table, its columns, the values leading each row after the total, a query of the rest of
    each row)."""
    on = Q(day__in=days.rolled, day__gte=days.rolled[0], day__lte=days.rolled[-1])  # the range narrows the index scan
    checker = ["total", "checker", "runs", "resolved", "escalated", "abandoned", "confirmed", "came_back"]
    step = ["total", "kind", "checker", "step_key", "step_title", "sellers"]
    yield (
        PeriodChecker,
        checker,
        (),
        DayChecker.objects.filter(on)
        .values_list("checker_id")
        .annotate(
            n_runs=Sum(F("resolved") + F("escalated") + F("abandoned")),
            **{f"n_{column}": Sum(column) for column in checker[3:]},
        )
        .order_by(),
    )
    for status in (Run.Outcome.ESCALATED, Run.ABANDONED):
        positions = DayPosition.objects.filter(on, status=status).values_list("checker_id", "step_key")
        yield PeriodStep, step, (status,), positions.annotate(Max("step_title"), Sum("runs")).order_by()
    none_fit = DayAnswer.objects.filter(on, answer_index=Answer.NONE_FIT, live__gt=0)
    yield (
        PeriodStep,
        step,
        (PeriodStep.NONE_FIT,),
        none_fit.values_list("version__checker_id", "step_key").annotate(Max("step_title"), Sum("live")).order_by(),
    )


def _insert(table, columns: list[str], leading: list, sums: QuerySet) -> int:
    """INSERT … SELECT: `sums`' rows into `table`'s `columns`, each led by the values `leading`; how many rows."""
    sql, params = sums.query.sql_with_params()
    names = ", ".join(connection.ops.quote_name(table._meta.get_field(name).column) for name in columns)
    marks = ", ".join(["%s"] * len(leading))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(table._meta.db_table)} ({names}) "  # noqa: S608 - the ORM's SQL
            f"SELECT {marks}, sums.* FROM ({sql}) AS sums",
            [*leading, *params],
        )
        return cursor.rowcount


def _analyze() -> None:
    """PostgreSQL: the planner learns the new total's rows at once (autovacuum would, later). With no statistics on
    it, it expected one row per total and joined today's runs to every checker of a 90-day total, row by row: 0.46 s
    instead of 4 ms. SQLite plans these from its indexes alone."""
    if connection.vendor == "postgresql":
        names = ", ".join(connection.ops.quote_name(table._meta.db_table) for table in (PeriodChecker, PeriodStep))
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {names}")


def _purge(now) -> None:
    """Delete the totals no page reads any more: superseded (a newer total of the same days made over GRACE ago)
    or made over KEEP ago."""
    newer = PeriodTotal.objects.filter(
        first=OuterRef("first"), last=OuterRef("last"), made_at__gt=OuterRef("made_at"), made_at__lt=now - GRACE
    )
    PeriodTotal.objects.filter(Q(made_at__lt=now - KEEP) | Exists(newer)).delete()
