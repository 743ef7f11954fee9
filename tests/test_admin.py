"""Support staff in the admin: content editing with the flow check, and the read-only outcome log."""

import uuid

import pytest
from django.contrib.auth.models import Permission, User

from tests.conftest import choice, first_step
from troubleshoot import flow
from troubleshoot.models import Run, Step

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, db):
    user = User.objects.create_user("support", password="pw-for-tests-only", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    client.force_login(user)
    return client


def walked_run(checker) -> Run:
    run = flow.start_run(flow.load(checker), uuid.uuid4(), first_step(checker).pk, choice(checker, "start", "Yes").pk)
    return flow.record_answer(flow.load(checker), run, run.current_step_id, choice(checker, "second", "Yes").pk)


def test_review_pages_are_staff_only(client, checker):
    run = walked_run(checker)
    for url in ["/admin/troubleshoot/run/", f"/admin/troubleshoot/run/{run.pk}/change/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response.url
    User.objects.create_user("seller", password="pw-for-tests-only")
    client.login(username="seller", password="pw-for-tests-only")
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
    flow.go_back(run)
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
