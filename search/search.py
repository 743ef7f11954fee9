"""Finding the right checker or article for what a seller types or pastes, and how sure search is of each.

1. An error code or a known error text anywhere inside the query wins outright (sellers paste whole messages and
   logs), as does a staff phrasing typed exactly: certain.
2. Otherwise the database's own full-text ranking orders documents by field weight (`backends.py`: bm25 on
   SQLite, SearchRank plus the title's trigram similarity on PostgreSQL), after the query's words are
   widened: misspellings corrected to the index's nearest word (not words the index has in another form), synonyms
   staff manage (for the seller's words the library seldom uses), and the last word taken as a prefix while the
   seller is still typing. Each word's document count (`confidence.document_counts`, remembered until content
   changes) decides which words rank: not those no document has, nor those most documents have; of a long paste,
   the 8 rarest.
3. Then, for the candidates: a title naming the platform or channel the seller named ranks higher, one naming only
   another lower; the rare words a head has add to the rank (by rarity, as bm25 weighs them); and each is "likely"
   or "none" (`confidence.py`).
4. Only what helps: results scoring under a fraction of the best are dropped, and at most ten are returned.

Every query, however odd (FTS operators, quotes, NUL, SQL, emoji, 10 KB of log), goes through `normalise` first,
and only published content is returned, whatever the index holds.
"""

import math
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import connection
from django.db.models import Q

from troubleshoot.models import Article, Checker, Platform, for_platform

from . import confidence, spelling
from .backends import Alternative, Candidate, Term, ranked
from .confidence import CERTAIN, LIKELY, NONE, platforms_in
from .index import searchable_documents
from .models import Document, Phrase, Synonym
from .text import contains_phrase, normalise, tokens

MAX_QUERY = 10_000  # a pasted log; the error text may be anywhere in it
MAX_RESULTS = 10
MAX_TERMS = 32  # words of a long paste whose counts are read
RANKED_TERMS = 8  # of which the rarest go to the ranking
# The rarity of each ranked word a candidate's head has, times this, is added to its rank (the ranks' scales differ:
# bm25 already weighs by rarity, ts_rank doesn't). Tuned on tests/seller_phrasings.py: 99 of 108 first on each.
HEAD_RARITY = {"sqlite": 0.3, "postgresql": 0.15}
COMMON_SHARE = 0.5  # a word in more than this share of the documents tells none of them apart
MAX_CORRECTIONS = 4
FLOOR = 0.3  # a full-text result must score at least this fraction of the best one
CANDIDATES = 40
CHECKER_SHOWN = ["slug", "title", "symptom", "category_id"]  # what a result keeps of its checker
SHOWN = ["pk", "popularity", "title", "summary", "checker_id", "article_id", "article__slug"] + [
    f"checker__{name}" for name in CHECKER_SHOWN
]
SYNONYMS_CACHE_KEY = "search:synonyms"
SYNONYMS_CACHE_SECONDS = 60 * 60
# A title naming the platform or channel the seller named: its rank is multiplied by this; naming only another one.
PLATFORM_IN_TITLE, PLATFORM_OTHER_IN_TITLE = 1.25, 0.6
SCORE_CODE, SCORE_SIGNATURE, SCORE_PHRASING, SCORE_PART_OF_SIGNATURE, SCORE_TEXT = 100.0, 90.0, 85.0, 60.0, 50.0


@dataclass(frozen=True)
class Hit:
    """Why a document is among the results: its score, the error code or text that matched, if one did, and how
    sure that makes search (`confidence.py`)."""

    score: float
    matched: str = ""
    confidence: str = NONE


Found = dict[int, Hit]  # by document id


@dataclass
class Result:
    """One result as the page and the API show it."""

    kind: str  # "checker" or "article"
    item: Checker | Article
    score: float
    matched: str = ""  # the error code or error text that matched, if any
    confidence: str = NONE  # "certain", "likely" or "none" (`confidence.py`)
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
            "confidence": self.confidence,
        }


def search(query: str, limit: int = MAX_RESULTS, platform: str = "") -> list[Result]:
    """The results for `query`, best first; with `platform` (a seller's, `troubleshoot/platforms.py`) only the
    checkers for it, and every article."""
    needle = normalise((query or "")[:MAX_QUERY])
    if not needle:
        return []
    limit = max(1, min(limit, MAX_RESULTS))
    found = exact_matches(needle)
    words = Words.of(needle, prefix=not (query or "").endswith((" ", "\n")))
    text_ranked = ranked(
        widen(needle, words),
        len(words.ranked),
        CANDIDATES,
        title_text=" ".join(words.typed),
        head_terms=[words.term(word) for word in words.ranked],
        finding=[words.term(word) for word in words.common],
        title_terms=[words.term(word, prefix=words.prefix and word == words.typed[-1]) for word in words.ranked]
        if words.all_ranked()
        else [],
    )
    if not found:
        found = partial_matches(needle, [candidate.document for candidate in text_ranked])
    for doc_id, hit in text_hits(text_ranked, words).items():
        _keep(found, doc_id, hit)
    return _results(found, limit, platform)


