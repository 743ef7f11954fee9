"""What is searchable, and keeping the index in step with the content.

`checker_text` is the ONE place that says which text of a checker is indexed (its listing and its live version's
steps, never the draft), and `searchable_checkers` which checkers are. The save signals in `signals.py` call
`reindex_checkers` / `reindex_articles` whenever a checker, article or error code is saved and when a version is
published, wherever that happens (admin, `loadcontent`, publish); `rebuild` (`manage.py reindex`) recreates all.
The database's full-text index follows the documents written here: on PostgreSQL each batch of documents has its
`vector` set from its columns (`VECTOR`), on SQLite the FTS5 table follows by triggers (migration 0002).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchVector
from django.db import connection, transaction
from django.db.models import Count, Prefetch, QuerySet

from helpcenter.contentcache import content_changed
from troubleshoot.models import Article, ArticleVersion, Checker, CheckerVersion, ErrorCode, published

from .models import Document, Phrase, Word
from .text import normalise

_VOCABULARY_WORD = re.compile(r"[^\W\d_]{4,40}")
# PostgreSQL's stored vectors: the fields by weight, as FTS5's columns are on SQLite (`backends.WEIGHTS`). The head
# leaves out the body: small enough to stay in the row, it is where candidates are found and ranked.
HEAD = (
    SearchVector("title", weight="A", config="english")
    + SearchVector("keywords", weight="B", config="english")
    + SearchVector("summary", weight="C", config="english")
)
VECTOR = HEAD + SearchVector("body", weight="D", config="english")


@dataclass
class IndexText:
    """A document's text by weight, and the phrases that find it outright."""

    title: str
    keywords: list[str] = field(default_factory=list)
    summary: str = ""
    body: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)
    phrasings: list[str] = field(default_factory=list)


def searchable_checkers() -> QuerySet[Checker]:
    """The checkers sellers may find: listed, with a published version."""
    return Checker.objects.published()


def searchable_articles() -> QuerySet[Article]:
    return Article.objects.published()


def searchable_documents() -> QuerySet[Document]:
    """The documents whose checker or article is searchable, by the same rule, read through the join (content
    unpublished behind the index's back, by a bulk update, never shows)."""
    return Document.objects.filter(published("checker__") | published("article__"))


def _checkers_with_text(queryset: QuerySet[Checker]) -> QuerySet[Checker]:
    return (
        queryset.select_related("live_version")
        .prefetch_related(Prefetch("error_codes", queryset=ErrorCode.objects.order_by("code")), "phrasings")
        .annotate(run_total=Count("runs", distinct=True))
    )


def checker_text(checker: Checker, version: CheckerVersion | None = None) -> IndexText:
    """Everything a seller might recall of a checker: its listing as it stands (title, symptom, error texts and
    codes), staff phrasings, and every step's title, text, question and answers in the live version (or in
    `version`, the one being published). Drafts are never indexed."""
    data = (version or checker.live_version).data
    body = []
    for step in data.get("steps", []):
        body += [step.get("title", ""), step.get("body", ""), step.get("question", "")]
        body += [answer.get("label", "") for answer in step.get("answers", [])]
    codes = [code.code for code in checker.error_codes.all()]
    phrasings = [phrasing.text for phrasing in checker.phrasings.all()]
    return IndexText(
        title=checker.title,
        keywords=[*checker.signature_list, *codes, *phrasings],
        summary=checker.symptom,
        body=body,
        codes=codes,
        signatures=checker.signature_list,
        phrasings=phrasings,
    )


def article_text(article: Article, version: ArticleVersion | None = None) -> IndexText:
    """An article as sellers read it: its live (or about-to-be-live) version."""
    data = (version or article.live_version).data
    return IndexText(title=data.get("title", ""), summary=data.get("summary", ""), body=[data.get("body", "")])


def _write(kind: str, owner, text: IndexText, popularity: int = 0) -> None:
    document, _ = Document.objects.update_or_create(
        **{kind: owner},
        defaults={
            "kind": kind,
            "title": text.title,
            "keywords": "\n".join(text.keywords),
            "summary": text.summary,
            "body": "\n".join(part for part in text.body if part),
            "popularity": popularity,
        },
    )
    document.phrases.all().delete()
    phrases = [
        Phrase(document=document, kind=phrase_kind, text=normal[:500], original=original[:500], first_word=first)
        for phrase_kind, originals in (
            (Phrase.Kind.CODE, text.codes),
            (Phrase.Kind.SIGNATURE, text.signatures),
            (Phrase.Kind.PHRASING, text.phrasings),
        )
        for original in originals
        if (normal := normalise(original)) and (first := normal.split()[0][:100])
    ]
    Phrase.objects.bulk_create(phrases)
    _add_words(" ".join([text.title, *text.keywords, text.summary, *text.body]))


def _write_vectors(documents: QuerySet[Document]) -> None:
    """PostgreSQL: the documents' vectors from their columns as now written, in one statement (SQLite's FTS5 table
    is kept by triggers)."""
    if connection.vendor == "postgresql":
        documents.update(vector=VECTOR, head=HEAD)


def _add_words(text: str) -> None:
    found = {word for word in _VOCABULARY_WORD.findall(text.lower())}
    Word.objects.bulk_create([Word(word=word, length=len(word)) for word in found], ignore_conflicts=True)


def reindex_checkers(checkers: Iterable[Checker | int], *, publishing: CheckerVersion | None = None) -> None:
    """Bring these checkers' documents up to date: written if searchable, removed if not.

    `publishing`: the version being published, which sellers will walk though the checker doesn't point at it yet.
    """
    ids = {getattr(checker, "pk", checker) for checker in checkers}
    if not ids:
        return
    with transaction.atomic():
        candidates = Checker.objects.filter(pk__in=ids, is_published=True)
        if publishing is None:
            candidates = candidates.filter(pk__in=searchable_checkers())
        found = list(_checkers_with_text(candidates))
        for checker in found:
            version = publishing if publishing is not None and publishing.checker_id == checker.pk else None
            _write(Document.Kind.CHECKER, checker, checker_text(checker, version), checker.run_total)
        _write_vectors(Document.objects.filter(checker__in=found))
        Document.objects.filter(checker_id__in=ids - {c.pk for c in found}).delete()


def reindex_articles(articles: Iterable[Article | int], *, publishing: ArticleVersion | None = None) -> None:
    ids = {getattr(article, "pk", article) for article in articles}
    if not ids:
        return
    with transaction.atomic():
        candidates = Article.objects.filter(pk__in=ids, is_published=True).select_related("live_version")
        if publishing is None:
            candidates = candidates.filter(pk__in=searchable_articles())
        found = list(candidates)
        for article in found:
            version = publishing if publishing is not None and publishing.article_id == article.pk else None
            _write(Document.Kind.ARTICLE, article, article_text(article, version))
        _write_vectors(Document.objects.filter(article__in=found))
        Document.objects.filter(article_id__in=ids - {a.pk for a in found}).delete()


def rebuild() -> int:
    """Recreate the whole index from the content; returns the number of documents."""
    with transaction.atomic():
        Document.objects.all().delete()
        Word.objects.all().delete()
        reindex_checkers(Checker.objects.values_list("pk", flat=True))
        reindex_articles(Article.objects.values_list("pk", flat=True))
        # Results cached and words remembered under the old content generation are not asked for again.
        content_changed()  # once this commits
        return Document.objects.count()


def build_if_empty(**kwargs) -> None:
    """After `migrate`: index existing content the first time (a database from before search had no index)."""
    if not Document.objects.exists() and (searchable_checkers().exists() or searchable_articles().exists()):
        rebuild()
