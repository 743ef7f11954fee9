"""The request queue under /support/requests/ (Reviewers and superusers only) and what sellers send us outside a run's
steps (article feedback, the answer to "Still fixed?").

Each view reads the request, calls `readouts` or `followups`, and renders. The queue's query count is fixed, whatever
the number of requests (tested).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from helpcenter import params, roles
from helpcenter.limits import over_limit
from troubleshoot import positions, walk
from troubleshoot.models import Article, FollowUp, Run
from troubleshoot.views import runs as run_pages

from . import escalation, followup_links, followups, tasks
from .forms import (
    FOLLOWUP_ANSWERS,
    ArticleFeedbackForm,
    AskSupportForm,
    BulkStatusForm,
    FollowUpForm,
    QueueForm,
    RequestUpdateForm,
    SupportRequestForm,
)
from .models import SupportRequest
from .readouts import RequestsReadout, age

STATUSES = SupportRequest.Status.choices

# A queue tab counts its requests up to TALLY_CAP ("1000+" beyond): an exact count of a queue of tens of thousands
# reads every one of them on every visit; a bounded one reads at most TALLY_CAP + 1 entries of the queue's index.
TALLY_CAP = 1000
SLOW_DOWN = "That's a lot of requests from your connection. Please wait a minute, then try again: nothing is lost."


def _tally(requests) -> int:
    """How many `requests` there are, up to TALLY_CAP + 1."""
    return requests.order_by()[: TALLY_CAP + 1].count()


def _tally_text(counts: list[int]) -> str:
    """The requests of one tab or more as shown (plain numbers, as on every review page): exact, or at least so many
    ("1000+") where a tab has more than TALLY_CAP."""
    shown = sum(min(count, TALLY_CAP) for count in counts)
    return f"{shown}+" if any(count > TALLY_CAP for count in counts) else str(shown)


CHANGE = "support.change_supportrequest"  # status, assignee and note; Reviewers have it (support 0002_roles)


def _tab_url(status: str, mine: bool = False) -> str:
    return reverse("support:requests") + "?" + urlencode({"status": status, **({"mine": "on"} if mine else {})})


@roles.reviewer_required
@require_safe
def requests(request):
    """The queue: a tab per status (and All), everyone's or "Assigned to me"; or the requests found by reference or
    seller's email (in any tab). Every row with its age; with the permission to change requests, a checkbox each
    and the bulk status change."""
    form = QueueForm(request.GET)
    chosen = form.choices()
    status, mine, search = chosen["status"], chosen["mine"], chosen["search"]
    whose = {"assignee": request.user} if mine else {}
    readout = RequestsReadout("" if status == "all" or search else status, **whose, **search)
    queue = SupportRequest.objects.filter(**whose)
    tallies = {value: _tally(queue.filter(status=value)) for value in SupportRequest.Status.values}
    tabs = [(value, label, _tally_text([tallies[value]]), _tab_url(value, mine)) for value, label in STATUSES]
    tabs.append(("all", "All", _tally_text(list(tallies.values())), _tab_url("all", mine)))
    when, _, pk = request.GET.get("before", "").partition("|")
    try:
        before = (datetime.fromisoformat(when), number) if (number := params.number(pk, lowest=1)) else None
    except ValueError:
        before = None
    shown, more = readout.page(before)
    here = {"status": status, **({"mine": "on"} if mine else {}), **({"q": form.data["q"]} if search else {})}
    now = timezone.now()
    return TemplateResponse(
        request,
        "support/requests.html",
        {
            "form": form,
            "status": status,
            "mine": mine,
            "search": search,
            "tabs": tabs,
            "whose": [("Everyone's", _tab_url(status), not mine), ("Assigned to me", _tab_url(status, True), mine)],
            "rows": [(r, age(r.created_at, now)) for r in shown],
            "older": "?" + urlencode({**here, "before": f"{more[0].isoformat()}|{more[1]}"}) if more else "",
            "export": reverse("support:requests_csv") + ("" if status == "all" else f"?status={status}"),
            "bulk": BulkStatusForm() if request.user.has_perm(CHANGE) else None,
            "here": here,
        },
    )


@roles.reviewer_required
@require_POST
def requests_bulk(request):
    """The chosen requests to one status, then back to the tab they were chosen in, which says how many moved and
    where (the moved ones leave the tab)."""
    if not request.user.has_perm(CHANGE):
        raise PermissionDenied("Changing support requests needs the permission to change them. Ask an admin.")
    back = QueueForm(request.POST, prefix="back")
    chosen = back.choices()
    here = {"status": chosen["status"], **({"mine": "on"} if chosen["mine"] else {})}
    if chosen["search"]:
        here["q"] = back.data["back-q"]
    url = reverse("support:requests") + "?" + urlencode(here)
    form = BulkStatusForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(url)
    status = form.cleaned_data["status"]
    moving = [r for r in form.cleaned_data["requests"] if r.status != status]
    # Only those not there already: a request another reviewer moved meanwhile is counted where it is.
    moved = SupportRequest.objects.filter(pk__in=[r.pk for r in moving]).exclude(status=status).update(status=status)
    label = SupportRequest.Status(status).label
    if not moved:
        messages.info(request, f"Nothing changed: the chosen requests were already {label}.")
    else:
        links = format_html_join(
            ", ", '<a href="{}">{}</a>', ((reverse("support:request", args=[r.reference]), r.reference) for r in moving)
        )
        messages.success(
            request,
            format_html(
                '{} request{} moved to <a href="{}">{}</a>: {}.',
                moved,
                "" if moved == 1 else "s",
                _tab_url(status),
                label,
                links,
            ),
        )
    return redirect(url)


@roles.reviewer_required
@require_safe
def requests_csv(request):
    status = request.GET.get("status", "")
    status = status if status in SupportRequest.Status.values else ""
    return RequestsReadout(status).csv_response("support-requests.csv")


@roles.reviewer_required
@require_http_methods(["GET", "HEAD", "POST"])
def request_detail(request, reference):
    """One request from the seller, with its run; the handling form for those who may change it. Saving comes back
    here with "Saved", and where the request went when its status changed (it left the tab it was in)."""
    support_request = get_object_or_404(
        SupportRequest.objects.select_related("run__checker", "run__version", "assignee"), reference=reference
    )
    allowed = request.user.has_perm(CHANGE)
    if request.method == "POST" and not allowed:
        raise PermissionDenied("Changing support requests needs the permission to change them. Ask an admin.")
    was = support_request.status
    form = RequestUpdateForm(request.POST or None, instance=support_request) if allowed else None
    if request.method == "POST" and form.is_valid():
        form.save()
        if support_request.status == was:
            messages.success(request, "Saved.")
        else:
            now = support_request.status
            moved = '{} moved to <a href="{}">{}</a>.'
            label = support_request.get_status_display()
            messages.success(request, format_html("Saved. " + moved, reference, _tab_url(now), label))
        return redirect("support:request", reference)
    return TemplateResponse(
        request,
        "support/request.html",
        {
            "support_request": support_request,
            "run": support_request.run,
            "answers": list(support_request.run.answers.order_by("answered_at", "pk")) if support_request.run else [],
            "form": form,
        },
        status=422 if form is not None and form.errors else 200,
    )


# What sellers send us outside a run's steps.


@require_http_methods(["GET", "HEAD", "POST"])
def ask_support(request):
    """A seller whose search found no guide writes to support with the message they pasted (the search page
    offers this form, `{% ask_support %}`): stored without a run and emailed to the inbox, then the reference."""
    if request.method != "POST":
        return _ask_page(request, AskSupportForm.for_search(request.GET.get("q", "")))
    form = AskSupportForm(request.POST)
    if over_limit(request, "support"):
        return _ask_page(request, form, status=429, message=SLOW_DOWN)
    if not form.is_valid():
        return _ask_page(request, form, status=422)
    support_request = tasks.send_to_support(form.instance)
    return redirect("support:asked", support_request.reference)


def _ask_page(request, form: AskSupportForm, status: int = 200, message: str = ""):
    return TemplateResponse(request, "support/ask.html", {"form": form, "message": message}, status=status)


@never_cache
@require_safe
def asked(request, reference):
    """After the seller's request from a search: its reference (nothing else of it: the address is all it takes)."""
    support_request = get_object_or_404(SupportRequest.objects.filter(run=None), reference=reference)
    return TemplateResponse(request, "support/asked.html", {"reference": support_request.reference})


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
    run = followup_links.run_for(token)
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
    run = followup_links.run_for(token)
    if run is None:
        return _followup_gone(request)
    if getattr(run, "support_request", None) is None:
        form = SupportRequestForm(request.POST)
        if not form.is_valid():
            return _followup_page(request, run, token, form=form, status=422)
        followups.request_support_after(run, form.instance)
        run = followup_links.run_for(token)
    return _followup_page(request, run, token)


