"""The runs page's table and its CSV export (a `support.readouts.Readout`: the same rows feed both)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from support.readouts import Readout, older_than
from troubleshoot.models import Run

from .stats import Period

UNKNOWN_PLATFORM = "unknown"  # the runs filter's "Not known": runs whose seller's platform was never told
INCIDENT_CHOICES = [("during", "Started during one"), ("outside", "Outside any")]  # the runs page's and the admin's


def by_incident(runs: QuerySet, choice: str | None) -> QuerySet:
    """The runs started during a known incident ("during"), or outside any ("outside"); all of them otherwise."""
    if choice in ("during", "outside"):
        return runs.filter(incident_link__isnull=choice == "outside")
    return runs


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
        "Platform",  # added last but one: the run id stays last (the page links it), the columns before keep places
        "Run id",
    ]

    def __init__(self, filters: dict, period: Period):
        self.filters, self.period = filters, period

    def queryset(self) -> QuerySet:
        runs = (
            Run.objects.with_status()
            .filter(started_at__gte=self.period.start, started_at__lt=self.period.end)
            .select_related("checker", "version", "support_request", "incident_link")
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
        if f.get("platform") == UNKNOWN_PLATFORM:
            runs = runs.filter(platform="")
        elif f.get("platform"):
            runs = runs.filter(platform=f["platform"])
        runs = by_incident(runs, f.get("incident"))
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
            "yes" if hasattr(run, "incident_link") else "",
            support_request.reference if support_request else "",
            run.get_platform_display(),
            run.pk,
        ]
