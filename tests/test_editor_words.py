"""The editor's words and ways out (issue 26, item 10): "Listed" beside "Publish…", "Versions" (published versions,
at …/versions/) beside "Change log" (the admin's history of saves), a link to the checker's review page, and
"Start from a copy" of a checker."""

import pytest
from django.contrib.auth.models import Permission

from tests.factories import make_checker, member, targets
from troubleshoot import versions
from troubleshoot.models import Checker, ErrorCode

pytestmark = pytest.mark.django_db


def editor(checker: Checker) -> str:
    return f"/admin/troubleshoot/checker/{checker.pk}/change/"


def test_the_editor_says_listed_versions_and_change_log_and_links_the_review_page(admin_client, checker):
    html = admin_client.get(editor(checker)).content.decode()
    assert '<label class="vCheckboxLabel" for="id_is_published">Listed</label>' in html
    assert "Is published" not in html
    assert f'<a href="/admin/troubleshoot/checker/{checker.pk}/versions/" data-save-first>Versions</a>' in html
    assert (
        f'href="/admin/troubleshoot/checker/{checker.pk}/history/" class="historylink" data-save-first>Change log<'
        in html
    )
    assert '<a href="/support/checkers/demo/" data-save-first>How sellers use it</a>' in html
    assert 'type="submit" form="copy-checker"' in html
    versions_page = admin_client.get(f"/admin/troubleshoot/checker/{checker.pk}/versions/")
    assert versions_page.status_code == 200 and "Versions of Demo checker demo" in versions_page.content.decode()
    change_log = admin_client.get(f"/admin/troubleshoot/checker/{checker.pk}/history/").content.decode()
    assert "Change history: Demo checker demo" in change_log  # the admin's own page, no longer hidden by Versions


def test_an_editor_without_the_review_pages_gets_no_link_to_them(client, checker):
    html = member(client, "Editors").get(editor(checker)).content.decode()
    assert "How sellers use it" not in html and "Versions" in html


def test_the_article_editor_says_listed_and_change_log(admin_client):
    from troubleshoot.models import Article

    article = Article.objects.create(slug="guide", title="Guide", body="Do this.")
    html = admin_client.get(f"/admin/troubleshoot/article/{article.pk}/change/").content.decode()
    assert '<label class="vCheckboxLabel" for="id_is_published">Listed</label>' in html
    assert f'<a href="/admin/troubleshoot/article/{article.pk}/versions/" data-save-first>Versions</a>' in html
    assert ">Change log</a>" in html


def test_start_from_a_copy_makes_an_unlisted_draft_with_the_same_steps_and_no_error_texts(admin_client):
    checker = make_checker("demo", code="XC-1")
    Checker.objects.filter(pk=checker.pk).update(platforms=Checker.Platforms.XERO)
    response = admin_client.post(f"/admin/troubleshoot/checker/{checker.pk}/copy/")
    copy = Checker.objects.get(slug="demo-copy")
    assert response.status_code == 302 and response.url == editor(copy)
    assert (copy.title, copy.is_published, copy.live_version_id) == ("Demo checker demo (copy)", False, None)
    assert targets(copy) == targets(checker)
    assert versions.draft_steps(copy) == versions.draft_steps(checker)
    assert copy.signatures == "" and not ErrorCode.objects.filter(checker=copy).exists()
    assert copy.support_hint == checker.support_hint and copy.category == checker.category
    assert copy.platforms == Checker.Platforms.XERO
    assert versions.checker_problems(versions.draft_data(copy)) == []  # publishable as it is: nothing shared
    admin_client.post(f"/admin/troubleshoot/checker/{checker.pk}/copy/")
    assert Checker.objects.filter(slug="demo-copy-2").exists()
    assert list(Checker.objects.get(slug="demo").steps.values_list("key", flat=True)) == ["start", "second", "third"]


def test_a_copys_slug_is_cut_at_a_word_to_fit(admin_client):
    checker = make_checker("orders-from-the-marketplace-stopped-arriving-in-xe")  # 50 characters
    admin_client.post(f"/admin/troubleshoot/checker/{checker.pk}/copy/")
    assert Checker.objects.filter(slug="orders-from-the-marketplace-stopped-arriving-copy").exists()


def test_only_a_post_from_someone_who_may_add_checkers_copies(client, checker):
    url = f"/admin/troubleshoot/checker/{checker.pk}/copy/"
    staff = member(client, "Editors")
    assert staff.get(url).status_code == 302 and Checker.objects.count() == 1
    assert Permission.objects.filter(group__name="Editors", codename="add_checker").exists()
    assert staff.post(url).status_code == 302 and Checker.objects.count() == 2
    reviewer = member(client, "Reviewers", name="rita")
    assert reviewer.post(url).status_code == 403 and Checker.objects.count() == 2
