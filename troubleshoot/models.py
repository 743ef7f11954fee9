"""Content (categories, articles, checkers with their published versions and draft steps) and the outcome log.

A checker's steps, answers and links (Step, Choice, StepLink) are its **draft**: editors change them freely and no
seller ever sees them. Publishing freezes the draft into a `CheckerVersion`, rows that are only ever added, and
points `Checker.live_version` at it. Sellers walk versions: a run keeps the version it started on (`PROTECT`) and
each answer names the step key and answer number in that version, plus the texts the seller read.
"""

import re
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import slugify

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


def published(through: str = "") -> models.Q:
    """What sellers may see of checkers and articles: listed, and with a published version to walk or read.
    `through`: the relation that reaches them from another model ("checker__")."""
    return models.Q(**{f"{through}is_published": True, f"{through}live_version__isnull": False})


class ArticleQuerySet(models.QuerySet):
    def published(self):
        """What sellers may see: listed, and with a published version to read."""
        return self.filter(published())


class Platform(models.TextChoices):
    """The accounting platforms the integration connects to: a seller uses one of them."""

    XERO = "xero", "Xero"
    QUICKBOOKS = "quickbooks", "QuickBooks"


def for_platform(platform: str, through: str = "") -> models.Q:
    """Checkers that apply to `platform` (every checker when it is unknown, ""); `through` as in `published`."""
    if platform not in Platform.values:
        return models.Q()
    return models.Q(**{f"{through}platforms__in": [Checker.Platforms.BOTH, platform]})


def error_text_key(text: str) -> str:
    """An error text as search matches a pasted one: case, punctuation and spacing aside (dashes and underscores
    stay: error texts use them). Two texts with the same key find the same checkers."""
    return " ".join(_NOT_ERROR_TEXT.sub(" ", text.lower()).split())


_NOT_ERROR_TEXT = re.compile(r"[^\w\-]+")


class CheckerQuerySet(models.QuerySet):
    def published(self):
        """What sellers may see: listed, and with a published version to walk."""
        return self.filter(published())

    def for_platform(self, platform: str):
        """Those that apply to `platform`: all of them when it is unknown ("")."""
        return self.filter(for_platform(platform))

    def sharing_error_texts(self, texts: list[str]) -> list[tuple["Checker", str]]:
        """The checkers among these that have one of `texts` as an error text, each with the text:
        a seller who pastes it finds both, and its runs and statistics split between them. One query: the
        database finds the checkers holding each text's longest word, the exact match is checked here."""
        wanted = {error_text_key(text): text for text in texts if error_text_key(text)}
        if not wanted:
            return []
        holding = Q()
        for key in wanted:
            holding |= Q(signatures__icontains=max(key.split(), key=len))
        found = []
        for other in self.filter(holding).order_by("title", "pk"):
            keys = {error_text_key(line) for line in other.signature_list}
            found.extend((other, text) for key, text in wanted.items() if key in keys)
        return found


