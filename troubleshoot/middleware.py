"""Request rules that hold for every page, the admin included.

- NUL characters never reach a view: PostgreSQL can't store or compare text containing them (`/e/%00/` and an
  admin filter of `%00` answered 500). No person types one; a path with one is "not found", and one in the query
  string is dropped so search and filters answer as usual. Form fields already refuse NUL (Django's own validator).
- Sellers get the portal's "not found" page (with search) for a 404 raised in a view, DEBUG or not: Django's
  `handler404` only applies with DEBUG off, and under `make run` a wrong seller-facing link would otherwise show
  Django's debug page.
- Every view knows the seller's accounting platform, `request.platform` (`platforms.py`: from the link, else the
  visit), and a platform a view learns (`request.platform` set: a seller answered "Which do you use?") is remembered
  for the visit.
"""

from django.http import Http404, QueryDict

from . import platforms


def _without_nul(query: QueryDict) -> QueryDict:
    cleaned = QueryDict(mutable=True)
    for key, values in query.lists():
        cleaned.setlist(key.replace("\x00", ""), [value.replace("\x00", "") for value in values])
    cleaned._mutable = False
    return cleaned


class NulCharacterMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path:
            from .views.browse import page_not_found

            return page_not_found(request, Http404("NUL in the path"))
        if any("\x00" in key + "".join(values) for key, values in request.GET.lists()):
            request.GET = _without_nul(request.GET)
        return self.get_response(request)


class NotFoundPageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, Http404) and not request.path.startswith("/admin/"):
            from .views.browse import page_not_found

            return page_not_found(request, exception)
        return None


class PlatformMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.platform = platforms.from_request(request)
        response = self.get_response(request)
        platforms.remember(request, response)
        return response
