"""A seller walking a checker's published version: its first step (from its page, or an error code's stable link),
each answer, Back, the note at a fixed ending. Each view reads the request, calls `walk` (or `positions` to read
where a run stands), and renders.

A checker page and its htmx partial are one template (`checker.html`, partial `panel`): htmx requests get the
partial, everything else the full page, so every form works with JavaScript off. Sellers walk published versions
(`versioncache.flow_of`, cached). Support's views render a run's endings with `render_run` too.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.forms import BaseForm
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import push_url, replace_url

from helpcenter import params
from helpcenter.contentcache import remember
from helpcenter.limits import over_limit

from .. import platforms, positions, signals, versioncache, walk
from ..forms import NONE_FIT_NEEDS_A_LINE, AnswerForm, BackForm, FixedNoteForm, StartForm
from ..models import Answer, Checker, ErrorCode, Run
from .browse import overview_context

# The status of a step panel shown again with a message: a stale or forged answer, a form with errors. Not 400:
# under DEBUG, django-htmx's debug script takes over 400/403/404/500 answers to htmx and shows them full page,
# which wiped the seller's page under `make run`. 422 ("understood, but can't be applied") is swapped in by htmx
# (see the htmx-config in base.html) and rendered as a page without JavaScript, the same in both modes.
REFUSED = 422
# Too many requests from one address (see HELPCENTER_RATE_LIMITS): the panel again, with what was typed, and a
# message. htmx swaps it in like a 422.
TOO_MANY = 429
SLOW_DOWN = "That's a lot of requests from your connection. Please wait a minute, then try again: nothing is lost."


@require_safe
def error_code(request, code):
    """Stable links for the integration's emails and app: /e/<code>/ is the code's checker's first step, served at
    once (a redirect cost a round trip where many sellers arrive), its canonical address the checker's. The run it
    starts is logged as the redirect to the checker's page logged it: from the email (or `source`), with the code."""
    found = (
        ErrorCode.objects.select_related("checker__category")
        .filter(code=code.strip().upper()[:40], checker__is_published=True, checker__live_version__isnull=False)
        .first()
    )
    if found is None:
        signals.unknown_code.send(sender=ErrorCode, request=request, code=code)
        return TemplateResponse(
            request,
            "troubleshoot/error_code_unknown.html",
            {"code": code[:40], **overview_context(request)},
            status=404,
        )
    source = request.GET.get("source", Run.Source.EMAIL)
    source = source if source in Run.Source.values else Run.Source.EMAIL
    checker = found.checker
    signals.page_opened.send(sender=Checker, kind="checker", slug=checker.slug, search_id=None)
    canonical = request.build_absolute_uri(checker.get_absolute_url())
    return render_run(request, checker, None, start=_start(source, "", found.code), canonical=canonical)


# The checker itself


def _checker(slug: str) -> Checker:
    """The published checker at `slug`, from this process's memory while content is unchanged (as `run_at`'s by
    id): a first step and a start read no row for it. A slug not found is read each time."""
    checker = remember(
        "checker-by-slug",
        slug,
        lambda: Checker.objects.published().select_related("category").filter(slug=slug).first(),
    )
    if checker is None:
        raise Http404("No such checker.")
    return checker


def run_at(slug: str, run_id) -> Run:
    """The run at its URL, with its checker as sellers see it: the checker comes from this process's memory (it
    changes only with content, see `contentcache.remember`), so a step answer reads one row before it writes. (An
    escalated run's support request is read when its page shows.)"""
    run = walk.read_run(run_id)
    if run is None:
        raise Http404("No such run.")
    checker = remember(
        "checker", run.checker_id, lambda: Checker.objects.select_related("category").get(pk=run.checker_id)
    )
    if checker.slug != slug or not checker.is_published:
        raise Http404("No such run of this checker.")
    run.checker = checker
    return run


