"""The outcome log: runs (a seller's walk of one published version) and their answers."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

from .content import Checker, CheckerVersion, Platform


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

    def in_progress(self):
        """Open runs with an answer lately: the rest of the open runs, not abandoned."""
        return self.filter(outcome=Run.Outcome.OPEN, last_activity_at__gte=self.abandon_cutoff())


class FollowUp(models.TextChoices):
    """The seller's answer to "Still fixed?" (confirmed on the page the email's link opens)."""

    FIXED = "fixed", "Still fixed"
    CAME_BACK = "came_back", "It came back"


# What a seller does on a run, each a URL named so under the run's page (`Run.urls`).
RUN_ACTIONS = ["answer", "back", "note", "support", "followup"]


def run_urls(page: str) -> dict[str, str]:
    """The URLs of a run whose page is `page`: the page, and what its forms post to (the paths under it in
    `troubleshoot/urls.py`; a test holds each equal to its reversal)."""
    return {"page": page, **{action: f"{page}{action}/" for action in RUN_ACTIONS}}


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
    # No index of their own on the keys and step keys below: the Meta's indexes lead with the keys where a query
    # needs them, and every index is written again by each step answer's UPDATE (it moves indexed columns).
    checker = models.ForeignKey(Checker, on_delete=models.PROTECT, related_name="runs", db_index=False)
    version = models.ForeignKey(
        CheckerVersion,
        on_delete=models.PROTECT,
        related_name="runs",
        db_index=False,
        help_text="The published version this run walks, start to end, whatever editors publish meanwhile.",
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.DIRECT)
    source_detail = models.CharField(
        max_length=200, blank=True, help_text="The search words or article the seller came from."
    )
    error_code = models.CharField(max_length=40, blank=True, help_text="Code from the link, if any.")
    platform = models.CharField(
        max_length=10,
        choices=Platform.choices,
        blank=True,
        help_text="The seller's accounting platform, from the link, their visit or their answer; blank if unknown.",
    )
    platform_asked = models.BooleanField(
        default=False,
        help_text='The seller told their platform by answering a "Which do you use?" step on this run (its first '
        "one on the path); otherwise it came from the link or the visit, and such steps were answered for them.",
    )
    current_step_key = models.SlugField(
        max_length=60, blank=True, db_index=False, help_text="Key of the step on screen, in the run's version."
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.OPEN)
    end_step_key = models.SlugField(
        max_length=60, blank=True, db_index=False, help_text="Key of the step the run ended at."
    )
    end_step_title = models.CharField(
        max_length=120, blank=True, help_text="The step the run ended at, as it read then."
    )
    fixed_note = models.TextField(max_length=2000, blank=True, help_text="The seller's note on what fixed it.")
    handed_over_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the seller's escalation was handed to support (a support request sent): the run can't be "
        "reopened with Back after that.",
    )
    path = models.TextField(
        blank=True,
        editable=False,
        help_text='The live answers in order, as "step:answer" joined by "/": paths are counted by the review pages.',
    )
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_on = models.DateField(
        editable=False, help_text="The day started_at falls on (set on save): the review pages count runs by day."
    )
    last_activity_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    followup_email = models.EmailField(
        blank=True, help_text='Where to ask "Still fixed?" a few days after a resolved ending (the seller opted in).'
    )
    followup_due = models.DateTimeField(null=True, blank=True, help_text="When to ask.")
    followup_sent_at = models.DateTimeField(null=True, blank=True, help_text="When the question was queued to send.")
    followup_answer = models.CharField(max_length=10, choices=FollowUp.choices, blank=True)
    followup_answered_at = models.DateTimeField(null=True, blank=True)

    objects = RunQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["outcome", "last_activity_at"], name="run_outcome_activity"),
            # Covers the overview's one grouped scan over a range of days, in the order it groups by, so the
            # database reads the index in order and never sorts.
            models.Index(
                fields=[
                    "started_on",
                    "checker",
                    "source",
                    "outcome",
                    "last_activity_at",
                    "followup_answer",
                ],
                name="run_review_overview",
            ),
            # Covers the gap inbox's escalations and abandons: by outcome over a date range, grouped by step.
            models.Index(
                fields=[
                    "outcome",
                    "started_at",
                    "checker",
                    "end_step_key",
                    "current_step_key",
                    "last_activity_at",
                    "end_step_title",
                ],
                name="run_review_steps",
            ),
            models.Index(fields=["checker", "started_at"], name="run_checker_started"),
            # Covers a version's page: its runs over a date range, how each stands, and their ids for the answers.
            models.Index(
                fields=[
                    "version",
                    "started_at",
                    "outcome",
                    "last_activity_at",
                    "current_step_key",
                    "end_step_key",
                    "ended_at",
                    "followup_answer",
                    "id",
                ],
                name="run_version_started",
            ),
            models.Index(
                fields=["followup_due"],
                condition=Q(followup_sent_at__isnull=True) & ~Q(followup_email=""),
                name="run_followup_due",
            ),
        ]

    def __str__(self) -> str:
        return f"run {str(self.id)[:8]}"

    def save(self, *args, **kwargs):
        if self.started_on is None:
            self.started_on = timezone.localdate(self.started_at)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return self.urls["page"]

    @cached_property
    def urls(self) -> dict[str, str]:
        """The run's page and what its forms post to (`run_urls`): reversed once, as the panel links several."""
        return run_urls(reverse("troubleshoot:run", args=[self.checker.slug, self.id]))

    @property
    def status(self) -> str:
        if self.outcome == self.Outcome.OPEN and self.last_activity_at < Run.objects.abandon_cutoff():
            return self.ABANDONED
        return self.outcome

    @property
    def is_open(self) -> bool:
        return self.outcome == self.Outcome.OPEN


