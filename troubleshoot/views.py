"""The seller's pages, and the editor's preview of a draft. Each view reads the request, calls `walk`, `versions`
or `search`, and renders.

A checker page and its htmx partial are one template (`checker.html`, partial `panel`): htmx requests get the
partial, everything else the full page, so every form works with JavaScript off. Sellers walk published versions
(`versions.flow_of`, cached); the preview walks the draft with the same template and stores nothing.
"""

import logging
import uuid

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import push_url, replace_url

from . import versions, walk
from .forms import AnswerForm, FixedNoteForm, PreviewForm, StartForm, SupportRequestForm
from .models import Article, Category, Checker, ErrorCode, Run, SupportRequest
from .search import MAX_QUERY, search

log = logging.getLogger(__name__)


def published_categories():
    return Category.objects.prefetch_related(
        Prefetch("checkers", queryset=Checker.objects.published().order_by("position", "title"))
    )


@require_GET
def home(request):
    return TemplateResponse(
        request,
        "troubleshoot/home.html",
        {"categories": published_categories(), "articles": Article.objects.published()},
    )


@require_GET
def search_results(request):
    query = request.GET.get("q", "")[:MAX_QUERY].strip()
    return TemplateResponse(request, "troubleshoot/search.html", {"query": query, "results": search(query)})


@require_GET
def article_detail(request, slug):
    article = get_object_or_404(Article.objects.published().select_related("category"), slug=slug)
    checkers = article.checkers.published().order_by("title")
    return TemplateResponse(request, "troubleshoot/article.html", {"article": article, "checkers": checkers})


@require_GET
def error_code(request, code):
    """Stable links for the integration's emails and app: /e/<code>/ lands on the code's checker."""
    found = (
        ErrorCode.objects.select_related("checker")
        .filter(code=code.strip().upper()[:40], checker__is_published=True)
        .first()
    )
    if found is None:
        return TemplateResponse(
            request,
            "troubleshoot/error_code_unknown.html",
            {"code": code[:40], "categories": published_categories()},
            status=404,
        )
    source = request.GET.get("source", Run.Source.EMAIL)
    source = source if source in Run.Source.values else Run.Source.EMAIL
    return redirect(f"{found.checker.get_absolute_url()}?source={source}&code={found.code}")


def page_not_found(request, exception):
    return TemplateResponse(request, "404.html", {"categories": published_categories()}, status=404).render()


# The checker itself


def _checker(slug: str) -> Checker:
    return get_object_or_404(Checker.objects.published().select_related("category"), slug=slug)


def _run(slug: str, run_id) -> Run:
    return get_object_or_404(
        Run.objects.select_related("checker__category", "support_request"),
        pk=run_id,
        checker__slug=slug,
        checker__is_published=True,
    )


def _render(
    request, checker: Checker, run: Run | None, *, current: walk.Flow | None = None, status=200, **extra
) -> TemplateResponse:
    """The checker page (or just its panel, for htmx) showing where `run` stands in the version it walks."""
    current = current or versions.flow_of(run.version_id if run else checker.live_version_id)
    context = {
        "checker": checker,
        "run": run,
        "position": walk.position(current, run),
        "focus": bool(request.htmx),
        **extra,
    }
    if run is None:
        context.setdefault("start", {"run": uuid.uuid4()})
        context["answer_url"] = reverse("troubleshoot:start", args=[checker.slug])
    elif run.outcome == Run.Outcome.RESOLVED:
        context.setdefault("note_form", FixedNoteForm(instance=run))
    elif run.outcome == Run.Outcome.ESCALATED:
        context["support_request"] = getattr(run, "support_request", None)
        context.setdefault("support_form", SupportRequestForm())
    else:
        context["answer_url"] = reverse("troubleshoot:answer", args=[checker.slug, run.pk])
    template = "troubleshoot/checker.html#panel" if request.htmx else "troubleshoot/checker.html"
    return TemplateResponse(request, template, context, status=status)


def _after_change(request, run: Run, current: walk.Flow | None = None):
    """POST/redirect/GET without JavaScript; the new panel and a URL in the history with htmx."""
    if not request.htmx:
        return redirect(run)
    return _swap(request, _render(request, run.checker, run, current=current), run.get_absolute_url())


def _swap(request, response, url: str):
    same_page = (request.htmx.current_url_abs_path or "").split("?")[0] == url.split("?")[0]
    return replace_url(response, url) if same_page else push_url(response, url)


def _start(source: str, source_detail: str, code: str) -> dict:
    """The hidden fields of a checker's first step: a fresh run id and where the seller came from."""
    return {"run": uuid.uuid4(), "source": source[:10], "source_detail": source_detail[:200], "code": code[:40]}


@require_GET
def checker_start(request, slug):
    checker = _checker(slug)
    params = request.GET
    start = _start(
        params.get("source", Run.Source.DIRECT), params.get("q", params.get("article", "")), params.get("code", "")
    )
    return _render(request, checker, None, start=start)


@require_POST
def start_run(request, slug):
    checker = _checker(slug)
    current = versions.flow_of(checker.live_version_id)
    form = StartForm(request.POST)
    # Shown again if the answer is refused, so where the seller came from isn't lost.
    start = _start(*(request.POST.get(key, "") for key in ("source", "source_detail", "code")))
    if not form.is_valid():
        message = "That answer wasn't understood. Please pick again."
        return _render(request, checker, None, current=current, start=start, status=400, message=message)
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
        )
    except walk.StaleAnswer as stale:
        return _render(request, checker, None, current=current, start=start, status=400, message=str(stale))
    run.checker = checker
    return _after_change(request, run, current)


@require_GET
def run_detail(request, slug, run_id):
    run = _run(slug, run_id)
    return _render(request, run.checker, run)


