"""Search as a page (full, or the results partial for as-you-type with htmx) and as JSON for the integration."""

import uuid

from django.conf import settings
from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_safe

from troubleshoot.browse import categories_overview

from .log import log_search, parse_id
from .models import SearchLog
from .search import MAX_QUERY, MAX_RESULTS, search

API_DEFAULT_LIMIT = 5


@require_safe
def search_page(request):
    query = request.GET.get("q", "")[:MAX_QUERY]
    results = search(query)
    search_id = None
    if query.strip() and request.method == "GET":  # a HEAD (link previews, monitors) is not a seller's search
        source = request.GET.get("from", "")
        source = source if source in SearchLog.Source.values else SearchLog.Source.PAGE
        search_id = log_search(parse_id(request.GET.get("sid")), query, len(results), source)
    context = {
        "query": query.strip(),
        "results": results,
        "search_id": search_id,
        # The search box on this page starts a new search: a different query later is a different row.
        "box_id": uuid.uuid4(),
        "support_email": settings.SUPPORT_EMAIL,
    }
    if query.strip() and not results:
        context["categories"] = categories_overview(checkers_per_category=0)
    template = "search/search.html#results" if request.htmx else "search/search.html"
    return TemplateResponse(request, template, context)


@require_safe
def api_search(request):
    """`GET /api/search?q=&limit=`: {"query", "results": [{"slug", "kind", "title", "url", "snippet", "score"}]}."""
    query = request.GET.get("q", "")[:MAX_QUERY]
    try:
        limit = max(1, min(int(request.GET.get("limit", API_DEFAULT_LIMIT)), MAX_RESULTS))
    except ValueError:
        limit = API_DEFAULT_LIMIT
    results = search(query, limit)
    if query.strip() and request.method == "GET":
        log_search(None, query, len(results), SearchLog.Source.API)
    return JsonResponse(
        {
            "query": query,
            "results": [
                {
                    "slug": result.slug,
                    "kind": result.kind,
                    "title": result.title,
                    "url": request.build_absolute_uri(result.url),
                    "snippet": result.snippet,
                    "score": result.score,
                }
                for result in results
            ],
        }
    )