# A run's endings, on the run's own page: the hand-over to support, and "Still fixed?". The page is the walk's
# (`troubleshoot.views.runs.render_run`); these views only take what the seller sends at the ending.


@require_POST
def run_followup(request, slug, run_id):
    """At a resolved ending: the seller's email, to ask "Still fixed?" in a few days."""
    run = run_pages.run_at(slug, run_id)
    if run.outcome != Run.Outcome.RESOLVED:
        return run_pages.render_run(
            request, run.checker, run, status=run_pages.REFUSED, message="This check isn't marked fixed."
        )
    form = FollowUpForm(request.POST)
    if not form.is_valid():
        return run_pages.render_run(request, run.checker, run, status=run_pages.REFUSED, followup_form=form)
    followups.ask_later(run, form.cleaned_data["email"])
    return run_pages.after_change(request, run)


@require_POST
def run_support(request, slug, run_id):
    """At an escalated ending: the seller's support request, handed over with the run."""
    run = run_pages.run_at(slug, run_id)
    if hasattr(run, "support_request"):
        return run_pages.after_change(request, run)  # a double submit: the first one is already with support
    if run.outcome != Run.Outcome.ESCALATED:
        return run_pages.render_run(request, run.checker, run, status=run_pages.REFUSED, message=walk.FINISH_FIRST)
    form = SupportRequestForm(request.POST)
    if over_limit(request, "support"):
        return run_pages.render_run(
            request, run.checker, run, status=run_pages.TOO_MANY, support_form=form, message=run_pages.SLOW_DOWN
        )
    if not form.is_valid():
        return run_pages.render_run(request, run.checker, run, status=run_pages.REFUSED, support_form=form)
    try:
        escalation.request_support(run, form.instance)  # checks the run again, under its lock
    except positions.StaleAnswer as stale:
        run.refresh_from_db()
        return run_pages.render_run(request, run.checker, run, status=run_pages.REFUSED, message=str(stale))
    return run_pages.after_change(request, run_pages.run_at(slug, run_id))
