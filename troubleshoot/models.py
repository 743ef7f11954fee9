"""Content (categories, articles, checkers with their steps and answers) and the outcome log (runs).

Content is edited in the admin or imported from `content/`; the log must survive any content edit, so a run keeps
text snapshots of what the seller saw and its links to content are `SET_NULL` (steps) or `PROTECT` (checker).
"""

import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.urls import reverse
from django.utils import timezone

from .fields import LineField, WebURLField, error_code_format, lines
from .rendering import render_markdown


class Category(models.Model):
    slug = models.SlugField(unique=True, help_text="Stable identifier used in content files.")
    name = LineField(max_length=80, help_text="Heading on the home page, in sellers' words.")
    summary = LineField(max_length=200, blank=True, help_text="One line under the heading.")
    position = models.PositiveIntegerField(default=0, help_text="Lower numbers come first.")

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class PublishedQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)


class Checker(models.Model):
    """A guided check for one symptom: a branching set of steps that ends in resolved or escalate."""

    slug = models.SlugField(
        unique=True,
        help_text="Part of the URL /troubleshoot/<slug>/. Emails link to it: don't change it once live.",
    )
    title = LineField(max_length=120, help_text="The symptom as a seller would name it.")
    symptom = LineField(
        max_length=300,
        help_text="One or two sentences in the seller's words, shown on the home page.",
    )
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        related_name="checkers",
        help_text="Group on the home page.",
    )
    signatures = models.TextField(
        blank=True,
        validators=[lines],
        help_text="Error texts exactly as sellers see them, one per line. Pasting one into search finds this.",
    )
    support_hint = models.TextField(
        blank=True,
        help_text="What support needs when this check escalates (settlement ID, exact message, recording…).",
    )
    is_published = models.BooleanField(default=True, help_text="Unpublished checkers are hidden.")
    position = models.PositiveIntegerField(default=0, help_text="Order within its category.")
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Goes up whenever its steps or answers change."
    )
    fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PublishedQuerySet.as_manager()

    class Meta:
        ordering = ["category__position", "position", "title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("troubleshoot:checker", args=[self.slug])

    @property
    def signature_list(self) -> list[str]:
        return [line.strip() for line in self.signatures.splitlines() if line.strip()]


class ErrorCode(models.Model):
    """A short code our emails and app link with: /e/<code>/ lands on the checker."""

    code = models.CharField(
        max_length=40,
        unique=True,
        validators=[error_code_format],
        help_text="Stored upper-case; /e/<code>/ links to the checker. Never reuse a code.",
    )
    checker = models.ForeignKey(Checker, on_delete=models.CASCADE, related_name="error_codes")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def save(self, *args, **kwargs):
        self.code = self.code.strip().upper()
        super().save(*args, **kwargs)


class Step(models.Model):
    checker = models.ForeignKey(Checker, on_delete=models.CASCADE, related_name="steps")
    key = models.SlugField(max_length=60, help_text="Unique within the checker; content files refer to steps by key.")
    position = models.PositiveIntegerField(
        default=0, help_text="The step with the lowest position is where every run starts."
    )
    title = LineField(max_length=120, help_text="Short heading: what this step is about.")
    body = models.TextField(blank=True, help_text="Markdown: what to do or look at.")
    body_html = models.TextField(blank=True, editable=False)
    question = LineField(max_length=200, help_text="The question the answers reply to.")

    class Meta:
        ordering = ["checker", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["checker", "key"], name="step_key_unique_in_checker")]

    def __str__(self) -> str:
        return f"{self.checker.slug}: {self.title}" if self.checker_id else self.title

    def save(self, *args, **kwargs):
        self.body_html = render_markdown(self.body)
        super().save(*args, **kwargs)


class StepLink(models.Model):
    """An action button on a step, opened in a new tab (e.g. "Open Xero connected apps")."""

    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="links")
    label = LineField(max_length=80)
    url = WebURLField(max_length=500, help_text="http or https only.")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.label


class Choice(models.Model):
    """One answer button on a step: it leads to another step or ends the run."""

    class Outcome(models.TextChoices):
        NEXT = "next", "Go to another step"
        RESOLVED = "resolved", "Resolved: end the run"
        ESCALATE = "escalate", "Escalate: offer a support request"

    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="choices")
    label = LineField(max_length=80, help_text='The button text, e.g. "Yes".')
    position = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.NEXT)
    next_step = models.ForeignKey(
        Step,
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="incoming",
        help_text='The step this answer leads to; only with "Go to another step".',
    )

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(outcome="next") & Q(next_step__isnull=False))
                | (Q(outcome__in=["resolved", "escalate"]) & Q(next_step__isnull=True)),
                name="choice_next_step_only_when_next",
            )
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def ends_run(self) -> bool:
        return self.outcome != self.Outcome.NEXT


