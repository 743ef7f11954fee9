"""Incident banners: shown first where they apply while active, gone when they end; runs started during one."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import Incident
from tests.factories import choice, first_step, make_checker
from troubleshoot import versioncache, walk
from troubleshoot.models import Category, ErrorCode, Run

pytestmark = pytest.mark.django_db

MESSAGE = "Xero is having problems sending settlements; we're on it, no need to contact support."


def incident(**kwargs) -> Incident:
    targets = {key: kwargs.pop(key) for key in ("checkers", "categories") if key in kwargs}
    found = Incident.objects.create(message=MESSAGE, **kwargs)
    for key, items in targets.items():
        getattr(found, key).set(items)
    return found


def shows(client, url) -> bool:
    return "Known problem:" in client.get(url).content.decode()


def test_an_active_incident_is_first_on_the_home_page(client, checker):
    incident(starts_at=timezone.now() - timedelta(hours=1))
    html = client.get("/").content.decode()
    assert MESSAGE.replace("'", "&#x27;") in html
    assert html.index("Known problem:") < html.index("What's going wrong?")


def test_banners_appear_at_the_start_and_expire_at_the_end(
    client, checker, monkeypatch, django_capture_on_commit_callbacks
):
    now = timezone.now()
    found = incident(starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=2))
    assert not shows(client, "/")
    # The clock moves on, nothing is saved: the cached home page is filed again as the incident starts and ends.
    monkeypatch.setattr(timezone, "now", lambda: now + timedelta(hours=1, minutes=1))
    assert shows(client, "/")
    monkeypatch.setattr(timezone, "now", lambda: now + timedelta(hours=2, minutes=1))
    assert not shows(client, "/")
    monkeypatch.undo()
    found.ends_at = None
    found.starts_at = now - timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        found.save()  # an edit shows at once (as it commits)
    assert shows(client, "/")


def test_only_affected_checker_pages_show_it(client, checker):
    other = make_checker("other", category=Category.objects.create(slug="other", name="Other"))
    incident(checkers=[checker])
    assert shows(client, f"/troubleshoot/{checker.slug}/")
    assert not shows(client, f"/troubleshoot/{other.slug}/")


def test_a_category_or_an_error_code_selects_its_checkers(client, checker, django_capture_on_commit_callbacks):
    other = make_checker("other", category=Category.objects.create(slug="other", name="Other"), code="XC-777")
    incident(categories=[checker.category])
    assert shows(client, f"/troubleshoot/{checker.slug}/") and not shows(client, f"/troubleshoot/{other.slug}/")
    with django_capture_on_commit_callbacks(execute=True):  # as the edit commits
        Incident.objects.all().delete()
        incident(error_codes="xc-777, XC-778")
    assert shows(client, f"/troubleshoot/{other.slug}/") and not shows(client, f"/troubleshoot/{checker.slug}/")


def test_the_error_code_landing_shows_it(client, checker):
    ErrorCode.objects.create(code="XC-100", checker=checker)
    incident(error_codes="XC-100 NEW-1")
    response = client.get("/e/XC-100/", follow=True)
    assert "Known problem:" in response.content.decode()
    unknown = client.get("/e/new-1/")
    assert unknown.status_code == 404 and "Known problem:" in unknown.content.decode()
    assert not shows(client, "/e/OTHER-9/")


def test_everywhere_shows_on_every_checker(client, checker):
    incident(everywhere=True)
    assert shows(client, f"/troubleshoot/{checker.slug}/") and shows(client, "/e/whatever/")


def test_htmx_step_panels_do_not_repeat_the_banner(client, checker):
    incident(checkers=[checker])
    page = client.get(f"/troubleshoot/{checker.slug}/", headers={"HX-Request": "true"})
    assert "Known problem:" not in page.content.decode()


def start(checker, code: str = "") -> Run:
    flow = versioncache.flow_of(checker.live_version_id)
    return walk.start_run(flow, uuid.uuid4(), first_step(checker), choice(checker, "start", "Yes"), error_code=code)


def test_runs_started_during_an_incident_are_marked(client, checker):
    before = start(checker)
    current = incident(checkers=[checker])
    during = start(checker)
    Incident.objects.filter(pk=current.pk).update(ends_at=timezone.now())
    after = start(checker)
    assert [r.incident_id for r in (before, during, after)] == [None, current.pk, None]
    Run.objects.filter(pk=during.pk).update(last_activity_at=timezone.now())
    assert Run.objects.get(pk=during.pk).incident == current


def test_a_run_from_an_affected_error_code_is_marked(checker):
    current = incident(error_codes="XC-5")
    assert start(checker, code="XC-5").incident == current
    assert start(checker).incident is None


def test_support_staff_post_incidents_in_the_admin(client, checker):
    from django.contrib.auth.models import Group, User

    from helpcenter.roles import EDITORS

    user = User.objects.create_user("support", password="pw-for-tests-only", is_staff=True)
    user.groups.add(Group.objects.get(name=EDITORS))
    client.force_login(user)
    assert client.get("/admin/incidents/incident/add/").status_code == 200
    response = client.post(
        "/admin/incidents/incident/add/",
        {
            "message": MESSAGE,
            "starts_at_0": timezone.now().strftime("%Y-%m-%d"),
            "starts_at_1": "00:00:00",
            "error_codes": "xc-1,xc-2",
            "checkers": [checker.pk],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Incident.objects.get().code_list == ["XC-1", "XC-2"]


def test_an_incident_cannot_end_before_it_starts(checker):
    from django.db import IntegrityError

    now = timezone.now()
    with pytest.raises(IntegrityError):
        Incident.objects.create(message="x", starts_at=now, ends_at=now - timedelta(hours=1))
