"""Articles with their published versions, and the drafts a restore replaced (of a checker or an article)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from ..fields import LineField
from ..rendering import render_markdown
from .content import Category, Checker, published


class ArticleQuerySet(models.QuerySet):
    def published(self):
        """What sellers may see: listed, and with a published version to read."""
        return self.filter(published())


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
