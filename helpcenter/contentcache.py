"""What sellers are shown that changes only when content does (search results, the categories overview, checkers by
id, the incidents' schedule), kept in the cache under a *content generation*.

The generation is one number in the cache: any change to what sellers see (a content edit, an import, a publish)
moves it on with `content_changed()` once it commits, and everything kept under the old number is simply never asked
for again (it expires on its own). The djangoproject.com dashboard uses the same trick. With REDIS_URL the cache, and
so the generation, is shared by every app server.

Each process also keeps what it read last: the generation for `GENERATION_TTL` seconds, and the things filed under
it (in memory, `remember`). So they cost no round trip to the cache while nothing changes, and a change made on one
app server shows on the others within `GENERATION_TTL` (at once on the server that made it).

No page is kept whole: every page is rendered for its request from kept parts (a published version's flow with its
steps' Markdown rendered, `versioncache.flow_of`; an article version's text, `versioncache.article_page`). Keeping
the home page whole saved about 1.4 ms a request (1.6 ms against 0.2 ms in-process): nothing a seller feels.
"""

import time

from django.core.cache import cache
from django.db import transaction

GENERATION_KEY = "content-generation"
# How long a process trusts the generation it read last (seconds): how soon a change made on another app server
# shows on this one.
GENERATION_TTL = 1.0
# A cached page is rebuilt at least this often, whatever happens (seconds).
PAGE_TIMEOUT = 60 * 60
# What each process keeps in memory under the current generation, forgotten all at once when full: pages (the home
# page and its variants) and other things read for sellers (checkers by id, the incidents' schedule).
MEMO_SIZE = {"page": 200}
OTHER_MEMO_SIZE = 5000

_seen: tuple[int | None, float] = (None, 0.0)  # (generation, when it was read)
_memos: dict[str, dict] = {}


def content_generation() -> int:
    global _seen
    generation, read_at = _seen
    now = time.monotonic()
    if generation is not None and now - read_at < GENERATION_TTL:
        return generation
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, 1, timeout=None)
        generation = cache.get(GENERATION_KEY, 1)
    _seen = (generation, now)
    return generation


def content_changed(**kwargs) -> None:
    """Retire every cached page once the change is committed (connected to content models' saves and deletes; a
    publish calls it too, for the live version it sets with `update()`).

    Not at once: a seller request in the window before the commit still reads the old content, and would file it
    under the new generation, to be served for an hour (`PAGE_TIMEOUT`). Outside a transaction it happens at once.
    """
    transaction.on_commit(_next_generation, using=kwargs.get("using"))


def _next_generation() -> None:
    global _seen
    try:
        generation = cache.incr(GENERATION_KEY)
    except ValueError:  # not there yet (or evicted): any new number retires the old pages
        generation = content_generation() + 1
        cache.set(GENERATION_KEY, generation, timeout=None)
    _seen = (generation, time.monotonic())


def remember(what: str, key, load):
    """`load()`, kept in this process's memory until content changes (or `GENERATION_TTL` after a change made on
    another app server). A `None` from `load` is not kept."""
    generation = content_generation()
    memo = _memos.setdefault(what, {})
    found = memo.get((generation, key))
    if found is None:
        found = load()
        if found is not None:
            if len(memo) >= MEMO_SIZE.get(what, OTHER_MEMO_SIZE):
                memo.clear()
            memo[(generation, key)] = found
    return found


def forget() -> None:
    """Forget what this process read (tests, whose cache and database start afresh between them)."""
    global _seen
    _seen = (None, 0.0)
    _memos.clear()
