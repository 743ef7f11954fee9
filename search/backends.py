"""The database's own full-text ranking, stock on each: SQLite FTS5's `bm25()`, PostgreSQL's `ts_rank` (what
Django's `SearchRank` calls) plus the title's trigram similarity.

Both take the same terms (groups of alternatives, see `Term`), match documents with any of them, and rank with the
same field weights: title, then keywords (error texts, codes, staff phrasings), then the symptom or summary, then
the steps' text. Words are stemmed by the database (FTS5's porter tokenizer, PostgreSQL's english configuration),
so "disconnecting" finds "disconnected". Every word reaching here has been normalised to letters, digits, dashes
and underscores (`text.normalise`) and is quoted, so FTS operators and quotes typed by a seller are plain words.
"""

from dataclasses import dataclass

from django.db import connection

from .models import Document

# Relative weights of title, keywords, summary and body, on both databases.
WEIGHTS = (1.0, 0.8, 0.4, 0.1)
PG_WEIGHTS = list(reversed(WEIGHTS))  # SearchRank takes them for D, C, B, A
# PostgreSQL: the title's trigram similarity to the seller's words, beside the rank. A seller's sentence is little
# like a title: added as it is (1.0) it put the right checker first for 28 of the 31 held-out phrasings
# (tests/heldout.py), 0.5 for 29, and 0.25 for 30, as the rank alone did, with all 31 in the top three.
TITLE_SIMILARITY = 0.25

SQLITE_RANKED = """
    SELECT rowid, bm25(search_document_fts, %s, %s, %s, %s) AS rank, title{in_head} FROM search_document_fts
    WHERE search_document_fts MATCH %s ORDER BY rank LIMIT %s
"""
# Whether a document's head (title, keywords, summary), and its title, has a term: columns of the ranking's
# statement per term asked about (each subquery is run once, not per row).
SQLITE_IN = ", rowid IN (SELECT rowid FROM search_document_fts WHERE search_document_fts MATCH %s)"
SQLITE_HEAD, SQLITE_TITLE = "{title keywords summary} : ", "title : "

# Every query is in to_tsquery's own syntax (the only one that has prefixes): one parameter, however many words.
PG_RANKED = """
    SELECT id, ts_rank(%s::float4[], vector, to_tsquery('english', %s)){similarity} AS rank, title{asked}
    FROM search_document WHERE id IN (
        (SELECT id FROM search_document WHERE head @@ to_tsquery('english', %s)
         ORDER BY ts_rank(%s::float4[], head, to_tsquery('english', %s)) DESC, id LIMIT %s)
        UNION
        (SELECT id FROM search_document WHERE vector @@ {through_index} ORDER BY popularity DESC, id LIMIT %s)
    ) ORDER BY rank DESC, id LIMIT %s
"""
# The whole vector is matched through its GIN index, its query given as a subquery's value: with the query as a
# constant, PostgreSQL estimates how many documents a word is in and, for a word in a fifth of them ("account"),
# reads every row instead, decompressing each vector from TOAST (30 ms to count or list them, against 1 ms through
# the index). Its cost model doesn't count the decompression; a value known only when the statement runs gets the
# default estimate, a few documents, and the index.
PG_THROUGH_INDEX = "(SELECT to_tsquery('english', %s))"
PG_SIMILARITY = " + %s * similarity(title, %s)"
# Whether a candidate's head has a term, and whether its title has every one of the terms asked of titles.
PG_IN_HEAD = ", head @@ to_tsquery('english', %s)"
PG_TITLE_HAS_ALL = ", to_tsvector('english', title) @@ to_tsquery('english', %s)"


@dataclass(frozen=True)
class Alternative:
    words: tuple[str, ...]  # one word, or a phrase
    prefix: bool = False  # the last word may go on (search as you type)

    @classmethod
    def of(cls, text: str, prefix: bool = False) -> "Alternative":
        """A normalised word or phrase; a dashed or underscored word (invalid_grant) is a phrase of its parts."""
        return cls(tuple(part for part in text.replace("_", " ").replace("-", " ").split() if part), prefix)


Term = list[Alternative]  # a document matches a term if it matches any alternative


@dataclass(frozen=True)
class Candidate:
    """A document the ranking found: its rank (higher is better), its title, which of the terms asked about
    (`ranked(head_terms=)`, by position) its head has, and whether its title has every one of `title_terms`."""

    document: int
    rank: float
    title: str
    in_head: frozenset[int] = frozenset()
    title_has_all: bool = False


def ranked(
    terms: list[Term],
    words: int,
    limit: int,
    title_text: str = "",
    head_terms: list[Term] = (),
    finding: list[Term] = (),
    title_terms: list[Term] = (),
) -> list[Candidate]:
    """The best `limit` documents with any of the terms, best first.

    `words`: how many of `terms` are the seller's own words (the rest are synonyms); `title_text`: those words, as
    typed, compared with titles on PostgreSQL (trigram similarity); `head_terms`: terms whose presence in a
    document's head each candidate reports (`in_head`); `finding`: terms that find documents but don't rank them
    (words most documents have); `title_terms`: terms a title may have all of (`title_has_all`)."""
    if not any(terms) and not any(finding):
        return []
    if connection.vendor == "postgresql":
        return _postgresql(terms, words, limit, title_text, head_terms, finding, title_terms)
    return _sqlite([*terms, *finding], limit, head_terms, title_terms)


