"""The checker editor saves only the checker's own rows (issue 23, item 2).

Its nested forms name each step, answer, action link and error code by a hidden id. Another checker's id put there
(by hand, or a stale or forged form) once moved that row into the checker being saved, or deleted it with DELETE, and
the admin log recorded a change to this checker only; another checker's step id with DELETE was a 500. Now every id
must be one of the saved checker's own rows, at every level: anything else is a form error and nothing is saved.

The tests post the editor's own form, read from its rendered page as a browser would send it, with one id changed.
Articles have no inline rows (their checkers are a many-to-many choice of any checker), so there is nothing of
another article to name.
"""

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, User

from tests.factories import FormFields, make_checker
from troubleshoot.admin import OwnRowsFormSet
from troubleshoot.models import Article, Checker, Choice, ErrorCode, Step, StepLink

pytestmark = pytest.mark.django_db


def editor_form(client, checker: Checker) -> dict[str, str]:
    """The checker's change form as its page sends it on Save."""
    html = client.get(f"/admin/troubleshoot/checker/{checker.pk}/change/").content.decode()
    parser = FormFields("checker_form")
    parser.feed(html)
    data = dict(parser.fields)
    assert len(data) == len(parser.fields), "every field of the editor has a name of its own"
    return data | {"_save": "Save"}


def rows_of(checker: Checker) -> dict[str, list]:
    """Everything the editor can change in `checker`, as stored."""
    return {
        "checker": list(Checker.objects.filter(pk=checker.pk).values()),
        "steps": list(Step.objects.filter(checker=checker).order_by("pk").values()),
        "answers": list(Choice.objects.filter(step__checker=checker).order_by("pk").values()),
        "links": list(StepLink.objects.filter(step__checker=checker).order_by("pk").values()),
        "error codes": list(ErrorCode.objects.filter(checker=checker).order_by("pk").values()),
    }


def with_link_and_code(slug: str) -> Checker:
    checker = make_checker(slug, code=f"{slug.upper()}.1")
    StepLink.objects.create(step=checker.steps.get(key="start"), label="Open Xero", url=f"https://{slug}.example/")
    return checker


@pytest.fixture
def editor(client, db):
    user = User.objects.create_user("editor", password="pw-for-tests-only", is_staff=True)
    user.groups.set(Group.objects.filter(name="Editors"))
    client.force_login(user)
    return client


@pytest.fixture
def mine():
    return with_link_and_code("mine")


@pytest.fixture
def theirs():
    return with_link_and_code("theirs")


def first_row(kind: str, checker: Checker) -> int:
    """The id of `checker`'s first step, answer, action link or error code: what its editor names first."""
    start = checker.steps.get(key="start")
    return {
        "step": start.pk,
        "answer": start.choices.order_by("position").first().pk,
        "action link": start.links.get().pk,
        "error code": checker.error_codes.get().pk,
    }[kind]


FIELD = {
    "step": "steps-0",
    "answer": "steps-0-choices-0",
    "action link": "steps-0-links-0",
    "error code": "error_codes-0",
}


def test_the_editor_names_each_row_where_these_tests_change_it(editor, mine):
    data = editor_form(editor, mine)
    for kind, field in FIELD.items():
        assert data[f"{field}-id"] == str(first_row(kind, mine)), kind
    assert editor.post(f"/admin/troubleshoot/checker/{mine.pk}/change/", data).status_code == 302


@pytest.mark.parametrize("delete", [False, True], ids=["changed", "deleted"])
@pytest.mark.parametrize("kind", list(FIELD))
def test_another_checkers_row_named_in_the_editor_is_a_form_error_and_nothing_is_saved(
    editor, mine, theirs, kind, delete
):
    before = rows_of(mine), rows_of(theirs)
    logged = LogEntry.objects.count()
    data = editor_form(editor, mine) | {f"{FIELD[kind]}-id": str(first_row(kind, theirs))}
    if delete:
        data[f"{FIELD[kind]}-DELETE"] = "on"
    response = editor.post(f"/admin/troubleshoot/checker/{mine.pk}/change/", data)
    assert response.status_code == 200
    assert f"is not one of the {kind}s of this checker" in response.content.decode()
    assert (rows_of(mine), rows_of(theirs)) == before
    assert LogEntry.objects.count() == logged


def test_an_answer_of_another_checker_under_a_new_step_is_a_form_error(editor, mine, theirs):
    """A new step's answers have no saved step to belong to: still only this checker's answers may be named."""
    before = rows_of(mine), rows_of(theirs)
    data = editor_form(editor, mine) | {
        "steps-TOTAL_FORMS": "4",
        "steps-3-position": "3",
        "steps-3-key": "added",
        "steps-3-title": "Added",
        "steps-3-question": "Added?",
        "steps-3-body": "",
        "steps-3-id": "",
        "steps-3-checker": str(mine.pk),
        "steps-3-choices-TOTAL_FORMS": "1",
        "steps-3-choices-INITIAL_FORMS": "1",
        "steps-3-choices-MIN_NUM_FORMS": "0",
        "steps-3-choices-MAX_NUM_FORMS": "1000",
        "steps-3-choices-0-id": str(first_row("answer", theirs)),
        "steps-3-choices-0-step": "",
        "steps-3-choices-0-position": "0",
        "steps-3-choices-0-label": "Taken",
        "steps-3-choices-0-outcome": "resolved",
        "steps-3-choices-0-next_step": "",
        "steps-3-links-TOTAL_FORMS": "0",
        "steps-3-links-INITIAL_FORMS": "0",
        "steps-3-links-MIN_NUM_FORMS": "0",
        "steps-3-links-MAX_NUM_FORMS": "1000",
    }
    response = editor.post(f"/admin/troubleshoot/checker/{mine.pk}/change/", data)
    assert response.status_code == 200
    assert "is not one of the answers of this checker" in response.content.decode()
    assert (rows_of(mine), rows_of(theirs)) == before


def test_an_answer_dragged_to_another_step_of_the_same_checker_moves(editor, mine):
    """What nested-admin's drag and drop posts: the answer's form leaves one step's answers for another's."""
    data = editor_form(editor, mine)
    moved = data["steps-0-choices-1-id"]
    for field in ["id", "step", "position", "label", "outcome", "next_step"]:
        data[f"steps-1-choices-2-{field}"] = data.pop(f"steps-0-choices-1-{field}")
    data |= {"steps-1-choices-2-position": "2", "steps-1-choices-2-step": data["steps-1-id"]}  # as its script does
    data |= {"steps-0-choices-TOTAL_FORMS": "1", "steps-0-choices-INITIAL_FORMS": "1"}
    data |= {"steps-1-choices-TOTAL_FORMS": "3", "steps-1-choices-INITIAL_FORMS": "3"}
    response = editor.post(f"/admin/troubleshoot/checker/{mine.pk}/change/", data)
    assert response.status_code == 302
    assert Choice.objects.get(pk=moved).step.key == "second"


def test_every_inline_of_the_checker_and_article_editors_saves_own_rows_only(admin_client, mine):
    """A new inline (on a checker, or the first on an article) gets the same rule, or this fails."""
    request = admin_client.get(f"/admin/troubleshoot/checker/{mine.pk}/change/").wsgi_request
    inlines = [
        inline
        for model in (Checker, Article)
        for inline in admin.site.get_model_admin(model).get_inline_instances(request)
    ]
    while inlines:
        inline = inlines.pop()
        assert issubclass(inline.get_formset(request), OwnRowsFormSet), inline
        inlines += inline.get_inline_instances(request)
