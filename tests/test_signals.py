"""What sellers tell us beyond their answers: "None of these fit", article feedback, "Still fixed?"; and purging
personal data from old runs while the counts stay right."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError
from django.utils import timezone

from review import stats
from support.models import ArticleFeedback, SupportRequest
from tests.conftest import run_tasks
from tests.factories import resolved_run
from troubleshoot import versions
from troubleshoot.models import Answer, Article, FollowUp, Run

pytestmark = pytest.mark.django_db


def start(client, checker, answer=0, **extra):
    page = client.get(f"/troubleshoot/{checker.slug}/").content.decode()
    run_id = re.search(r'name="run" value="([^"]+)"', page).group(1)
    data = {"run": run_id, "step": "start", "answer": answer, "source": "", "source_detail": "", "code": "", **extra}
    return client.post(f"/troubleshoot/{checker.slug}/start/", data), run_id


# None of these fit


def test_none_of_these_fit_is_offered_on_every_step(client, checker):
    html = client.get("/troubleshoot/demo/").content.decode()
    assert "None of these fit?" in html and f'value="{Answer.NONE_FIT}"' in html


def test_none_of_these_fit_takes_the_line_to_support(client, checker):
    response, run_id = start(client, checker)
    run = Run.objects.get(pk=run_id)
    response = client.post(
        f"/troubleshoot/demo/{run_id}/answer/",
        {"step": "second", "answer": Answer.NONE_FIT, "note": "I use  two Xero orgs"},
    )
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.outcome == Run.Outcome.ESCALATED and run.end_step_key == "second"
    answer = run.answers.live().last()
    assert (answer.step_key, answer.answer_index, answer.note) == ("second", Answer.NONE_FIT, "I use two Xero orgs")
    assert run.path == f"start:0/second:{Answer.NONE_FIT}"
    html = client.get(f"/troubleshoot/demo/{run_id}/").content.decode()
    assert "Let's get support on it" in html and "I use two Xero orgs</textarea>" in html
    client.post(f"/troubleshoot/demo/{run_id}/support/", {"email": "s@shop.test", "description": "I use two orgs"})
    run_tasks()
    assert 'None of these fit: "I use two Xero orgs"' in mail.outbox[0].body
    assert f"/support/runs/{run_id}/" in mail.outbox[0].body


def test_none_of_these_fit_needs_a_line(client, checker):
    response, run_id = start(client, checker, answer=Answer.NONE_FIT, note="  ")
    assert response.status_code == 422 and "what's different for you" in response.content.decode()
    assert not Run.objects.exists()


def test_none_of_these_fit_on_the_first_step_and_back(client, checker):
    response, run_id = start(client, checker, answer=Answer.NONE_FIT, note="Different bank")
    assert response.status_code == 302
    run = Run.objects.get(pk=run_id)
    assert run.outcome == Run.Outcome.ESCALATED and run.end_step_key == "start"
    client.post(f"/troubleshoot/demo/{run_id}/back/", {"answer": run.answers.get().pk})
    run.refresh_from_db()
    assert run.is_open and run.current_step_key == "start" and run.path == ""


# Article feedback


@pytest.fixture
def article(db):
    article = Article.objects.create(slug="guide", title="A guide", body="Do this.")
    versions.publish_article(article)
    return article


def test_article_asks_whether_it_helped(client, article):
    html = client.get("/articles/guide/").content.decode()
    assert "Was this helpful?" in html


def test_article_feedback_is_stored_against_the_version(client, article):
    response = client.post("/articles/guide/feedback/", {"helpful": "no", "comment": "Missing Etsy"})
    assert response.status_code == 302 and response.url.endswith("?feedback=thanks#feedback")
    feedback = ArticleFeedback.objects.get()
    assert (feedback.helpful, feedback.comment, feedback.version_id) == (False, "Missing Etsy", article.live_version_id)
    assert "Thanks for telling us" in client.get(response.url).content.decode()
    response = client.post("/articles/guide/feedback/", {"helpful": "yes"}, HTTP_HX_REQUEST="true")
    assert "Thanks for telling us" in response.content.decode()
    assert ArticleFeedback.objects.filter(helpful=True).count() == 1


def test_article_feedback_refuses_nonsense(client, article):
    client.post("/articles/guide/feedback/", {"helpful": "maybe"})
    client.post("/articles/guide/feedback/", {"helpful": "no", "comment": "x" * 1001})
    assert not ArticleFeedback.objects.exists()
    assert client.post("/articles/nope/feedback/", {"helpful": "no"}).status_code == 404


# Still fixed?


def test_still_fixed_follow_up_end_to_end(client, checker, settings):
    run = resolved_run(client, checker)
    html = client.get(run.get_absolute_url()).content.decode()
    assert "Ask me in a few days" in html
    response = client.post(f"/troubleshoot/demo/{run.pk}/followup/", {"email": "seller@shop.test"})
    assert response.status_code == 302
    assert "whether it's still fixed" in client.get(run.get_absolute_url()).content.decode()
    call_command("sendfollowups", stdout=None)
    assert not mail.outbox  # not due yet
    Run.objects.filter(pk=run.pk).update(followup_due=timezone.now() - timedelta(minutes=1))
    call_command("sendfollowups")
    call_command("sendfollowups")  # a second cron run queues nothing more
    run_tasks()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["seller@shop.test"]
    fixed, came_back = (
        url.replace(settings.PORTAL_URL, "") for url in re.findall(r"http://\S+/followup/\S+/", mail.outbox[0].body)
    )
    assert "Is it still fixed?" in client.get(fixed).content.decode()  # opening the link only asks
    assert Run.objects.get(pk=run.pk).followup_answer == ""
    assert client.post(fixed).status_code == 302  # the seller's answer is a POST
    run.refresh_from_db()
    assert run.followup_answer == FollowUp.FIXED
    page = client.post(came_back, follow=True).content.decode()
    run.refresh_from_db()
    assert run.followup_answer == FollowUp.CAME_BACK and "Send to support" in page
    support_url = re.search(r'action="(/followup/[^"]+/support/)"', page).group(1)
    response = client.post(support_url, {"email": "seller@shop.test", "description": "Back again"})
    assert "Your request is with support" in response.content.decode()
    request = SupportRequest.objects.get(run=run)
    run.refresh_from_db()
    assert run.outcome == Run.Outcome.RESOLVED and request.description == "Back again"
    run_tasks()
    assert "it came back" in mail.outbox[-1].body
    total = stats.outcomes(Run.objects.all())
    assert (total.resolved, total.came_back, total.confirmed_fixed) == (1, 1, 0)


def test_follow_up_links_cannot_be_forged(client, checker):
    run = resolved_run(client, checker)
    assert client.get(f"/followup/{run.pk}:abc:def/fixed/").status_code == 404
    from support.followup_links import token

    assert client.get(f"/followup/{token(run)}/whatever/").status_code == 404
    assert client.get(f"/followup/{token(run)}x/fixed/").status_code == 404


def test_follow_up_only_at_a_resolved_ending(client, checker):
    _, run_id = start(client, checker, answer=1)
    response = client.post(f"/troubleshoot/demo/{run_id}/followup/", {"email": "seller@shop.test"})
    assert response.status_code == 422 and Run.objects.get(pk=run_id).followup_email == ""


# Purging personal data


def test_purgeruns_removes_personal_data_and_keeps_the_counts(client, checker, article):
    run = resolved_run(client, checker)
    Run.objects.filter(pk=run.pk).update(fixed_note="My name is", followup_email="me@shop.test", source_detail="x")
    response, escalated_id = start(client, checker, answer=Answer.NONE_FIT, note="Private detail")
    client.post(f"/troubleshoot/demo/{escalated_id}/support/", {"email": "s@shop.test", "description": "Private"})
    ArticleFeedback.objects.create(article=article, helpful=False, comment="Private comment")
    before = stats.outcomes(Run.objects.all())
    call_command("purgeruns", "--older-than", "30")
    assert SupportRequest.objects.get().email == "s@shop.test"  # nothing that young is touched
    old = timezone.now() - timedelta(days=40)
    Run.objects.update(started_at=old)
    SupportRequest.objects.update(created_at=old)
    ArticleFeedback.objects.update(created_at=old)
    call_command("purgeruns", "--older-than", "30")
    run.refresh_from_db()
    assert (run.fixed_note, run.followup_email, run.source_detail) == ("", "", "")
    assert not Answer.objects.exclude(note="").exists()
    request = SupportRequest.objects.get()
    assert (request.email, request.description) == ("", "") and request.purged_at is not None
    assert ArticleFeedback.objects.get().comment == ""
    after = stats.outcomes(Run.objects.all())
    assert (after.resolved, after.escalated, after.runs) == (before.resolved, before.escalated, before.runs)


def test_a_taken_support_reference_draws_another(client, checker, monkeypatch):
    """Six random characters: at 60,000 requests a clash is likely, and it was an IntegrityError (a 500)."""
    from support import models as support_models

    first = resolved_run(client, checker)
    SupportRequest.objects.create(run=first, reference="HC-AAAAAA", email="a@shop.test", description="A")
    _, run_id = start(client, checker, answer=1)
    monkeypatch.setattr(support_models, "new_reference", lambda: "HC-BBBBBB")
    request = SupportRequest(run_id=run_id, reference="HC-AAAAAA", email="b@shop.test", description="B")
    request.save()
    assert SupportRequest.objects.get(run_id=run_id).reference == "HC-BBBBBB"
    with pytest.raises(IntegrityError):  # a clash on something else is not retried
        SupportRequest(run_id=run_id, email="c@shop.test", description="C").save()


def test_article_feedback_carries_csrf_and_is_rate_limited(client, article, settings):
    settings.HELPCENTER_RATE_LIMITS = {**settings.HELPCENTER_RATE_LIMITS, "feedback": "3/m"}
    browser = type(client)(enforce_csrf_checks=True)
    page = browser.get("/articles/guide/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert browser.post("/articles/guide/feedback/", {"helpful": "no"}).status_code == 403  # no token: refused
    for _ in range(5):
        response = browser.post("/articles/guide/feedback/", {"helpful": "no", "csrfmiddlewaretoken": token})
        assert response.status_code == 302
    assert ArticleFeedback.objects.count() == 3  # past the limit: thanked, not stored