class Article(models.Model):
    slug = models.SlugField(unique=True, help_text="Part of the URL /articles/<slug>/.")
    title = LineField(max_length=200)
    summary = LineField(max_length=300, blank=True, help_text="Shown in lists and search.")
    body = models.TextField(help_text="Markdown. Scripts and unsafe links are stripped when shown.")
    body_html = models.TextField(blank=True, editable=False)
    category = models.ForeignKey(Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="articles")
    checkers = models.ManyToManyField(
        Checker, blank=True, related_name="articles", help_text="Checkers this article covers."
    )
    is_published = models.BooleanField(default=True, help_text="Drafts are hidden from sellers.")
    updated_at = models.DateTimeField(auto_now=True)

    objects = PublishedQuerySet.as_manager()

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        self.body_html = render_markdown(self.body)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("troubleshoot:article", args=[self.slug])


class RunQuerySet(models.QuerySet):
    def abandon_cutoff(self):
        return timezone.now() - timedelta(minutes=settings.HELPCENTER_ABANDON_AFTER_MINUTES)

    def with_status(self):
        """Annotate `effective_status`: the stored outcome, or "abandoned" for an open run with no recent answer."""
        return self.annotate(
            effective_status=Case(
                When(
                    outcome=Run.Outcome.OPEN,
                    last_activity_at__lt=self.abandon_cutoff(),
                    then=Value(Run.ABANDONED),
                ),
                default=F("outcome"),
                output_field=models.CharField(),
            )
        )

    def abandoned(self):
        return self.filter(outcome=Run.Outcome.OPEN, last_activity_at__lt=self.abandon_cutoff())


class Run(models.Model):
    """One seller's walk through a checker: logged for support review, reopenable by its URL."""

    class Source(models.TextChoices):
        DIRECT = "direct", "Direct"
        HOME = "home", "Home page"
        SEARCH = "search", "Search"
        EMAIL = "email", "Error email"
        APP = "app", "Link from the app"
        ARTICLE = "article", "Article"

    class Outcome(models.TextChoices):
        OPEN = "open", "In progress"
        RESOLVED = "resolved", "Resolved"
        ESCALATED = "escalated", "Escalated"

    ABANDONED = "abandoned"

    # Random, so a run's URL can be shared with support but not guessed.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    checker = models.ForeignKey(Checker, on_delete=models.PROTECT, related_name="runs")
    checker_version = models.PositiveIntegerField(help_text="The checker's version when the run began.")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.DIRECT)
    source_detail = models.CharField(
        max_length=200, blank=True, help_text="The search words or article the seller came from."
    )
    error_code = models.CharField(max_length=40, blank=True, help_text="Code from the link, if any.")
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
        help_text="A known incident affecting this checker when the run began.",
    )
    current_step = models.ForeignKey(Step, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.OPEN)
    end_step = models.ForeignKey(Step, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    end_step_title = models.CharField(
        max_length=120, blank=True, help_text="The step the run ended at, as it read then."
    )
    fixed_note = models.TextField(max_length=2000, blank=True, help_text="The seller's note on what fixed it.")
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_activity_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = RunQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["outcome", "last_activity_at"])]

    def __str__(self) -> str:
        return f"{self.checker.slug} run {str(self.id)[:8]}"

    def get_absolute_url(self) -> str:
        return reverse("troubleshoot:run", args=[self.checker.slug, self.id])

    @property
    def status(self) -> str:
        if self.outcome == self.Outcome.OPEN and self.last_activity_at < Run.objects.abandon_cutoff():
            return self.ABANDONED
        return self.outcome

    @property
    def is_open(self) -> bool:
        return self.outcome == self.Outcome.OPEN


class Answer(models.Model):
    """One answer a seller gave during a run, with what the step said at the time."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="answers")
    step = models.ForeignKey(Step, on_delete=models.SET_NULL, null=True, related_name="+")
    choice = models.ForeignKey(Choice, on_delete=models.SET_NULL, null=True, related_name="+")
    step_title = models.CharField(max_length=120)
    question = models.CharField(max_length=200)
    choice_label = models.CharField(max_length=80)
    answered_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the seller went Back past this answer."
    )

    class Meta:
        ordering = ["answered_at", "pk"]
        constraints = [
            # A double-submitted answer can never be recorded twice on a run's live path.
            models.UniqueConstraint(
                fields=["run", "step"],
                condition=Q(withdrawn_at__isnull=True),
                name="one_live_answer_per_step",
            )
        ]

    def __str__(self) -> str:
        return f"{self.step_title}: {self.choice_label}"


def new_reference() -> str:
    """A short reference a seller can read out: HC- and six characters with no look-alikes."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "HC-" + "".join(secrets.choice(alphabet) for _ in range(6))


class SupportRequest(models.Model):
    """What a seller sent support when a run escalated."""

    run = models.OneToOneField(Run, on_delete=models.CASCADE, related_name="support_request")
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

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["emailed_at"])]

    def __str__(self) -> str:
        return self.reference
