"""The review pages under /support/ (Reviewers and superusers only): the overview, a checker's report, the runs and
their CSV export, a run's timeline, the gap inbox.

Each view reads the request, calls `stats`, `flowcounts`, `gaps` or `readouts`, and renders. Every page's query count
is fixed, whatever the number of runs (tested).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from helpcenter import params
from helpcenter.roles import reviewer_required, reviewers
from troubleshoot import versioncache
from troubleshoot.flowpicture import picture
from troubleshoot.graph import Flow
from troubleshoot.models import Answer, Checker, Run

from . import charts, flowcounts, gapitems, gaps, rollups, stats
from .forms import GapItemForm, RunFilterForm
from .readouts import RunsReadout


def _query(params: dict) -> str:
    return urlencode({key: value for key, value in params.items() if value not in ("", None)})


SORT_LABELS = {
    "runs": "Runs",
    "resolved": "Resolved",
    "escalated": "Escalated",
    "abandoned": "Abandoned",
    "rate": "Self-service",
    "confirmed": "Confirmed fixed",
}


@reviewer_required
@require_safe
def overview(request):
    period = stats.Period.from_params(request.GET)
    sort = request.GET.get("sort", "runs")
    sort = sort if sort in stats.SORTS else "runs"
    descending = request.GET.get("dir") != "asc"
    data = stats.overview(period, sort, descending)
    columns = [
        (key, label, "?" + _query({**period.params(), "sort": key, "dir": "asc" if key == sort and descending else ""}))
        for key, label in SORT_LABELS.items()
    ]
    return TemplateResponse(
        request,
        "review/overview.html",
        {
            "period": period,
            "data": data,
            "chart": charts.runs_by_day(data.by_day),
            "sort": sort,
            "descending": descending,
            "columns": columns,
            # The first checkers in the chosen order (stats.CHECKERS_SHOWN), and how many more had runs.
            "tables": [
                ("By source", data.by_source, "source", 0),
                ("By checker", data.by_checker, "checker", data.checkers - len(data.by_checker)),
            ],
            "abandon_minutes": settings.HELPCENTER_ABANDON_AFTER_MINUTES,
            "range": _query(period.params()),
        },
    )


def _took(duration) -> str:
    seconds = int(duration.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _version_report(version: dict, days: rollups.Days) -> dict:
    """Everything the checker page shows for one version (9 queries, plus the version's flow unless cached)."""
    flow = versioncache.flow_of(version["id"])
    numbers = flowcounts.version_numbers(version["id"], days)
    median = numbers.median
    return {
        "version": version,
        "outcomes": numbers.outcomes,
        "median": median,
        "median_text": _took(median) if median is not None else "–",
        "flow_id": f"v{version['number']}-flow",
        "flow_title": (
            f"Version {version['number']}: the steps with how many sellers reached each, left there and escalated "
            "there; the answers with how many sellers chose each"
        ),
        "steps": _step_rows(flow, numbers.steps),
        "paths": _path_rows(flow, numbers.paths),
        # Each box links to its step's row in the table below.
        "picture": picture(
            flow,
            problems=[],
            counts=numbers.steps,
            href=f"#v{version['number']}-step-{{key}}",
            prefix=f"v{version['number']}-flow",
        ),
    }


def _step_rows(flow: Flow, counts: dict[str, flowcounts.StepCount]) -> list[dict]:
    """The steps table: each step of the version with its counts, and each answer (label, outcome, sellers who chose
    it), "None of these fit" last."""
    rows = []
    for step in flow.steps:
        found = counts.get(step.key) or flowcounts.StepCount(step.key)
        answers = [(answer.label, answer.outcome or "", found.answers.get(answer.index, 0)) for answer in step.answers]
        answers.append(("None of these fit", "escalate", found.none_fit))
        rows.append({"step": step, "counts": found, "answers": answers})
    return rows


def _path_rows(flow: Flow, paths: list[flowcounts.PathCount]) -> list[dict]:
    """The most walked paths, each step named by its title in this version and each answer by its label."""
    return [{"steps": [_said(flow, key, index) for key, index in path.steps], "runs": path.runs} for path in paths]


def _said(flow: Flow, key: str, index: int) -> dict:
    """One answer of a path: the step's title (its key when the version has no such step) and the answer's label
    (its number when the step has no such answer)."""
    step = flow.by_key.get(key)
    if index == Answer.NONE_FIT:
        label = Answer.NONE_FIT_LABEL
    elif step and 0 <= index < len(step.answers):
        label = step.answers[index].label
    else:
        label = f"answer {index + 1}"
    return {"step": step.title if step else key, "answer": label}


@reviewer_required
@require_safe
def checker_report(request, slug):
    checker = get_object_or_404(Checker.objects.select_related("live_version"), slug=slug)
    period = stats.Period.from_params(request.GET)
    published = list(checker.versions.order_by("-number").values("id", "number", "created_at", "note"))
    by_number = {version["number"]: version for version in published}

    def number(param: str, default: int | None) -> int | None:
        chosen = params.number(request.GET.get(param), lowest=1)  # a filter: anything but a version is the default
        return chosen if chosen in by_number else default

    live = checker.live_version.number if checker.live_version_id else (published[0]["number"] if published else None)
    shown = number("version", live)
    compare = number("compare", None)
    chosen = [n for n in (shown, compare) if n is not None]
    days = rollups.days(period.first, period.last)
    reports = [_version_report(by_number[n], days) for n in dict.fromkeys(chosen)]
    return TemplateResponse(
        request,
        "review/checker.html",
        {
            "checker": checker,
            "period": period,
            "published": published,
            "shown": shown,
            "compare": compare,
            "reports": reports,
            "days": days,
            "range": _query(period.params()),
        },
    )


def _before(text: str) -> tuple[datetime, str] | None:
    """The keyset cursor of the runs page ("<ISO time>|<run id>"); None when missing or malformed."""
    when, _, run_id = text.partition("|")
    try:
        return datetime.fromisoformat(when), str(uuid.UUID(run_id))
    except ValueError:
        return None


@reviewer_required
@require_safe
def runs(request):
    period = stats.Period.from_params(request.GET)
    form = RunFilterForm(request.GET)
    readout = RunsReadout(form.filters(), period)
    page, more = readout.page(_before(request.GET.get("before", "")))
    params = {**period.params(), **{key: value for key, value in form.filters().items() if value}}
    older = "?" + _query({**params, "before": f"{more[0].isoformat()}|{more[1]}"}) if more else ""
    return TemplateResponse(
        request,
        "review/runs.html",
        {
            "period": period,
            "form": form,
            "readout": readout,
            "rows": [(run, readout.row(run)) for run in page],
            "older": older,
            "export": reverse("review:runs_csv") + "?" + _query(params),
        },
    )


@reviewer_required
@require_safe
def checker_options(request):
    """The runs filter's checker suggestions, fetched when its field is first focused (`RunFilterForm.checker`)."""
    return HttpResponse(RunFilterForm.checker_options())


@reviewer_required
@require_safe
def runs_csv(request):
    period = stats.Period.from_params(request.GET)
    readout = RunsReadout(RunFilterForm(request.GET).filters(), period)
    return readout.csv_response(f"runs-{period.first}-{period.last}.csv")


@reviewer_required
@require_safe
def run_detail(request, run_id):
    run = get_object_or_404(
        Run.objects.with_status().select_related("checker", "version", "support_request"), pk=run_id
    )
    return TemplateResponse(
        request,
        "review/run.html",
        {"run": run, "answers": list(run.answers.order_by("answered_at", "pk"))},
    )


@reviewer_required
@require_safe
def gap_inbox(request):
    """What to fix next: the rows of live versions, then those of versions no longer live, apart; handled gaps
    left out unless "Show handled" (a handled gap sellers hit again is back in the list, marked so)."""
    period = stats.Period.from_params(request.GET)
    show_handled = request.GET.get("handled") == "on"
    found = gaps.read(period, show_handled=show_handled)
    here = {**period.params(), **({"handled": "on"} if show_handled else {})}
    return TemplateResponse(
        request,
        "review/gaps.html",
        {
            "period": period,
            "gaps": [gap for gap in found.gaps if not gap.older],
            "older": [gap for gap in found.gaps if gap.older],
            "handled_left_out": found.handled,
            "show_handled": show_handled,
            "toggle": "?" + _query({**period.params(), "handled": "" if show_handled else "on"}),
            "here": here,
            "keep": [("handled", "on")] if show_handled else [],
            "reviewers": list(reviewers()) if request.user.has_perm(HANDLE_GAPS) else None,
            "days": rollups.days(period.first, period.last),
            "range": _query(period.params()),
        },
    )


HANDLE_GAPS = "review.change_gapitem"  # Reviewers have it (review 0004_gap_items_roles)


@reviewer_required
@require_POST
def gap_item(request):
    """Assign a gap, note it, mark it handled or not; then back to the inbox as it was, which says what was done."""
    if not request.user.has_perm(HANDLE_GAPS):
        raise PermissionDenied("Handling the gap inbox's items needs the permission to change them. Ask an admin.")
    back = stats.Period.from_params({key[5:]: value for key, value in request.POST.items() if key.startswith("back-")})
    here = {**back.params(), **({"handled": "on"} if request.POST.get("back-handled") == "on" else {})}
    url = reverse("review:gaps") + "?" + _query(here)
    form = GapItemForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing saved: " + " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(url)
    data = form.cleaned_data
    gapitems.save(form.gap_key(), request.user, action=data["action"], assignee=data["assignee"], note=data["note"])
    said = {
        "handled": "Marked handled: it leaves the list, and comes back if sellers hit it again.",
        "reopen": "Marked not handled: it is back in the list.",
        "save": "Saved.",
    }
    messages.success(request, said[data["action"]])
    return redirect(url)
