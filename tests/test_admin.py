"""Support staff in the admin: content editing with the flow check, and the read-only outcome log."""

import uuid

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command

from tests.conftest import choice, first_step, last_answer_id, run_tasks
from troubleshoot import flow
from troubleshoot.content import read_library
from troubleshoot.models import Run, Step, SupportRequest

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, db):
    user = User.objects.create_user("support", password="pw-for-tests-only", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    client.force_login(user)
    return client


def walked_run(checker, last: str = "Yes") -> Run:
    """A run through First (Yes) and Second (`last`): resolved by default, or on to Third and its answer `last`."""
    run = flow.start_run(flow.load(checker), uuid.uuid4(), first_step(checker).pk, choice(checker, "start", "Yes").pk)
    if last == "Yes":
        return flow.record_answer(flow.load(checker), run, run.current_step_id, choice(checker, "second", "Yes").pk)
    run = flow.record_answer(flow.load(checker), run, run.current_step_id, choice(checker, "second", "No").pk)
    return flow.record_answer(flow.load(checker), run, run.current_step_id, choice(checker, "third", last).pk)


def test_review_pages_are_staff_only(client, checker):
    run = walked_run(checker)
    for url in ["/admin/troubleshoot/run/", f"/admin/troubleshoot/run/{run.pk}/change/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response.url
    client.force_login(User.objects.create_user("seller", password="pw-for-tests-only"))
    assert client.get("/admin/troubleshoot/run/").status_code == 302


def test_run_appears_with_its_path(staff_client, checker):
    run = walked_run(checker)
    html = staff_client.get("/admin/troubleshoot/run/").content.decode()
    assert checker.title in html and "Resolved" in html
    html = staff_client.get(f"/admin/troubleshoot/run/{run.pk}/change/").content.decode()
    assert "Is it on?" in html and "Linked?" in html
    assert html.index("Is it on?") < html.index("Linked?")
    assert 'name="_save"' not in html  # read-only


def test_run_list_filters_abandoned(staff_client, checker, settings):
    run = walked_run(checker)
    flow.go_back(run, last_answer_id(run))
    Run.objects.filter(pk=run.pk).update(last_activity_at=run.started_at.replace(year=2000))
    html = staff_client.get("/admin/troubleshoot/run/?status=abandoned").content.decode()
    assert "Abandoned" in html and "1 run" in html
    html = staff_client.get("/admin/troubleshoot/run/?status=resolved").content.decode()
    assert "0 runs" in html


def test_run_list_query_count_is_flat(staff_client, checker, django_assert_max_num_queries):
    for _ in range(3):
        walked_run(checker)
    with django_assert_max_num_queries(12) as captured:
        staff_client.get("/admin/troubleshoot/run/")
    few = len(captured)
    for _ in range(20):
        walked_run(checker)
    with django_assert_max_num_queries(few):
        staff_client.get("/admin/troubleshoot/run/")


def test_runs_cannot_be_deleted_or_edited(admin_client, checker):
    run = walked_run(checker)
    assert admin_client.post(f"/admin/troubleshoot/run/{run.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Run.objects.filter(pk=run.pk).exists()


def test_editing_a_step_in_the_admin_bumps_version_and_checks_the_flow(admin_client, checker):
    second = Step.objects.get(checker=checker, key="second")
    choices = list(second.choices.order_by("position"))
    data = {
        "checker": checker.pk,
        "key": "second",
        "position": 1,
        "title": "Second, reworded",
        "body": "Look <script>alert(1)</script> here",
        "question": "Linked?",
        "choices-TOTAL_FORMS": 2,
        "choices-INITIAL_FORMS": 2,
        "choices-MIN_NUM_FORMS": 0,
        "choices-MAX_NUM_FORMS": 1000,
        "links-TOTAL_FORMS": 0,
        "links-INITIAL_FORMS": 0,
        "links-MIN_NUM_FORMS": 0,
        "links-MAX_NUM_FORMS": 1000,
    }
    for i, c in enumerate(choices):
        data |= {
            f"choices-{i}-id": c.pk,
            f"choices-{i}-step": second.pk,
            f"choices-{i}-position": i,
            f"choices-{i}-label": c.label,
            f"choices-{i}-outcome": c.outcome,
            f"choices-{i}-next_step": c.next_step_id or "",
        }
    # Make "No" loop back to the first step: saved, with a warning.
    data["choices-1-outcome"] = "next"
    data["choices-1-next_step"] = first_step(checker).pk
    version = checker.version
    response = admin_client.post(f"/admin/troubleshoot/step/{second.pk}/change/", data, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "loop" in html
    checker.refresh_from_db()
    assert checker.version == version + 1
    second.refresh_from_db()
    assert "<script>" not in second.body_html and "Look" in second.body_html


def test_next_step_choices_are_limited_to_the_same_checker(admin_client, checker):
    from tests.conftest import make_checker

    make_checker("other")
    second = Step.objects.get(checker=checker, key="second")
    html = admin_client.get(f"/admin/troubleshoot/step/{second.pk}/change/").content.decode()
    assert html.count("other: First") == 0 and "demo: First" in html


def test_admin_changelists_load(admin_client, library):
    for model in ["category", "checker", "step", "article", "run", "supportrequest"]:
        assert admin_client.get(f"/admin/troubleshoot/{model}/").status_code == 200, model


def test_support_group_edits_content_and_only_reads_the_log(client, checker):
    from django.contrib.auth.models import Group

    run = walked_run(checker)
    user = User.objects.create_user("agent", password="pw-for-tests-only", is_staff=True)
    user.groups.add(Group.objects.get(name="Support"))
    client.force_login(user)
    assert client.get(f"/admin/troubleshoot/checker/{checker.pk}/change/").status_code == 200
    html = client.get(f"/admin/troubleshoot/run/{run.pk}/change/").content.decode()
    assert "Is it on?" in html and 'name="_save"' not in html
    assert client.get("/admin/auth/user/").status_code == 403


def checker_form(checker, **changes) -> dict:
    """The checker's admin form as posted, with its error-code inline, and `changes` applied."""
    data = {
        "slug": checker.slug,
        "title": checker.title,
        "symptom": checker.symptom,
        "category": checker.category_id,
        "signatures": checker.signatures,
        "support_hint": checker.support_hint,
        "is_published": "on",
        "position": checker.position,
        "error_codes-TOTAL_FORMS": 1,
        "error_codes-INITIAL_FORMS": 0,
        "error_codes-MIN_NUM_FORMS": 0,
        "error_codes-MAX_NUM_FORMS": 1000,
        "error_codes-0-code": "",
        "steps-TOTAL_FORMS": 0,
        "steps-INITIAL_FORMS": 0,
        "steps-MIN_NUM_FORMS": 0,
        "steps-MAX_NUM_FORMS": 1000,
    }
    return data | changes


def test_admin_form_is_the_one_the_tests_post(admin_client, checker):
    html = admin_client.get(f"/admin/troubleshoot/checker/{checker.pk}/change/").content.decode()
    for name in ["error_codes-TOTAL_FORMS", "steps-TOTAL_FORMS", 'name="symptom"', 'name="signatures"']:
        assert name in html


@pytest.mark.parametrize("title", ["Broken\r\nBcc: someone@evil.test", "Tab\there", "Line\u2028separator"])
def test_admin_refuses_control_characters_in_a_title(admin_client, checker, title):
    """A title with CR/LF was accepted and then silently stopped every support email for the checker."""
    response = admin_client.post(
        f"/admin/troubleshoot/checker/{checker.pk}/change/", checker_form(checker, title=title)
    )
    assert response.status_code == 200 and "Keep this to one line" in response.content.decode()
    checker.refresh_from_db()
    assert checker.title == "Demo checker demo"


def test_admin_and_files_agree_on_error_codes(admin_client, checker, tmp_path):
    """What the admin accepts, `dumpcontent` writes and `loadcontent` reads back."""
    response = admin_client.post(
        f"/admin/troubleshoot/checker/{checker.pk}/change/", checker_form(checker, **{"error_codes-0-code": "xc.42"})
    )
    assert response.status_code == 302
    assert checker.error_codes.get().code == "XC.42"
    call_command("dumpcontent", path=str(tmp_path))
    assert read_library(tmp_path).checkers["demo"]["error_codes"] == ["XC.42"]
    response = admin_client.post(
        f"/admin/troubleshoot/checker/{checker.pk}/change/", checker_form(checker, **{"error_codes-0-code": "XC 42"})
    )
    assert "Letters, digits, dots, dashes and underscores only" in response.content.decode()


def test_admin_filter_with_a_nul_byte_is_not_a_500(admin_client, checker):
    """On PostgreSQL a NUL in a filter value raised DataError; it is dropped before any view sees it."""
    walked_run(checker)
    for query in ["source=%00", "status=%00", "checker__id__exact=%00", "q=%00", "source=email%00"]:
        assert admin_client.get(f"/admin/troubleshoot/run/?{query}").status_code in (200, 302), query


def test_support_requests_show_whether_support_was_emailed(admin_client, checker):
    run = walked_run(checker, last="Still broken")
    request = flow.request_support(run, SupportRequest(email="seller@shop.test", description="Help"))
    SupportRequest.objects.filter(pk=request.pk).update(email_attempts=2, email_error="TimeoutError: timed out")
    html = admin_client.get("/admin/troubleshoot/supportrequest/?email=failing").content.decode()
    assert request.reference in html and "Not sent: failed 2 time(s)" in html
    html = admin_client.get(f"/admin/troubleshoot/supportrequest/{request.pk}/change/").content.decode()
    assert "TimeoutError: timed out" in html
    response = admin_client.post(
        "/admin/troubleshoot/supportrequest/",
        {"action": "email_support_again", "_selected_action": [request.pk]},
        follow=True,
    )
    assert "Queued 1 email(s)" in response.content.decode()
    run_tasks()
    request.refresh_from_db()
    assert request.emailed_at is not None and request.email_attempts == 3 and request.email_error == ""


# Sign-in throttling


def sign_in(client, password: str, username: str = "support", address: str = "203.0.113.5"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def test_admin_sign_in_locks_out_after_repeated_wrong_passwords(client, db, settings):
    User.objects.create_user("support", password="the-right-one-for-tests", is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wrong").status_code == 200  # the form again, with its error
    assert sign_in(client, "wrong").status_code == 429  # the last allowed failure locks
    locked = sign_in(client, "the-right-one-for-tests")
    assert locked.status_code == 429 and "Too many sign-in attempts" in locked.content.decode()
    # The username stays locked from another address too, and the address for another username.
    assert sign_in(client, "the-right-one-for-tests", address="198.51.100.7").status_code == 429
    User.objects.create_user("other", password="another-right-one-for-tests", is_staff=True)
    assert sign_in(client, "another-right-one-for-tests", username="other").status_code == 429


def test_admin_sign_in_works_after_a_few_mistakes(client, db, settings):
    User.objects.create_user("support", password="the-right-one-for-tests", is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "wrong")
    response = sign_in(client, "the-right-one-for-tests")
    assert response.status_code == 302 and response.url == "/admin/"
