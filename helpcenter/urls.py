from django.conf import settings
from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path
from django.views.generic import TemplateView

admin.site.site_header = "Help portal administration"
admin.site.site_title = "Help portal admin"

urlpatterns = [
    # Crawlers stay out of staff pages and follow-up links. Run pages carry their own noindex instead: robots.txt's
    # prefixes can't tell /troubleshoot/<slug>/<run>/ from a checker's page, and a crawler kept out never reads it.
    path("robots.txt", TemplateView.as_view(template_name="robots.txt", content_type="text/plain; charset=utf-8")),
    path("admin/", admin.site.urls),
    path("", include("support.urls")),
    path("", include("review.urls")),
    path("", include("search.urls")),
    path("", include("troubleshoot.urls")),
]

if settings.BENCHMARK:
    # The yardstick `make bench` divides by: the smallest Django view, through the same middleware and server.
    urlpatterns.append(path("bench/minimal/", lambda request: HttpResponse("ok", content_type="text/plain")))

handler404 = "troubleshoot.views.browse.page_not_found"