@require_POST
def run_answer(request, slug, run_id):
    run = _run(slug, run_id)
    current = versions.flow_of(run.version_id)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        message = "That answer wasn't understood. Please pick again."
        return _render(request, run.checker, run, current=current, status=400, message=message)
    try:
        run = walk.record_answer(current, run, form.cleaned_data["step"], form.cleaned_data["answer"])
    except walk.StaleAnswer as stale:
        run.refresh_from_db()
        return _render(request, run.checker, run, current=current, status=400, message=str(stale))
    return _after_change(request, run, current)


@require_POST
def run_back(request, slug, run_id):
    run = _run(slug, run_id)
    if hasattr(run, "support_request"):
        return _render(request, run.checker, run, status=400, message="Your support request is already sent.")
    return _after_change(request, walk.go_back(run))


@require_POST
def run_note(request, slug, run_id):
    run = _run(slug, run_id)
    if run.outcome != Run.Outcome.RESOLVED:
        return _render(request, run.checker, run, status=400, message="This check isn't marked fixed.")
    form = FixedNoteForm(request.POST, instance=run)
    if not form.is_valid():
        return _render(request, run.checker, run, status=400, note_form=form)
    run.save(update_fields=["fixed_note"])  # only the note: a Back in another tab must not be overwritten
    return _after_change(request, run)


@require_POST
def run_support(request, slug, run_id):
    run = _run(slug, run_id)
    if run.outcome != Run.Outcome.ESCALATED:
        return _render(
            request,
            run.checker,
            run,
            status=400,
            message="Finish the check first: here is your step.",
        )
    if hasattr(run, "support_request"):
        return _after_change(request, run)  # a double submit: the first one is already with support
    form = SupportRequestForm(request.POST)
    if not form.is_valid():
        return _render(request, run.checker, run, status=400, support_form=form)
    form.instance.run = run
    try:
        with transaction.atomic():
            support_request = form.save()
            transaction.on_commit(lambda: notify_support(request, support_request))
    except IntegrityError:
        run = _run(slug, run_id)  # a concurrent double submit saved it first: show that one
    return _after_change(request, run)


# The editor's preview: the draft, walked with the seller's template, stored nowhere.


def _path(text: str) -> list[int]:
    return [int(part) for part in text.split(".") if part.isdigit()][:200]


@staff_member_required
@require_http_methods(["GET", "POST"])
def preview(request, slug):
    """Walk the draft as a seller would (htmx and no-JS alike); the answers so far travel in the URL."""
    if not request.user.has_perm("troubleshoot.change_checker"):
        raise PermissionDenied
    checker = get_object_or_404(Checker.objects.select_related("category"), slug=slug)
    current = versions.draft_flow(checker)
    path, status, message = _path(request.GET.get("path", "")), 200, ""
    if request.method == "POST":
        form = PreviewForm(request.POST)
        if form.is_valid():
            path = _path(form.cleaned_data["path"])
            position = walk.replay(current, path)
            if position.step is not None and position.step.key == form.cleaned_data["step"]:
                try:
                    walk.find_answer(current, position.step.key, form.cleaned_data["answer"])
                    path.append(form.cleaned_data["answer"])
                except walk.StaleAnswer as stale:
                    status, message = 400, str(stale)
            else:
                status, message = 400, "The draft changed under this preview. Here is where it stands now."
        else:
            status, message = 400, "That answer wasn't understood. Please pick again."
        url = reverse("troubleshoot:preview", args=[slug]) + (f"?path={'.'.join(map(str, path))}" if path else "")
        if status == 200 and not request.htmx:
            return redirect(url)
    position = walk.replay(current, path)
    restart = reverse("troubleshoot:preview", args=[slug])
    context = {
        "checker": checker,
        "run": None,
        "position": position,
        "focus": bool(request.htmx),
        "answer_url": restart,
        "message": message,
        "preview": {
            "path": ".".join(map(str, path)),
            "back": ".".join(map(str, path[:-1])),
            "restart": restart,
        },
    }
    template = "troubleshoot/checker.html#panel" if request.htmx else "troubleshoot/checker.html"
    response = TemplateResponse(request, template, context, status=status)
    if request.htmx and request.method == "POST" and status == 200:
        return _swap(request, response, url)
    return response


def notify_support(request, support_request: SupportRequest) -> None:
    """Tell the support inbox. The request is already stored, so a mail failure loses nothing."""
    run = support_request.run
    answers = "\n".join(
        f"- {a.step_title}: {a.question} → {a.choice_label}" for a in run.answers.filter(withdrawn_at__isnull=True)
    )
    admin_url = request.build_absolute_uri(reverse("admin:troubleshoot_run_change", args=[run.pk]))
    body = (
        f"Reference: {support_request.reference}\n"
        f"Checker: {run.checker.title} (version {run.version.number})\n"
        f"From: {support_request.email}\n"
        f"Came from: {run.get_source_display()} {run.error_code}\n\n"
        f"What happened:\n{support_request.description}\n\n"
        f"Exact error message: {support_request.error_message or '-'}\n"
        f"Settlement ID: {support_request.settlement_id or '-'}\n"
        f"Recording: {support_request.recording_url or '-'}\n\n"
        f"Their answers:\n{answers}\n\nThe run: {admin_url}\n"
    )
    try:
        send_mail(
            f"[{support_request.reference}] {run.checker.title}",
            body,
            settings.DEFAULT_FROM_EMAIL,
            [settings.SUPPORT_EMAIL],
        )
    except Exception:  # noqa: BLE001 - the request is stored; support still sees it in the admin
        log.exception("Could not email support about %s", support_request.reference)
