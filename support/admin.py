"""Support requests and "Still fixed?" follow-up emails in the admin: email status (sent / queued / failing), a filter
for the failing ones and an action to send again, one mixin for both. The queue itself (status, assignee, internal
note) is handled on the review pages under /support/."""

from django.contrib import admin
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html

from helpcenter.admin import ReadOnlyAdminMixin

from .models import ArticleFeedback, FollowUpEmail, SupportRequest
from .tasks import email_followup, email_support


class EmailFilter(admin.SimpleListFilter):
    title = "email"
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


class EmailStatusMixin:
    """The email's status, its filter and an action to queue it again, for a model with `emailed_at`,
    `email_attempts` and `email_error` (what `tasks.send_or_retry` records), sent by the task `email_task`."""

    email_task = None
    list_filter = [EmailFilter]
    actions = ["email_again"]

    @admin.display(description="Email")
    def email_status(self, obj):
        if obj.emailed_at:
            return f"Sent {date_format(obj.emailed_at, 'DATETIME_FORMAT')}"
        if obj.email_attempts:
            return f"Not sent: failed {obj.email_attempts} time(s), see the last error"
        return "Queued"

    @admin.action(description="Email again (unsent ones)", permissions=["view"])
    def email_again(self, request, queryset):
        unsent = list(queryset.filter(emailed_at__isnull=True).values_list("pk", flat=True))
        for pk in unsent:
            self.email_task.enqueue(pk)
        self.message_user(request, f"Queued {len(unsent)} email(s).")


@admin.register(SupportRequest)
class SupportRequestAdmin(EmailStatusMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["reference", "created_at", "email", "checker", "settlement_id", "email_status"]
    email_task = email_support
    search_fields = ["reference", "email", "description", "settlement_id", "error_message"]
    list_select_related = ["run__checker"]
    # The admin's own rendering of a row (its action checkbox, its cells) is what costs at scale, not the query: 50
    # a page, as the review pages, and no count of the whole table beside the filtered one.
    list_per_page = 50
    show_full_result_count = False
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

    @admin.display(description="Checker")
    def checker(self, obj):
        return obj.run.checker if obj.run else "(from a search: no guide)"

    @admin.display(description="Run")
    def run_link(self, obj):
        if obj.run is None:
            return "-"
        url = reverse("admin:troubleshoot_run_change", args=[obj.run_id])
        return format_html('<a href="{}">{}</a>', url, obj.run)


@admin.register(ArticleFeedback)
class ArticleFeedbackAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "article", "helpful", "comment"]
    # Only the articles that have feedback: every article was a link (5,000 of them, 550 KB, 0.2 s a page).
    list_filter = ["helpful", ("article", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["article"]
    date_hierarchy = "created_at"


@admin.register(FollowUpEmail)
class FollowUpEmailAdmin(EmailStatusMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The "Still fixed?" emails to sellers: which were sent, which are failing (retried) and why."""

    list_display = ["created_at", "run_link", "checker", "email_status"]
    list_select_related = ["run__checker"]
    readonly_fields = ["run_link", "created_at", "email_status", "email_attempts", "email_error"]
    fields = readonly_fields
    email_task = email_followup

    @admin.display(description="Checker")
    def checker(self, obj):
        return obj.run.checker

    @admin.display(description="Run")
    def run_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("review:run", args=[obj.run_id]), obj.run)
