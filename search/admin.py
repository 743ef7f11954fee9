"""Search in the admin: synonyms and phrasings staff manage, the search log, and the searches worth acting on.

"Searches to act on" (`/admin/search/searchlog/top/`) lists the most frequent searches that found nothing or that
nobody clicked, each with a button per likely checker: one click attaches the query as that checker's phrasing.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from helpcenter.admin import ReadOnlyAdminMixin

from .index import searchable_checkers
from .log import attach_phrasing
from .models import Phrasing, SearchLog, Synonym, UnknownCode
from .search import search

TOP_ROWS = 25


@admin.register(Synonym)
class SynonymAdmin(admin.ModelAdmin):
    list_display = ["terms"]
    search_fields = ["terms"]


@admin.register(Phrasing)
class PhrasingAdmin(admin.ModelAdmin):
    list_display = ["text", "checker", "created_at", "created_by"]
    list_select_related = ["checker", "created_by"]
    search_fields = ["text", "checker__title", "checker__slug"]
    autocomplete_fields = ["checker"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class OutcomeFilter(admin.SimpleListFilter):
    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return [("no-results", "No results"), ("no-click", "Results, nothing opened"), ("opened", "Opened")]

    def queryset(self, request, queryset):
        if self.value() == "no-results":
            return queryset.filter(result_count=0)
        if self.value() == "no-click":
            return queryset.filter(result_count__gt=0, opened_slug="")
        if self.value() == "opened":
            return queryset.exclude(opened_slug="")
        return queryset


@admin.register(SearchLog)
class SearchLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "query", "result_count", "confidence", "opened", "source"]
    list_filter = [OutcomeFilter, "confidence", "source"]
    search_fields = ["normalised"]
    date_hierarchy = "created_at"
    change_list_template = "admin/search/searchlog/change_list.html"

    @admin.display(description="Opened")
    def opened(self, obj):
        return f"{obj.opened_kind} {obj.opened_slug}" if obj.opened_slug else "-"

    def get_urls(self):
        return [
            path("top/", self.admin_site.admin_view(self.top_view), name="search_searchlog_top"),
            path("attach/", self.admin_site.admin_view(require_POST(self.attach_view)), name="search_searchlog_attach"),
            *super().get_urls(),
        ]

    def top_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        rows = {
            "no_results": list(SearchLog.objects.top(no_guide=True)[:TOP_ROWS]),
            "no_click": list(SearchLog.objects.top(no_click=True)[:TOP_ROWS]),
        }
        for row in [*rows["no_results"], *rows["no_click"]]:
            row["suggestions"] = [r.item for r in search(row["query"], 3) if r.kind == "checker"]
        context = {
            **self.admin_site.each_context(request),
            "title": "Searches to act on",
            "opts": self.model._meta,
            **rows,
            "can_attach": request.user.has_perm("search.add_phrasing"),
        }
        return TemplateResponse(request, "admin/search/searchlog/top.html", context)

    def attach_view(self, request):
        """One click: the query becomes a phrasing of the chosen checker."""
        if not request.user.has_perm("search.add_phrasing"):
            raise PermissionDenied
        query = request.POST.get("query", "").strip()
        checker = searchable_checkers().filter(slug=request.POST.get("checker", "").strip()).first()
        if not query or checker is None:
            messages.error(request, "Choose a published checker (by its slug) to attach the search to.")
        else:
            attach_phrasing(query, checker, request.user)
            messages.success(request, f"“{query}” now finds “{checker.title}”.")
        return redirect(reverse("admin:search_searchlog_top"))


@admin.register(UnknownCode)
class UnknownCodeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["code", "count", "first_seen", "last_seen"]
    search_fields = ["code"]
