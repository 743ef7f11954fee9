"""The run log in the admin, read-only for everyone: a run with its path and its support request, found by a checker's
slug, a run's id or a support reference straight from an index."""

import uuid

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import Count
from django.utils.html import format_html

from helpcenter.admin import ReadOnlyAdminMixin
from incidents.models import Incident
from support.models import SupportRequest
from troubleshoot.models import Answer, Checker, CheckerVersion, Run

from .readouts import INCIDENT_CHOICES, by_incident


class AnswerInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Answer
    fields = ["answered_at", "step_title", "question", "choice_label", "withdrawn_at"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = "Path (answers in order; withdrawn ones were undone with Back)"


class SupportRequestInline(ReadOnlyAdminMixin, admin.StackedInline):
    model = SupportRequest
    readonly_fields = [
        "reference",
        "email",
        "description",
        "error_message",
        "settlement_id",
        "recording_url",
        "created_at",
    ]
    extra = 0


class StatusFilter(admin.SimpleListFilter):
    title = "how it ended"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*Run.Outcome.choices, (Run.ABANDONED, "Abandoned")]

    def queryset(self, request, queryset):
        if self.value() == Run.ABANDONED:
            # A run never starts after its last answer, so the started_at bound changes nothing but the plan: the
            # database reads open runs newest first from an index on (outcome, started_at, ...) and stops at a page,
            # instead of sorting every abandoned run (16,000 at 200,000 runs) by date.
            return queryset.abandoned().filter(started_at__lt=queryset.abandon_cutoff())
        if self.value() == Run.Outcome.OPEN:  # in progress: open, with an answer lately
            return queryset.in_progress()
        if self.value():
            return queryset.filter(outcome=self.value())
        return queryset


class IncidentFilter(admin.SimpleListFilter):
    title = "known incident"
    parameter_name = "incident"

    def lookups(self, request, model_admin):
        return INCIDENT_CHOICES

    def queryset(self, request, queryset):
        return by_incident(queryset, self.value())


class RunChangeList(ChangeList):
    """The run list reads each shown run's checker, version number and live answers for the page only, in one query
    each. As annotations the database computed them for every run matching the filter before sorting by date
    (16,000 subqueries for the abandoned runs at 200,000 runs, over a second), and its counts joined the versions;
    joined to the runs, the checkers led SQLite to read every checker's runs and sort all 200,000 (0.4 s at 5,000
    checkers) instead of the newest 50 by date."""

    def get_results(self, request):
        super().get_results(request)
        shown = list(self.result_list)
        ids = [run.pk for run in shown]
        checkers = Checker.objects.in_bulk({run.checker_id for run in shown})
        answers = dict(Answer.objects.live().filter(run__in=ids).values_list("run").annotate(n=Count("pk")).order_by())
        numbers = dict(
            CheckerVersion.objects.filter(pk__in={run.version_id for run in shown}).values_list("pk", "number")
        )
        for run in shown:
            run.checker = checkers[run.checker_id]
            run.live_total, run.version_number_shown = answers.get(run.pk, 0), numbers[run.version_id]
        self.result_list = shown


@admin.register(Run)
class RunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "started_at",
        "checker",
        "version_number",
        "status_display",
        "end_step_title",
        "live_answers",
        "source",
        "error_code",
        "reference",
    ]
    # No date hierarchy and no per-checker filter: at 200,000 runs and 5,000 checkers they cost seconds a page
    # (a DISTINCT over every run's month, a link per checker). Search by the checker's slug instead (see
    # get_search_results); the review pages filter runs by date, checker and version.
    list_filter = [StatusFilter, "source", IncidentFilter]
    search_fields = ["checker__slug", "error_code", "support_request__reference", "support_request__email"]
    search_help_text = (
        "A checker's slug, a run's id or a support reference finds its runs at once. Anything else is looked for "
        "in checker slugs, error codes, references and sellers' emails (slow over many runs)."
    )
    show_full_result_count = False
    list_per_page = 50
    fields = [
        "id",
        "checker",
        "version_number",
        "status_display",
        "end_step_title",
        "fixed_note",
        "source",
        "source_detail",
        "error_code",
        "incident",
        "started_at",
        "last_activity_at",
        "ended_at",
        "seller_link",
    ]
    readonly_fields = fields
    inlines = [AnswerInline, SupportRequestInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("support_request")  # the checkers: RunChangeList

    def get_changelist(self, request, **kwargs):
        return RunChangeList

    def get_search_results(self, request, queryset, search_term):
        """What staff search for most is found by index: a checker's slug by its foreign key (the runs newest first
        straight from the (checker, started_at) index), a run's id, a support reference. A LIKE over the joined
        tables, the admin's own search, reads every run: at 200,000 runs that took most of a second."""
        term = search_term.strip()
        if not term:
            return queryset, False
        checker = Checker.objects.filter(slug=term.lower()).values_list("pk", flat=True).first()
        if checker is not None:
            return queryset.filter(checker_id=checker), False
        try:
            return queryset.filter(pk=uuid.UUID(term)), False
        except ValueError:
            pass
        if SupportRequest.objects.filter(reference=term.upper()).exists():
            return queryset.filter(support_request__reference=term.upper()), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="Version")
    def version_number(self, obj):
        """The published version the run walks (the number alone: the version's data stays unread here)."""
        if hasattr(obj, "version_number_shown"):
            return obj.version_number_shown
        return CheckerVersion.objects.values_list("number", flat=True).get(pk=obj.version_id)

    @admin.display(description="Status")
    def status_display(self, obj):
        return obj.status.capitalize()

    @admin.display(description="Answers")
    def live_answers(self, obj):
        return obj.live_total

    @admin.display(description="Support ref")
    def reference(self, obj):
        request = getattr(obj, "support_request", None)
        return request.reference if request else "-"

    @admin.display(description="Incident")
    def incident(self, obj):
        """The known incident the run started during, if any (one query, on the run's page only)."""
        return Incident.objects.filter(run_links__run=obj).first()

    @admin.display(description="Seller's page")
    def seller_link(self, obj):
        return format_html('<a href="{0}" target="_blank">{0}</a>', obj.get_absolute_url())
