"""Finding the right checker or article for what a seller types or pastes.

1. An error code or a known error text anywhere inside the query wins outright (sellers paste whole messages and
   logs), as does a staff phrasing typed exactly.
2. Otherwise the full-text index ranks documents by field weight (`backends.py`), after the query's words are
   widened: synonyms staff manage, misspellings corrected to the index's nearest word, and the last word taken as
   a prefix while the seller is still typing.
3. Only what helps: results scoring under a fraction of the best are dropped, and at most ten are returned.

Every query, however odd (FTS operators, quotes, NUL, SQL, emoji, 10 KB of log), goes through `normalise` first,
and only published content is returned, whatever the index holds.
"""

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from troubleshoot.models import Article, Checker

from . import backends, spelling
from .backends import Alternative, Term
from .index import searchable_documents
from .models import Document, Phrase, Synonym
from .text import contains_phrase, normalise, tokens

MAX_QUERY = 10_000  # a pasted log; the error text may be anywhere in it
MAX_RESULTS = 10
MAX_TERMS = 32  # words of a long paste that go to the full-text index
MAX_CORRECTIONS = 4
FLOOR = 0.3  # a full-text result must score at least this fraction of the best one
CANDIDATES = 40
CHECKER_SHOWN = ["slug", "title", "symptom", "category_id"]  # what a result keeps of its checker
SHOWN = ["pk", "popularity", "title", "summary", "checker_id", "article_id", "article__slug"] + [
    f"checker__{name}" for name in CHECKER_SHOWN
]
SYNONYMS_CACHE_KEY = "search:synonyms"
SYNONYMS_CACHE_SECONDS = 60 * 60
SCORE_CODE, SCORE_SIGNATURE, SCORE_PHRASING, SCORE_PART_OF_SIGNATURE, SCORE_TEXT = 100.0, 90.0, 85.0, 60.0, 50.0


@dataclass
class Result:
    kind: str  # "checker" or "article"
    item: Checker | Article
    score: float
    matched: str = ""  # the error code or error text that matched, if any
    title: str = ""  # as indexed: an article's published title, not its draft
    snippet: str = ""  # the symptom or summary, as indexed

    @property
    def url(self) -> str:
        return self.item.get_absolute_url()

    @property
    def slug(self) -> str:
        return self.item.slug


def search(query: str, limit: int = MAX_RESULTS) -> list[Result]:
    needle = normalise((query or "")[:MAX_QUERY])
    if not needle:
        return []
    limit = max(1, min(limit, MAX_RESULTS))
    found = exact_matches(needle)
    terms = widen(needle, prefix=not (query or "").endswith((" ", "\n")))
    ranked = backends.backend().match(terms, CANDIDATES) if terms else []
    if not found:
        found = partial_matches(needle, [doc_id for doc_id, _ in ranked])
    if ranked:
        best = ranked[0][1]
        for doc_id, rank in ranked:
            if best > 0 and rank >= FLOOR * best:
                score = round(SCORE_TEXT * rank / best, 2)
                if score > found.get(doc_id, (0.0, ""))[0]:
                    found[doc_id] = (score, "")
    return _results(found, limit)


def exact_matches(needle: str) -> dict[int, tuple[float, str]]:
    """Documents whose error code, error text or phrasing is in the query: {document id: (score, what matched)}."""
    found: dict[int, tuple[float, str]] = {}

    def keep(doc_id: int, score: float, matched: str) -> None:
        if score > found.get(doc_id, (0.0, ""))[0]:
            found[doc_id] = (score, matched)

    words = list(dict.fromkeys(needle.split()))[:2000]
    for doc_id, kind, text, original in _rows(_phrases_starting, words, "text"):
        if kind == Phrase.Kind.PHRASING:
            if text == needle:
                keep(doc_id, SCORE_PHRASING, "")
        elif contains_phrase(needle, text):
            # A longer error text is the more specific one when a log holds two.
            score = SCORE_CODE if kind == Phrase.Kind.CODE else SCORE_SIGNATURE + min(len(text.split()), 9) / 10
            keep(doc_id, score, original)
    return found


def partial_matches(needle: str, candidates: list[int]) -> dict[int, tuple[float, str]]:
    """Candidates with a known error text that contains the whole query: part of it, typed from memory."""
    if not 8 <= len(needle) <= 200 or not candidates:
        return {}
    return {
        doc_id: (SCORE_PART_OF_SIGNATURE, original)
        for doc_id, text, original in _rows(_signatures_of, candidates)
        if contains_phrase(text, needle)
    }