@dataclass
class Words:
    """A query's words as search uses them: as typed, their misspellings' corrections, the ones ranked on (at most
    RANKED_TERMS, the rarest in the index), and its rare words (`confidence.py`): how many, and those the ranking
    asks each document's head about."""

    typed: list[str]
    corrections: dict[str, str]
    ranked: list[str]
    common: list[str] = field(default_factory=list)  # words most documents have: they find documents, not rank them
    rare: int = 0
    unknown: int = 0  # words no document has (nor their correction), platform names aside
    telling_words: frozenset[str] = frozenset()  # ranked on and not in most documents, platform names aside
    prefix: bool = False  # the last word typed is still being typed
    counts: dict[str, int] = field(default_factory=dict)  # documents holding each word (or its correction)
    documents: int = 0

    @property
    def most(self) -> int:
        """The documents a rare word may be in."""
        return confidence.rare_limit(self.documents)

    @classmethod
    def of(cls, needle: str, *, prefix: bool = False) -> "Words":
        typed = tokens(needle)[:MAX_TERMS]
        simple = [word for word in typed if word.isalpha() and len(word) >= 4]
        corrections = spelling.corrections(simple, MAX_CORRECTIONS) if simple else {}
        counts, documents = confidence.document_counts([*typed, *corrections.values()])
        # A word the index has under another form (stemmed: "saying" is "says") is no misspelling ("saving").
        corrections = {word: near for word, near in corrections.items() if not counts[word]}
        in_index = {word: max(counts[word], counts.get(corrections.get(word, ""), 0)) for word in typed}
        prefix = prefix and bool(typed) and len(typed[-1]) >= 3
        # Words no document has are no use to the ranking, unless the seller is still typing them; nor are words
        # most documents have (bm25 gives them nothing, its rarity weight clamped to a millionth; PostgreSQL's
        # ts_rank has no rarity weight, and "xero" or "settlement" outweighed the words that tell), though they
        # still find documents when nothing else does.
        useful = [word for word in typed if in_index[word] or (prefix and word == typed[-1])]
        telling = [word for word in useful if in_index[word] <= documents * COMMON_SHARE] or useful
        # A long paste is ranked on its rarest words: the exact layer has seen all of it, and each more word made
        # the ranking read more documents (a 10 KB log's 25 words read all 10,000 heads on PostgreSQL).
        rarest = set(sorted(telling, key=lambda word: in_index[word])[:RANKED_TERMS])
        return cls(
            typed,
            corrections,
            ranked=[word for word in telling if word in rarest],
            common=[word for word in useful if word not in telling][:RANKED_TERMS],
            rare=len(confidence.rare_words(in_index, documents)),
            unknown=sum(1 for word in typed if word not in useful and word not in confidence.PLATFORMS),
            telling_words=frozenset(
                word
                for word in telling
                if in_index[word] <= documents * COMMON_SHARE and word not in confidence.PLATFORMS
            ),
            prefix=prefix,
            counts={**counts, **in_index},
            documents=documents,
        )

    def rarity(self, word: str) -> float:
        """How rare a word is in the index: log(documents / documents with the word), as bm25 weighs it."""
        return math.log(max(self.documents, 1) / max(self.counts.get(word, 0), 1))

    @property
    def telling(self) -> int:
        """How many of the query's words tell documents apart (`confidence.py`): those ranked on and those no
        document has, platform names aside."""
        return len(self.telling_words) + self.unknown

    def is_rare(self, word: str) -> bool:
        return word not in confidence.PLATFORMS and 0 < self.counts.get(word, 0) <= self.most

    def all_ranked(self) -> bool:
        """Whether a query of two words or more is ranked on each of its words (platform names aside)."""
        ranked = set(self.ranked)
        others = [word for word in self.typed if word not in confidence.PLATFORMS]
        return len(self.typed) >= 2 and bool(ranked) and all(word in ranked for word in others)

    def unfamiliar(self, phrase: str) -> bool:
        """Whether the library seldom uses `phrase` (its words as counted: the rarest of them is rare)."""
        known = [self.counts[word] for word in phrase.split() if word in self.counts]
        return not known or min(known) <= self.most

    def term(self, word: str, prefix: bool = False) -> Term:
        """A word and its correction, as alternatives."""
        alternatives = [Alternative.of(word, prefix=prefix)]
        if word in self.corrections:
            alternatives.append(Alternative.of(self.corrections[word]))
        return alternatives


