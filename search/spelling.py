"""Misspelt words corrected to the index's nearest word, the same way on SQLite and PostgreSQL.

The index's vocabulary (`search.Word`) is read once per process until content changes
(`helpcenter.contentcache.remember`), and each misspelling's correction is worked out once: looking a search's words
up in the database took more than ranking a short query on SQLite, and a statement of its own on PostgreSQL
(trigram candidates, then difflib in Python); sellers make the same slips again and again.
"""

import difflib

from helpcenter.contentcache import remember

from .models import Word

CLOSE_ENOUGH = 0.78  # difflib ratio for a misspelling to count as a word of the index


class Vocabulary:
    """The index's words, grouped as misspellings are looked for: by first letter and length."""

    def __init__(self, words: list[str]):
        self.words = frozenset(words)
        self.groups: dict[tuple[str, int], list[str]] = {}
        for word in words:
            self.groups.setdefault((word[0], len(word)), []).append(word)

    @classmethod
    def read(cls) -> "Vocabulary":
        return cls(list(Word.objects.values_list("word", flat=True)))

    def near(self, word: str) -> list[str]:
        """The words that could be meant by a misspelt `word`: same first letter, at most two letters more or less."""
        lengths = range(len(word) - 2, len(word) + 3)
        return [near for length in lengths for near in self.groups.get((word[0], length), [])]

    def closest(self, word: str) -> str:
        """The nearest word (difflib's ratio), if one is close enough; "" if none is."""
        best = difflib.get_close_matches(word, self.near(word), n=1, cutoff=CLOSE_ENOUGH)
        return best[0] if best else ""


def corrections(words: list[str], most: int) -> dict[str, str]:
    """For the first `most` of `words` that the index doesn't have (misspelt), the index's word meant, if one is
    close enough."""
    vocabulary = remember("vocabulary", "", Vocabulary.read)
    unknown = [word for word in words if word not in vocabulary.words][:most]
    fixed = {word: remember("spelling", word, lambda word=word: vocabulary.closest(word)) for word in unknown}
    return {word: near for word, near in fixed.items() if near}
