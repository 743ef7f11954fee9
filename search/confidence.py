"""How sure search is of a result, so the page can act on it (issue 25).

- **certain**: an error code or a known error text of the document is in the query (or a phrasing staff attached to
  it, typed exactly);
- **likely**: the document's own text (its head: title, error texts, codes and phrasings, symptom or summary) has
  at least two thirds of the query's *rare* words (and one at least): the seller's own words, or their spelling
  corrections, not synonyms;
  or its title has every word of a query of two words or more ("xero disconnected": the words are common, the
  title is "Xero shows as disconnected");
  or the library knows every word of the query and the document's head has at least two thirds of its *telling*
  words, of two or more (words not in most documents): "the wizard won't save my accounts": "wizard", "save" and
  "accounts" are each in several checkers, and all three are in the head of "Failed to save accounts". A word no
  document has rules this out: the message is about something the library never mentions ("Your eBay selling
  limit has been reached": "limit", "reached" and "month" are in the head of the Xero plan limit checker);
- **none**: only common words are shared, or a rare word or two of many, or only the steps' text: it "might be
  related".

A word is rare when the index itself says so: the number of documents holding it (stemmed by the database, as the
ranking matches it) is at most RARE_SHARE of the documents (rounded up), and at least RARE_FLOOR however small the
library. A word no document has is rare too: a message about listings, cards and inventory shares a word or two with
some checker ("inactive", "unique"), but most of what it says the library never mentions. The names of platforms and
sales channels don't count either way: they say where a problem is, not which (an Etsy message the library doesn't
cover is not a likely match for the one checker that names Etsy).

Calibrated on tests/seller_phrasings.py (tests/test_search_confidence.py): every exact message is certain, none of
the 47 messages the library doesn't cover is likely, and of the 99 seller phrasings found first 58 are likely or
certain on SQLite, 49 on PostgreSQL (44 and 37 with rare words alone: the rest said "no guide yet" above the right
guide). For rare words, "more than half" let "This discount code isn't valid for the items in your cart" be a likely
match for account mapping errors (code, valid, item: three of its five rare words).

Each word's document count is read from the database once per process until content changes (kept like the
vocabulary, see `helpcenter.contentcache.remember`): one statement for a search's new words, none once sellers have
used them.
"""

import math

from helpcenter.contentcache import remember

from . import backends

CERTAIN, LIKELY, NONE = "certain", "likely", "none"
ORDER = {CERTAIN: 0, LIKELY: 1, NONE: 2}
RARE_SHARE = 0.10
RARE_FLOOR = 3
KEPT_WORDS = 50_000  # words whose counts a process keeps under one content generation (then it starts again)

# Where a problem is, not which: a title naming the seller's platform or channel ranks higher (search.py), and none
# of these makes a match likely. "Sales channel" names every channel.
PLATFORMS = {
    "xero": "xero",
    "quickbooks": "quickbooks",
    "qbo": "quickbooks",
    "intuit": "quickbooks",
    "ebay": "ebay",
    "amazon": "amazon",
    "shopify": "shopify",
    "etsy": "etsy",
    "woocommerce": "woocommerce",
    "paypal": "paypal",
    "stripe": "stripe",
    "channel": "sales channel",
    "channels": "sales channel",
}
CHANNELS = {"ebay", "amazon", "shopify", "etsy", "woocommerce"}


def platforms_in(words) -> set[str]:
    """The platforms and channels these words name (a channel is a sales channel too)."""
    named = {PLATFORMS[word] for word in words if word in PLATFORMS}
    return named | {"sales channel"} if named & CHANNELS else named


def rare_limit(documents: int) -> int:
    """The most documents a rare word may be in."""
    return max(RARE_FLOOR, math.ceil(documents * RARE_SHARE))


def document_counts(words: list[str]) -> tuple[dict[str, int], int]:
    """How many documents hold each of `words` (stemmed by the database), and how many documents there are."""
    counts = remember("document-counts", "", dict)  # this generation's counts, filled as words come
    missing = [word for word in dict.fromkeys(["", *words]) if word not in counts]
    if missing:
        if len(counts) > KEPT_WORDS:
            counts.clear()
            missing = list(dict.fromkeys(["", *words]))
        counts.update(backends.document_counts([word for word in missing if word]))
    return {word: counts[word] for word in words}, counts[""]


def rare_words(in_index: dict[str, int], documents: int) -> list[str]:
    """The words (with the documents holding each) that are rare in the index or not in it, platform names aside."""
    most = rare_limit(documents)
    return [word for word, count in in_index.items() if count <= most and word not in PLATFORMS]


def of_text_match(
    in_head: int,
    rare: int,
    title_has_all: bool = False,
    *,
    telling_in_head: int = 0,
    telling: int = 0,
    unknown: int = 0,
) -> str:
    """A full-text result's confidence: from how many of the query's `rare` words its head has (`in_head`), whether
    its title has every word of the query (a short query of common words: "xero disconnected"), or how many of the
    query's `telling` words its head has (`telling_in_head`) when the library knows all its words (no `unknown`)."""
    if title_has_all or (in_head and 3 * in_head >= 2 * rare):
        return LIKELY
    return LIKELY if not unknown and telling >= 2 and 3 * telling_in_head >= 2 * telling else NONE