def widen(needle: str, *, prefix: bool = False) -> list[Term]:
    """The query's words as full-text terms, each with its misspelling fixed, plus synonyms as terms of their own."""
    words = tokens(needle)[:MAX_TERMS]
    if not words:
        return []
    simple = [w for w in words if w.isalpha() and len(w) >= 4]
    corrections = spelling.corrections(simple, MAX_CORRECTIONS) if simple else {}
    terms: list[Term] = []
    for position, word in enumerate(words):
        is_last = position == len(words) - 1
        term = [Alternative(tuple(_parts(word)), prefix=prefix and is_last and len(word) >= 3)]
        if word in corrections:
            term.append(Alternative((corrections[word],)))
        terms.append(term)
    corrected = " ".join(corrections.get(word, word) for word in needle.split())
    for synonym_terms in synonyms_in(f"{needle} {corrected}"):
        terms.append([Alternative(tuple(_parts(term))) for term in synonym_terms])
    return terms


def _parts(phrase: str) -> list[str]:
    return [part for part in phrase.replace("_", " ").replace("-", " ").split() if part]


def synonyms_in(needle: str) -> list[list[str]]:
    """For each synonym group that the query uses, its other terms."""
    groups = []
    for terms in synonym_groups():
        if any(contains_phrase(needle, term) for term in terms):
            others = [term for term in terms if not contains_phrase(needle, term)]
            if others:
                groups.append(others)
    return groups


def synonym_groups() -> list[list[str]]:
    """Every synonym group's terms, normalised: read on every search, so kept in the cache (shared by every
    process with Redis) and forgotten whenever staff save or delete a synonym (`signals.py`)."""
    groups = cache.get(SYNONYMS_CACHE_KEY)
    if groups is None:
        groups = [terms for terms in (row.term_list for row in Synonym.objects.all()) if terms]
        cache.set(SYNONYMS_CACHE_KEY, groups, SYNONYMS_CACHE_SECONDS)
    return groups


def _results(found: dict[int, tuple[float, str]], limit: int) -> list[Result]:
    """The documents as published checkers and articles, best first, in one query; anything no longer published is
    dropped."""
    if not found:
        return []
    rows = (dict(zip(SHOWN, row, strict=True)) for row in _rows(_searchable_among, list(found)))
    ranked = sorted((-found[row["pk"]][0], -row["popularity"], row["title"], row["pk"], row) for row in rows)
    return [_result(*found[row["pk"]], row) for *_, row in ranked[:limit]]


def _result(score: float, matched: str, row: dict) -> Result:
    """A result's checker or article, made from the columns read with its document (only what results show)."""
    if row["checker_id"]:
        fields = {name: row[f"checker__{name}"] for name in CHECKER_SHOWN}
        item = Checker(pk=row["checker_id"], **fields)
    else:
        item = Article(pk=row["article_id"], slug=row["article__slug"])
    return Result(_kind(item), item, score, matched, title=row["title"], snippet=row["summary"])


def _kind(item: Checker | Article) -> str:
    return Document.Kind.CHECKER if isinstance(item, Checker) else Document.Kind.ARTICLE


# The three ORM queries a search runs, each compiled to SQL once per process: compiling one took ten times as long
# as the database took to run it (2 ms against 0.1 ms for the results). The list each is given is one parameter (an
# array on PostgreSQL, JSON on SQLite), so the statement's text is the same whatever the list's length. What they
# read must depend on that list alone (no clock, no setting read per request): it is fixed when first compiled.


def _phrases_starting(words: RawSQL) -> QuerySet:
    """The error codes, error texts and phrasings whose first word is one of `words`."""
    return Phrase.objects.filter(first_word__in=words).values_list("document_id", "kind", "text", "original")


def _signatures_of(documents: RawSQL) -> QuerySet:
    phrases = Phrase.objects.filter(kind=Phrase.Kind.SIGNATURE, document_id__in=documents)
    return phrases.values_list("document_id", "text", "original")


def _searchable_among(documents: RawSQL) -> QuerySet:
    return searchable_documents().filter(pk__in=documents).values_list(*SHOWN)


def _rows(query: Callable[[RawSQL], QuerySet], values: Sequence[int] | Sequence[str], kind: str = "bigint") -> list:
    """The query's rows for these `values` (of `kind`, the SQL type of their column: bigint or text)."""
    sql, params, at = _compiled(query, connection.vendor, kind)
    params = list(params)
    params[at] = list(values) if connection.vendor == "postgresql" else json.dumps(list(values))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


_LIST = "search: the list"


@functools.cache
def _compiled(query: Callable[[RawSQL], QuerySet], vendor: str, kind: str) -> tuple[str, tuple, int]:
    """The query's SQL and parameters, and which of them is the list."""
    members = f"SELECT unnest(%s::{kind}[])" if vendor == "postgresql" else "SELECT value FROM json_each(%s)"
    sql, params = query(RawSQL(members, [_LIST])).query.sql_with_params()  # noqa: S611 - the list is a parameter
    return sql, params, params.index(_LIST)
