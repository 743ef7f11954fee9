"""The database's full-text index behind one interface: SQLite FTS5 by default, PostgreSQL when configured.

Both take the same plan (groups of alternatives, see `search.Term`), match any of them, and rank with the same
field weights: title, then keywords (error texts, codes, staff phrasings), then the symptom or summary, then the
steps' text. Words are stemmed by the database (FTS5's porter tokenizer, PostgreSQL's english configuration), so
"disconnecting" finds "disconnected". Every word reaching a backend has been normalised to letters, digits, dashes
and underscores (`text.normalise`), and is quoted, so FTS operators and quotes typed by a seller are plain words.
"""

import json
import math
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection

from troubleshoot.pagecache import remember

# Relative weights of title, keywords, summary and body.
WEIGHTS = (10.0, 8.0, 4.0, 1.0)
MAX_WEIGHED_TERMS = 12  # PostgreSQL: terms whose rarity is counted (a long paste's later words count as common)
COUNT_CAP = 3000  # PostgreSQL: a term in more documents than this ranks candidates but doesn't bring them
RARE_SHARE, RARE_FLOOR = 0.05, 50  # a term in fewer documents than this (at most COUNT_CAP) brings candidates anywhere
BODY_SHARE = 0.5  # PostgreSQL: weight of the whole text's rank beside the terms' ranks on the head
RERANKED = 40  # PostgreSQL: how many of the best heads get their whole text ranked too
LEAST_BODY_RANK = 0.0608  # PostgreSQL: ts_rank of one mention in the steps' text (weight D), with ALL_WEIGHTS
# ts_rank's weights are for D, C, B, A: body, summary, keywords, title.
ALL_WEIGHTS = [w / WEIGHTS[0] for w in reversed(WEIGHTS)]
HEAD_WEIGHTS = [0.0, *ALL_WEIGHTS[1:]]


BOUNDED_FROM = 4  # SQLite: a query of this many terms or more has its candidates ranked, not every match
SQLITE_RANKED = """
    SELECT rowid, bm25(search_document_fts, %s, %s, %s, %s) AS rank FROM search_document_fts
    WHERE search_document_fts MATCH %s {among}
    ORDER BY rank LIMIT %s
"""
# The documents with a term in their head, or with one of the rare terms (a JSON list) anywhere. `+rowid` makes it
# a filter on the matches, as wanted: as a plain constraint, FTS5 runs the whole query again for each candidate,
# bm25's statistics included (2.5 s).
SQLITE_AMONG_CANDIDATES = """
    AND +rowid IN (
        SELECT rowid FROM search_head_fts WHERE search_head_fts MATCH %s
        UNION
        SELECT found.rowid FROM json_each(%s) AS rare CROSS JOIN search_document_fts AS found
        WHERE found.search_document_fts MATCH rare.value
    )
"""
# How many documents make a term common, and each asked term's documents, counted up to that many and one.
SQLITE_COUNTS = """
    WITH common (documents) AS (
        SELECT max(%s, min(%s, CAST(count(*) * %s AS INTEGER))) FROM search_document
    )
    SELECT '', documents FROM common
    UNION ALL
    SELECT asked.value, (
        SELECT count(*) FROM (
            SELECT 1 FROM search_document_fts WHERE search_document_fts MATCH asked.value
            LIMIT (SELECT documents + 1 FROM common)
        )
    )
    FROM json_each(%s) AS asked
"""


@dataclass(frozen=True)
class Alternative:
    words: tuple[str, ...]  # one word, or a phrase
    prefix: bool = False  # the last word may go on (search as you type)


Term = list[Alternative]  # a document matches a term if it matches any alternative


