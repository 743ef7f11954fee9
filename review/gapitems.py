"""The gap inbox's items as the team handles them (`GapItem`): who has one, a note, and whether it is handled; and
when a handled one is back (sellers hit it again after it was marked handled).

A gap is known by its `key`, (source, version id or None, subject): the same as `GapItem`'s source, version and
key. Whether a handled gap is back is read from the signal's own rows after `handled_at` (answers, runs, votes,
searches), one grouped query for each source that has a handled gap among those listed; unknown error codes are
counted by day only, so one is back when it arrives on a day after the one it was handled on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from search.models import SearchLog, UnknownCodeDay
from support.models import ArticleFeedback
from troubleshoot.models import Answer, Run

from .models import GapItem

Key = tuple[str, int | None, str]


def item_key(item: GapItem) -> Key:
    return (item.source, item.version_id, item.key)


def items(keys: Iterable[Key]) -> dict[Key, GapItem]:
    """The team's items for these gaps, in one query (by version and subject for the checker sources, by subject
    for the others)."""
    keys = list(keys)
    steps = {(version, subject) for _, version, subject in keys if version is not None}
    others = {subject for _, version, subject in keys if version is None}
    if not keys:
        return {}
    wanted = Q(version__in={v for v, _ in steps}, key__in={k for _, k in steps}) | Q(
        version__isnull=True, key__in=others
    )
    found = GapItem.objects.filter(wanted).select_related("assignee", "handled_by")
    wanted_keys = set(keys)
    return {item_key(item): item for item in found if item_key(item) in wanted_keys}


def _latest(rows: QuerySet, version: str | None, subject: str, at: str) -> dict[tuple, datetime]:
    """(version id or None, subject) → the latest `at` of `rows`."""
    fields = [version, subject] if version else [subject]
    latest = {}
    for row in rows.values(*fields).annotate(latest=Max(at)).order_by():
        latest[(row[version] if version else None, str(row[subject]))] = row["latest"]
    return latest


def _since(handled: list[GapItem]) -> dict:
    """The filters every source's rows share: after the earliest handling of these items, for their subjects."""
    return {
        "after": min(item.handled_at for item in handled),
        "versions": {item.version_id for item in handled},
        "subjects": {item.key for item in handled},
    }


def _none_fit(on: dict) -> dict:
    rows = Answer.objects.live().filter(
        answer_index=Answer.NONE_FIT,
        answered_at__gt=on["after"],
        run__version__in=on["versions"],
        step_key__in=on["subjects"],
    )
    return _latest(rows, "run__version_id", "step_key", "answered_at")


def _escalated(on: dict) -> dict:
    rows = Run.objects.filter(
        outcome=Run.Outcome.ESCALATED,
        ended_at__gt=on["after"],
        version__in=on["versions"],
        end_step_key__in=on["subjects"],
    )
    return _latest(rows, "version_id", "end_step_key", "ended_at")


def _abandoned(on: dict) -> dict:
    rows = Run.objects.abandoned().filter(
        last_activity_at__gt=on["after"], version__in=on["versions"], current_step_key__in=on["subjects"]
    )
    return _latest(rows, "version_id", "current_step_key", "last_activity_at")


def _article(on: dict) -> dict:
    ids = [int(subject) for subject in on["subjects"] if subject.isdigit()]
    rows = ArticleFeedback.objects.filter(helpful=False, created_at__gt=on["after"], article_id__in=ids)
    return _latest(rows, None, "article_id", "created_at")


def _searches(**flags) -> Callable[[dict], dict]:
    def latest(on: dict) -> dict:
        rows = SearchLog.objects.filter(created_at__gt=on["after"], normalised__in=on["subjects"])
        if flags.get("no_guide"):
            rows = rows.found_no_guide()
        if flags.get("no_click"):
            rows = rows.found_a_guide().filter(opened_slug="")
        return _latest(rows, None, "normalised", "created_at")

    return latest


def _unknown_code(on: dict) -> dict:
    """By day only: a day after the day it was handled on counts as after (its latest time, the day's end)."""
    rows = UnknownCodeDay.objects.filter(
        day__gt=timezone.localdate(on["after"]), unknown_code__code__in=on["subjects"], count__gt=0
    )
    return {
        (None, code): timezone.make_aware(datetime.combine(day, datetime.max.time()))
        for code, day in rows.values_list("unknown_code__code").annotate(latest=Max("day")).order_by()
    }


LATEST: dict[str, Callable[[dict], dict]] = {
    GapItem.Source.NONE_FIT: _none_fit,
    GapItem.Source.ESCALATED: _escalated,
    GapItem.Source.ABANDONED: _abandoned,
    GapItem.Source.ARTICLE: _article,
    GapItem.Source.NO_RESULTS: _searches(no_guide=True),
    GapItem.Source.NO_CLICK: _searches(no_click=True),
    GapItem.Source.UNKNOWN_CODE: _unknown_code,
}


def back(handled: Iterable[GapItem]) -> set[Key]:
    """The handled items that sellers hit again after they were marked handled: one query per source among them."""
    by_source: dict[str, list[GapItem]] = {}
    for item in handled:
        by_source.setdefault(item.source, []).append(item)
    found = set()
    for source, handled_items in by_source.items():
        latest = LATEST[source](_since(handled_items))
        for item in handled_items:
            when = latest.get((item.version_id, item.key))
            if when is not None and when > item.handled_at:
                found.add(item_key(item))
    return found


def attach(gaps: list) -> None:
    """Each gap's item (`gap.item`) and whether a handled one is back (`gap.back`)."""
    found = items(gap.key for gap in gaps)
    again = back(item for item in found.values() if item.handled_at is not None)
    for gap in gaps:
        gap.item = found.get(gap.key)
        gap.back = gap.key in again


def save(key: Key, user, *, action: str, assignee=None, note: str = "") -> GapItem:
    """Record the team's handling of the gap `key`: "handled" (now, by `user`), "reopen", or "save" (the assignee
    and the note only). Creates the item the first time."""
    source, version, subject = key
    item, _ = GapItem.objects.get_or_create(source=source, version_id=version, key=subject)
    item.assignee, item.note = assignee, note
    if action == "handled":
        item.handled_at, item.handled_by = timezone.now(), user
    elif action == "reopen":
        item.handled_at, item.handled_by = None, None
    item.save()
    return item
