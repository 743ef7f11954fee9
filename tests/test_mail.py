"""Emailing the support inbox happens off the request, in the task worker, and a silent mail server costs the seller
nothing: they get their reference at once, and a failed send is retried and shown to staff."""

import io
import socket
import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from support.models import FollowUpEmail, SupportRequest
from support.tasks import RETRY_AFTER_MINUTES
from tests.conftest import run_tasks
from tests.factories import escalated_run, resolved_run
from troubleshoot.models import FollowUp, Run

pytestmark = pytest.mark.django_db

SUPPORT_FORM = {"email": "seller@shop.test", "description": "It hangs after I click connect."}


@pytest.fixture
def silent_mail_server(settings):
    """An SMTP server that accepts connections and never says a word (as the one outside testing used)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    connections: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                connections.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = listener.getsockname()
    settings.EMAIL_TIMEOUT = 1
    yield connections
    stop.set()
    thread.join()
    for connection in connections:
        connection.close()
    listener.close()


def test_support_request_answers_at_once_with_a_silent_mail_server(
    client, checker, silent_mail_server, django_capture_on_commit_callbacks
):
    run = escalated_run(client, checker)
    began = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{run.get_absolute_url()}support/", SUPPORT_FORM)
    took = time.monotonic() - began
    assert response.status_code == 302
    assert silent_mail_server == []  # the request itself never talked to the mail server
    request = SupportRequest.objects.get(run=run)
    assert request.reference in client.get(run.get_absolute_url()).content.decode()
    assert took < 1, f"the seller waited {took:.1f}s"

    # The worker gives up on the silent server after EMAIL_TIMEOUT, records why, and queues a retry.
    began = time.monotonic()
    run_tasks()
    assert time.monotonic() - began < 5
    assert len(silent_mail_server) == 1
    request.refresh_from_db()
    assert request.emailed_at is None and request.email_attempts == 1
    assert "timed out" in request.email_error
    retry = DBTaskResult.objects.get(status="READY")  # queued, to run once its time comes
    assert retry.run_after > timezone.now() + timedelta(minutes=RETRY_AFTER_MINUTES[0]) - timedelta(seconds=30)


def test_failed_email_is_retried_until_sent(client, checker, settings, django_capture_on_commit_callbacks):
    run = escalated_run(client, checker)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens: refused at once
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{run.get_absolute_url()}support/", SUPPORT_FORM)
    run_tasks()
    request = SupportRequest.objects.get()
    assert request.email_attempts == 1 and "refused" in request.email_error.lower()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # the server is back
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())  # the retry's time has come
    run_tasks()
    request.refresh_from_db()
    assert request.emailed_at is not None and request.email_attempts == 2 and request.email_error == ""
    assert len(mail.outbox) == 1 and request.reference in mail.outbox[0].subject


def test_retries_stop_after_the_last_one(client, checker, settings, django_capture_on_commit_callbacks):
    run = escalated_run(client, checker)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{run.get_absolute_url()}support/", SUPPORT_FORM)
    for _ in range(len(RETRY_AFTER_MINUTES) + 1):
        DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
        run_tasks()
    request = SupportRequest.objects.get()
    assert request.email_attempts == len(RETRY_AFTER_MINUTES) + 1 and request.emailed_at is None
    assert not DBTaskResult.objects.filter(status="READY").exists()


# "Still fixed?" follow-ups to sellers go through the same rule: recorded, retried, shown to staff.


def due_followup(client, checker) -> Run:
    run = resolved_run(client, checker)
    client.post(f"/troubleshoot/demo/{run.pk}/followup/", {"email": "seller@shop.test"})
    Run.objects.filter(pk=run.pk).update(followup_due=timezone.now() - timedelta(minutes=1))
    call_command("sendfollowups", stdout=io.StringIO())
    return run


def test_failed_followup_is_retried_until_sent_and_shown_to_staff(
    client, admin_client, checker, silent_mail_server, settings
):
    run = due_followup(client, checker)
    run_tasks()  # the silent server times out
    followup = FollowUpEmail.objects.get(run=run)
    assert len(silent_mail_server) == 1
    assert followup.emailed_at is None and followup.email_attempts == 1 and "timed out" in followup.email_error
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.run_after > timezone.now() + timedelta(minutes=RETRY_AFTER_MINUTES[0]) - timedelta(seconds=30)
    html = admin_client.get("/admin/support/followupemail/?email=failing").content.decode()
    assert "Not sent: failed 1 time(s)" in html and "demo" in html.lower()
    assert "timed out" in admin_client.get(f"/admin/support/followupemail/{followup.pk}/change/").content.decode()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # the server is back
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())  # the retry's time has come
    run_tasks()
    followup.refresh_from_db()
    assert followup.emailed_at is not None and followup.email_attempts == 2 and followup.email_error == ""
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["seller@shop.test"]
    assert not DBTaskResult.objects.filter(status="READY").exists()


def test_followup_retries_stop_after_the_last_one_and_staff_can_send_again(client, admin_client, checker, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens: refused at once
    run = due_followup(client, checker)
    for _ in range(len(RETRY_AFTER_MINUTES) + 1):
        DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
        run_tasks()
    followup = FollowUpEmail.objects.get(run=run)
    assert followup.email_attempts == len(RETRY_AFTER_MINUTES) + 1 and followup.emailed_at is None
    assert "refused" in followup.email_error.lower()
    assert not DBTaskResult.objects.filter(status="READY").exists()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = admin_client.post(
        "/admin/support/followupemail/", {"action": "email_again", "_selected_action": [followup.pk]}, follow=True
    )
    assert "Queued 1 email(s)" in response.content.decode()
    run_tasks()
    followup.refresh_from_db()
    assert followup.emailed_at is not None and len(mail.outbox) == 1


def test_answered_followup_is_not_sent(client, checker):
    run = due_followup(client, checker)
    Run.objects.filter(pk=run.pk).update(followup_answer=FollowUp.FIXED)
    run_tasks()
    assert not mail.outbox