class SQLiteBackend:
    """FTS5 over `search_document` (an external-content table kept by triggers, see migration 0002), and over the
    head of each document alone (`search_head_fts`, migration 0008), where candidates are found."""

    def match(self, terms: list[Term], limit: int) -> list[tuple[int, float]]:
        """bm25 with the field weights. With a few terms or more, over the candidates only: the documents with any
        of the terms in their head (title, error texts, symptom), or with a rare term anywhere, as on PostgreSQL.
        A seller's sentence has words that most of a large library has somewhere in its steps: ranking every
        document with any of them (7,000 of 10,000) took most of a search's time, and one that has only common
        words, only in its steps, doesn't rank high enough to show. Those still count in the rank of the
        candidates. Two or three words match too few documents for the extra passes to pay."""
        phrases = ["(" + " OR ".join(self._alternative(alt) for alt in term) + ")" for term in terms if term]
        if not phrases:
            return []
        everything = " OR ".join(phrases)
        with connection.cursor() as cursor:
            if len(phrases) < BOUNDED_FROM:
                cursor.execute(SQLITE_RANKED.format(among=""), [*WEIGHTS, everything, limit])
            else:
                common, found = self._documents(cursor, phrases)
                rare = [phrase for phrase in phrases if found[phrase] <= common]
                cursor.execute(
                    SQLITE_RANKED.format(among=SQLITE_AMONG_CANDIDATES),
                    [*WEIGHTS, everything, everything, json.dumps(rare), limit],
                )
            return [(rowid, -rank) for rowid, rank in cursor.fetchall()]

    @staticmethod
    def _documents(cursor, phrases: list[str]) -> tuple[int, dict[str, int]]:
        """How many documents make a term common (a share of the library), and for each term the documents that
        have it, up to one more than that. Remembered in this process until content changes, as on PostgreSQL:
        sellers use the same few hundred words, so most searches count none."""
        common = ("", "common")
        known = {key: remember("documents", key, lambda: None) for key in [common, *phrases]}
        missing = [phrase for phrase in phrases if known[phrase] is None]
        if missing or known[common] is None:
            cursor.execute(SQLITE_COUNTS, [RARE_FLOOR, COUNT_CAP, RARE_SHARE, json.dumps(missing)])
            for phrase, found in cursor.fetchall():
                key = phrase or common
                known[key] = remember("documents", key, lambda found=found: found)
        return known.pop(common), known

    @staticmethod
    def _alternative(alt: Alternative) -> str:
        return '"' + " ".join(alt.words) + '"' + ("*" if alt.prefix else "")

    @contextmanager
    def writing_everything(self):
        """While the whole index is rewritten: FTS5 keeps its statistics itself."""
        yield


