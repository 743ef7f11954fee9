"""Seller pages that change only when content does (home, articles, search), kept whole in the cache.

Every cached page is filed under the current *content generation*, one number in the cache: any change to what
sellers see (a content edit, an import, a publish) moves it on with `content_changed()`, and every page cached
under the old number is simply never asked for again (it expires on its own). The djangoproject.com dashboard
uses the same trick. With REDIS_URL the cache, and so the generation, is shared by every app server.

These pages hold nothing personal: no CSRF token (htmx posts carry the one in their form), no user.
"""

import hashlib
from functools import wraps

from django.core.cache import cache
from django.http import HttpResponse

GENERATION_KEY = "content-generation"
# A cached page is rebuilt at least this often, whatever happens (seconds).
PAGE_TIMEOUT = 60 * 60


def content_generation() -> int:
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, 1, timeout=None)
        generation = cache.get(GENERATION_KEY, 1)
    return generation


def content_changed(**kwargs) -> None:
    """Retire every cached page (connected to content models' saves and deletes; call it after a publish)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not there yet (or evicted): any new number retires the old pages
        cache.set(GENERATION_KEY, content_generation() + 1, timeout=None)


def cached_page(*params: str, vary=None):
    """Serve a view's successful GET/HEAD answers from the cache until content changes.

    The page is filed under its path and only the query parameters named in `params` (the rest can't change
    what it shows), so random query strings can't fill the cache. `vary(request)`, if given, returns what else the
    page depends on (the active incidents, whose banners start and end with the clock, not with a save).
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method not in ("GET", "HEAD"):
                return view(request, *args, **kwargs)
            shown = [(name, request.GET.get(name, "")[:500]) for name in params]
            if vary is not None:
                shown.append(("", vary(request)))
            fingerprint = hashlib.sha256(repr((request.path, bool(request.htmx), shown)).encode()).hexdigest()
            key = f"page:{content_generation()}:{fingerprint}"
            hit = cache.get(key)
            if hit is not None:
                status, content_type, content = hit
                return HttpResponse(content, status=status, content_type=content_type)
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            if response.status_code in (200, 404) and not response.has_header("Set-Cookie"):
                cache.set(key, (response.status_code, response["Content-Type"], response.content), PAGE_TIMEOUT)
            return response

        return wrapped

    return decorator
