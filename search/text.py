"""Seller text to words: the one normalisation used for the index, the log and every query.

Lower case, punctuation (and control characters such as NUL) become spaces; dashes and underscores stay because
error codes and texts use them (XC-001, invalid_grant).
"""

import re

STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "to",
        "of",
        "in",
        "on",
        "my",
        "i",
        "is",
        "it",
        "and",
        "or",
        "for",
        "with",
        "when",
        "not",
        "can",
        "cant",
        "be",
        "me",
        "this",
        "that",
        "at",
        "from",
        "how",
        "do",
        "does",
        "did",
        "i'm",
        "im",
        "we",
        "our",
        "you",
        "your",
        "was",
        "were",
        "are",
        "has",
        "have",
        "had",
        "will",
        "would",
        "should",
        "could",
        "any",
        "all",
        "some",
        "what",
        "why",
        "there",
        "here",
        "its",
        "just",
        "so",
        "but",
        "if",
        "no",
        "yes",
        "get",
        "got",
        "am",
        "been",
        "into",
        "by",
        "as",
    ]
)
_NOT_WORD = re.compile(r"[^\w\s-]|[\x00-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
_LETTER = re.compile(r"[^\W\d_]")


def normalise(text: str) -> str:
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", (text or "").lower())).strip()


def tokens(text: str) -> list[str]:
    """The words of a normalised text worth searching for, in order, each once."""
    seen: dict[str, None] = {}
    for word in text.split():
        word = word.strip("-_")
        if word and word not in STOP_WORDS and _LETTER.search(word) and len(word) <= 60:
            seen.setdefault(word, None)
    return list(seen)


def contains_phrase(haystack: str, phrase: str) -> bool:
    """Whether `phrase` occurs in `haystack` on word boundaries (both normalised)."""
    return f" {phrase} " in f" {haystack} "
