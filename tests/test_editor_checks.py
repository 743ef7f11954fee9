"""What the checker editor checks as it saves and publishes (issue 26, item 8): error texts another checker has,
error codes written in another case, step keys left empty, slugs cut at a word, help texts shown as written."""

import html

import pytest
from django.contrib.messages import get_messages

from tests.factories import add_step, editor_page_form, make_checker
from troubleshoot import versions
from troubleshoot.models import Checker, ErrorCode, Step, cut_at_word, key_from_title

pytestmark = pytest.mark.django_db


def editor(checker: Checker) -> str:
    return f"/admin/troubleshoot/checker/{checker.pk}/change/"


def warnings(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]


def test_an_error_text_another_checker_has_is_saved_with_a_warning_naming_it(admin_client, checker):
    other = make_checker("other")
    other.signatures = "Something else entirely"
    other.save()
    # The same text as the demo checker's, in another case and spacing: search finds both with it.
    data = editor_page_form(admin_client, editor(other)) | {"signatures": "token HAS  been kaput!"}
    response = admin_client.post(editor(other), data)
    assert response.status_code == 302  # saved: nothing on the page waits on it
    assert Checker.objects.get(pk=other.pk).signatures == "token HAS  been kaput!"
    [warning] = warnings(response)
    assert warning.startswith('The error text "token HAS  been kaput!" is also <a href="')
    assert f'{editor(checker)}">Demo checker demo</a>' in warning
    assert "this one can&#x27;t be published while both have it" in warning


def test_an_unshared_error_text_saves_without_a_warning(admin_client, checker):
    data = editor_page_form(admin_client, editor(checker)) | {"signatures": "Token has been kaput\nBrand new text"}
    response = admin_client.post(editor(checker), data)
    assert response.status_code == 302
    assert warnings(response) == []


def test_publishing_is_refused_while_a_checker_sellers_find_has_the_same_error_text(admin_client, checker):
    other = make_checker("other")
    other.signatures = "Something odd happened"  # the demo checker's second text
    other.save()
    Step.objects.filter(checker=other, key="start").update(title="First, changed")
    with pytest.raises(versions.PublishRefused) as refused:
        versions.publish(other)
    assert [str(p) for p in refused.value.problems] == [
        'The error text "Something odd happened" is already "Demo checker demo"\'s (demo): a seller who pastes it '
        "would find both. Keep it on one checker (remove it here or there), then publish."
    ]
    page = admin_client.get(f"/admin/troubleshoot/checker/{other.pk}/publish/?base=1").content.decode()
    assert "This draft can't be published" in page
    assert "The error text &quot;Something odd happened&quot; is already &quot;Demo checker demo&quot;" in page
    assert "Publish version 2" not in page

    checker.is_published = False  # no seller finds the demo checker now: nothing splits
    checker.save()
    assert versions.publish(other).number == 2


def test_another_checkers_error_code_in_lower_case_is_refused_on_the_page_not_by_the_database(admin_client, checker):
    ErrorCode.objects.create(code="SYNC-42", checker=checker)
    other = make_checker("other")
    data = editor_page_form(admin_client, editor(other)) | {
        "error_codes-TOTAL_FORMS": "1",
        "error_codes-0-id": "",
        "error_codes-0-code": "sync-42",
    }
    response = admin_client.post(editor(other), data)
    assert response.status_code == 200  # was a 500: the unique check saw "sync-42", the database "SYNC-42"
    assert 'SYNC-42 is already the error code of "Demo checker demo"' in html.unescape(response.content.decode())
    assert not ErrorCode.objects.filter(checker=other).exists()


def test_a_step_left_without_a_key_gets_one_from_its_title(admin_client, checker):
    data = editor_page_form(admin_client, editor(checker))
    data = add_step(data, 3, "", "Restart the app", [("Fixed", "resolved", "")])
    data = add_step(data, 4, "", "Restart the app", [("Fixed", "resolved", "")])
    response = admin_client.post(editor(checker), data)
    assert response.status_code == 302
    assert list(checker.steps.values_list("key", flat=True)) == [
        "start",
        "second",
        "third",
        "restart-the-app",
        "restart-the-app-2",
    ]


def test_keys_and_slugs_are_cut_at_a_word():
    title = "Check that the connection between the store and Xero is still there"
    assert key_from_title(title, set(), 50) == "check-that-the-connection-between-the-store-and"
    assert key_from_title(title, {"check-that-the-connection-between-the-store-and"}, 50) == (
        "check-that-the-connection-between-the-store-and-2"
    )
    assert key_from_title("!!!", set()) == "step"
    assert cut_at_word("a" * 70, 60) == "a" * 60  # one long word: cut inside it, the only way
    assert cut_at_word("short-one", 60) == "short-one"


def test_help_texts_show_their_placeholders(admin_client, checker):
    page = admin_client.get(editor(checker)).content.decode()
    assert "Part of the URL /troubleshoot/&lt;slug&gt;/." in page
    assert 'title="Stored upper-case; /e/&lt;code&gt;/ links to the checker. Never reuse a code."' in page
    assert "/troubleshoot//" not in page and "/e//" not in page
