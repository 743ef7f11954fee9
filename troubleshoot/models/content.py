"""Content: categories, checkers with their published versions, error codes and draft steps (steps, their action
links and answers), and the seller's platform."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from ..fields import LineField, WebURLField, error_code_format, lines
from ..rendering import render_markdown


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
