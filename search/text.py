"""Seller text to words: the one normalisation used for the index, the log and every query.

Lower case, punctuation (and control characters such as NUL) become spaces; dashes and underscores stay because
error codes and texts use them (XC-001, invalid_grant). Contractions are undone first: "won't" is "will not" and
"there's" is "there", not the words "won", "t", "there", "s" (a lone "t" or "s" is in every document's steps, and
ranked "settlement won't open" by how many times a guide said "don't").
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
        "cannot",  # "can't" is "can not"
        "please",  # in two error texts, and no sign of which problem
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
# Contractions, curly apostrophes too (phones type them).
_IRREGULAR = re.compile(r"\b(won|can|shan)['’]t\b")
_IRREGULAR_SPELLED = {"won": "will not", "can": "can not", "shan": "shall not"}
_NEGATED = re.compile(r"\b(\w+)n['’]t\b")  # don't, isn't, doesn't: "do not", "is not"
_CLITIC = re.compile(r"\b(\w+)['’](?:s|re|ve|ll|d|m)\b")  # there's, we're, i've, it'll, eBay's: the word
_NOT_WORD = re.compile(r"[^\w\s-]|[\x00-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
_LETTER = re.compile(r"[^\W\d_]")


def normalise(text: str) -> str:
    text = (text or "").lower()
    if "'" in text or "’" in text:
        text = _uncontract(text)
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", text)).strip()


def _uncontract(text: str) -> str:
    text = _IRREGULAR.sub(lambda match: _IRREGULAR_SPELLED[match[1]], text)
    text = _NEGATED.sub(r"\1 not", text)
    return _CLITIC.sub(r"\1", text)


def tokens(text: str) -> list[str]:
    """The words of a normalised text worth searching for, in order, each once."""
    seen: dict[str, None] = {}
    for word in text.split():
        word = word.strip("-_")
        # One letter says nothing ("t" of a contraction typed "won t", "s" of "seller s").
        if 1 < len(word) <= 60 and word not in STOP_WORDS and _LETTER.search(word):
            seen.setdefault(word, None)
    return list(seen)


def contains_phrase(haystack: str, phrase: str) -> bool:
    """Whether `phrase` occurs in `haystack` on word boundaries (both normalised)."""
    return f" {phrase} " in f" {haystack} "
