"""Emailing the support inbox happens off the request, in the task worker, and a silent mail server costs the seller
nothing: they get their reference at once, and a failed send is retried and shown to staff."""

import socket
import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.conftest import run_tasks
from tests.test_views import escalated_run
from troubleshoot.models import SupportRequest
from troubleshoot.tasks import RETRY_AFTER_MINUTES

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
