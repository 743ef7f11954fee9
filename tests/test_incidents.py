"""Incident banners: shown first where they apply while active, gone when they end; runs started during one."""

import csv
import io
import uuid
from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone
from django.utils.html import escape

from incidents.models import Incident, IncidentRun
from tests.factories import choice, first_step, make_checker, reviewer
from troubleshoot import versioncache, walk
from troubleshoot.models import Category, ErrorCode, Run

pytestmark = pytest.mark.django_db

MESSAGE = "Xero is having problems sending settlements; we're on it, no need to contact support."


def incident(**kwargs) -> Incident:
    """An incident posted as the admin posts it: committed, so what was remembered without it is retired."""
    targets = {key: kwargs.pop(key) for key in ("checkers", "categories") if key in kwargs}
    with TestCase.captureOnCommitCallbacks(execute=True):
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


def started_during(run: Run) -> Incident | None:
    return Incident.objects.filter(run_links__run=run).first()


def test_runs_started_during_an_incident_are_marked(client, checker):
    before = start(checker)
    current = incident(checkers=[checker])
    during = start(checker)
    before.save(update_fields=["last_activity_at"])  # a run saved again during one did not start during it
    Incident.objects.filter(pk=current.pk).update(ends_at=timezone.now())
    after = start(checker)
    during.save(update_fields=["last_activity_at"])  # nor does it stop having started during it
    assert [started_during(r) for r in (before, during, after)] == [None, current, None]


def test_a_run_from_an_affected_error_code_is_marked(checker):
    current = incident(error_codes="XC-5")
    assert started_during(start(checker, code="XC-5")) == current
    assert started_during(start(checker)) is None


def test_a_run_outlives_its_incident_and_its_link_goes_with_either(checker):
    current = incident(checkers=[checker])
    during = start(checker)
    current.delete()  # the run stays, now started outside any incident
    assert Run.objects.filter(pk=during.pk).exists() and not IncidentRun.objects.exists()
    incident(checkers=[checker])
    linked = start(checker)
    assert IncidentRun.objects.filter(run=linked).exists()
    Run.objects.filter(pk=linked.pk).delete()
    assert not IncidentRun.objects.exists()


def test_review_tells_the_runs_started_during_an_incident(client, admin_client, checker):
    outside = start(checker)
    incident(checkers=[checker])
    during = start(checker)
    reviewer(client)
    both = {str(during.pk), str(outside.pk)}
    for which, expected in [("during", {str(during.pk)}), ("outside", {str(outside.pk)}), ("", both)]:
        body = b"".join(client.get("/support/runs.csv", {"incident": which}).streaming_content).decode()
        rows = {row[-1]: row for row in list(csv.reader(io.StringIO(body)))[1:]}  # by run id, the last column
        assert set(rows) == expected
        assert all(row[10] == ("yes" if run == str(during.pk) else "") for run, row in rows.items())
    page = client.get("/support/runs/", {"incident": "during"}).content.decode()
    assert str(during.pk) in page and str(outside.pk) not in page
    listed = admin_client.get("/admin/incidents/incident/").content.decode()
    assert '<td class="field-run_count">1</td>' in listed
    shown = admin_client.get("/admin/troubleshoot/run/", {"incident": "during"}).content.decode()
    assert str(during.pk) in shown and str(outside.pk) not in shown
    shown = admin_client.get("/admin/troubleshoot/run/", {"incident": "outside"}).content.decode()
    assert str(outside.pk) in shown and str(during.pk) not in shown
    assert escape(MESSAGE) in admin_client.get(f"/admin/troubleshoot/run/{during.pk}/change/").content.decode()


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