# An answer on the run's path now: not withdrawn with Back. The one rule, for filters and conditional counts alike.
LIVE_ANSWER = Q(withdrawn_at__isnull=True)


class AnswerQuerySet(models.QuerySet):
    def live(self):
        """The answers on the run's path now: not withdrawn with Back."""
        return self.filter(LIVE_ANSWER)


class Answer(models.Model):
    """One answer a seller gave during a run: the step and answer in the run's version, and the texts they read."""

    # Indexed by the Meta's indexes, which lead with the run (as every read of a run's answers does).
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="answers", db_index=False)
    step_key = models.SlugField(max_length=60, db_index=False, help_text="The step's key in the run's version.")
    answer_index = models.PositiveSmallIntegerField(help_text="Which of the step's answers (0 is the first).")
    step_title = models.CharField(max_length=120)
    question = models.CharField(max_length=200)
    choice_label = models.CharField(max_length=80)
    answered_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the seller went Back past this answer."
    )
    note = models.CharField(
        max_length=300, blank=True, help_text='What the seller wrote when they said "None of these fit".'
    )

    # `answer_index` of "None of these fit": the seller's situation isn't among the step's answers (escalates).
    NONE_FIT = 999
    NONE_FIT_LABEL = "None of these fit"

    objects = AnswerQuerySet.as_manager()

    class Meta:
        ordering = ["answered_at", "pk"]
        indexes = [
            # The gap inbox's "None of these fit" over a date range (a partial index would go unused: SQLite can't
            # match a bound parameter against its condition).
            models.Index(fields=["answer_index", "answered_at"], name="answer_index_answered"),
            # Covers a version's step counts: a run's answers, live or withdrawn, by step and answer.
            models.Index(fields=["run", "withdrawn_at", "step_key", "answer_index"], name="answer_step_counts"),
        ]
        constraints = [
            # A double-submitted answer can never be recorded twice on a run's live path.
            models.UniqueConstraint(
                fields=["run", "step_key"],
                condition=Q(withdrawn_at__isnull=True),
                name="one_live_answer_per_step",
            )
        ]

    def __str__(self) -> str:
        return f"{self.step_title}: {self.choice_label}"
