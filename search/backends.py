"""The database's full-text index behind one interface: SQLite FTS5 by default, PostgreSQL when configured.

Both take the same plan (groups of alternatives, see `search.Term`), match any of them, and rank with the same
field weights: title, then keywords (error texts, codes, staff phrasings), then the symptom or summary, then the
steps' text. Words are stemmed by the database (FTS5's porter tokenizer, PostgreSQL's english configuration), so
"disconnecting" finds "disconnected". Every word reaching a backend has been normalised to letters, digits, dashes
and underscores (`text.normalise`), and is quoted, so FTS operators and quotes typed by a seller are plain words.
"""

import difflib
import math
from dataclasses import dataclass

from django.db import connection, transaction

from .models import Word

# Relative weights of title, keywords, summary and body.
WEIGHTS = (10.0, 8.0, 4.0, 1.0)
CLOSE_ENOUGH = 0.78  # difflib ratio for a misspelling to count as a word of the index
MAX_WEIGHED_TERMS = 12  # PostgreSQL: terms whose rarity is counted (a long paste's later words count as common)
# PostgreSQL's own estimate of the documents (no count of every row per search), exact while the table is small.
LIBRARY_SIZE = """(SELECT CASE WHEN reltuples < 1000 THEN (SELECT count(*) FROM search_document)
    ELSE reltuples::bigint END FROM pg_class WHERE oid = 'search_document'::regclass)"""
