"""Numbers in staff requests are read one way (helpcenter/params.py) and never make a 500 (issue 23, item 6).

`"²".isdigit()` is true and `int("²")` refuses it; `int()` refuses more than 4,300 digits. The diff, publish,
preview, review and restore pages read their numbers that way and answered such values with a 500. Now: a number in
a query string or a URL that names no version (or no place in a preview) is a 404; a number a form posts that isn't
one is a form error on the form's page (the editor's 200, the preview's 422), and nothing changes; on the review
pages, whose query is a filter, it is the default, as every bad filter there is.
"""

import pytest

from tests.factories import make_checker
from troubleshoot import versions
from troubleshoot.models import Article, ArticleVersion, CheckerVersion, Step

pytestmark = pytest.mark.django_db

NOT_NUMBERS = ["²", "-1", "abc", "9" * 5000]
NOT_NUMBER_IDS = ["superscript", "negative", "letters", "5000 digits"]


@pytest.fixture
def checker(db):
    checker = make_checker()  # version 1 is live
    Step.objects.filter(checker=checker, key="third").update(question="Working now?")
    versions.publish(checker, note="Second version")  # version 2 is live; the draft differs from neither
    Step.objects.filter(checker=checker, key="third").update(question="Working yet?")
    return checker


QUERY_URLS = {
    "diff old": "/admin/troubleshoot/checker/{pk}/diff/?old={value}",
    "diff new": "/admin/troubleshoot/checker/{pk}/diff/?old=1&new={value}",
    "publish base": "/admin/troubleshoot/checker/{pk}/publish/?base={value}",
    "preview path": "/troubleshoot/demo/preview/?path={value}",
    "preview path part": "/troubleshoot/demo/preview/?path=0.{value}",
}


@pytest.mark.parametrize("where", list(QUERY_URLS))
@pytest.mark.parametrize("value", NOT_NUMBERS, ids=NOT_NUMBER_IDS)
def test_a_query_number_that_is_not_one_is_a_404(admin_client, checker, where, value):
    assert admin_client.get(QUERY_URLS[where].format(pk=checker.pk, value=value)).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/admin/troubleshoot/checker/{pk}/diff/?old=3",
        "/admin/troubleshoot/checker/{pk}/diff/?old=0",
        "/admin/troubleshoot/checker/{pk}/diff/?old=1&new=3",
        "/admin/troubleshoot/checker/{pk}/publish/?base=3",
    ],
)
def test_a_version_number_that_names_no_version_is_a_404(admin_client, checker, url):
    """A number beyond the newest version showed the draft against nothing, or the publish page as if current."""
    assert admin_client.get(url.format(pk=checker.pk)).status_code == 404


@pytest.mark.parametrize(
    "query,shown", [({"version": "{}"}, 2), ({"version": "1", "compare": "{}"}, 1)], ids=["version", "compare"]
)
@pytest.mark.parametrize("value", [*NOT_NUMBERS, "3", "0"], ids=[*NOT_NUMBER_IDS, "no such version", "zero"])
def test_a_review_page_version_that_is_not_one_is_the_default(admin_client, checker, query, shown, value):
    """The review pages' query is a filter, and a bad filter is no error there (test_support's
    test_bad_filters_are_not_errors): a version that is none shows the live one, a comparison none."""
    response = admin_client.get("/support/checkers/demo/", {name: v.format(value) for name, v in query.items()})
    assert response.status_code == 200
    assert (response.context["shown"], response.context["compare"]) == (shown, None)


@pytest.mark.parametrize(
    "url",
    [
        "/admin/troubleshoot/checker/{pk}/diff/",
        "/admin/troubleshoot/checker/{pk}/diff/?old=",
        "/admin/troubleshoot/checker/{pk}/diff/?old=1&new=2",
        "/admin/troubleshoot/checker/{pk}/publish/",
        "/admin/troubleshoot/checker/{pk}/publish/?base=0",
        "/admin/troubleshoot/checker/{pk}/publish/?base=2",
        "/troubleshoot/demo/preview/?path=",
        "/troubleshoot/demo/preview/?path=0.1",
        "/support/checkers/demo/?version=1&compare=",
        "/support/checkers/demo/?version=1&compare=2",
    ],
)
def test_the_numbers_the_pages_link_with_still_work(admin_client, checker, url):
    assert admin_client.get(url.format(pk=checker.pk)).status_code == 200