def render_run(
    request,
    checker: Checker,
    run: Run | None,
    *,
    current: walk.Flow | None = None,
    status=200,
    at: int | None = None,
    **extra,
) -> HttpResponse:
    """The checker page (or just its panel, for htmx) showing where `run` stands in the version it walks (its
    steps' Markdown rendered once per version, with its flow: `versioncache.flow_of`), or its earlier step `at` (a page
    in the browser's history: answering it answers again from there). Support's views render a run's endings with
    it too, their forms in `extra`."""
    current = current or versioncache.flow_of(run.version_id if run else checker.live_version_id)
    platform = run.platform if run is not None and run.platform else getattr(request, "platform", "")
    earlier = positions.position_at(current, run, at) if run and at else None
    position = earlier or positions.position(current, run, platform)
    context = {
        "checker": checker,
        "run": run,
        "position": position,
        "platform": platforms.on_checker(checker, platform, current.asks_platform),
        # htmx focuses the new panel's heading; a form sent back with errors focuses its first invalid field instead
        # (`autofocus`, which the browser honours on a page load and htmx after a swap).
        "focus": bool(request.htmx) and not _has_errors(extra),
        "none_fit": Answer.NONE_FIT,
        **extra,
    }
    _add_forms(context, checker, run, earlier)
    template = "troubleshoot/checker.html#panel" if request.htmx else "troubleshoot/checker.html"
    return TemplateResponse(request, template, context, status=status)


def _add_forms(context: dict, checker: Checker, run: Run | None, earlier: positions.Position | None) -> None:
    """What the page's forms need: where an answer goes (the start, the run, or the run from an earlier step of it),
    the note form of a fixed run, the support request of an escalated one, the run's URLs and the answer Back undoes.
    """
    if run is None:
        context.setdefault("start", {"run": uuid.uuid4()})
        context["answer_url"] = reverse("troubleshoot:start", args=[checker.slug])
        return
    if run.outcome == Run.Outcome.RESOLVED:
        context.setdefault("note_form", FixedNoteForm(instance=run))
    elif run.outcome == Run.Outcome.ESCALATED:
        # The escalation is support's to show (the request once sent, or its form: support's `support_forms` tags).
        context["support_request"] = getattr(run, "support_request", None)
    else:
        context["answer_url"] = run.urls["answer"]
    if earlier:
        position = context["position"]
        context["answer_url"] = run.urls["answer"]
        context["earlier"] = {"back": step_url(run, position.number - 1) if position.number > 1 else ""}
    context["urls"] = run.urls
    answers = context["position"].answers
    context["undo_id"] = answers[-1].pk if answers and not earlier else ""


def _has_errors(extra: dict) -> bool:
    return "none_fit_error" in extra or any(isinstance(value, BaseForm) and value.errors for value in extra.values())


def after_change(request, run: Run, current: walk.Flow | None = None, *, new_url: bool = False):
    """POST/redirect/GET without JavaScript; with htmx the new panel, and the run's URL in the history.

    `new_url` when the seller moves on to another step (an answer: a new history entry, see `step_url`); other
    changes (Back, a note, a form at an ending) replace the page's history entry. Decided by the view, not read
    from the client's HX-Current-URL header, which may be anything (a malformed one gave a 500).
    """
    url = step_url(run, positions.number_on(run.path))
    if not request.htmx:
        return redirect(url)
    response = render_run(request, run.checker, run, current=current)
    return push_url(response, url) if new_url else replace_url(response, url)


def step_url(run: Run, number: int) -> str:
    """The address of the run's step `number` (1 first): each step its own entry in the browser's history, so the
    phone's Back shows the step before, of the same run."""
    return f"{run.get_absolute_url()}?at={number}"


def refusal(form) -> dict:
    """What a refused answer form shows: the "None of these fit" line missing, or not understood."""
    if form.has_error("__all__", "none_fit_note"):
        # Said once, under the line's field (which takes the focus), not again at the top of the panel.
        return {"none_fit_error": NONE_FIT_NEEDS_A_LINE, "none_fit_note": ""}
    return {"message": "That answer wasn't understood. Please pick again."}


def _start(source: str, source_detail: str, code: str) -> dict:
    """The hidden fields of a checker's first step: a fresh run id and where the seller came from."""
    # The search words or article the seller came from are kept as one line of text (they label the run).
    source_detail = " ".join(source_detail.split())[:200]
    return {"run": uuid.uuid4(), "source": source[:10], "source_detail": source_detail, "code": code[:40]}


def _start_of(request) -> dict:
    """The first step's hidden fields for this request, from its query string."""
    params = request.GET
    return _start(
        params.get("source", Run.Source.DIRECT), params.get("q", params.get("article", "")), params.get("code", "")
    )


@require_safe
def checker_start(request, slug):
    """A checker's first step, where error emails land, with a fresh run id and where the seller came from. The
    search click that led here, if one did, is logged every time."""
    checker = _checker(slug)
    signals.page_opened.send(sender=Checker, kind="checker", slug=slug, search_id=request.GET.get("search"))
    start = _start_of(request)
    start["run"] = _run_started_here(request, checker) or start["run"]
    return render_run(request, checker, None, start=start)


