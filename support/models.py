"""What sellers send support (requests, article feedback) and how support handles it (the request queue).

The review pages read these and the outcome log (`troubleshoot.Run`, `troubleshoot.Answer`) through `stats.py`.
"""

import secrets

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from troubleshoot.fields import LineField, WebURLField


def new_reference() -> str:
    """A short reference a seller can read out: HC- and six characters with no look-alikes."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "HC-" + "".join(secrets.choice(alphabet) for _ in range(6))


class SupportRequest(models.Model):
    """What a seller sent support when a run escalated (or when a fix didn't hold), and how support handles it."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

    run = models.OneToOneField("troubleshoot.Run", on_delete=models.CASCADE, related_name="support_request")
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

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["emailed_at"], name="supportrequest_emailed"),
            models.Index(fields=["status", "created_at"], name="supportrequest_queue"),
            models.Index(fields=["created_at"], name="supportrequest_created"),
        ]
        permissions = [("review", "Can read the support review pages (/support/)")]

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


# Day-by-day counts (see rollups.py), filled by the scheduled job `manage.py rollupruns` and only read by the review
# pages. Their foreign keys have no index of their own: SQLite would scan one in key order rather than search a day
# range.


class FillState(models.Model):
    """Up to when the Day… tables are filled (after Zulip's analytics `FillState`): the job fills them on from
    `filled_through`, and the review pages read the days up to it from them, the days after it from the runs. One
    row: every Day… table is filled from the same runs in one transaction, so they are always filled through the same
    day."""

    DAY_TABLES = "day tables"

    name = models.CharField(max_length=40, unique=True, help_text="What is filled: the Day… tables.")
    filled_through = models.DateField(help_text="The last day whose runs the Day… tables hold.")
    settled_before = models.DateTimeField(
        help_text="Every run of the filled days had its last activity before this when counted; a run active since "
        "(a seller back on an old run) or with a follow-up answer since has its day counted again by the next fill."
    )
    filled_at = models.DateTimeField(help_text="When the job last filled the tables.")

    def __str__(self) -> str:
        return f"{self.name} filled through {self.filled_through} (at {self.filled_at:%Y-%m-%d %H:%M})"


class DayOutcome(models.Model):
    """Runs of a settled day by checker, version, source and outcome (resolved, escalated or abandoned: a settled
    day has no run in progress), with their follow-up answers."""

    day = models.DateField()
    checker = models.ForeignKey("troubleshoot.Checker", on_delete=models.CASCADE, related_name="+", db_index=False)
    version = models.ForeignKey(
        "troubleshoot.CheckerVersion", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    source = models.CharField(max_length=10)
    status = models.CharField(max_length=10)
    runs = models.PositiveIntegerField()
    confirmed = models.PositiveIntegerField()
    came_back = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(
                fields=["day", "source", "status", "runs", "confirmed", "came_back"], name="dayoutcome_source"
            ),
            models.Index(
                fields=["day", "checker", "status", "runs", "confirmed", "came_back"], name="dayoutcome_checker"
            ),
            models.Index(fields=["version", "day"], name="dayoutcome_version"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.checker_id} {self.source} {self.status}: {self.runs}"


class DaySource(models.Model):
    """Runs of a settled day by source and outcome: DayOutcome summed over checkers and versions, so that the
    overview's days and sources read a few rows a day (at 5,000 checkers DayOutcome has about 1,500 a day)."""

    day = models.DateField()
    source = models.CharField(max_length=10)
    status = models.CharField(max_length=10)
    runs = models.PositiveIntegerField()
    confirmed = models.PositiveIntegerField()
    came_back = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["day", "source", "status", "runs", "confirmed", "came_back"], name="daysource_day")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.source} {self.status}: {self.runs}"


class DayChecker(models.Model):
    """Runs of a settled day by checker, their outcomes side by side (a settled day has no run in progress), with
    their follow-up answers: DayOutcome summed over versions and sources, so that the overview ranks checkers from
    one row per checker and day (at 5,000 checkers DayOutcome has nearly two)."""

    day = models.DateField()
    checker = models.ForeignKey("troubleshoot.Checker", on_delete=models.CASCADE, related_name="+", db_index=False)
    resolved = models.PositiveIntegerField()
    escalated = models.PositiveIntegerField()
    abandoned = models.PositiveIntegerField()
    confirmed = models.PositiveIntegerField()
    came_back = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(
                fields=["day", "checker", "resolved", "escalated", "abandoned", "confirmed", "came_back"],
                name="daychecker_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.checker_id}: {self.resolved}/{self.escalated}/{self.abandoned}"


class DayAnswer(models.Model):
    """Answers given in the runs of a settled day, by version, step and answer: live, and withdrawn with Back."""

    day = models.DateField()
    version = models.ForeignKey(
        "troubleshoot.CheckerVersion", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    step_key = models.CharField(max_length=60)
    # The step's title in that version (what the gap inbox's "None of these fit" rows are titled by); the database's
    # default covers rows counted before it was added, which migration 0005 has counted again.
    step_title = models.CharField(max_length=120, default="", db_default="")
    answer_index = models.PositiveSmallIntegerField()
    live = models.PositiveIntegerField()
    withdrawn = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(
                fields=["version", "day", "step_key", "answer_index", "live", "withdrawn"], name="dayanswer_version"
            ),
            # The gap inbox's "None of these fit" (answer 999) over a range of days, without the other answers.
            models.Index(fields=["answer_index", "day", "version", "step_key", "live"], name="dayanswer_index_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.version_id} {self.step_key}:{self.answer_index}"


class DayPosition(models.Model):
    """Runs of a settled day by where they stand: the step they ended at (resolved, escalated, with its title as it
    read then) or were left at (abandoned)."""

    day = models.DateField()
    checker = models.ForeignKey("troubleshoot.Checker", on_delete=models.CASCADE, related_name="+", db_index=False)
    version = models.ForeignKey(
        "troubleshoot.CheckerVersion", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    status = models.CharField(max_length=10)
    step_key = models.CharField(max_length=60)
    step_title = models.CharField(max_length=120)
    runs = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["version", "day", "status", "step_key", "runs"], name="dayposition_version"),
            models.Index(
                fields=["status", "day", "checker", "step_key", "step_title", "runs"], name="dayposition_status"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.version_id} {self.status} at {self.step_key}: {self.runs}"


class DayPath(models.Model):
    """Escalated runs of a settled day by version and path (their live answers in order)."""

    day = models.DateField()
    version = models.ForeignKey(
        "troubleshoot.CheckerVersion", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    path = models.TextField()
    runs = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["version", "day"], name="daypath_version")]

    def __str__(self) -> str:
        return f"{self.day} {self.version_id} {self.path}: {self.runs}"


class DayDuration(models.Model):
    """Runs of a settled day that ended (resolved or escalated), by version and whole seconds from start to end: the
    median time to an ending is read from these counts."""

    day = models.DateField()
    version = models.ForeignKey(
        "troubleshoot.CheckerVersion", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    seconds = models.PositiveIntegerField()
    runs = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["version", "day", "seconds", "runs"], name="dayduration_version")]

    def __str__(self) -> str:
        return f"{self.day} {self.version_id} {self.seconds} s: {self.runs}"
