"""The staff pages' tables, one small class each (after mozilla/kitsune's dashboards/readouts.py): the query and
the formatting of a row live together, so the same rows feed the HTML table and the CSV export. Here the base class
and the request queue's table; the runs table is review's (`review/readouts.py`).

A readout's `rows()` streams with `.iterator()`, so an export of 100,000 runs holds one chunk in memory at a time.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db.models import Q, QuerySet
from django.http import StreamingHttpResponse

from .models import SupportRequest

PAGE_SIZE = 50
NO_GUIDE = "(from a search: no guide)"  # a request sent from a search that found no guide has no run


def older_than(rows: QuerySet, before: tuple | None, at: str) -> tuple[list, object | None]:
    """One page of `rows` (newest first by `at`, then by primary key) older than `before` = (at, pk): keyset
    pagination, no COUNT and no OFFSET; with the page's last row when more follow (the next page's `before`)."""
    if before is not None:
        rows = rows.filter(Q(**{f"{at}__lt": before[0]}) | Q(**{at: before[0], "pk__lt": before[1]}))
    found = list(rows[: PAGE_SIZE + 1])
    return found[:PAGE_SIZE], (found[PAGE_SIZE - 1] if len(found) > PAGE_SIZE else None)


# A spreadsheet runs a cell starting with one of these as a formula (CSV injection): such cells get a leading '.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value) -> str:
    """A cell as text a spreadsheet shows and never runs."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class Readout:
    """A table: `columns` headers, and `row(obj)` the cells of one object of `queryset()`."""

    slug = ""
    title = ""
    columns: list[str] = []

    def queryset(self) -> QuerySet:
        raise NotImplementedError

    def row(self, obj) -> list:
        raise NotImplementedError

    def rows(self) -> Iterator[list]:
        for obj in self.queryset().iterator(chunk_size=2000):
            yield self.row(obj)

    def csv_response(self, filename: str) -> StreamingHttpResponse:
        """The whole table as CSV, streamed row by row."""

        class Echo:
            def write(self, value):
                return value

        writer = csv.writer(Echo())

        def lines() -> Iterable[str]:
            yield writer.writerow(self.columns)
            for cells in self.rows():
                yield writer.writerow([inert(cell) for cell in cells])

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


def age(since: datetime, now: datetime) -> str:
    """How long ago a request was sent, as the queue shows it: "12 min", "3 h", "2 days"."""
    minutes = max(int((now - since).total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} days"


class RequestsReadout(Readout):
    """Support requests, newest first, filtered by queue status, assignee, or found by reference or seller's email
    (each an exact match on an indexed column: a reference is unique, an email has its lower-cased index)."""

    slug, title = "requests", "Support requests"
    columns = [
        "Reference",
        "Received",
        "Status",
        "Assignee",
        "Checker",
        "Version",
        "Email",
        "What happened",
        "Error message",
        "Settlement ID",
        "Recording",
        "Internal note",
        "Run id",
    ]

    def __init__(self, status: str = "", *, assignee=None, reference: str = "", email: str = ""):
        self.status, self.assignee, self.reference, self.email = status, assignee, reference, email

    def queryset(self) -> QuerySet:
        requests = SupportRequest.objects.select_related("run__checker", "run__version", "assignee").order_by(
            "-created_at", "-pk"
        )
        if self.status:
            requests = requests.filter(status=self.status)
        if self.assignee is not None:
            requests = requests.filter(assignee=self.assignee)
        if self.reference:
            requests = requests.filter(reference=self.reference)
        if self.email:
            requests = requests.from_email(self.email)
        return requests

    def page(self, before: tuple[datetime, int] | None) -> tuple[list[SupportRequest], tuple[datetime, int] | None]:
        """One page of requests older than `before` (keyset pagination, as for runs)."""
        found, last = older_than(self.queryset(), before, "created_at")
        return found, ((last.created_at, last.pk) if last else None)

    def row(self, request: SupportRequest) -> list:
        return [
            request.reference,
            request.created_at,
            request.get_status_display(),
            request.assignee.get_username() if request.assignee else "",
            request.run.checker.title if request.run else NO_GUIDE,
            request.run.version.number if request.run else "",
            request.email,
            request.description,
            request.error_message,
            request.settlement_id,
            request.recording_url,
            request.internal_note,
            request.run_id,
        ]
