"""The review pages under /support/ (Reviewers and superusers only) and what sellers send us outside a run's steps
(article feedback, the answer to "Still fixed?").

Each view reads the request, calls `stats`, `gaps`, `readouts` or `followups`, and renders. Every page's query
count is fixed, whatever the number of runs (tested).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import user_passes_test
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from helpcenter.limits import over_limit
from troubleshoot import versions
from troubleshoot.flowpicture import picture
from troubleshoot.forms import SupportRequestForm
from troubleshoot.models import Answer, Article, Checker, FollowUp, Run

from . import charts, followups, gaps, rollups, stats
from .forms import FOLLOWUP_ANSWERS, ArticleFeedbackForm, RequestUpdateForm, RunFilterForm
from .models import SupportRequest
from .readouts import RequestsReadout, RunsReadout


def is_reviewer(user) -> bool:
    """Reviewers and superusers (the `support.review` permission), signed in to the admin as staff."""
    return user.is_active and user.is_staff and user.has_perm("support.review")


def reviewer_required(view):
    """Reviewers and superusers only: everyone else goes to the admin's sign-in page (which tells a signed-in
    Editor they lack access). The pages hold sellers' personal data, so no browser or proxy keeps a copy."""
    return never_cache(user_passes_test(is_reviewer, login_url="admin:login")(view))


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
        "support/overview.html",
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
    flow = versions.flow_of(version["id"])
    numbers = stats.version_numbers(version["id"], days)
    counts = numbers.steps
    steps = []
    for step in flow.steps:
        found = counts.get(step.key) or stats.StepCount(step.key)
        answers = [(answer.label, answer.outcome or "", found.answers.get(answer.index, 0)) for answer in step.answers]
        answers.append(("None of these fit", "escalate", found.none_fit))
        steps.append({"step": step, "counts": found, "answers": answers})
    paths = []
    for path in numbers.paths:
        said = []
        for key, index in path.steps:
            step = flow.by_key.get(key)
            if index == Answer.NONE_FIT:
                label = Answer.NONE_FIT_LABEL
            elif step and 0 <= index < len(step.answers):
                label = step.answers[index].label
            else:
                label = f"answer {index + 1}"
            said.append({"step": step.title if step else key, "answer": label})
        paths.append({"steps": said, "runs": path.runs})
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
        "steps": steps,
        "paths": paths,
        # Each box links to its step's row in the table below.
        "picture": picture(
            flow,
            problems=[],
            counts=counts,
            href=f"#v{version['number']}-step-{{key}}",
            prefix=f"v{version['number']}-flow",
        ),
    }


