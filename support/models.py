"""What sellers send support (requests, article feedback, the "Still fixed?" emails) and how support handles it (the
request queue).

The review pages (the `review` app) read these beside the outcome log (`troubleshoot.Run`, `troubleshoot.Answer`).
"""

import secrets

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from troubleshoot.fields import LineField, WebURLField


def new_reference() -> str:
    """A short reference a seller can read out: HC- and six characters with no look-alikes."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "HC-" + "".join(secrets.choice(alphabet) for _ in range(6))


class SupportRequestQuerySet(models.QuerySet):
    def from_email(self, email: str):
        """Requests sent from `email`, whatever its case: an equality on the lower-cased column, which its index
        (`supportrequest_email_lower`) answers on SQLite and PostgreSQL alike (`iexact` is a LIKE on SQLite and
        `UPPER(…)` on PostgreSQL, which that index doesn't serve)."""
        return self.alias(email_lower=Lower("email")).filter(email_lower=email.lower())


class SupportRequest(models.Model):
    """What a seller sent support when a run escalated (or when a fix didn't hold, or when search had no guide for
    their message), and how support handles it."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

    run = models.OneToOneField(
        "troubleshoot.Run",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="support_request",
        help_text="The seller's walk through a checker; empty when they wrote from a search that found no guide.",
    )
    reference = models.CharField(max_length=12, unique=True, default=new_reference, editable=False)
    email = models.EmailField(help_text="Where support replies.")
    description = models.TextField(max_length=5000, help_text="What happened, in the seller's words.")
    error_message = models.TextField(max_length=2000, blank=True)
    settlement_id = LineField(max_length=100, blank=True)
    recording_url = WebURLField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    emailed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the support inbox was emailed; empty while the email is pending."
    )
    email_attempts = models.PositiveSmallIntegerField(default=0, help_text="Tries at emailing the support inbox.")
    email_error = models.TextField(blank=True, help_text="Why the last try at emailing the support inbox failed.")
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.NEW, help_text="Where the request is in the queue."
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="support_requests",
        help_text="Who in support is handling it.",
    )
    internal_note = models.TextField(
        max_length=5000, blank=True, help_text="For support only; the seller never sees it."
    )
    purged_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When personal data was removed (manage.py purgeruns)."
    )

    objects = SupportRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["emailed_at"], name="supportrequest_emailed"),
            models.Index(fields=["status", "created_at"], name="supportrequest_queue"),
            models.Index(fields=["created_at"], name="supportrequest_created"),
            # "Assigned to me" in each tab, newest first.
            models.Index(fields=["assignee", "status", "created_at"], name="supportrequest_assignee"),
            # The queue's search by a seller's email, whatever its case (`SupportRequestQuerySet.from_email`).
            models.Index(Lower("email"), name="supportrequest_email_lower"),
        ]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args, **kwargs):
        """Save; a new request whose random reference is already taken draws another (32⁶ references: at 60,000
        requests two of them sharing one is more likely than not)."""
        if not self._state.adding:
            return super().save(*args, **kwargs)
        for attempt in range(5):
            try:
                with transaction.atomic():
                    return super().save(*args, **kwargs)
            except IntegrityError:
                taken = SupportRequest.objects.filter(reference=self.reference).exists()
                if not taken or attempt == 4:
                    raise
                self.reference = new_reference()


class ArticleFeedback(models.Model):
    """A seller's "Was this helpful?" on an article, against the version they read."""

    article = models.ForeignKey("troubleshoot.Article", on_delete=models.PROTECT, related_name="feedback")
    version = models.ForeignKey(
        "troubleshoot.ArticleVersion", on_delete=models.PROTECT, related_name="feedback", null=True, blank=True
    )
    helpful = models.BooleanField(help_text="Yes or no, as the seller answered.")
    comment = models.TextField(max_length=1000, blank=True, help_text="What was missing, in the seller's words.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["helpful", "created_at"], name="feedback_helpful_created")]
        verbose_name_plural = "article feedback"

    def __str__(self) -> str:
        return f"{'helpful' if self.helpful else 'not helpful'}: {self.article_id}"


class FollowUpEmail(models.Model):
    """The "Still fixed?" email to one seller: queued by `manage.py sendfollowups`, sent by the task worker, with its
    tries recorded like a support request's email (a failed send is retried, and shown to staff in the admin)."""

    run = models.OneToOneField("troubleshoot.Run", on_delete=models.CASCADE, related_name="followup_email_sent")
    created_at = models.DateTimeField(default=timezone.now, help_text="When the email was queued.")
    emailed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the seller was emailed; empty while the email is pending."
    )
    email_attempts = models.PositiveSmallIntegerField(default=0, help_text="Tries at emailing the seller.")
    email_error = models.TextField(blank=True, help_text="Why the last try at emailing the seller failed.")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["emailed_at"], name="followupemail_emailed")]
        verbose_name = "follow-up email"

    def __str__(self) -> str:
        return f"follow-up email for {self.run}"