def document_counts(words: list[str]) -> dict[str, int]:
    """How many documents hold each word (matched as the ranking matches it: stemmed, a dashed word as a phrase),
    and under "" how many documents there are: one statement."""
    table = Document._meta.db_table
    if connection.vendor == "postgresql":
        each = f"SELECT %s, count(*) FROM {{}} WHERE vector @@ {PG_THROUGH_INDEX}"  # noqa: S608
        queries = [_tsquery(Alternative.of(word)) for word in words]
    else:
        each = "SELECT %s, count(*) FROM search_document_fts WHERE search_document_fts MATCH %s"
        queries = [_fts5(Alternative.of(word)) for word in words]
    sql = " UNION ALL ".join([f"SELECT '', count(*) FROM {table}"] + [each.format(table)] * len(words))  # noqa: S608
    params = [value for pair in zip(words, queries, strict=True) for value in pair]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def _sqlite(terms: list[Term], limit: int, head_terms: list[Term], title_terms: list[Term]) -> list[Candidate]:
    """bm25 over the FTS5 table (migration 0002), which weighs each word by its rarity as well as by its field."""
    query = " OR ".join(_fts5_any(term) for term in terms)
    asked = [SQLITE_HEAD + _fts5_any(term) for term in head_terms]
    if title_terms:
        asked.append(SQLITE_TITLE + "(" + " AND ".join(_fts5_any(term) for term in title_terms) + ")")
    with connection.cursor() as cursor:
        cursor.execute(SQLITE_RANKED.format(in_head=SQLITE_IN * len(asked)), [*WEIGHTS, *asked, query, limit])
        return [
            # bm25 is better the more negative
            Candidate(rowid, -rank, title, _positions(found[: len(head_terms)]), bool(found[len(head_terms) :] == [1]))
            for rowid, rank, title, *found in cursor.fetchall()
        ]


def _positions(found) -> frozenset[int]:
    return frozenset(position for position, yes in enumerate(found) if yes)


def _fts5_any(term: Term) -> str:
    return "(" + " OR ".join(_fts5(alt) for alt in term) + ")"


def _fts5(alt: Alternative) -> str:
    return '"' + " ".join(alt.words) + '"' + ("*" if alt.prefix else "")


def _postgresql(
    terms: list[Term],
    words: int,
    limit: int,
    title_text: str,
    head_terms: list[Term],
    finding: list[Term],
    title_terms: list[Term],
) -> list[Candidate]:
    """`ts_rank` (Django's `SearchRank`) over the stored vector plus the title's trigram similarity to the seller's
    words, as djangoproject.com's docs search does, for the candidates only: the best `limit` documents by their head
    alone (title, error texts and symptom: a small vector stored in the row; with the terms of what the seller's
    words find, `finding`, when there are any), and `limit` of those with every one of the seller's words anywhere,
    the steps' text included, most used first.

    Ranking every document with any of the words ranked 8,750 of 10,014 in the benchmark for a seller's sentence
    (the whole vector of each read from TOAST, then trigrams for each title): 80 ms of the server's time. Both
    candidate lists are read through GIN indexes, and the candidates by primary key (one `IN` over their `UNION`:
    an `OR` of two `IN`s filtered every row of the table, 3 ms of a 6 ms ranking at 10,036 documents).

    One statement, written as SQL like SQLite's: built with the ORM (SearchRank, TrigramSimilarity, a column per
    term asked about) it cost this process 2.8 ms a search to build and compile, for 1 ms to run."""
    any_term = " | ".join(_any_of(term) for term in terms if term)
    # (or any term, which all of the words imply, when the seller's words are only stop words)
    every_word = " & ".join(_any_of(term) for term in terms[:words] if term) or _any_of(terms[0])
    any_found = " | ".join(_any_of(term) for term in [*terms, *finding] if term) if finding else any_term
    similarity, similar = (PG_SIMILARITY, [TITLE_SIMILARITY, title_text]) if title_text else ("", [])
    asked = [_any_of(term) for term in head_terms]
    if title_terms:  # the title's vector made once per candidate (80 short titles), not stored
        asked.append(" & ".join(_any_of(term) for term in title_terms))
    columns = PG_IN_HEAD * len(head_terms) + (PG_TITLE_HAS_ALL if title_terms else "")
    sql = PG_RANKED.format(similarity=similarity, asked=columns, through_index=PG_THROUGH_INDEX)
    params = [PG_WEIGHTS, any_term, *similar, *asked, any_found, PG_WEIGHTS, any_found, limit, every_word, limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        return [
            Candidate(pk, rank, title, _positions(flags[: len(head_terms)]), flags[len(head_terms) :] == [True])
            for pk, rank, title, *flags in cursor.fetchall()
        ]


def _any_of(term: Term) -> str:
    return "(" + " | ".join(_tsquery(alt) for alt in term) + ")"


def _tsquery(alt: Alternative) -> str:
    """A phrase, its last word a prefix while the seller is typing. Every word is letters and digits only."""
    words = [f"'{word}'" for word in alt.words]
    if alt.prefix:
        words[-1] += ":*"
    return "(" + " <-> ".join(words) + ")"