@reviewer_required
@require_safe
def checker_report(request, slug):
    checker = get_object_or_404(Checker.objects.select_related("live_version"), slug=slug)
    period = stats.Period.from_params(request.GET)
    published = list(checker.versions.order_by("-number").values("id", "number", "created_at", "note"))
    by_number = {version["number"]: version for version in published}

    def number(param: str, default: int | None) -> int | None:
        value = request.GET.get(param, "")
        return int(value) if value.isdigit() and int(value) in by_number else default

    live = checker.live_version.number if checker.live_version_id else (published[0]["number"] if published else None)
    shown = number("version", live)
    compare = number("compare", None)
    chosen = [n for n in (shown, compare) if n is not None]
    days = rollups.split(period.first, period.last) if chosen else None
    reports = [_version_report(by_number[n], days) for n in dict.fromkeys(chosen)]
    return TemplateResponse(
        request,
        "support/checker.html",
        {
            "checker": checker,
            "period": period,
            "published": published,
            "shown": shown,
            "compare": compare,
            "reports": reports,
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
        "support/runs.html",
        {
            "period": period,
            "form": form,
            "readout": readout,
            "rows": [(run, readout.row(run)) for run in page],
            "older": older,
            "export": reverse("support:runs_csv") + "?" + _query(params),
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
        "support/run.html",
        {"run": run, "answers": list(run.answers.order_by("answered_at", "pk"))},
    )


# A queue tab counts its requests up to TALLY_CAP ("1000+" beyond): an exact count of a queue of tens of thousands
# reads every one of them on every visit; a bounded one reads at most TALLY_CAP + 1 entries of the queue's index.
TALLY_CAP = 1000


def _tally(requests) -> int:
    """How many `requests` there are, up to TALLY_CAP + 1."""
    return requests.order_by()[: TALLY_CAP + 1].count()


def _tally_text(counts: list[int]) -> str:
    """The requests of one tab or more as shown (plain numbers, as on every review page): exact, or at least so many
    ("1000+") where a tab has more than TALLY_CAP."""
    shown = sum(min(count, TALLY_CAP) for count in counts)
    return f"{shown}+" if any(count > TALLY_CAP for count in counts) else str(shown)


@reviewer_required
@require_safe
def requests(request):
    status = request.GET.get("status", SupportRequest.Status.NEW)
    status = status if status in SupportRequest.Status.values or status == "all" else SupportRequest.Status.NEW
    readout = RequestsReadout("" if status == "all" else status)
    tallies = {value: _tally(SupportRequest.objects.filter(status=value)) for value in SupportRequest.Status.values}
    tabs = [(value, label, _tally_text([tallies[value]])) for value, label in SupportRequest.Status.choices]
    when, _, pk = request.GET.get("before", "").partition("|")
    try:
        before = (datetime.fromisoformat(when), int(pk))
    except ValueError:
        before = None
    shown, more = readout.page(before)
    return TemplateResponse(
        request,
        "support/requests.html",
        {
            "status": status,
            "tabs": tabs,
            "total": _tally_text(list(tallies.values())),
            "shown": shown,
            "older": "?" + _query({"status": status, "before": f"{more[0].isoformat()}|{more[1]}"}) if more else "",
            "export": reverse("support:requests_csv") + ("" if status == "all" else f"?status={status}"),
        },
    )


@reviewer_required
@require_safe
def requests_csv(request):
    status = request.GET.get("status", "")
    status = status if status in SupportRequest.Status.values else ""
    return RequestsReadout(status).csv_response("support-requests.csv")


@reviewer_required
@require_http_methods(["GET", "HEAD", "POST"])
def request_detail(request, reference):
    support_request = get_object_or_404(
        SupportRequest.objects.select_related("run__checker", "run__version", "assignee"), reference=reference
    )
    form = RequestUpdateForm(request.POST or None, instance=support_request)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("support:request", reference)
    return TemplateResponse(
        request,
        "support/request.html",
        {
            "support_request": support_request,
            "run": support_request.run,
            "answers": list(support_request.run.answers.order_by("answered_at", "pk")),
            "form": form,
        },
        status=422 if form.errors else 200,
    )


@reviewer_required
@require_safe
def gap_inbox(request):
    period = stats.Period.from_params(request.GET)
    return TemplateResponse(
        request,
        "support/gaps.html",
        {"period": period, "gaps": gaps.inbox(period), "range": _query(period.params())},
    )


# What sellers send us outside a run's steps.


@require_POST
def article_feedback(request, slug):
    """ "Was this helpful?": an anonymous vote, stored against the version read; rate limited per address."""
    article = get_object_or_404(Article.objects.published(), slug=slug)
    form = ArticleFeedbackForm(request.POST)
    sent = form.is_valid()
    if sent and not over_limit(request, "feedback"):  # past the limit: thanked, not stored
        feedback = form.save(commit=False)
        feedback.article, feedback.version_id = article, article.live_version_id
        feedback.save()
    if request.htmx:
        return TemplateResponse(request, "support/_feedback_thanks.html", {"sent": sent})
    url = reverse("troubleshoot:article", args=[slug])
    return redirect(f"{url}?feedback={'thanks' if sent else 'error'}#feedback")


@never_cache  # the page shows what the seller answered (and, after "it came back", their email)
@require_http_methods(["GET", "HEAD", "POST"])
def followup(request, token, answer):
    """A link of the "Still fixed?" email. Opening it only shows the question (mail security scanners open every
    link in an email: they must not answer for sellers); the seller's POST stores the answer, then the page shows
    what was stored. A repeated POST stores nothing new."""
    run = followups.run_for(token)
    if run is None or answer not in FOLLOWUP_ANSWERS:
        return _followup_gone(request)
    chosen = FOLLOWUP_ANSWERS[answer]
    if request.method == "POST":
        followups.record(run, chosen)
        return redirect("support:followup", token, answer)
    if run.followup_answer != chosen:
        return _followup_question(request, run, token, answer)
    return _followup_page(request, run, token)


def _followup_question(request, run: Run, token: str, clicked: str):
    """The question again, each answer a POST button, the one clicked in the email first."""
    labels = {"fixed": "Yes, it's still fixed", "came-back": "No, it came back"}
    order = sorted(FOLLOWUP_ANSWERS, key=lambda slug: slug != clicked)
    return TemplateResponse(
        request,
        "support/followup_question.html",
        {
            "run": run,
            "earlier": run.get_followup_answer_display(),
            "choices": [
                {"url": reverse("support:followup", args=[token, slug]), "label": labels[slug]} for slug in order
            ],
        },
    )


def _followup_gone(request):
    """A forged, altered or expired link (or an answer that isn't one): said plainly, and nothing stored."""
    return TemplateResponse(
        request, "support/followup_gone.html", {"days": settings.HELPCENTER_FOLLOWUP_LINK_DAYS}, status=404
    )


def _followup_page(request, run: Run, token: str, form=None, status: int = 200):
    return TemplateResponse(
        request,
        "support/followup.html",
        {
            "run": run,
            "came_back": run.followup_answer == FollowUp.CAME_BACK,
            "support_request": getattr(run, "support_request", None),
            "support_form": form or SupportRequestForm(),
            "support_url": reverse("support:followup_support", args=[token]),
            "switch_url": reverse(
                "support:followup",
                args=[token, "fixed" if run.followup_answer == FollowUp.CAME_BACK else "came-back"],
            ),
        },
        status=status,
    )


@never_cache
@require_POST
def followup_support(request, token):
    """ "It came back": the support form, with the run attached."""
    run = followups.run_for(token)
    if run is None:
        return _followup_gone(request)
    if getattr(run, "support_request", None) is None:
        form = SupportRequestForm(request.POST)
        if not form.is_valid():
            return _followup_page(request, run, token, form=form, status=422)
        followups.request_support_after(run, form.instance)
        run = followups.run_for(token)
    return _followup_page(request, run, token)
