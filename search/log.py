"""The search log and the unknown-code log: what sellers looked for, and what staff learn from it.

A search box's as-you-type requests share one id (minted when the page is rendered), so a seller typing
"xero dis…" then "xero disconnected" is one row holding the last query, not one row per pause.
"""

import uuid

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from troubleshoot.models import Checker

from .models import Phrasing, SearchLog, UnknownCode
from .text import normalise

_CONTROL = dict.fromkeys([*range(32), 127])


def parse_id(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def log_search(search_id: uuid.UUID | None, query: str, result_count: int, source: str) -> uuid.UUID:
    """Record a search (or update the row of the same search box) and return its id for the result links."""
    query = query.translate(_CONTROL).strip()[:500]
    values = {"query": query, "normalised": normalise(query)[:500], "result_count": min(result_count, 1000)}
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


def record_unknown_code(code: str) -> None:
    """Count an error code that reached /e/<code>/ with no checker (NUL and other control characters dropped)."""
    code = code.translate(_CONTROL).strip().upper()[:40]
    if not code:
        return
    now = timezone.now()
    if UnknownCode.objects.filter(code=code).update(count=F("count") + 1, last_seen=now):
        return
    try:
        with transaction.atomic():
            UnknownCode.objects.create(code=code, count=1, first_seen=now, last_seen=now)
    except IntegrityError:
        UnknownCode.objects.filter(code=code).update(count=F("count") + 1, last_seen=now)


def attach_phrasing(query: str, checker: Checker, user=None) -> Phrasing:
    """Make a seller's query a phrasing of `checker`: search finds the checker for it from now on."""
    text = " ".join(query.translate(_CONTROL).split())[:300]
    phrasing, _ = Phrasing.objects.get_or_create(checker=checker, text=text, defaults={"created_by": user})
    return phrasing
