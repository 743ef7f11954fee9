"""What sellers get from the cache, and what is theirs alone.

Kept under the content generation: what changes only with content (the categories overview, search results, checkers
by id). A publish shows at once, even after a seller asked while it was committing. Rendered for each seller: every
page (its CSRF token, a run's own URLs and answer to undo, a fresh run id).
"""

import re
import threading

import pytest
from django.db import connection, transaction
from django.test import Client

from tests.factories import choice, make_checker
from troubleshoot import versions
from troubleshoot.models import Checker, Run, Step

HTMX = {"HTTP_HX_REQUEST": "true"}
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


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


def retitle_checker(checker: Checker) -> str:
    """A listing change, saved (no publish): sellers see it on the home page's overview and in search at once."""
    checker.title = "Demo checker, retitled"
    checker.save()
    return "Demo checker, retitled"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("url", "publish"),
    [("/troubleshoot/demo/", "publish"), ("/", "listing")],
    ids=["checker's first step", "home page's overview"],
)
def test_a_page_asked_for_while_a_publish_commits_shows_the_new_version_after_it(url, publish):
    """Outside testing: the generation moved on at the save, before the publish committed, so a seller asking in
    that window had the old page filed under the new generation, served for an hour."""
    checker = make_checker()
    old_text = "First" if publish == "publish" else "Demo checker"
    assert old_text in Client().get(url).content.decode()  # cached as it stands
    with transaction.atomic():
        new_text = reword_first_step(checker) if publish == "publish" else retitle_checker(checker)
        during = asked_by_another_seller(url)
    assert old_text in during and new_text not in during  # not committed yet: the old version, as it should be
    assert new_text in asked_by_another_seller(url)
    assert new_text in Client().get(url).content.decode()


# What is each seller's own


def first_step_form(seller: Client, checker: Checker) -> tuple[str, str, dict]:
    """The checker's first step as `seller` gets it: the page, where its form posts, and what it posts."""
    html = seller.get(checker.get_absolute_url(), {"source": "email"}).content.decode()
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
    fields.pop("csrfmiddlewaretoken")
    return html, f"{checker.get_absolute_url()}start/", {**fields, "answer": choice(checker, "start", "Yes")}


def run_at_second_step(seller: Client, checker: Checker) -> str:
    html, url, data = first_step_form(seller, checker)
    response = seller.post(url, {**data, "csrfmiddlewaretoken": TOKEN.search(html).group(1)})
    assert response.status_code == 302
    return response.url.partition("?")[0]  # the run's page, without the step number (?at=2)


def run_page_form(seller: Client, checker: Checker) -> tuple[str, str, dict]:
    run_url = run_at_second_step(seller, checker)
    html = seller.get(run_url).content.decode()
    return html, f"{run_url}answer/", {"step": "second", "answer": choice(checker, "second", "No")}


def answered_panel_form(seller: Client, checker: Checker) -> tuple[str, str, dict]:
    """The panel an htmx answer returns (the step after it), and its form."""
    html, url, data = run_page_form(seller, checker)
    response = seller.post(url, {**data, "csrfmiddlewaretoken": TOKEN.search(html).group(1)}, **HTMX)
    assert response.status_code == 200
    return response.content.decode(), url, {"step": "third", "answer": choice(checker, "third", "Fixed")}


@pytest.mark.django_db
@pytest.mark.parametrize("form_of", [first_step_form, run_page_form, answered_panel_form])
def test_two_sellers_never_get_each_others_csrf_token(checker, form_of):
    """The token in the page served to the second seller is the one their own CSRF cookie accepts; the first
    seller's is refused for them (a token kept with a cached page would be the first visitor's, for everyone)."""
    one, two = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first_html, _, _ = form_of(one, checker)
    html, url, data = form_of(two, checker)
    theirs, not_theirs = TOKEN.search(html).group(1), TOKEN.search(first_html).group(1)
    assert two.post(url, {**data, "csrfmiddlewaretoken": not_theirs}, **HTMX).status_code == 403
    assert two.post(url, {**data, "csrfmiddlewaretoken": theirs}, **HTMX).status_code == 200


@pytest.mark.django_db
def test_two_runs_at_one_step_each_get_their_own_urls_and_back(checker):
    pages = []
    for _ in range(2):
        seller = Client()
        run_url = run_at_second_step(seller, checker)
        pages.append((run_url, seller.get(run_url, **HTMX).content.decode()))
    (one_url, one), (two_url, two) = pages
    undo = re.compile(r'<input type="hidden" name="answer" value="(\d+)">')
    for url, html, other_url in [(one_url, one, two_url), (two_url, two, one_url)]:
        run = Run.objects.get(pk=url.rstrip("/").rsplit("/", 1)[1])
        assert f'action="{url}answer/"' in html and f'action="{url}back/"' in html and other_url not in html
        assert undo.search(html).group(1) == str(run.answers.get().pk)
