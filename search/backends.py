"""The database's full-text index behind one interface: SQLite FTS5 by default, PostgreSQL when configured.

Both take the same plan (groups of alternatives, see `search.Term`), match any of them, and rank with the same
field weights: title, then keywords (error texts, codes, staff phrasings), then the symptom or summary, then the
steps' text. Words are stemmed by the database (FTS5's porter tokenizer, PostgreSQL's english configuration), so
"disconnecting" finds "disconnected". Every word reaching a backend has been normalised to letters, digits, dashes
and underscores (`text.normalise`), and is quoted, so FTS operators and quotes typed by a seller are plain words.
"""

import difflib
import math
import operator
from dataclasses import dataclass
from functools import reduce

from django.db import connection
from django.db.models import Value

from .models import Word

# Relative weights of title, keywords, summary and body.
WEIGHTS = (10.0, 8.0, 4.0, 1.0)
CLOSE_ENOUGH = 0.78  # difflib ratio for a misspelling to count as a word of the index
MAX_WEIGHED_TERMS = 12  # PostgreSQL: terms whose rarity is counted (a long paste's later words count as common)
IDF_SAMPLE = 2000  # PostgreSQL: counting a term's documents stops here


@dataclass(frozen=True)
class Alternative:
    words: tuple[str, ...]  # one word, or a phrase
    prefix: bool = False  # the last word may go on (search as you type)


Term = list[Alternative]  # a document matches a term if it matches any alternative


class SQLiteBackend:
    """FTS5 over `search_document` (an external-content table kept by triggers, see migration 0002)."""

    def match(self, terms: list[Term], limit: int) -> list[tuple[int, float]]:
        expression = " OR ".join(
            "(" + " OR ".join(self._alternative(alt) for alt in term) + ")" for term in terms if term
        )
        if not expression:
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT rowid, bm25(search_document_fts, %s, %s, %s, %s) AS rank FROM search_document_fts "
                "WHERE search_document_fts MATCH %s ORDER BY rank LIMIT %s",
                [*WEIGHTS, expression, limit],
            )
            return [(rowid, -rank) for rowid, rank in cursor.fetchall()]

    @staticmethod
    def _alternative(alt: Alternative) -> str:
        return '"' + " ".join(alt.words) + '"' + ("*" if alt.prefix else "")

    def close_words(self, word: str) -> list[str]:
        candidates = Word.objects.filter(
            length__range=(len(word) - 2, len(word) + 2), word__startswith=word[0]
        ).values_list("word", flat=True)
        return list(candidates[:5000])


class PostgreSQLBackend:
    """A stored, weighted `tsvector` column with a GIN index (migration 0002), ranked by SearchRank; misspellings
    are looked up with pg_trgm's trigram similarity over the vocabulary."""

    def match(self, terms: list[Term], limit: int) -> list[tuple[int, float]]:
        """Rank by the sum over the query's terms of ts_rank × the term's rarity (IDF, as FTS5's bm25 does), so a
        rare word such as "owner" outweighs words every checker uses; ts_rank alone has no notion of rarity."""
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
        from django.db.models.expressions import RawSQL

        from .models import Document

        queries = [
            SearchQuery(" | ".join(self._alternative(alt) for alt in term), search_type="raw", config="english")
            for term in terms
            if term
        ]
        if not queries:
            return []
        vector = RawSQL('"search_document"."vector"', [], output_field=SearchVectorField())
        documents = Document.objects.annotate(vector=vector)
        total = documents.count() or 1
        # SearchRank's weights are for D, C, B, A: body, summary, keywords, title.
        weights = [w / WEIGHTS[0] for w in reversed(WEIGHTS)]
        rank = Value(0.0)
        for position, query in enumerate(queries):
            rarity = 1.0
            if position < MAX_WEIGHED_TERMS:
                found = documents.filter(vector=query).values("pk")[:IDF_SAMPLE].count()
                rarity = math.log(1 + (total - found + 0.5) / (found + 0.5))
            rank = rank + Value(rarity) * SearchRank(vector, query, weights=weights)
        matching = reduce(operator.or_, queries)
        rows = documents.filter(vector=matching).annotate(rank=rank).order_by("-rank").values_list("pk", "rank")[:limit]
        return list(rows)

    @staticmethod
    def _alternative(alt: Alternative) -> str:
        words = [f"'{word}'" for word in alt.words]
        if alt.prefix:
            words[-1] += ":*"
        return "(" + " <-> ".join(words) + ")"

    def close_words(self, word: str) -> list[str]:
        from django.contrib.postgres.search import TrigramSimilarity

        return list(
            Word.objects.filter(word__trigram_similar=word)
            .annotate(similarity=TrigramSimilarity("word", word))
            .order_by("-similarity")
            .values_list("word", flat=True)[:10]
        )


def backend() -> SQLiteBackend | PostgreSQLBackend:
    return PostgreSQLBackend() if connection.vendor == "postgresql" else SQLiteBackend()


def correct(word: str) -> str | None:
    """The index's word closest to a misspelt one, if one is close enough."""
    best = difflib.get_close_matches(word, backend().close_words(word), n=1, cutoff=CLOSE_ENOUGH)
    return best[0] if best else None
