"""The seller's pages. Each view reads the request, calls `flow` or `search`, and renders.

A checker page and its htmx partial are one template (`checker.html`, partial `panel`): htmx requests get the
partial, everything else the full page, so every form works with JavaScript off.
"""

import logging
import uuid

from django.conf import settings
from django.core.mail import send_mail
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import push_url, replace_url

from search.log import record_opened, record_unknown_code

from . import flow
from .browse import categories_overview, most_used_checkers
from .forms import AnswerForm, FixedNoteForm, StartForm, SupportRequestForm
from .models import Article, Category, Checker, ErrorCode, Run, SupportRequest

log = logging.getLogger(__name__)


HOME_ARTICLES = 6
PER_PAGE = 50


def _overview_context() -> dict:
    return {"categories": categories_overview(), "most_used": most_used_checkers()}


@require_GET
def home(request):
    articles = Article.objects.published().only("slug", "title", "summary").order_by("-pk")[:HOME_ARTICLES]
    return TemplateResponse(
        request,
        "troubleshoot/home.html",
        {**_overview_context(), "articles": articles, "box_id": uuid.uuid4()},
    )


@require_GET
def category(request, slug):
    """Every published checker and article of one category, a page at a time."""
    category = get_object_or_404(Category, slug=slug)
    checkers = Paginator(category.checkers.published().order_by("position", "title"), PER_PAGE)
    articles = Paginator(category.articles.published().order_by("title"), PER_PAGE)
    return TemplateResponse(
        request,
        "troubleshoot/category.html",
        {
            "category": category,
            "checkers": checkers.get_page(request.GET.get("page")),
            "articles": articles.get_page(request.GET.get("articles_page")),
        },
    )


@require_GET
def article_detail(request, slug):
    article = get_object_or_404(Article.objects.published().select_related("category"), slug=slug)
    record_opened(request.GET.get("search"), "article", slug)
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
        record_unknown_code(code)
        return TemplateResponse(
            request,
            "troubleshoot/error_code_unknown.html",
            {"code": code[:40], **_overview_context()},
            status=404,
        )
    source = request.GET.get("source", Run.Source.EMAIL)
    source = source if source in Run.Source.values else Run.Source.EMAIL
    return redirect(f"{found.checker.get_absolute_url()}?source={source}&code={found.code}")


def page_not_found(request, exception):
    return TemplateResponse(request, "404.html", _overview_context(), status=404).render()


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
    request, checker: Checker, run: Run | None, *, current: flow.Flow | None = None, status=200, **extra
) -> TemplateResponse:
    """The checker page (or just its panel, for htmx) showing where `run` stands."""
    current = current or flow.load(checker)
    context = {
        "checker": checker,
        "run": run,
        "position": flow.position(current, run),
        "focus": bool(request.htmx),
        **extra,
    }
    if run is None:
        context.setdefault("start", {"run": uuid.uuid4()})
    elif run.outcome == Run.Outcome.RESOLVED:
        context.setdefault("note_form", FixedNoteForm(instance=run))
    elif run.outcome == Run.Outcome.ESCALATED:
        context["support_request"] = getattr(run, "support_request", None)
        context.setdefault("support_form", SupportRequestForm())
    template = "troubleshoot/checker.html#panel" if request.htmx else "troubleshoot/checker.html"
    return TemplateResponse(request, template, context, status=status)


def _after_change(request, run: Run, current: flow.Flow | None = None):
    """POST/redirect/GET without JavaScript; the new panel and a URL in the history with htmx."""
    if not request.htmx:
        return redirect(run)
    response = _render(request, run.checker, run, current=current)
    url = run.get_absolute_url()
    same_page = (request.htmx.current_url_abs_path or "").split("?")[0] == url
    return replace_url(response, url) if same_page else push_url(response, url)


def _start(source: str, source_detail: str, code: str) -> dict:
    """The hidden fields of a checker's first step: a fresh run id and where the seller came from."""
    return {"run": uuid.uuid4(), "source": source[:10], "source_detail": source_detail[:200], "code": code[:40]}


@require_GET
def checker_start(request, slug):
    checker = _checker(slug)
    record_opened(request.GET.get("search"), "checker", slug)
    params = request.GET
    start = _start(
        params.get("source", Run.Source.DIRECT), params.get("q", params.get("article", "")), params.get("code", "")
    )
    return _render(request, checker, None, start=start)


@require_POST
def start_run(request, slug):
    checker = _checker(slug)
    current = flow.load(checker)
    form = StartForm(request.POST)
    # Shown again if the answer is refused, so where the seller came from isn't lost.
    start = _start(*(request.POST.get(key, "") for key in ("source", "source_detail", "code")))
    if not form.is_valid():
        message = "That answer wasn't understood. Please pick again."
        return _render(request, checker, None, current=current, start=start, status=400, message=message)
    data = form.cleaned_data
    try:
        run = flow.start_run(
            current,
            data["run"],
            data["step"],
            data["choice"],
            source=data["source"],
            source_detail=data["source_detail"],
            error_code=data["code"],
        )
    except flow.StaleAnswer as stale:
        return _render(request, checker, None, current=current, start=start, status=400, message=str(stale))
    return _after_change(request, run, current)


@require_GET
def run_detail(request, slug, run_id):
    run = _run(slug, run_id)
    return _render(request, run.checker, run)


@require_POST
def run_answer(request, slug, run_id):
    run = _run(slug, run_id)
    current = flow.load(run.checker)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        message = "That answer wasn't understood. Please pick again."
        return _render(request, run.checker, run, current=current, status=400, message=message)
    try:
        run = flow.record_answer(current, run, form.cleaned_data["step"], form.cleaned_data["choice"])
    except flow.StaleAnswer as stale:
        run.refresh_from_db()
        return _render(request, run.checker, run, current=current, status=400, message=str(stale))
    return _after_change(request, run, current)


@require_POST
def run_back(request, slug, run_id):
    run = _run(slug, run_id)
    if hasattr(run, "support_request"):
        return _render(request, run.checker, run, status=400, message="Your support request is already sent.")
    return _after_change(request, flow.go_back(run))


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


def notify_support(request, support_request: SupportRequest) -> None:
    """Tell the support inbox. The request is already stored, so a mail failure loses nothing."""
    run = support_request.run
    answers = "\n".join(
        f"- {a.step_title}: {a.question} → {a.choice_label}" for a in run.answers.filter(withdrawn_at__isnull=True)
    )
    admin_url = request.build_absolute_uri(reverse("admin:troubleshoot_run_change", args=[run.pk]))
    body = (
        f"Reference: {support_request.reference}\n"
        f"Checker: {run.checker.title} (version {run.checker_version})\n"
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
