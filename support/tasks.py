"""Work done off the request by the task worker (`manage.py db_worker`): emailing the support inbox, and asking
sellers "Still fixed?".

The seller's request is stored before anything is sent, so the seller gets their reference at once whatever the
mail server does. A failed send (to support or to a seller) is recorded (visible in the admin) and tried again
later, by one rule: `send_or_retry`.
"""

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from .models import FollowUpEmail, SupportRequest

log = logging.getLogger(__name__)

# Minutes to wait before each retry; after the last one the request stays marked unsent for staff to see.
RETRY_AFTER_MINUTES = [1, 5, 30, 120]


def email_subject(support_request: SupportRequest) -> str:
    run = support_request.run
    about = run.checker.title if run else "No guide for: " + " ".join(support_request.error_message.split())[:80]
    return f"[{support_request.reference}] {about}"


def email_body(support_request: SupportRequest) -> str:
    """The request as support reads it: with the seller's run (their answers) or, sent from a search that found no
    guide, without."""
    run = support_request.run
    if run is None:
        url = settings.PORTAL_URL + reverse("support:request", args=[support_request.reference])
        return render_to_string(
            "support/email/search_request.txt", {"support_request": support_request, "request_url": url}
        )
    return render_to_string(
        "troubleshoot/email/support_request.txt",
        {
            "support_request": support_request,
            "run": run,
            "answers": run.answers.live(),
            "admin_url": settings.PORTAL_URL + reverse("review:run", args=[run.pk]),
        },
    )


def send_or_retry(record, task, send: Callable[[], None]) -> bool:
    """The one rule for every email the worker sends: try once, record the try on `record` (its `email_attempts`,
    `email_error` and `emailed_at`, shown to staff in the admin), and after a failure queue `task` again after
    RETRY_AFTER_MINUTES[attempt] minutes (its one argument is `record.pk`); after the last retry it stays unsent."""
    record.email_attempts += 1
    try:
        send()
    except Exception as error:  # noqa: BLE001 - any mail failure is recorded and retried, never lost
        record.email_error = f"{type(error).__name__}: {error}"[:2000]
        record.save(update_fields=["email_attempts", "email_error"])
        if record.email_attempts <= len(RETRY_AFTER_MINUTES):
            wait = timedelta(minutes=RETRY_AFTER_MINUTES[record.email_attempts - 1])
            task.using(run_after=timezone.now() + wait).enqueue(record.pk)
        log.warning("Could not send %s: %s", record, record.email_error)
        return False
    record.emailed_at = timezone.now()
    record.email_error = ""
    record.save(update_fields=["email_attempts", "email_error", "emailed_at"])
    return True


def send_to_support(support_request: SupportRequest) -> SupportRequest:
    """Store a request that has no run (a search found no guide) and queue its email to the support inbox: the
    queue lives in this database, so both are stored or neither."""
    with transaction.atomic():
        support_request.save()
        email_support.enqueue(support_request.pk)
    return support_request


@task()
def email_support(support_request_id: int) -> bool:
    """Email the support inbox about one request; True once it has been sent (now or before)."""
    support_request = (
        SupportRequest.objects.select_related("run__checker").filter(pk=support_request_id, emailed_at=None).first()
    )
    if support_request is None:
        return True  # already sent (a retry that raced a manual resend), or the request was purged
    return send_or_retry(
        support_request,
        email_support,
        lambda: send_mail(
            email_subject(support_request),
            email_body(support_request),
            settings.DEFAULT_FROM_EMAIL,
            [settings.SUPPORT_EMAIL],
        ),
    )


@task()
def email_followup(followup_email_id: int) -> bool:
    """Ask the seller of a resolved run whether it is still fixed, with two links (each opens a page that asks to
    confirm); True once sent (now or before) or no longer wanted (answered already, or the address purged)."""
    from .followup_links import answer_urls

    unsent = FollowUpEmail.objects.select_related("run__checker").filter(emailed_at=None)
    followup = unsent.filter(pk=followup_email_id).first()
    if followup is None:
        return True
    run = followup.run
    if not run.followup_email or run.followup_answer:
        return True  # purged, or already answered
    body = render_to_string("support/email/followup.txt", {"run": run, "urls": answer_urls(run)})
    return send_or_retry(
        followup,
        email_followup,
        lambda: send_mail(
            f"Is it still fixed? {run.checker.title}", body, settings.DEFAULT_FROM_EMAIL, [run.followup_email]
        ),
    )
