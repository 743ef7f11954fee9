"""The seller's pages for finding help: the home page, a category, the topics, an article, and the 404 page. Each
lists the library (narrowed to the seller's platform when it is known) or shows an article's published text.
"""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.views.decorators.http import require_safe

from .. import platforms, signals, versioncache
from ..browse import categories_overview, listed_categories, most_used_checkers
from ..models import Article, Category

HOME_ARTICLES = 6
PER_PAGE = 50


def overview_context(request) -> dict:
    """What a page listing the library shows of it, narrowed to the seller's platform when it is known."""
    platform = getattr(request, "platform", "")  # not set on a page answered before the middleware ran
    return {
        "overview": categories_overview(platform=platform),
        "most_used": most_used_checkers(platform=platform),
        "narrowed": platforms.narrowed(platform),
    }


@require_safe
def home(request):
    articles = Article.objects.published().select_related("live_version").order_by("-pk")[:HOME_ARTICLES]
    return TemplateResponse(
        request,
        "troubleshoot/home.html",
        {**overview_context(request), "articles": articles},
    )


@require_safe
def category(request, slug):
    """Every published checker and article of one category, a page at a time."""
    category = get_object_or_404(Category, slug=slug)
    listed = category.checkers.published().for_platform(request.platform)
    checkers = Paginator(listed.order_by("position", "title"), PER_PAGE)
    articles = Paginator(category.articles.published().select_related("live_version").order_by("title"), PER_PAGE)
    return TemplateResponse(
        request,
        "troubleshoot/category.html",
        {
            "category": category,
            "narrowed": platforms.narrowed(request.platform),
            "checkers": checkers.get_page(request.GET.get("page")),
            "articles": articles.get_page(request.GET.get("articles_page")),
        },
    )


@require_safe
def topics(request):
    """Every category with published checkers, a page at a time (the list pages show the first few)."""
    categories = Paginator(listed_categories(request.platform), PER_PAGE)
    context = {
        "categories": categories.get_page(request.GET.get("page")),
        "narrowed": platforms.narrowed(request.platform),
    }
    return TemplateResponse(request, "troubleshoot/topics.html", context)


@require_safe
def article_detail(request, slug):
    """An article's published text (rendered once per version, `versioncache.article_page`) and its "Was this helpful?"
    form. Whether the seller came from a search result is logged on every visit."""
    signals.page_opened.send(sender=Article, kind="article", slug=slug, search_id=request.GET.get("search"))
    article = get_object_or_404(Article.objects.published().select_related("category"), slug=slug)
    checkers = article.checkers.published().order_by("title")
    page = versioncache.article_page(article.live_version_id)  # the published text, never the draft
    return TemplateResponse(
        request, "troubleshoot/article.html", {"article": article, "page": page, "checkers": checkers}
    )


def page_not_found(request, exception):
    return TemplateResponse(request, "404.html", overview_context(request), status=404).render()