# The run a browser started on a checker's first step, kept (for STARTED_FOR) in a cookie of that checker's pages:
# without JavaScript, Back from step 2 fetches the start page again, and with this run's id in it an answer there
# answers the run's first step again (`walk.start_run`) instead of starting a second run. Only while the run is
# open: a seller back at the start after an ending starts a new run, as "Start over" does.
STARTED_COOKIE, STARTED_FOR = "run", 30 * 60


def _run_started_here(request, checker: Checker) -> uuid.UUID | None:
    if "new" in request.GET:
        return None
    try:
        run_id = uuid.UUID(request.COOKIES.get(STARTED_COOKIE, ""))
    except ValueError:
        return None
    recently = timezone.now() - timedelta(seconds=STARTED_FOR)
    started = Run.objects.filter(pk=run_id, version_id=checker.live_version_id, started_at__gte=recently)
    return run_id if started.filter(outcome=Run.Outcome.OPEN).exists() else None


def _remember_start(response, checker: Checker, run: Run) -> HttpResponse:
    response.set_cookie(
        STARTED_COOKIE,
        str(run.pk),
        max_age=STARTED_FOR,
        path=checker.get_absolute_url(),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


@require_POST
def start_run(request, slug):
    checker = _checker(slug)
    current = versioncache.flow_of(checker.live_version_id)
    form = StartForm(request.POST)
    # Shown again if the answer is refused, so where the seller came from isn't lost.
    start = _start(*(request.POST.get(key, "") for key in ("source", "source_detail", "code")))
    if over_limit(request, "start"):
        return render_run(request, checker, None, current=current, start=start, status=TOO_MANY, message=SLOW_DOWN)
    if not form.is_valid():
        return render_run(request, checker, None, current=current, start=start, status=REFUSED, **refusal(form))
    data = form.cleaned_data
    try:
        run = walk.start_run(
            current,
            data["run"],
            data["step"],
            data["answer"],
            source=data["source"],
            source_detail=data["source_detail"],
            error_code=data["code"],
            note=data["note"],
            platform=request.platform,
        )
    except positions.StaleAnswer as stale:
        return render_run(request, checker, None, current=current, start=start, status=REFUSED, message=str(stale))
    run.checker = checker
    request.platform = run.platform or request.platform  # "Which do you use?" answered: remembered for the visit
    return _remember_start(after_change(request, run, current, new_url=True), checker, run)


# Not stored by the browser: Back to a step of the run fetches it again, as the earlier step it is now (with its
# `again` field), not the page as it was when that step was the current one.
@never_cache
@require_safe
def run_detail(request, slug, run_id):
    run = run_at(slug, run_id)
    return render_run(request, run.checker, run, at=params.number(request.GET.get("at", ""), lowest=1, highest=999))


@require_POST
def run_answer(request, slug, run_id):
    run = run_at(slug, run_id)
    current = versioncache.flow_of(run.version_id)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return render_run(request, run.checker, run, current=current, status=REFUSED, **refusal(form))
    data = form.cleaned_data
    record = walk.answer_again if data["again"] else walk.record_answer
    try:
        run = record(current, run, data["step"], data["answer"], note=data["note"])
    except positions.StaleAnswer as stale:
        run.refresh_from_db()
        return render_run(request, run.checker, run, current=current, status=REFUSED, message=str(stale))
    request.platform = run.platform or request.platform  # "Which do you use?" answered: remembered for the visit
    return after_change(request, run, current, new_url=True)


@require_POST
def run_back(request, slug, run_id):
    run = run_at(slug, run_id)
    form = BackForm(request.POST)
    if not form.is_valid():
        return render_run(
            request, run.checker, run, status=REFUSED, message="That wasn't understood. Here is your step."
        )
    try:
        run = walk.go_back(run, form.cleaned_data["answer"], versioncache.flow_of(run.version_id))
    except positions.StaleAnswer as stale:
        return render_run(request, run.checker, run, status=REFUSED, message=str(stale))
    return after_change(request, run)


@require_POST
def run_note(request, slug, run_id):
    run = run_at(slug, run_id)
    if run.outcome != Run.Outcome.RESOLVED:
        return render_run(request, run.checker, run, status=REFUSED, message="This check isn't marked fixed.")
    form = FixedNoteForm(request.POST, instance=run)
    if not form.is_valid():
        return render_run(request, run.checker, run, status=REFUSED, note_form=form)
    run.save(update_fields=["fixed_note"])  # only the note: a Back in another tab must not be overwritten
    return after_change(request, run)
