"""The search index, what staff teach it (phrasings, synonyms), and what sellers looked for (the search log).

The index is a table of documents, one per published checker or article, with the text split by weight. The
database keeps a full-text index over it: on PostgreSQL the `vector` column (written with each document, a GIN
index over it), on SQLite an FTS5 table kept by triggers (both in the migrations, see `backends.py`). Rows here are
derived data: `manage.py reindex` rebuilds them all from the content.
"""

import uuid

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils import timezone


class Document(models.Model):
    """One searchable checker or article. Written only by `search.index`."""

    class Kind(models.TextChoices):
        CHECKER = "checker", "Checker"
        ARTICLE = "article", "Article"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    checker = models.OneToOneField(
        "troubleshoot.Checker", on_delete=models.CASCADE, null=True, blank=True, related_name="search_document"
    )
    article = models.OneToOneField(
        "troubleshoot.Article", on_delete=models.CASCADE, null=True, blank=True, related_name="search_document"
    )
    title = models.TextField(help_text="Weighted highest.")
    keywords = models.TextField(blank=True, help_text="Error texts, error codes and staff phrasings.")
    summary = models.TextField(blank=True, help_text="The symptom or summary.")
    body = models.TextField(blank=True, help_text="Every step's text, question and answers, or the article body.")
    popularity = models.PositiveIntegerField(default=0, help_text="Runs started; breaks ties between equals.")
    vector = SearchVectorField(
        null=True, editable=False, help_text="PostgreSQL: the words by weight, written with the row. Empty on SQLite."
    )
    head = SearchVectorField(
        null=True, editable=False, help_text="PostgreSQL: the same without the body, where candidates are found."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="checker", checker__isnull=False, article__isnull=True)
                | models.Q(kind="article", article__isnull=False, checker__isnull=True),
                name="document_is_one_checker_or_one_article",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.title}"


class Phrase(models.Model):
    """An error code, a known error text or a staff phrasing that finds its document outright when pasted.

    `text` is normalised (see `search.text.normalise`); `first_word` lets a long pasted log fetch only the phrases
    that could occur in it.
    """

    class Kind(models.TextChoices):
        CODE = "code", "Error code"
        SIGNATURE = "signature", "Error text"
        PHRASING = "phrasing", "Phrasing"

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="phrases")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    text = models.CharField(max_length=500)
    original = models.CharField(max_length=500, help_text="As written in the content.")
    first_word = models.CharField(max_length=100, db_index=True)

    def __str__(self) -> str:
        return self.original


class Word(models.Model):
    """The vocabulary of the index: a misspelt word is corrected to the nearest of these."""

    word = models.CharField(max_length=60, unique=True)
    length = models.PositiveSmallIntegerField()

    class Meta:
        indexes = [models.Index(fields=["length", "word"])]

    def __str__(self) -> str:
        return self.word


class Synonym(models.Model):
    """Words sellers use interchangeably: a search for any of them also finds the others."""

    terms = models.CharField(
        max_length=300,
        unique=True,
        help_text='Equivalent words or phrases, separated by commas: "payout, settlement" or "sign in, log in".',
    )

    class Meta:
        ordering = ["terms"]

    def __str__(self) -> str:
        return self.terms

    @property
    def term_list(self) -> list[str]:
        from .text import normalise

        return [term for term in (normalise(t) for t in self.terms.split(",")) if term]


class Phrasing(models.Model):
    """How sellers say it: a phrase staff attach to a checker (often a search that found nothing)."""

    checker = models.ForeignKey("troubleshoot.Checker", on_delete=models.CASCADE, related_name="phrasings")
    text = models.CharField(max_length=300, help_text="In the seller's own words, typos and all.")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        "auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    class Meta:
        ordering = ["checker", "text"]
        constraints = [models.UniqueConstraint(fields=["checker", "text"], name="phrasing_unique_per_checker")]

    def __str__(self) -> str:
        return self.text


class SearchLogQuerySet(models.QuerySet):
    def found_no_guide(self):
        """Searches that found nothing, or nothing likely (the page said "We don't have a guide for this message")."""
        return self.filter(models.Q(result_count=0) | models.Q(confidence=SearchLog.Confidence.NONE))

    def found_a_guide(self):
        return self.exclude(models.Q(result_count=0) | models.Q(confidence=SearchLog.Confidence.NONE))

    def top(self, *, no_guide: bool = False, no_click: bool = False):
        """The most frequent searches (by normalised text), most sellers first.

        `no_guide`: those that found nothing, or nothing likely (only "might be related": the page said "We don't
        have a guide for this message yet"); `no_click`: the others, whose results nobody opened."""
        rows = self.exclude(normalised="")
        if no_guide:
            rows = rows.found_no_guide()
        if no_click:
            rows = rows.found_a_guide().filter(opened_slug="")
        return (
            rows.values("normalised")
            .annotate(
                searches=models.Count("id"),
                query=models.Max("query"),
                results=models.Max("result_count"),
                last=models.Max("created_at"),
            )
            .order_by("-searches", "-last")
        )


class SearchLog(models.Model):
    """One search as a seller made it. As-you-type requests from one search box update the same row."""

    class Source(models.TextChoices):
        HOME = "home", "Home page"
        PAGE = "page", "Search page"
        NOT_FOUND = "404", "Not-found page"
        API = "api", "JSON API"

    class Confidence(models.TextChoices):  # as search.confidence has them
        CERTAIN = "certain", "Certain: an error text or code"
        LIKELY = "likely", "Likely"
        NONE = "none", "None: only might be related"

    # Random: result links carry it so the opened result can be recorded, and it can't be guessed.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    query = models.CharField(max_length=500, help_text="As typed (the first 500 characters).")
    normalised = models.CharField(max_length=500, db_index=True, help_text="Lower case, punctuation removed.")
    result_count = models.PositiveSmallIntegerField(default=0)
    confidence = models.CharField(
        max_length=10,
        choices=Confidence.choices,
        blank=True,
        help_text="How sure the best result was; empty when nothing was found (or logged before confidence).",
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.PAGE)
    opened_kind = models.CharField(max_length=10, blank=True, help_text="What the seller opened from the results.")
    opened_slug = models.CharField(max_length=100, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = SearchLogQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "search"
        verbose_name_plural = "search log"

    def __str__(self) -> str:
        return self.query


class UnknownCode(models.Model):
    """An error code that arrived on /e/<code>/ but no published checker has: content to write.

    `count` is the running total; `days` (UnknownCodeDay) the same arrivals per day, for trends."""

    code = models.CharField(max_length=40, unique=True)
    count = models.PositiveIntegerField(default=0)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-count", "code"]

    def __str__(self) -> str:
        return f"{self.code} ({self.count})"


class UnknownCodeDay(models.Model):
    """How often an unknown code arrived on one day (in the portal's time zone): trends over any period."""

    unknown_code = models.ForeignKey(UnknownCode, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["unknown_code", "day"], name="unknown_code_once_a_day")]
        # The unique constraint's index serves one code's days; periods over every code read by day.
        indexes = [models.Index(fields=["day"], name="unknown_code_day")]

    def __str__(self) -> str:
        return f"{self.unknown_code.code} on {self.day}: {self.count}"
