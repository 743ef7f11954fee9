"""Finding the right checker or article for what a seller types or pastes.

Sellers often paste a whole error ("Error: Account Code Archived (code 400) while sending settlement 123"), so an
error code or a known error text found anywhere inside the query wins outright; otherwise words are scored against
titles, symptoms and summaries. The library is small (tens of items), so matching happens in Python over two
queries and works the same on SQLite and PostgreSQL.
"""

import re
from dataclasses import dataclass

from django.db.models import Prefetch

from .models import Article, Checker, ErrorCode

MAX_QUERY = 500
STOP_WORDS = {
    "a", "an", "the", "to", "of", "in", "on", "my", "i", "is", "it", "and", "or", "for", "with", "when",
    "not", "can", "cant", "can't", "be", "me", "this", "that", "at", "from", "error", "xero", "how", "do",
}  # fmt: skip


@dataclass
class Result:
    kind: str  # "checker" or "article"
    item: Checker | Article
    score: float
    matched: str = ""  # the error code or error text that matched, if any

    @property
    def url(self) -> str:
        return self.item.get_absolute_url()


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s-]", " ", text.lower())).strip()


def words(text: str) -> set[str]:
    return {w for w in normalise(text).split() if w not in STOP_WORDS and len(w) > 1}


def search(query: str) -> list[Result]:
    query = (query or "")[:MAX_QUERY]
    needle = normalise(query)
    if not needle:
        return []
    query_words = words(query)
    checkers = Checker.objects.published().prefetch_related(
        Prefetch("error_codes", queryset=ErrorCode.objects.order_by("code"))
    )
    results: list[Result] = []
    for checker in checkers:
        score, matched = 0.0, ""
        for code in checker.error_codes.all():
            if re.search(rf"(?<![\w-]){re.escape(code.code.lower())}(?![\w-])", query.lower()):
                score, matched = 100.0, code.code
        for signature in checker.signature_list:
            sig = normalise(signature)
            # The whole known text inside what was pasted, or a good part of it typed from memory.
            if sig and (sig in needle or (len(needle) >= 8 and needle in sig)):
                strength = 90.0 if sig in needle else 60.0
                if strength > score:
                    score, matched = strength, signature
        if not matched:
            score = _word_score(query_words, checker.title, checker.symptom, checker.signatures)
        if score > 0:
            results.append(Result("checker", checker, score, matched))
    for article in Article.objects.published():
        score = _word_score(query_words, article.title, article.summary, article.body) * 0.8
        if score > 0:
            results.append(Result("article", article, score))
    results.sort(key=lambda r: (-r.score, r.item.title))
    return results


def _word_score(query_words: set[str], title: str, summary: str, body: str) -> float:
    if not query_words:
        return 0.0
    title_words, summary_words, body_words = words(title), words(summary), words(body)
    score = 0.0
    for word in query_words:
        if word in title_words:
            score += 3
        elif word in summary_words:
            score += 2
        elif word in body_words:
            score += 1
    return score / len(query_words) * 10
