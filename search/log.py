"""The search log and the unknown-code log: what sellers looked for, and what staff learn from it.

Unknown codes are counted per code (a running total) and per code and day, so any period's count and its trend
against the period before are one grouped query (`unknown_code_counts`). Only codes shaped like the integration's
(the error-code field's own rule) are counted: anything else a client puts in /e/<code>/ tells support nothing.

A search box's as-you-type requests share one id (minted when the page is rendered), so a seller typing
"xero dis…" then "xero disconnected" is one row holding the last query, not one row per pause.
"""

import uuid
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from helpcenter.limits import over_limit
from troubleshoot.fields import error_code_format
from troubleshoot.models import Checker

from .models import Phrasing, SearchLog, UnknownCode, UnknownCodeDay
from .text import normalise

_CONTROL = dict.fromkeys([*range(32), 127])


def parse_id(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def log_search(
    search_id: uuid.UUID | None, query: str, result_count: int, source: str, confidence: str = ""
) -> uuid.UUID:
    """Record a search (or update the row of the same search box) and return its id for the result links;
    `confidence`: the best result's ("" when nothing was found)."""
    query = query.translate(_CONTROL).strip()[:500]
    values = {
        "query": query,
        "normalised": normalise(query)[:500],
        "result_count": min(result_count, 1000),
        "confidence": confidence,
    }
    if search_id is None:  # a new search: one insert
        return SearchLog.objects.create(source=source, **values).pk
    if SearchLog.objects.filter(pk=search_id).update(**values):
        return search_id
    try:
        with transaction.atomic():
            SearchLog.objects.create(pk=search_id, source=source, **values)
    except IntegrityError:  # two requests of one search box at once: the other one created it
        SearchLog.objects.filter(pk=search_id).update(**values)
    return search_id


def record_opened(search_id: str | None, kind: str, slug: str) -> None:
    """The seller opened this result of that search (the first result opened counts)."""
    if (parsed := parse_id(search_id)) is not None:
        SearchLog.objects.filter(pk=parsed, opened_slug="").update(
            opened_kind=kind, opened_slug=slug[:100], opened_at=timezone.now()
        )


def shaped_code(value: str) -> str | None:
    """`value` as an error code is stored (upper case), if it is shaped like one (`error_code_format`, the rule the
    error-code field validates with); None for anything else."""
    code = value.strip()
    try:
        error_code_format(code)  # before upper(): "ﬁx".upper() is "FIX"
    except ValidationError:
        return None
    return code.upper()


def record_unknown_code(code: str) -> None:
    """Count an error code that reached /e/<code>/ with no checker, if it is shaped like one (`shaped_code`): its
    running total and its count for today.

    Each count is one upsert (`INSERT … ON CONFLICT DO UPDATE`, on SQLite and PostgreSQL alike), so two sellers
    arriving with the same new code at once both count, however their requests interleave.
    """
    code = shaped_code(code)
    if code is None:
        return
    now = timezone.now()
    codes, days = UnknownCode._meta.db_table, UnknownCodeDay._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {codes} (code, count, first_seen, last_seen) VALUES (%s, 1, %s, %s) "  # noqa: S608
            f"ON CONFLICT (code) DO UPDATE SET count = {codes}.count + 1, last_seen = excluded.last_seen",
            [code, *[connection.ops.adapt_datetimefield_value(now)] * 2],
        )
        cursor.execute(
            f"INSERT INTO {days} (unknown_code_id, day, count) SELECT id, %s, 1 FROM {codes} WHERE code = %s "  # noqa: S608
            f"ON CONFLICT (unknown_code_id, day) DO UPDATE SET count = {days}.count + 1",
            [connection.ops.adapt_datefield_value(timezone.localdate(now)), code],
        )


def unknown_code_counts(first: date, last: date, limit: int | None = None) -> list[dict]:
    """The unknown codes that arrived between the days `first` and `last` (both included), most arrivals first:
    `{"code", "count", "before"}`, `before` being the code's count in as many days just before `first`."""
    days = (last - first).days + 1
    counts = (
        UnknownCodeDay.objects.filter(day__gte=first - timedelta(days=days), day__lte=last)
        .values("unknown_code__code")
        .annotate(
            now=Sum("count", filter=Q(day__gte=first), default=0),
            earlier=Sum("count", filter=Q(day__lt=first), default=0),
        )
        .filter(now__gt=0)
        .order_by("-now", "unknown_code__code")
    )
    return [
        {"code": row["unknown_code__code"], "count": row["now"], "before": row["earlier"]}
        for row in (counts[:limit] if limit is not None else counts)
    ]


def attach_phrasing(query: str, checker: Checker, user=None) -> Phrasing:
    """Make a seller's query a phrasing of `checker`: search finds the checker for it from now on."""
    text = " ".join(query.translate(_CONTROL).split())[:300]
    phrasing, _ = Phrasing.objects.get_or_create(checker=checker, text=text, defaults={"created_by": user})
    return phrasing


# The seller's pages tell search what happened (troubleshoot/signals.py; connected in search.apps).


def on_page_opened(sender, kind: str, slug: str, search_id: str | None, **kwargs) -> None:
    record_opened(search_id, kind, slug)


def on_unknown_code(sender, request, code: str, **kwargs) -> None:
    """Only a code shaped like ours is worth support's time, and one client can't fill their list."""
    if shaped_code(code) is not None and not over_limit(request, "unknown_code"):
        record_unknown_code(code)
