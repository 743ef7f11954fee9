"""Finding the right checker or article for what a seller types or pastes.

1. An error code or a known error text anywhere inside the query wins outright (sellers paste whole messages and
   logs), as does a staff phrasing typed exactly.
2. Otherwise the database's own full-text ranking orders documents by field weight (`backends.py`: bm25 on
   SQLite, SearchRank plus the title's trigram similarity on PostgreSQL), after the query's words are
   widened: synonyms staff manage, misspellings corrected to the index's nearest word, and the last word taken as
   a prefix while the seller is still typing.
3. Only what helps: results scoring under a fraction of the best are dropped, and at most ten are returned.

Every query, however odd (FTS operators, quotes, NUL, SQL, emoji, 10 KB of log), goes through `normalise` first,
and only published content is returned, whatever the index holds.
"""

from dataclasses import dataclass

from django.core.cache import cache

from troubleshoot.models import Article, Checker

from . import spelling
from .backends import Alternative, Term, ranked
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


@dataclass(frozen=True)
class Hit:
    """Why a document is among the results: its score, and the error code or text that matched, if one did."""

    score: float
    matched: str = ""


Found = dict[int, Hit]  # by document id


@dataclass
class Result:
    """One result as the page and the API show it."""

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

    def as_json(self, absolute_url) -> dict:
        """The API's fields (`absolute_url` makes the link absolute: `request.build_absolute_uri`)."""
        return {
            "slug": self.slug,
            "kind": self.kind,
            "title": self.title,
            "url": absolute_url(self.url),
            "snippet": self.snippet,
            "score": self.score,
        }


def search(query: str, limit: int = MAX_RESULTS) -> list[Result]:
    needle = normalise((query or "")[:MAX_QUERY])
    if not needle:
        return []
    limit = max(1, min(limit, MAX_RESULTS))
    found = exact_matches(needle)
    terms = widen(needle, prefix=not (query or "").endswith((" ", "\n")))
    words = tokens(needle)[:MAX_TERMS]
    text_ranked = ranked(terms, len(words), CANDIDATES, title_text=" ".join(words))
    if not found:
        found = partial_matches(needle, [doc_id for doc_id, _ in text_ranked])
    for doc_id, hit in text_hits(text_ranked).items():
        _keep(found, doc_id, hit)
    return _results(found, limit)


def text_hits(text_ranked: list[tuple[int, float]]) -> Found:
    """The full-text results worth showing, scored against the best one: those under `FLOOR` of it are dropped."""
    best = text_ranked[0][1] if text_ranked else 0.0
    if best <= 0:
        return {}
    return {doc_id: Hit(round(SCORE_TEXT * rank / best, 2)) for doc_id, rank in text_ranked if rank >= FLOOR * best}


def _keep(found: Found, doc_id: int, hit: Hit) -> None:
    """Keep the better of the two ways a document was found."""
    if doc_id not in found or hit.score > found[doc_id].score:
        found[doc_id] = hit


def exact_matches(needle: str) -> Found:
    """Documents whose error code, error text or phrasing is in the query."""
    found: Found = {}
    words = list(dict.fromkeys(needle.split()))[:2000]
    phrases = Phrase.objects.filter(first_word__in=words).values_list("document_id", "kind", "text", "original")
    for doc_id, kind, text, original in phrases:
        if kind == Phrase.Kind.PHRASING:
            if text == needle:
                _keep(found, doc_id, Hit(SCORE_PHRASING))
        elif contains_phrase(needle, text):
            # A longer error text is the more specific one when a log holds two.
            score = SCORE_CODE if kind == Phrase.Kind.CODE else SCORE_SIGNATURE + min(len(text.split()), 9) / 10
            _keep(found, doc_id, Hit(score, original))
    return found


def partial_matches(needle: str, candidates: list[int]) -> Found:
    """Candidates with a known error text that contains the whole query: part of it, typed from memory."""
    if not 8 <= len(needle) <= 200 or not candidates:
        return {}
    signatures = Phrase.objects.filter(kind=Phrase.Kind.SIGNATURE, document_id__in=candidates)
    return {
        doc_id: Hit(SCORE_PART_OF_SIGNATURE, original)
        for doc_id, text, original in signatures.values_list("document_id", "text", "original")
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


def _results(found: Found, limit: int) -> list[Result]:
    """The documents as published checkers and articles, best first, in one query; anything no longer published is
    dropped."""
    if not found:
        return []
    rows = searchable_documents().filter(pk__in=list(found)).values_list(*SHOWN)
    rows = (dict(zip(SHOWN, row, strict=True)) for row in rows)
    best_first = sorted((-found[row["pk"]].score, -row["popularity"], row["title"], row["pk"], row) for row in rows)
    return [_result(found[row["pk"]], row) for *_, row in best_first[:limit]]


def _result(hit: Hit, row: dict) -> Result:
    """A result's checker or article, made from the columns read with its document (only what results show)."""
    if row["checker_id"]:
        fields = {name: row[f"checker__{name}"] for name in CHECKER_SHOWN}
        item = Checker(pk=row["checker_id"], **fields)
    else:
        item = Article(pk=row["article_id"], slug=row["article__slug"])
    return Result(_kind(item), item, hit.score, hit.matched, title=row["title"], snippet=row["summary"])


def _kind(item: Checker | Article) -> str:
    return Document.Kind.CHECKER if isinstance(item, Checker) else Document.Kind.ARTICLE