COUNT_CAP = 3000  # PostgreSQL: a term's documents are counted up to this
RARE_SHARE, RARE_FLOOR = 0.05, 50  # PostgreSQL: a term in fewer documents than this selects candidates anywhere
BODY_SHARE = 0.5  # PostgreSQL: weight of the whole text's rank beside the terms' ranks on the head
RERANKED = 100  # PostgreSQL: how many of the best heads get their whole text ranked too
# ts_rank's weights are for D, C, B, A: body, summary, keywords, title.
ALL_WEIGHTS = [w / WEIGHTS[0] for w in reversed(WEIGHTS)]
HEAD_WEIGHTS = [0.0, *ALL_WEIGHTS[1:]]


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
        rare word such as "owner" outweighs words every checker uses; ts_rank alone has no notion of rarity.

        Candidates are the documents with any term in their head (title, error texts, symptom) or a rare term
        anywhere, both read through GIN indexes (a common word alone would otherwise make PostgreSQL read the whole
        text of most of the library). Terms are ranked on the small head; the whole text's rank is added for the
        best few hundred only.
        """
        queries = [" | ".join(self._alternative(alt) for alt in term) for term in terms if term]
        if not queries:
            return []
        counted = queries[:MAX_WEIGHED_TERMS]
        weighed, rare, selective = [], [], []
        with transaction.atomic(), connection.cursor() as cursor:
            # GIN reads over scans: PostgreSQL's estimate of matching a tsvector row by row is far too low here.
            cursor.execute("SET LOCAL enable_seqscan = off")
            # One round trip: the library's size and each term's documents (counted up to a cap).
            hits = (
                "(SELECT count(*) FROM (SELECT 1 FROM search_document "
                "WHERE vector @@ to_tsquery('english', %s) LIMIT %s) AS t)"
            )
            counts = f"SELECT {LIBRARY_SIZE}, " + ", ".join([hits] * len(counted))  # noqa: S608
            cursor.execute(counts, [p for query in counted for p in (query, COUNT_CAP + 1)])
            total, *found_counts = cursor.fetchone()
            common = min(COUNT_CAP, max(RARE_FLOOR, int(total * RARE_SHARE)))
            for query, found in zip(
                queries, [*found_counts, *[COUNT_CAP] * (len(queries) - len(counted))], strict=True
            ):
                if not found:  # in no document, or only a stop word: nothing to match or rank
                    continue
                if found <= common:
                    rare.append((query, math.log(1 + (total - found + 0.5) / (found + 0.5))))
                if found <= COUNT_CAP:
                    selective.append(query)
                weighed.append((query, math.log(1 + (total - found + 0.5) / (found + 0.5))))
            if not weighed:
                return []
            everything = " | ".join(f"({query})" for query, _ in weighed)
            # Words in more than a tenth of the library rank candidates but don't bring them, unless all are such.
            heads = " | ".join(f"({query})" for query in selective) or everything
            head_rank = " + ".join(["0"] + ["%s * ts_rank(%s::real[], head, to_tsquery('english', %s))"] * len(weighed))
            head_params = [p for query, rarity in weighed for p in (rarity, HEAD_WEIGHTS, query)]
            rare_arm, rare_params = "", []
            if rare:
                rare_arm = "UNION ALL SELECT id, true FROM search_document WHERE vector @@ to_tsquery('english', %s)"
                rare_params = [" | ".join(f"({query})" for query, _ in rare)]
            # A rare word counts with its whole-text rank, read only for the few documents that have one.
            rare_rank = " + ".join(
                ["0"] + ["%s * ts_rank(%s::real[], d.vector, to_tsquery('english', %s))"] * len(rare)
            )
            rare_rank_params = [p for query, rarity in rare for p in (rarity, ALL_WEIGHTS, query)]
            params = [
                heads,
                *rare_params,
                *head_params,
                *rare_rank_params,
                RERANKED,
                BODY_SHARE,
                ALL_WEIGHTS,
                everything,
            ]
            # Only placeholders are formatted into the SQL; every value is a parameter.
            sql = f"""
                WITH candidates AS MATERIALIZED (
                    SELECT id, false AS rare FROM search_document WHERE head @@ to_tsquery('english', %s)
                    {rare_arm}
                ), flagged AS MATERIALIZED (
                    SELECT id, bool_or(rare) AS rare FROM candidates GROUP BY id
                ), best AS (
                    SELECT d.id, d.vector, {head_rank} + CASE WHEN f.rare THEN {rare_rank} ELSE 0 END AS rank
                    FROM flagged f JOIN search_document d ON d.id = f.id
                    ORDER BY rank DESC
                    LIMIT %s
                )
                SELECT id, rank + %s * ts_rank(%s::real[], vector, to_tsquery('english', %s)) AS score
                FROM best ORDER BY score DESC LIMIT %s
            """  # noqa: S608
            cursor.execute(sql, [*params, limit])
            return cursor.fetchall()

    @staticmethod
    def _alternative(alt: Alternative) -> str:
        words = [f"'{word}'" for word in alt.words]
        if alt.prefix:
            words[-1] += ":*"
        return "(" + " <-> ".join(words) + ")"

    def close_words(self, word: str) -> list[str]:
        from django.contrib.postgres.search import TrigramSimilarity
        from django.db.models.functions import Lower

        # The trigram index is on lower(word) (words are stored in lower case anyway), so that PostgreSQL never
        # picks it for the plain `word IN (…)` lookups, where the unique index is a hundred times faster.
        return list(
            Word.objects.annotate(lowered=Lower("word"))
            # Same first letter and about the same length, as on SQLite: the btree narrows, trigrams rank.
            .filter(word__startswith=word[0], length__range=(len(word) - 2, len(word) + 2))
            .filter(lowered__trigram_similar=word)
            .annotate(similarity=TrigramSimilarity(Lower("word"), word))
            .order_by("-similarity")
            .values_list("word", flat=True)[:10]
        )


def backend() -> SQLiteBackend | PostgreSQLBackend:
    return PostgreSQLBackend() if connection.vendor == "postgresql" else SQLiteBackend()


def correct(word: str) -> str | None:
    """The index's word closest to a misspelt one, if one is close enough."""
    best = difflib.get_close_matches(word, backend().close_words(word), n=1, cutoff=CLOSE_ENOUGH)
    return best[0] if best else None
