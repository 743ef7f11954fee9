"""Show sellers the portal's own "not found" page (with search) for a 404 raised in a view, DEBUG or not.

Django's `handler404` only applies with DEBUG off; under `make run` a seller-facing link that is wrong would
otherwise show Django's debug page.
"""

from django.http import Http404


class NotFoundPageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, Http404) and not request.path.startswith("/admin/"):
            from .views import page_not_found

            return page_not_found(request, exception)
        return None
