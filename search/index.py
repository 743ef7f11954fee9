"""What is searchable, and keeping the index in step with the content.

`checker_text` is the ONE place that says which text of a checker is indexed, and `searchable_checkers` which
checkers are: when checker versions arrive, they change to read the live version and nothing else here does.
`reindex_checkers` / `reindex_articles` are called by the content loader and the admin after they save (and by the
save signals in `signals.py`); `rebuild` (`manage.py reindex`) recreates everything.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Prefetch, QuerySet

from troubleshoot.models import Article, Checker, ErrorCode, Step

from .models import Document, Phrase, Word
from .text import normalise

_VOCABULARY_WORD = re.compile(r"[^\W\d_]{4,40}")


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
    """The checkers sellers may find."""
    return Checker.objects.published()


def searchable_articles() -> QuerySet[Article]:
    return Article.objects.published()


def _checkers_with_text(queryset: QuerySet[Checker]) -> QuerySet[Checker]:
    return queryset.prefetch_related(
        Prefetch("steps", queryset=Step.objects.prefetch_related("choices")),
        Prefetch("error_codes", queryset=ErrorCode.objects.order_by("code")),
        "phrasings",
    ).annotate(run_total=Count("runs", distinct=True))


def checker_text(checker: Checker) -> IndexText:
    """Everything a seller might recall of a checker: title, symptom, error texts and codes, staff phrasings,
    and every step's title, text, question and answers."""
    body = []
    for step in checker.steps.all():
        body += [step.title, step.body, step.question, *(choice.label for choice in step.choices.all())]
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


def article_text(article: Article) -> IndexText:
    return IndexText(title=article.title, summary=article.summary, body=[article.body])


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


def _add_words(text: str) -> None:
    found = {word for word in _VOCABULARY_WORD.findall(text.lower())}
    Word.objects.bulk_create([Word(word=word, length=len(word)) for word in found], ignore_conflicts=True)


def reindex_checkers(checkers: Iterable[Checker | int]) -> None:
    """Bring these checkers' documents up to date: written if searchable, removed if not."""
    ids = {getattr(checker, "pk", checker) for checker in checkers}
    if not ids:
        return
    with transaction.atomic():
        found = list(_checkers_with_text(searchable_checkers().filter(pk__in=ids)))
        for checker in found:
            _write(Document.Kind.CHECKER, checker, checker_text(checker), checker.run_total)
        Document.objects.filter(checker_id__in=ids - {c.pk for c in found}).delete()


def reindex_articles(articles: Iterable[Article | int]) -> None:
    ids = {getattr(article, "pk", article) for article in articles}
    if not ids:
        return
    with transaction.atomic():
        found = list(searchable_articles().filter(pk__in=ids))
        for article in found:
            _write(Document.Kind.ARTICLE, article, article_text(article))
        Document.objects.filter(article_id__in=ids - {a.pk for a in found}).delete()


def rebuild() -> int:
    """Recreate the whole index from the content; returns the number of documents."""
    with transaction.atomic():
        Document.objects.all().delete()
        Word.objects.all().delete()
        reindex_checkers(Checker.objects.values_list("pk", flat=True))
        reindex_articles(Article.objects.values_list("pk", flat=True))
        return Document.objects.count()


def build_if_empty(**kwargs) -> None:
    """After `migrate`: index existing content the first time (a database from before search had no index)."""
    if not Document.objects.exists() and (searchable_checkers().exists() or searchable_articles().exists()):
        rebuild()
