"""The seller's pages. Each view reads the request, calls `flow` or `search`, and renders.

A checker page and its htmx partial are one template (`checker.html`, partial `panel`): htmx requests get the
partial, everything else the full page, so every form works with JavaScript off.
"""

import uuid

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import push_url, replace_url

from search.log import record_opened, record_unknown_code

from . import flow
from .browse import categories_overview, most_used_checkers
from .forms import AnswerForm, BackForm, FixedNoteForm, StartForm, SupportRequestForm
from .models import Article, Category, Checker, ErrorCode, Run

# The status of a step panel shown again with a message: a stale or forged answer, a form with errors. Not 400:
# under DEBUG, django-htmx's debug script takes over 400/403/404/500 answers to htmx and shows them full page,
# which wiped the seller's page under `make run`. 422 ("understood, but can't be applied") is swapped in by htmx
# (see the htmx-config in base.html) and rendered as a page without JavaScript, the same in both modes.
REFUSED = 422


HOME_ARTICLES = 6
PER_PAGE = 50


def _overview_context() -> dict:
    return {"categories": categories_overview(), "most_used": most_used_checkers()}


@require_safe
def home(request):
    articles = Article.objects.published().only("slug", "title", "summary").order_by("-pk")[:HOME_ARTICLES]
    return TemplateResponse(
        request,
        "troubleshoot/home.html",
        {**_overview_context(), "articles": articles, "box_id": uuid.uuid4()},
    )


@require_safe
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


@require_safe
def article_detail(request, slug):
    article = get_object_or_404(Article.objects.published().select_related("category"), slug=slug)
    record_opened(request.GET.get("search"), "article", slug)
    checkers = article.checkers.published().order_by("title")
    return TemplateResponse(request, "troubleshoot/article.html", {"article": article, "checkers": checkers})


@require_safe
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


def _after_change(request, run: Run, current: flow.Flow | None = None, *, new_url: bool = False):
    """POST/redirect/GET without JavaScript; with htmx the new panel, and the run's URL in the history.

    `new_url` when the seller arrives at the run's URL from the checker's start page (a new history entry);
    every other change happens on the run's own page, whose history entry is replaced. Decided by the view,
    not read from the client's HX-Current-URL header, which may be anything (a malformed one gave a 500).
    """
    if not request.htmx:
        return redirect(run)
    response = _render(request, run.checker, run, current=current)
    url = run.get_absolute_url()
    return push_url(response, url) if new_url else replace_url(response, url)


def _start(source: str, source_detail: str, code: str) -> dict:
    """The hidden fields of a checker's first step: a fresh run id and where the seller came from."""
    # The search words or article the seller came from are kept as one line of text (they label the run).
    source_detail = " ".join(source_detail.split())[:200]
    return {"run": uuid.uuid4(), "source": source[:10], "source_detail": source_detail, "code": code[:40]}


@require_safe
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
        return _render(request, checker, None, current=current, start=start, status=REFUSED, message=message)
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
        return _render(request, checker, None, current=current, start=start, status=REFUSED, message=str(stale))
    return _after_change(request, run, current, new_url=True)


@require_safe
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
        return _render(request, run.checker, run, current=current, status=REFUSED, message=message)
    try:
        run = flow.record_answer(current, run, form.cleaned_data["step"], form.cleaned_data["choice"])
    except flow.StaleAnswer as stale:
        run.refresh_from_db()
        return _render(request, run.checker, run, current=current, status=REFUSED, message=str(stale))
    return _after_change(request, run, current)


@require_POST
def run_back(request, slug, run_id):
    run = _run(slug, run_id)
    form = BackForm(request.POST)
    if not form.is_valid():
        return _render(request, run.checker, run, status=REFUSED, message="That wasn't understood. Here is your step.")
    try:
        run = flow.go_back(run, form.cleaned_data["answer"])
    except flow.StaleAnswer as stale:
        return _render(request, run.checker, run, status=REFUSED, message=str(stale))
    return _after_change(request, run)


@require_POST
def run_note(request, slug, run_id):
    run = _run(slug, run_id)
    if run.outcome != Run.Outcome.RESOLVED:
        return _render(request, run.checker, run, status=REFUSED, message="This check isn't marked fixed.")
    form = FixedNoteForm(request.POST, instance=run)
    if not form.is_valid():
        return _render(request, run.checker, run, status=REFUSED, note_form=form)
    run.save(update_fields=["fixed_note"])  # only the note: a Back in another tab must not be overwritten
    return _after_change(request, run)


@require_POST
def run_support(request, slug, run_id):
    run = _run(slug, run_id)
    if hasattr(run, "support_request"):
        return _after_change(request, run)  # a double submit: the first one is already with support
    if run.outcome != Run.Outcome.ESCALATED:
        return _render(request, run.checker, run, status=REFUSED, message=flow.FINISH_FIRST)
    form = SupportRequestForm(request.POST)
    if not form.is_valid():
        return _render(request, run.checker, run, status=REFUSED, support_form=form)
    try:
        flow.request_support(run, form.instance)  # checks the run again, under its lock
    except flow.StaleAnswer as stale:
        run.refresh_from_db()
        return _render(request, run.checker, run, status=REFUSED, message=str(stale))
    return _after_change(request, _run(slug, run_id))
