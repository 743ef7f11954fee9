"""Admin for support staff: edit content (with a flow check on every save) and read the outcome log."""

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html

from . import flow
from .models import (
    Answer,
    Article,
    Category,
    Checker,
    Choice,
    ErrorCode,
    Run,
    Step,
    StepLink,
    SupportRequest,
)
from .signals import content_changed
from .tasks import email_support


def check_flow(request, checker: Checker) -> None:
    """Bump the checker's version if its steps changed, and warn about any path that can't end."""
    problems = flow.refresh_version(checker).problems()
    for problem in problems:
        messages.warning(request, f"{checker.title}: {problem}")
    content_changed.send(Checker, checkers=[checker.pk])


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}


class ErrorCodeInline(admin.TabularInline):
    model = ErrorCode
    extra = 0


class StepInline(admin.TabularInline):
    model = Step
    fields = ["position", "key", "title", "question"]
    extra = 0
    show_change_link = True


@admin.register(Checker)
class CheckerAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "slug",
        "category",
        "is_published",
        "version",
        "step_count",
        "run_count",
    ]
    list_filter = ["category", "is_published"]
    search_fields = ["title", "slug", "symptom", "signatures", "error_codes__code"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["version", "updated_at", "view_on_site_link"]
    inlines = [ErrorCodeInline, StepInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("category")
            .annotate(step_total=Count("steps", distinct=True), run_total=Count("runs", distinct=True))
        )

    @admin.display(description="Steps", ordering="step_total")
    def step_count(self, obj):
        return obj.step_total

    @admin.display(description="Runs", ordering="run_total")
    def run_count(self, obj):
        url = reverse("admin:troubleshoot_run_changelist") + f"?checker__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.run_total)

    @admin.display(description="Seller's page")
    def view_on_site_link(self, obj):
        if not obj.pk:
            return "-"
        return format_html('<a href="{}" target="_blank">{}</a>', obj.get_absolute_url(), obj.slug)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        check_flow(request, form.instance)


class ChoiceInline(admin.TabularInline):
    model = Choice
    fk_name = "step"
    fields = ["position", "label", "outcome", "next_step"]
    extra = 1

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "next_step":
            # Only steps of the same checker make sense as a next step.
            step_id = request.resolver_match.kwargs.get("object_id")
            step = Step.objects.filter(pk=step_id).first() if step_id else None
            if step is not None:
                kwargs["queryset"] = Step.objects.filter(checker=step.checker).exclude(pk=step.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class StepLinkInline(admin.TabularInline):
    model = StepLink
    extra = 0


@admin.register(Step)
class StepAdmin(admin.ModelAdmin):
    list_display = ["title", "checker", "key", "position"]
    list_filter = ["checker"]
    search_fields = ["title", "question", "body", "key"]
    list_select_related = ["checker"]
    inlines = [ChoiceInline, StepLinkInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        check_flow(request, form.instance.checker)


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "category", "is_published", "updated_at"]
    list_filter = ["is_published", "category"]
    search_fields = ["title", "summary", "body"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["checkers"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        content_changed.send(Article, articles=[form.instance.pk])


class ReadOnlyAdminMixin:
    """The log is evidence: staff may read it, nobody edits or deletes it here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
            return queryset.abandoned()
        if self.value() == Run.Outcome.OPEN:
            return queryset.filter(outcome=Run.Outcome.OPEN).exclude(pk__in=queryset.abandoned().values("pk"))
        if self.value():
            return queryset.filter(outcome=self.value())
        return queryset


@admin.register(Run)
class RunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "started_at",
        "checker",
        "status_display",
        "end_step_title",
        "live_answers",
        "source",
        "error_code",
        "reference",
    ]
    list_filter = [StatusFilter, "checker", "source", ("incident", admin.EmptyFieldListFilter)]
    search_fields = ["id", "error_code", "support_request__reference", "support_request__email"]
    date_hierarchy = "started_at"
    fields = [
        "id",
        "checker",
        "checker_version",
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
        return (
            super()
            .get_queryset(request)
            .select_related("checker", "support_request")
            .annotate(live_total=Count("answers", filter=Q(answers__withdrawn_at__isnull=True)))
        )

    @admin.display(description="Status")
    def status_display(self, obj):
        return obj.status.capitalize()

    @admin.display(description="Answers", ordering="live_total")
    def live_answers(self, obj):
        return obj.live_total

    @admin.display(description="Support ref")
    def reference(self, obj):
        request = getattr(obj, "support_request", None)
        return request.reference if request else "-"

    @admin.display(description="Seller's page")
    def seller_link(self, obj):
        return format_html('<a href="{0}" target="_blank">{0}</a>', obj.get_absolute_url())


class EmailFilter(admin.SimpleListFilter):
    title = "email to support"
    parameter_name = "email"

    def lookups(self, request, model_admin):
        return [("sent", "Sent"), ("queued", "Queued"), ("failing", "Failing (retried)")]

    def queryset(self, request, queryset):
        unsent = queryset.filter(emailed_at__isnull=True)
        return {
            "sent": queryset.filter(emailed_at__isnull=False),
            "queued": unsent.filter(email_attempts=0),
            "failing": unsent.filter(email_attempts__gt=0),
        }.get(self.value(), queryset)


@admin.register(SupportRequest)
class SupportRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["reference", "created_at", "email", "checker", "settlement_id", "email_status"]
    list_filter = [EmailFilter]
    search_fields = ["reference", "email", "description", "settlement_id", "error_message"]
    list_select_related = ["run__checker"]
    readonly_fields = [
        "reference",
        "run_link",
        "email",
        "description",
        "error_message",
        "settlement_id",
        "recording_url",
        "created_at",
        "email_status",
        "email_error",
    ]
    fields = readonly_fields
    actions = ["email_support_again"]

    @admin.display(description="Checker")
    def checker(self, obj):
        return obj.run.checker

    @admin.display(description="Run")
    def run_link(self, obj):
        url = reverse("admin:troubleshoot_run_change", args=[obj.run_id])
        return format_html('<a href="{}">{}</a>', url, obj.run)

    @admin.display(description="Email to support")
    def email_status(self, obj):
        if obj.emailed_at:
            return f"Sent {date_format(obj.emailed_at, 'DATETIME_FORMAT')}"
        if obj.email_attempts:
            return f"Not sent: failed {obj.email_attempts} time(s), see the last error"
        return "Queued"

    @admin.action(description="Email the support inbox again (unsent requests)", permissions=["view"])
    def email_support_again(self, request, queryset):
        unsent = list(queryset.filter(emailed_at__isnull=True).values_list("pk", flat=True))
        for pk in unsent:
            email_support.enqueue(pk)
        self.message_user(request, f"Queued {len(unsent)} email(s) to the support inbox.")