class PostgreSQLBackend:
    """A stored, weighted `tsvector` column with a GIN index (migration 0002), ranked by ts_rank weighted by each
    word's rarity, read from the counts kept at index time (`search_lexeme`, migration 0006)."""

    def match(self, terms: list[Term], limit: int) -> list[tuple[int, float]]:
        """Rank by the sum over the query's terms of ts_rank × the term's rarity (IDF, as FTS5's bm25 does), so a
        rare word such as "owner" outweighs words every checker uses; ts_rank alone has no notion of rarity.

        Candidates are the documents with any term in their head (title, error texts, symptom) or a rare term
        anywhere, both read through GIN indexes (a common word alone would otherwise make PostgreSQL read the whole
        text of most of the library). Terms are ranked on the small head; the whole text's rank is added for the
        best forty only (`RERANKED`). Two statements: the terms' document counts, then the ranking.
        """
        terms = [term for term in terms if term]
        if not terms:
            return []
        with connection.cursor() as cursor:
            total, documents = self._documents(cursor, terms[:MAX_WEIGHED_TERMS])
            common = min(COUNT_CAP, max(RARE_FLOOR, int(total * RARE_SHARE)))
            weighed, rare, selective = [], [], []
            for position, term in enumerate(terms):
                query = " | ".join(self._alternative(alt) for alt in term)
                found = self._found(term, documents, total) if position < MAX_WEIGHED_TERMS else COUNT_CAP
                if not found:  # in no document, or only stop words: nothing to match or rank
                    continue
                rarity = math.log(1 + (total - found + 0.5) / (found + 0.5))
                if found <= common:
                    rare.append((query, rarity))
                if found <= COUNT_CAP:
                    selective.append(query)
                weighed.append((query, rarity))
            if not weighed:
                return []
            cursor.execute(*self._ranking(weighed, rare, selective, limit))
            return cursor.fetchall()

    @contextmanager
    def writing_everything(self):
        """While the whole index is rewritten (in one transaction): the word counts are recounted once at the end
        instead of after each document (see migration 0006)."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('search.count_later', 'on', true)")
            yield
            cursor.execute("SELECT search_lexeme_recount(), set_config('search.count_later', 'off', true)")

    @staticmethod
    def _documents(cursor, terms: list[Term]) -> tuple[int, dict[tuple[str, bool], int | None]]:
        """The number of documents, and for each word of `terms` (as a prefix or not) the documents that have it:
        None for a stop word (the database's english configuration drops it from queries too).

        Each count is remembered in this process until content changes (`troubleshoot.pagecache.remember`; a
        stop word as -1): sellers use the same few hundred words, so most searches need no statement for them."""
        asked = list(
            dict.fromkeys(
                (word, alt.prefix and n == len(alt.words) - 1)
                for term in terms
                for alt in term
                for n, word in enumerate(alt.words)
            )
        )
        everything = ("", False)  # the number of documents
        known = {pair: remember("documents", pair, lambda: None) for pair in [everything, *asked]}
        missing = [pair for pair, count in known.items() if count is None and pair != everything]
        if missing or known[everything] is None:
            cursor.execute(
                """
                SELECT asked.word, asked.prefix, CASE
                    WHEN stemmed.lexeme IS NULL THEN -1
                    WHEN asked.prefix THEN (
                        -- The words that begin with it: a range of the primary key (in the C collation, no
                        -- character sorts after U+10FFFF).
                        SELECT coalesce(sum(documents), 0) FROM search_lexeme
                        WHERE lexeme >= stemmed.lexeme AND lexeme < stemmed.lexeme || chr(1114111)
                    )
                    ELSE coalesce((SELECT documents FROM search_lexeme WHERE lexeme = stemmed.lexeme), 0)
                END
                FROM unnest(%s::text[], %s::boolean[]) AS asked (word, prefix)
                CROSS JOIN LATERAL (
                    SELECT (tsvector_to_array(to_tsvector('english', asked.word)))[1] AS lexeme
                ) AS stemmed
                UNION ALL SELECT '', false, coalesce((SELECT documents FROM search_lexeme WHERE lexeme = ''), 0)
                """,
                [[word for word, _ in missing], [prefix for _, prefix in missing]],
            )
            for word, prefix, found in cursor.fetchall():
                known[(word, prefix)] = remember("documents", (word, prefix), lambda found=found: found)
        total = known.pop(everything)
        return total, {pair: None if found < 0 else found for pair, found in known.items()}

    @staticmethod
    def _found(term: Term, documents: dict[tuple[str, bool], int | None], total: int) -> int:
        """About how many documents match `term`: a phrase is in at most as many as its rarest word, alternatives
        add up (at most every document)."""
        found = 0
        for alt in term:
            counts = [documents.get((word, alt.prefix and n == len(alt.words) - 1)) for n, word in enumerate(alt.words)]
            counts = [count for count in counts if count is not None]
            found += min(counts) if counts else 0
        return min(found, total)

    @staticmethod
    def _ranking(weighed, rare, selective, limit: int) -> tuple[str, list]:
        """The ranking statement, in two stages. First every candidate by its terms' ranks on its head (read with
        it, when a term brought it there), plus, for each rare term it has anywhere, the least such a match is worth
        (one mention in the steps' text); then for the best forty of those, the exact rank: the terms' ranks on
        the head, the rare terms' ranks on the whole text, and the whole text's rank for all the terms. Only the
        best few have their whole text read (it is large, and stored apart)."""
        everything = " | ".join(f"({query})" for query, _ in weighed)
        # Words in more than COUNT_CAP documents rank candidates but don't bring them, unless all are such.
        heads = " | ".join(f"({query})" for query in selective) or everything
        head_rank = " + ".join(["0"] + ["%s * ts_rank(%s::real[], d.head, to_tsquery('english', %s))"] * len(weighed))
        head_params = [p for query, rarity in weighed for p in (rarity, HEAD_WEIGHTS, query)]
        rare_rank = " + ".join(["0"] + ["%s * ts_rank(%s::real[], d.vector, to_tsquery('english', %s))"] * len(rare))
        rare_rank_params = [p for query, rarity in rare for p in (rarity, ALL_WEIGHTS, query)]
        # Only placeholders are formatted into the SQL; every value is a parameter. The candidates come from
        # `search_candidates` (migration 0006), which always reads them through the GIN indexes.
        sql = f"""
            WITH best AS MATERIALIZED (
                SELECT id, bool_or(term > 0) AS rare
                FROM (
                    SELECT id, term, CASE WHEN term = 0 THEN {head_rank} ELSE (%s::float8[])[term] END AS rank
                    FROM search_candidates(to_tsquery('english', %s), %s::text[]) AS d
                ) AS found
                GROUP BY id
                ORDER BY sum(rank) DESC
                LIMIT %s
            )
            SELECT d.id, {head_rank} + CASE WHEN b.rare THEN {rare_rank} ELSE 0 END
                + %s * ts_rank(%s::real[], d.vector, to_tsquery('english', %s)) AS score
            FROM best b JOIN search_document d ON d.id = b.id
            ORDER BY score DESC LIMIT %s
        """  # noqa: S608
        params = [
            *head_params,
            [rarity * LEAST_BODY_RANK for _, rarity in rare],
            heads,
            [query for query, _ in rare],
            RERANKED,
            *head_params,
            *rare_rank_params,
            BODY_SHARE,
            ALL_WEIGHTS,
            everything,
            limit,
        ]
        return sql, params

    @staticmethod
    def _alternative(alt: Alternative) -> str:
        words = [f"'{word}'" for word in alt.words]
        if alt.prefix:
            words[-1] += ":*"
        return "(" + " <-> ".join(words) + ")"


def backend() -> SQLiteBackend | PostgreSQLBackend:
    return PostgreSQLBackend() if connection.vendor == "postgresql" else SQLiteBackend()
