"""The checker editor (`CheckerAdmin`) and categories."""

import nested_admin
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html

from helpcenter import params
from helpcenter.admin import PlainHelpTextsMixin

from .. import compare, flowpicture, versions
from ..models import (
    Category,
    Checker,
    CheckerVersion,
    Run,
    Step,
)
from ..rendering import render_markdown
from .inlines import ErrorCodeInline, InlineRowsOnce, StepFormSet, StepInline
from .summary import error_summary, flow_problems, shared_error_texts
from .versioned import VersionedPagesMixin


def count_per_row(related: QuerySet, link: str) -> Coalesce:
    """How many `related` rows point (through `link`) at each row listed: a subquery evaluated for the page's rows
    only, where a Count() annotation would GROUP BY the whole table (8.8 s a page at 200,000 runs)."""
    per_row = related.filter(**{link: OuterRef("pk")}).order_by().values(link).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(per_row), 0)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}


class CheckerChangeList(ChangeList):
    """The checker list counts steps and runs for the page shown only, in one grouped query each. As annotations
    (sortable columns) the database counted them for every checker before sorting: 5,000 subqueries, a quarter of a
    second a page at 200,000 runs. Sellers' use of checkers, sorted, is on the review pages."""

    def get_results(self, request):
        super().get_results(request)
        shown = list(self.result_list)
        ids = [checker.pk for checker in shown]
        steps = dict(Step.objects.filter(checker__in=ids).values_list("checker").annotate(n=Count("pk")).order_by())
        # COUNT(*): a run's key (a UUID) isn't in the (checker, started_at) index, so COUNT(id) read every run's row.
        runs = dict(Run.objects.filter(checker__in=ids).values_list("checker").annotate(n=Count("*")).order_by())
        for checker in shown:
            checker.step_total, checker.run_total = steps.get(checker.pk, 0), runs.get(checker.pk, 0)
        self.result_list = shown


