"""The review pages' tables, one small class each (after mozilla/kitsune's dashboards/readouts.py): the query and
the formatting of a row live together, so the same rows feed the HTML table and the CSV export.

A readout's `rows()` streams with `.iterator()`, so an export of 100,000 runs holds one chunk in memory at a time.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db.models import Q, QuerySet
from django.http import StreamingHttpResponse

from review.stats import Period
from troubleshoot.models import Run

from .models import SupportRequest

PAGE_SIZE = 50


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


def path_length(path: str) -> int:
    return path.count("/") + 1 if path else 0


class RunsReadout(Readout):
    """Runs, newest first, filtered as the runs page's form says."""

    slug, title = "runs", "Runs"
    columns = [
        "Started",
        "Checker",
        "Version",
        "Source",
        "Came from",
        "Error code",
        "Status",
        "Ended at step",
        "Answers",
        "Still fixed?",
        "During incident",
        "Support ref",
        "Run id",
    ]

    def __init__(self, filters: dict, period: Period):
        self.filters, self.period = filters, period

    def queryset(self) -> QuerySet:
        runs = (
            Run.objects.with_status()
            .filter(started_at__gte=self.period.start, started_at__lt=self.period.end)
            .select_related("checker", "version", "support_request")
            .order_by("-started_at", "-id")
        )
        f = self.filters
        if f.get("checker"):
            runs = runs.filter(checker__slug=f["checker"])
        if f.get("version"):
            runs = runs.filter(version__number=f["version"])
        if f.get("source"):
            runs = runs.filter(source=f["source"])
        if f.get("code"):
            runs = runs.filter(error_code=f["code"].strip().upper())
        if f.get("incident") == "during":
            runs = runs.filter(incident__isnull=False)
        elif f.get("incident") == "outside":
            runs = runs.filter(incident__isnull=True)
        status = f.get("outcome")
        if status == Run.ABANDONED:
            runs = runs.abandoned()
        elif status == Run.Outcome.OPEN:
            runs = runs.in_progress()
        elif status:
            runs = runs.filter(outcome=status)
        return runs

    def page(self, before: tuple[datetime, str] | None) -> tuple[list[Run], tuple[datetime, str] | None]:
        """One page of runs older than `before` (keyset pagination: no COUNT, no OFFSET over 200,000 runs)."""
        found, last = older_than(self.queryset(), before, "started_at")
        return found, ((last.started_at, str(last.pk)) if last else None)

    def row(self, run: Run) -> list:
        support_request = getattr(run, "support_request", None)
        return [
            run.started_at,
            run.checker.title,
            run.version.number,
            run.get_source_display(),
            run.source_detail,
            run.error_code,
            run.effective_status,
            run.end_step_key or run.current_step_key,
            path_length(run.path),
            run.get_followup_answer_display() if run.followup_answer else "",
            "yes" if run.incident_id else "",
            support_request.reference if support_request else "",
            run.pk,
        ]


class RequestsReadout(Readout):
    """Support requests, newest first, filtered by queue status."""

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

    def __init__(self, status: str = "", period: Period | None = None):
        self.status, self.period = status, period

    def queryset(self) -> QuerySet:
        requests = SupportRequest.objects.select_related("run__checker", "run__version", "assignee").order_by(
            "-created_at", "-pk"
        )
        if self.status:
            requests = requests.filter(status=self.status)
        if self.period is not None:
            requests = requests.filter(created_at__gte=self.period.start, created_at__lt=self.period.end)
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
            request.run.checker.title,
            request.run.version.number,
            request.email,
            request.description,
            request.error_message,
            request.settlement_id,
            request.recording_url,
            request.internal_note,
            request.run_id,
        ]
