"""Search as a page (full, or the results partial for as-you-type with htmx) and as JSON for the integration."""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_safe

from helpcenter import params
from helpcenter.contentcache import PAGE_TIMEOUT, content_generation
from helpcenter.limits import over_limit
from troubleshoot.browse import categories_overview
from troubleshoot.platforms import narrowed

from .confidence import NONE, ORDER
from .log import log_search, parse_id
from .models import SearchLog
from .search import MAX_QUERY, MAX_RESULTS, Result, search

API_DEFAULT_LIMIT = 5
MIGHT_BE_RELATED = 3  # results shown when none is likely


def cached_search(query: str, limit: int = MAX_RESULTS, platform: str = "") -> list[Result]:
    """Search results are the same for everyone until content changes (a save, a publish, a synonym or phrasing
    moves the content generation on, see helpcenter/contentcache.py), so they are cached per query; the page
    itself isn't, because each search is logged and its result links carry its log id."""
    digest = hashlib.sha256(f"{limit}:{platform}:{query}".encode()).hexdigest()
    key = f"search:{content_generation()}:{digest}"
    results = cache.get(key)
    if results is None:
        results = search(query, limit, platform)
        cache.set(key, results, PAGE_TIMEOUT)
    return results


def best_confidence(results: list[Result]) -> str:
    """The best result's confidence, as the search log keeps it ("" when nothing was found)."""
    return min((result.confidence for result in results), key=ORDER.get, default="")


@require_safe
def search_page(request):
    """The results; when none is likely, "We don't have a guide for this message yet", the closest few as "might
    be related", and the support form with the pasted text (support's, `{% ask_support %}`)."""
    query = request.GET.get("q", "")[:MAX_QUERY]
    results = cached_search(query, platform=request.platform)  # narrowed to the seller's platform, if known
    best = best_confidence(results)
    search_id = None
    # A HEAD (link previews, monitors) is not a seller's search; past the address's search limit (a bot) the page
    # still answers but stops filling the log.
    if query.strip() and request.method == "GET" and not over_limit(request, "search"):
        source = request.GET.get("from", "")
        source = source if source in SearchLog.Source.values else SearchLog.Source.PAGE
        search_id = log_search(parse_id(request.GET.get("sid")), query, len(results), source, best)
    no_guide = bool(query.strip()) and best in ("", NONE)
    context = {
        "query": query.strip(),
        "results": results[:MIGHT_BE_RELATED] if no_guide else results,
        "no_guide": no_guide,
        "search_id": search_id,
        "support_email": settings.SUPPORT_EMAIL,
        "narrowed": narrowed(request.platform),
    }
    if no_guide:
        context["overview"] = categories_overview(checkers_per_category=0, platform=request.platform)
    template = "search/search.html#results" if request.htmx else "search/search.html"
    return TemplateResponse(request, template, context)


@require_safe
def api_search(request):
    """`GET /api/search?q=&limit=&platform=`: {"query", "platform", "results": [{"slug", "kind", "title", "url",
    "snippet", "score", "confidence"}]}; with `platform` (xero or quickbooks) only the checkers for it.

    Rate limited per client address (429 with Retry-After past RATE_LIMIT_SEARCH)."""
    if over_limit(request, "search"):
        response = JsonResponse({"error": "Too many searches from this address; try again in a minute."}, status=429)
        response["Retry-After"] = "60"
        return response
    query = request.GET.get("q", "")[:MAX_QUERY]
    asked = params.number(request.GET.get("limit"), lowest=-params.LARGEST)  # any whole number, then bounded
    limit = API_DEFAULT_LIMIT if asked is None else max(1, min(asked, MAX_RESULTS))
    results = cached_search(query, limit, request.platform)
    if query.strip() and request.method == "GET":
        log_search(None, query, len(results), SearchLog.Source.API, best_confidence(results))
    found = [result.as_json(request.build_absolute_uri) for result in results]
    return JsonResponse({"query": query, "platform": request.platform, "results": found})