def text_hits(text_ranked: list[Candidate], words: Words) -> Found:
    """The full-text results worth showing, scored against the best one: those under `FLOOR` of it are dropped.

    Where the seller names their platform or channel, a title naming it ranks higher and a title naming only
    another one lower (the name is in most documents' steps, so the database's ranking gives it next to nothing).
    Each is likely or not by how many of the query's rare and telling words its head has (`confidence.py`)."""
    platforms = platforms_in(words.typed)
    ranks = {
        candidate.document: (candidate.rank + HEAD_RARITY.get(connection.vendor, 0.0) * _head_rarity(candidate, words))
        * _platform_factor(candidate.title, platforms)
        for candidate in text_ranked
    }
    best = max(ranks.values(), default=0.0)
    if best <= 0:
        return {}
    rare_in_head = {
        candidate.document: sum(words.is_rare(words.ranked[position]) for position in candidate.in_head)
        for candidate in text_ranked
    }
    telling_in_head = {
        candidate.document: sum(words.ranked[position] in words.telling_words for position in candidate.in_head)
        for candidate in text_ranked
    }
    title_has_all = {candidate.document: _title_has_all(candidate, words, platforms) for candidate in text_ranked}
    return {
        doc_id: Hit(
            round(SCORE_TEXT * rank / best, 2),
            confidence=confidence.of_text_match(
                rare_in_head[doc_id],
                words.rare,
                title_has_all[doc_id],
                telling_in_head=telling_in_head[doc_id],
                telling=words.telling,
                unknown=words.unknown,
            ),
        )
        for doc_id, rank in ranks.items()
        if rank >= FLOOR * best
    }


def _title_has_all(candidate: Candidate, words: Words, platforms: set[str]) -> bool:
    """Whether the title has every word of a query of two or more: each word ranked on, and each platform named."""
    return candidate.title_has_all and platforms <= platforms_in(tokens(normalise(candidate.title)))


def _head_rarity(candidate: Candidate, words: Words) -> float:
    return sum(words.rarity(words.ranked[position]) for position in candidate.in_head)


def _platform_factor(title: str, platforms: set[str]) -> float:
    if not platforms:
        return 1.0
    named = platforms_in(tokens(normalise(title)))
    if named & platforms:
        return PLATFORM_IN_TITLE
    return PLATFORM_OTHER_IN_TITLE if named else 1.0


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
                _keep(found, doc_id, Hit(SCORE_PHRASING, confidence=CERTAIN))
        elif contains_phrase(needle, text):
            # A longer error text is the more specific one when a log holds two.
            score = SCORE_CODE if kind == Phrase.Kind.CODE else SCORE_SIGNATURE + min(len(text.split()), 9) / 10
            _keep(found, doc_id, Hit(score, original, CERTAIN))
    return found


def partial_matches(needle: str, candidates: list[int]) -> Found:
    """Candidates with a known error text that contains the whole query: part of it, typed from memory."""
    if not 8 <= len(needle) <= 200 or not candidates:
        return {}
    signatures = Phrase.objects.filter(kind=Phrase.Kind.SIGNATURE, document_id__in=candidates)
    return {
        doc_id: Hit(SCORE_PART_OF_SIGNATURE, original, LIKELY)
        for doc_id, text, original in signatures.values_list("document_id", "text", "original")
        if contains_phrase(text, needle)
    }


def widen(needle: str, words: Words) -> list[Term]:
    """The words ranked on as full-text terms, each with its misspelling's correction, then synonyms as terms of
    their own: of the seller's words the library seldom uses (a synonym bridges words; of a word most documents
    have, "settlement", it only added noise: "payout", rarer, put "New payouts aren't showing up" first for
    "settlement won't open")."""
    terms: list[Term] = []
    for word in words.ranked:
        terms.append(words.term(word, prefix=words.prefix and word == words.typed[-1]))
    corrected = " ".join(words.corrections.get(word, word) for word in needle.split())
    for used, others in synonyms_in(f"{needle} {corrected}"):
        if any(words.unfamiliar(term) for term in used):
            terms.append([Alternative.of(term) for term in others])
    return terms


def synonyms_in(needle: str) -> list[tuple[list[str], list[str]]]:
    """For each synonym group that the query uses, the terms it uses and the others."""
    groups = []
    for terms in synonym_groups():
        used = [term for term in terms if contains_phrase(needle, term)]
        others = [term for term in terms if term not in used]
        if used and others:
            groups.append((used, others))
    return groups


def synonym_groups() -> list[list[str]]:
    """Every synonym group's terms, normalised: read on every search, so kept in the cache (shared by every
    process with Redis) and forgotten whenever staff save or delete a synonym (`signals.py`)."""
    groups = cache.get(SYNONYMS_CACHE_KEY)
    if groups is None:
        groups = [terms for terms in (row.term_list for row in Synonym.objects.all()) if terms]
        cache.set(SYNONYMS_CACHE_KEY, groups, SYNONYMS_CACHE_SECONDS)
    return groups


def _results(found: Found, limit: int, platform: str = "") -> list[Result]:
    """The documents as published checkers and articles, best first, in one query; anything no longer published is
    dropped, and with `platform` any checker not for it."""
    if not found:
        return []
    documents = searchable_documents().filter(pk__in=list(found))
    if platform in Platform.values:
        documents = documents.filter(Q(checker__isnull=True) | for_platform(platform, "checker__"))
    rows = documents.values_list(*SHOWN)
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
    return Result(_kind(item), item, hit.score, hit.matched, hit.confidence, title=row["title"], snippet=row["summary"])


def _kind(item: Checker | Article) -> str:
    return Document.Kind.CHECKER if isinstance(item, Checker) else Document.Kind.ARTICLE
