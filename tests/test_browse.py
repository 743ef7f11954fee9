"""Browsing a large library: home, 404 and unknown-code pages stay small; a page per category lists the rest."""

import pytest

from tests.factories import categories_with_checkers, choice, first_step, listed_checkers, make_checker
from troubleshoot.models import Category, Checker

pytestmark = pytest.mark.django_db


@pytest.fixture
def big_category(db):
    category = Category.objects.create(slug="big", name="Big category")
    listed_checkers(category, range(60))
    return category


@pytest.mark.parametrize("url", ["/", "/no-such-page/", "/e/UNKNOWN-1/"])
def test_pages_that_list_content_show_a_few_per_category(client, big_category, url):
    html = client.get(url).content.decode()
    assert "Many checker 00" in html and "Many checker 03" in html and "Many checker 04" not in html
    assert "All 60 in Big category" in html and "/category/big/" in html


def test_home_query_count_and_size_stay_flat(client, big_category, django_assert_num_queries):
    small = len(client.get("/").content)
    listed_checkers(big_category, range(60, 600))
    # A new page (content changed): the incidents' schedule (none active: no incident is read), categories, their
    # first checkers, the latest guides (the most used ranking is cached for five minutes).
    with django_assert_num_queries(4):
        large = len(client.get("/").content)
    assert abs(large - small) < 100


def test_category_page_lists_every_checker_a_page_at_a_time(client, big_category):
    first = client.get("/category/big/").content.decode()
    assert "Many checker 00" in first and "Many checker 49" in first and "Many checker 50" not in first
    assert "Page 1 of 2" in first
    second = client.get("/category/big/", {"page": "2"}).content.decode()
    assert "Many checker 59" in second
    assert client.get("/category/big/", {"page": "nonsense"}).status_code == 200
    assert client.get("/category/nope/").status_code == 404


def test_drafts_are_not_listed(client, big_category):
    Checker.objects.filter(slug="many-00").update(is_published=False)
    assert "Many checker 00" not in client.get("/").content.decode()
    assert "Many checker 00" not in client.get("/category/big/").content.decode()


def test_most_used_checkers_come_from_recent_runs(client, big_category):
    import uuid

    from troubleshoot import versioncache, walk

    popular = make_checker("popular", category=big_category)
    popular.position = 99
    popular.save()
    flow = versioncache.flow_of(popular.live_version_id)
    for _ in range(2):
        walk.start_run(flow, uuid.uuid4(), first_step(popular), choice(popular, "start", "Yes"))
    html = client.get("/").content.decode()
    assert "Most used" in html and html.index(popular.title) < html.index("Many checker 00")


def test_the_overview_is_cached_and_forgotten_when_content_is_saved(
    client, big_category, django_assert_num_queries, django_capture_on_commit_callbacks
):
    client.get("/")
    with django_assert_num_queries(1):  # the overview from the cache: only the latest guides are read
        client.get("/")
    checker = Checker.objects.get(slug="many-00")
    checker.title = "Renamed checker"
    with django_capture_on_commit_callbacks(execute=True):  # as it commits
        checker.save()
    assert "Renamed checker" in client.get("/").content.decode()


@pytest.mark.parametrize("url", ["/", "/no-such-page/", "/e/UNKNOWN-1/"])
def test_pages_that_list_content_stay_the_same_size_as_categories_grow(client, db, url):
    """Three categories, then thirty-three: the first three keep their cards, ten more are named, and the rest are
    one link away."""
    categories_with_checkers(1, 3, 5)
    small = client.get(url).content.decode()
    categories_with_checkers(4, 30, 10)
    large = client.get(url).content.decode()
    assert len(large) - len(small) < 1500, (len(small), len(large))
    assert large.count("?source=home") == small.count("?source=home") == 3 * 4
    assert "Topic 003" in large and "/category/topic-013/" in large and "/category/topic-014/" not in large
    assert "All 33 topics" in large and "/topics/" in large and "All 3 topics" not in small


def test_the_topics_page_lists_every_category_a_page_at_a_time(client, db):
    categories_with_checkers(1, 55, 1)
    Category.objects.create(slug="empty", name="Empty topic")  # no published checker: not a topic
    first = client.get("/topics/").content.decode()
    assert "Topic 001" in first and "Topic 050" in first and "Topic 051" not in first and "Page 1 of 2" in first
    second = client.get("/topics/", {"page": "2"}).content.decode()
    assert "/category/topic-055/" in second and "Empty topic" not in second
    assert client.get("/topics/", {"page": "nonsense"}).status_code == 200


def test_nothing_found_offers_a_few_topics_and_the_page_of_all(client, db):
    categories_with_checkers(1, 20, 1)
    html = client.get("/search/", {"q": "zzzqqq nothing like this"}).content.decode()
    assert (
        "We don't have a guide for this message yet" in html
        and "/category/topic-013/" in html
        and "/category/topic-014/" not in html
    )
    assert "All 20 topics" in html