class Checker(models.Model):
    """A guided check for one symptom: a branching set of steps that ends in resolved or escalate."""

    class Platforms(models.TextChoices):
        BOTH = "both", "Xero and QuickBooks"
        XERO = Platform.XERO.value, "Xero only"
        QUICKBOOKS = Platform.QUICKBOOKS.value, "QuickBooks only"

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
    platforms = models.CharField(
        max_length=10,
        choices=Platforms.choices,
        default=Platforms.BOTH,
        help_text="The accounting platforms this check is for. A seller of another one is told it isn't for them, "
        "and search and browse narrowed to their platform leave it out.",
    )
    is_published = models.BooleanField(
        "listed",
        default=True,
        help_text="Shown to sellers once a version is published. Untick to hide it without touching its versions.",
    )
    position = models.PositiveIntegerField(default=0, help_text="Order within its category.")
    live_version = models.ForeignKey(
        "CheckerVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        help_text="The published version new runs walk. Changes only by publishing.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = CheckerQuerySet.as_manager()

    class Meta:
        ordering = ["category__position", "position", "title"]
        permissions = [("publish_checker", "Can publish a checker's draft and restore old versions")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("troubleshoot:checker", args=[self.slug])

    @property
    def signature_list(self) -> list[str]:
        return [line.strip() for line in self.signatures.splitlines() if line.strip()]

    @property
    def platform_list(self) -> list[str]:
        """The platforms this check is for, as content files list them (`[xero, quickbooks]`)."""
        return platform_list(self.platforms)

    def applies_to(self, platform: str) -> bool:
        """Whether this check is for `platform` (a seller whose platform is unknown, "", may walk any)."""
        return platform not in Platform.values or self.platforms in (self.Platforms.BOTH, platform)


def platform_list(platforms: str) -> list[str]:
    """A checker's `platforms` value as the list content files and versions hold."""
    return list(Platform.values) if platforms == Checker.Platforms.BOTH else [platforms]


def platforms_value(listed: list[str]) -> str:
    """The `platforms` value of a list of platforms (`platform_list` reversed); every platform, or none, is both."""
    chosen = [p for p in Platform.values if p in listed]
    return chosen[0] if len(chosen) == 1 else Checker.Platforms.BOTH


class CheckerVersion(models.Model):
    """A published checker, frozen: rows are only ever added, and runs keep the one they walked."""

    checker = models.ForeignKey(Checker, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(help_text="1, 2, 3… per checker, in the order they were published.")
    data = models.JSONField(
        help_text="The checker exactly as its content file says it (see content/README.md): one format everywhere."
    )
    note = models.CharField(max_length=200, blank=True, help_text="What changed and why, for the history.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["checker", "-number"]
        constraints = [models.UniqueConstraint(fields=["checker", "number"], name="version_number_unique")]

    def __str__(self) -> str:
        return f"{self.data.get('slug', self.checker_id)} version {self.number}"


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


def cut_at_word(slug: str, length: int) -> str:
    """`slug` no longer than `length`, cut after a whole word (a dash) where one fits, not inside a word."""
    if len(slug) <= length:
        return slug
    head, dash, _ = slug[: length + 1].rpartition("-")
    return head.strip("-") if dash and head.strip("-") else slug[:length]


def key_from_title(title: str, taken: set[str], length: int = 60) -> str:
    """A step key suggested by its title: its words as a slug, cut at a word, and not one of `taken`."""
    base = cut_at_word(slugify(title), length) or "step"
    key, n = base, 2
    while key in taken:
        suffix = f"-{n}"
        key, n = cut_at_word(base, length - len(suffix)) + suffix, n + 1
    return key


class Step(models.Model):
    """A step of a checker's draft. Sellers never see it until the draft is published."""

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
    platform = models.CharField(
        max_length=10,
        choices=Platform.choices,
        blank=True,
        help_text='Only on a "Which do you use?" step, one answer per platform: a seller whose platform is known '
        "goes this way without being asked.",
    )

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(outcome="next") & Q(next_step__isnull=False))
                | (Q(outcome__in=["resolved", "escalate"]) & Q(next_step__isnull=True)),
                name="choice_next_step_only_when_next",
                violation_error_message="An answer either goes to another step (choose which) or ends the run.",
            )
        ]

    def __str__(self) -> str:
        return self.label

    def clean(self):
        # An ending needs no next step: a leftover choice in the editor is dropped rather than refused.
        if self.outcome != self.Outcome.NEXT:
            self.next_step = None
        elif self.next_step_id is None and self.next_step is None:  # a step added on the same page has no id yet
            raise ValidationError(
                {"next_step": 'Choose the step this answer goes to, or pick "Resolved" or "Escalate".'}
            )

    @property
    def ends_run(self) -> bool:
        return self.outcome != self.Outcome.NEXT


class Article(models.Model):
    """A help article. Its title, summary and body here are the draft; sellers read its live version."""

    slug = models.SlugField(unique=True, help_text="Part of the URL /articles/<slug>/.")
    title = LineField(max_length=200)
    summary = LineField(max_length=300, blank=True, help_text="Shown in lists and search.")
    body = models.TextField(help_text="Markdown. Scripts and unsafe links are stripped when shown.")
    body_html = models.TextField(blank=True, editable=False)
    category = models.ForeignKey(Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="articles")
    checkers = models.ManyToManyField(
        Checker, blank=True, related_name="articles", help_text="Checkers this article covers."
    )
    is_published = models.BooleanField(
        "listed",
        default=True,
        help_text="Shown to sellers once a version is published. Untick to hide it without touching its versions.",
    )
    live_version = models.ForeignKey(
        "ArticleVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        help_text="The published version sellers read. Changes only by publishing.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        permissions = [("publish_article", "Can publish an article's draft and restore old versions")]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        self.body_html = render_markdown(self.body)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("troubleshoot:article", args=[self.slug])

    @property
    def live(self) -> dict:
        """The published version's content-file dict (title, summary, body…): what sellers read."""
        return self.live_version.data if self.live_version_id else {}


class ArticleVersion(models.Model):
    """A published article, frozen: rows only ever added. `data` is the article's content-file dict."""

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(help_text="1, 2, 3… per article, in the order they were published.")
    data = models.JSONField(help_text="The article exactly as its content file says it (front matter and body).")
    note = models.CharField(max_length=200, blank=True, help_text="What changed and why, for the history.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["article", "-number"]
        constraints = [models.UniqueConstraint(fields=["article", "number"], name="article_version_number_unique")]

    def __str__(self) -> str:
        return f"{self.data.get('slug', self.article_id)} version {self.number}"


class ReplacedDraft(models.Model):
    """A draft that restoring an old version (or bringing back another replaced draft) replaced while it held work
    no version has: kept so its editor can bring it back. Rows are only added; `brought_back_at` says it was."""

    checker = models.ForeignKey(
        Checker, on_delete=models.CASCADE, null=True, blank=True, related_name="replaced_drafts"
    )
    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, null=True, blank=True, related_name="replaced_drafts"
    )
    data = models.JSONField(
        help_text="The draft as it was: a checker's steps (content-file format), or an article's title, summary "
        "and body."
    )
    replaced_by = models.CharField(max_length=120, help_text='What replaced it, e.g. "restoring version 2".')
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    brought_back_at = models.DateTimeField(null=True, blank=True, help_text="When it was put back into the draft.")

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(checker__isnull=False, article__isnull=True)
                | Q(checker__isnull=True, article__isnull=False),
                name="replaced_draft_of_one_item",
            )
        ]

    def __str__(self) -> str:
        return f"Draft of {self.checker or self.article} replaced by {self.replaced_by}"


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
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
        help_text="A known incident affecting this checker when the run began.",
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