@admin.register(Checker)
class CheckerAdmin(PlainHelpTextsMixin, VersionedPagesMixin, nested_admin.NestedModelAdmin):
    list_display = ["title", "slug", "category", "is_published", "live", "step_count", "run_count"]
    list_filter = ["category", "platforms", "is_published"]
    search_fields = ["title", "slug", "symptom", "signatures", "error_codes__code"]
    list_per_page = 50  # as the review pages: the admin's own rendering of a row is what costs here
    show_full_result_count = False
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["live", "draft_status", "flow_picture", "view_on_site_link"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "category", "symptom", "is_published", "position", "view_on_site_link"]}),
        ("Xero and QuickBooks", {"fields": ["platforms"]}),
        ("Search and support", {"fields": ["signatures", "support_hint"], "classes": ["collapse"]}),
        ("The draft's flow", {"fields": ["draft_status", "flow_picture"]}),
    ]
    inlines = [ErrorCodeInline, StepInline]
    inline_admin_formset_helper_cls = InlineRowsOnce  # at every level: each inline's rows made once a page
    change_form_template = "admin/troubleshoot/checker/change_form.html"
    draft_of = staticmethod(versions.draft_data)
    problems_in = staticmethod(versions.checker_problems)
    changes_between = staticmethod(compare.diff)
    publish_item = staticmethod(versions.publish)
    restore_item = staticmethod(versions.restore)
    restored_data = staticmethod(lambda draft, version: {**draft, "steps": version["steps"]})
    published_note = " New runs walk it."
    restored_message = (
        "Version {number}'s steps are back in the draft. Runs in progress are unaffected; publish to go live."
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("category").annotate(live_number=F("live_version__number"))

    def get_changelist(self, request, **kwargs):
        return CheckerChangeList

    @admin.display(description="Live version", ordering="live_number")
    def live(self, obj):
        return f"Version {obj.live_number}" if obj.live_number else "Not published yet"

    @admin.display(description="Published")
    def draft_status(self, obj):
        if not obj.pk or not obj.live_version_id:
            return "Not published yet: sellers can't see this checker."
        number = obj.live_version.number
        if not versions.has_unpublished_changes(obj):
            return f"Version {number} is live; the draft below is the same."
        url = reverse("admin:troubleshoot_checker_diff", args=[obj.pk]) + f"?old={number}"
        return format_html(
            'Version {} is live. <strong>The draft below has unpublished changes</strong> (<a href="{}">see them</a>).',
            number,
            url,
        )

    @admin.display(description="Steps")
    def step_count(self, obj):
        return obj.step_total

    @admin.display(description="Runs")
    def run_count(self, obj):
        url = reverse("admin:troubleshoot_run_changelist") + f"?checker__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.run_total)

    @admin.display(description="Seller's page")
    def view_on_site_link(self, obj):
        if not obj.pk:
            return "-"
        return format_html('<a href="{}" target="_blank">{}</a>', obj.get_absolute_url(), obj.slug)

    @admin.display(description="Flow picture")
    def flow_picture(self, obj):
        if not obj.pk:
            return "Save the checker to see its flow."
        return render_to_string(
            "admin/troubleshoot/checker/flow.html", {"picture": flowpicture.picture(versions.draft_flow(obj))}
        )

    def save_related(self, request, form, formsets, change):
        """Save everything the page says as one change: the steps (new ones get their ids), then the answers,
        pointed at the steps by now saved, and links; the deleted steps last, when no answer goes to them."""
        super().save_related(request, form, formsets, change)  # formsets: the steps come before their answers
        for formset in formsets:
            if isinstance(formset, StepFormSet):
                formset.delete_removed()
        flow_problems(request, form.instance)
        shared_error_texts(request, form.instance)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["error_summary"] = error_summary(context.get("inline_admin_formsets", []))
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("markdown-preview/", wrap(self.markdown_preview), name="troubleshoot_markdown_preview"),
            path("<int:object_id>/publish/", wrap(self.publish_view), name="troubleshoot_checker_publish"),
            path("<int:object_id>/versions/", wrap(self.versions_view), name="troubleshoot_checker_versions"),
            path("<int:object_id>/diff/", wrap(self.diff_view), name="troubleshoot_checker_diff"),
            path(
                "<int:object_id>/restore/<int:number>/",
                wrap(self.restore_view),
                name="troubleshoot_checker_restore",
            ),
            path(
                "<int:object_id>/bring-back/<int:kept_id>/",
                wrap(self.bring_back_view),
                name="troubleshoot_checker_bring_back",
            ),
            path("<int:object_id>/copy/", wrap(self.copy_view), name="troubleshoot_checker_copy"),
            *super().get_urls(),
        ]

    def copy_view(self, request, object_id):
        """The editor's "Start from a copy of this checker" (POST): a new unlisted draft, opened in the editor."""
        checker = self._item(request, object_id, "add_checker")
        if request.method != "POST":
            return redirect("admin:troubleshoot_checker_change", checker.pk)
        copy = versions.copy_checker(checker)
        messages.success(
            request,
            f"This is a copy of {checker.title}: its steps, answers and links, not listed, not published. Error "
            "codes and error texts were not copied: each leads sellers to one checker.",
        )
        return redirect("admin:troubleshoot_checker_change", copy.pk)

    def markdown_preview(self, request):
        """The editor's live preview: Markdown typed in a step, rendered and sanitised exactly as sellers get it."""
        may_edit = request.user.has_perm("troubleshoot.change_checker") or request.user.has_perm(
            "troubleshoot.change_article"
        )
        if request.method != "POST" or not may_edit:
            raise PermissionDenied
        return HttpResponse(render_markdown(request.POST.get("body", "")[:20000]))

    def versions_view(self, request, object_id):
        checker = self._item(request, object_id, "view_checker")
        rows = (
            CheckerVersion.objects.filter(checker=checker)
            .select_related("created_by")
            .annotate(run_total=Count("runs"))
            .defer("data")
            .order_by("-number")
        )
        return self._page(
            request,
            checker,
            "history.html",
            f"Versions of {checker.title}",
            versions=rows,
            can_restore=request.user.has_perm("troubleshoot.publish_checker"),
        )

    def diff_view(self, request, object_id):
        checker = self._item(request, object_id, "view_checker")
        numbers = [params.optional_number(request.GET, name, lowest=1) for name in ("old", "new")]
        asked = {n for n in numbers if n is not None}
        found = {v.number: v for v in CheckerVersion.objects.filter(checker=checker, number__in=asked)}
        if asked - found.keys():
            raise Http404(f"{checker.title} has no version {min(asked - found.keys())}.")
        old, new = (found.get(n) for n in numbers)
        new_data = new.data if new else versions.draft_data(checker)  # no "new": compare with the draft
        return self._page(
            request,
            checker,
            "diff.html",
            f"Changes in {checker.title}",
            old=old,
            new=new,
            changes=compare.diff(old.data if old else {}, new_data),
        )