@pytest.mark.parametrize("value", [*NOT_NUMBERS, ""], ids=[*NOT_NUMBER_IDS, "empty"])
def test_a_posted_base_that_is_not_a_number_is_a_form_error_and_publishes_nothing(admin_client, checker, value):
    response = admin_client.post(f"/admin/troubleshoot/checker/{checker.pk}/publish/", {"base": value, "note": "x"})
    assert response.status_code == 200
    assert "didn&#x27;t say which version it was opened on. Nothing was published" in response.content.decode()
    assert CheckerVersion.objects.filter(checker=checker).count() == 2


@pytest.mark.parametrize("value", NOT_NUMBERS, ids=NOT_NUMBER_IDS)
def test_a_posted_preview_path_that_is_not_one_is_refused_at_the_start(admin_client, checker, value):
    url = f"/troubleshoot/{checker.slug}/preview/"
    response = admin_client.post(url, {"step": "second", "answer": "0", "path": value})
    assert response.status_code == 422
    html = response.content.decode()
    assert "That answer wasn&#x27;t understood" in html and "Is it on?" in html  # the first step's question


# A restore names its version in the URL: a number no version has is a 404 (it was CheckerVersion.DoesNotExist, a
# 500); anything else isn't a restore URL at all, and the admin sends it to the change page it would name (302).
RESTORE_NUMBERS = [("3", 404), ("0", 404), ("2147483648", 404), ("9" * 5000, 302), ("²", 302), ("-1", 302)]


@pytest.mark.parametrize("number,status", RESTORE_NUMBERS)
def test_restoring_a_version_that_does_not_exist_is_a_404(admin_client, checker, number, status):
    before = list(Step.objects.filter(checker=checker).values())
    response = admin_client.post(f"/admin/troubleshoot/checker/{checker.pk}/restore/{number}/")
    assert response.status_code == status
    assert list(Step.objects.filter(checker=checker).values()) == before


@pytest.mark.parametrize("number,status", RESTORE_NUMBERS)
def test_restoring_an_article_version_that_does_not_exist_is_a_404(admin_client, db, number, status):
    article = Article.objects.create(slug="guide", title="A guide", body="Do this.")
    versions.publish_article(article)
    Article.objects.filter(pk=article.pk).update(body="Do that.")
    response = admin_client.post(f"/admin/troubleshoot/article/{article.pk}/restore/{number}/")
    assert response.status_code == status
    assert Article.objects.get(pk=article.pk).body == "Do that."
    assert ArticleVersion.objects.filter(article=article).count() == 1


def test_another_checkers_version_number_is_not_this_checkers(admin_client, checker):
    """A number names a version of the checker in the URL only: checker B's version 3 is no version 3 of A."""
    other = make_checker("other")
    for question in ["Two?", "Three?"]:
        Step.objects.filter(checker=other, key="third").update(question=question)
        versions.publish(other)
    assert admin_client.get(f"/admin/troubleshoot/checker/{checker.pk}/diff/?old=3").status_code == 404
    assert admin_client.post(f"/admin/troubleshoot/checker/{checker.pk}/restore/3/").status_code == 404
    assert admin_client.get(f"/admin/troubleshoot/checker/{other.pk}/diff/?old=3").status_code == 200


@pytest.mark.parametrize("value", NOT_NUMBERS, ids=NOT_NUMBER_IDS)
def test_cursors_and_limits_that_are_not_numbers_fall_back_to_the_default(client, admin_client, library, value):
    """The support requests' page cursor and the search API's limit: the first page, the default limit."""
    response = admin_client.get("/support/requests/", {"status": "all", "before": f"2026-01-01T00:00:00|{value}"})
    assert response.status_code == 200
    response = client.get("/api/search", {"q": "settlement", "limit": value})
    assert response.status_code == 200
    assert len(response.json()["results"]) <= 5
