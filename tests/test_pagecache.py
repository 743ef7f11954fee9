"""What sellers get from the cache: a publish shows at once, even to a seller who asked while it was committing."""

import threading

import pytest
from django.db import connection, transaction
from django.test import Client

from tests.conftest import make_checker
from troubleshoot import versions
from troubleshoot.models import Article, Checker, Step


def asked_by_another_seller(url: str) -> str:
    """The page at `url` as a seller's request on another connection gets it now (the test's own connection may be
    inside a transaction that this request must not see)."""
    pages = []

    def seller():
        try:
            pages.append(Client().get(url).content.decode())
        finally:
            connection.close()

    thread = threading.Thread(target=seller)
    thread.start()
    thread.join(timeout=30)
    assert pages, "the seller's request did not finish"
    return pages[0]


def reword_first_step(checker: Checker) -> str:
    Step.objects.filter(checker=checker, key="start").update(title="First, reworded")
    versions.publish(Checker.objects.get(pk=checker.pk), note="Reworded")
    return "First, reworded"


def retitle_article(article: Article) -> str:
    article.title = "A guide, retitled"
    article.save()
    versions.publish_article(article, note="Retitled")
    return "A guide, retitled"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("url", "publish"),
    [("/troubleshoot/demo/", "checker"), ("/", "article")],
    ids=["checker's first step", "home page's guides"],
)
def test_a_page_asked_for_while_a_publish_commits_shows_the_new_version_after_it(url, publish):
    """Outside testing: the generation moved on at the save, before the publish committed, so a seller asking in
    that window had the old page filed under the new generation, served for an hour."""
    checker = make_checker()
    article = Article.objects.create(slug="guide", title="A guide", summary="Tips", body="Do this.")
    versions.publish_article(article)
    old_text = "First" if publish == "checker" else "A guide"
    assert old_text in Client().get(url).content.decode()  # cached as it stands
    with transaction.atomic():
        new_text = reword_first_step(checker) if publish == "checker" else retitle_article(article)
        during = asked_by_another_seller(url)
    assert old_text in during and new_text not in during  # not committed yet: the old version, as it should be
    assert new_text in asked_by_another_seller(url)
    assert new_text in Client().get(url).content.decode()
