"""The library as sellers browse it: the first few categories with their first few checkers, the next few by name,
a page of every category, and the most used checkers.

Pages that list content (home, the 404 and unknown-code pages, search's "nothing fits") show these, never the whole
library nor every category, so they stay the same size with 5,000 checkers in 15 categories as with 13 in 3.

Each takes the seller's platform (`platforms.py`): known, they list only the checkers for it.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.core.cache import cache
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from helpcenter.contentcache import content_generation

from .models import Category, Checker, Run

CATEGORIES_SHOWN = 3  # with their first checkers
CHECKERS_PER_CATEGORY = 4
MORE_TOPICS = 10  # the categories after those, by name; the rest on the topics page
MOST_USED = 6
MOST_USED_DAYS = 30
MOST_USED_CACHE_KEY = "troubleshoot:most-used"
MOST_USED_CACHE_SECONDS = 300
OVERVIEW_CACHE_KEY = "troubleshoot:overview"
OVERVIEW_CACHE_SECONDS = 60 * 60
LISTED = ["slug", "title", "symptom", "category_id", "position"]  # what a list shows of a checker


@dataclass
class Overview:
    """What a page shows of the library's categories, bounded whatever its size."""

    shown: list[Category] = field(default_factory=list)  # each with `checker_count` and `first_checkers`
    more: list[Category] = field(default_factory=list)  # the next ones, each with `checker_count`
    total: int = 0  # categories with published checkers

    @property
    def hidden(self) -> int:
        """Categories on the topics page only."""
        return self.total - len(self.shown) - len(self.more)


def listed_categories(platform: str = "") -> QuerySet[Category]:
    """The categories that have published checkers (for `platform`, if known), each with `checker_count`, in the
    order staff gave them."""
    published = Checker.objects.published().for_platform(platform)
    return (
        Category.objects.annotate(checker_count=Count("checkers", filter=Q(checkers__in=published)))
        .filter(checker_count__gt=0)
        .order_by("position", "name")  # Meta.ordering doesn't apply to aggregate queries
    )


def categories_overview(checkers_per_category: int = CHECKERS_PER_CATEGORY, platform: str = "") -> Overview:
    """The first `CATEGORIES_SHOWN` categories with their first few checkers and the next `MORE_TOPICS` by name, in
    two queries however large the library grows.

    Every seller-facing list page shows it, and with thousands of checkers it costs more than the rest of the
    page, so it is cached under the content generation (`helpcenter/contentcache.py`): any content change files it
    afresh.
    """
    key = f"{OVERVIEW_CACHE_KEY}:{content_generation()}:{checkers_per_category}:{platform}"
    overview = cache.get(key)
    if overview is None:
        overview = _categories_overview(checkers_per_category, platform)
        cache.set(key, overview, OVERVIEW_CACHE_SECONDS)
    return overview


def _categories_overview(checkers_per_category: int, platform: str) -> Overview:
    categories = listed_categories(platform)
    # The count of every category is one aggregate; only the first few rows are read back.
    first = list(categories[: CATEGORIES_SHOWN + MORE_TOPICS + 1])
    overview = Overview(shown=first[:CATEGORIES_SHOWN], more=first[CATEGORIES_SHOWN : CATEGORIES_SHOWN + MORE_TOPICS])
    overview.total = len(first) if len(first) <= CATEGORIES_SHOWN + MORE_TOPICS else categories.count()
    firsts: dict[int, list[Checker]] = {}
    if checkers_per_category and overview.shown:
        ranked = (
            Checker.objects.published()
            .for_platform(platform)
            .filter(category__in=[category.pk for category in overview.shown])
            .only(*LISTED)
            .annotate(place=Window(RowNumber(), partition_by=F("category_id"), order_by=[F("position"), F("title")]))
            .filter(place__lte=checkers_per_category)
        )
        for checker in ranked.order_by("category_id", "place"):
            firsts.setdefault(checker.category_id, []).append(checker)
    for category in overview.shown:
        category.first_checkers = firsts.get(category.pk, [])
    return overview


def most_used_checkers(limit: int = MOST_USED, platform: str = "") -> list[Checker]:
    """The published checkers (for `platform`, if known) with the most runs started in the last 30 days.

    Counting a month of runs is the one read on these pages that grows with traffic, so the ranking is cached for a
    few minutes (per process); the checkers themselves are read fresh, so an unpublished one disappears at once.
    """
    counts = cache.get(MOST_USED_CACHE_KEY)
    if counts is None:
        since = timezone.now() - timedelta(days=MOST_USED_DAYS)
        counts = dict(
            Run.objects.filter(started_at__gte=since)
            .values_list("checker_id")
            .annotate(total=Count("pk"))
            .order_by("-total")[: limit * 3]
        )
        cache.set(MOST_USED_CACHE_KEY, counts, MOST_USED_CACHE_SECONDS)
    if not counts:
        return []
    checkers = Checker.objects.published().for_platform(platform).filter(pk__in=counts).only(*LISTED)
    return sorted(checkers, key=lambda checker: (-counts[checker.pk], checker.title))[:limit]
