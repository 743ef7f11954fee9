"""Work done off the request by the task worker (`manage.py db_worker`): emailing the support inbox.

The seller's request is stored before anything is sent, so the seller gets their reference at once whatever the
mail server does. A failed send is recorded on the request (visible in the admin) and tried again later.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from .models import SupportRequest

log = logging.getLogger(__name__)

# Minutes to wait before each retry; after the last one the request stays marked unsent for staff to see.
RETRY_AFTER_MINUTES = [1, 5, 30, 120]


def email_subject(support_request: SupportRequest) -> str:
    return f"[{support_request.reference}] {support_request.run.checker.title}"


def email_body(support_request: SupportRequest) -> str:
    run = support_request.run
    return render_to_string(
        "troubleshoot/email/support_request.txt",
        {
            "support_request": support_request,
            "run": run,
            "answers": run.answers.live(),
            "admin_url": settings.PORTAL_URL + reverse("admin:troubleshoot_run_change", args=[run.pk]),
        },
    )


@task()
def email_support(support_request_id: int) -> bool:
    """Email the support inbox about one request; True once it has been sent (now or before)."""
    support_request = (
        SupportRequest.objects.select_related("run__checker").filter(pk=support_request_id, emailed_at=None).first()
    )
    if support_request is None:
        return True  # already sent (a retry that raced a manual resend), or the request was purged
    support_request.email_attempts += 1
    try:
        send_mail(
            email_subject(support_request),
            email_body(support_request),
            settings.DEFAULT_FROM_EMAIL,
            [settings.SUPPORT_EMAIL],
        )
    except Exception as error:  # noqa: BLE001 - any mail failure is recorded and retried, never lost
        support_request.email_error = f"{type(error).__name__}: {error}"[:2000]
        support_request.save(update_fields=["email_attempts", "email_error"])
        if support_request.email_attempts <= len(RETRY_AFTER_MINUTES):
            wait = timedelta(minutes=RETRY_AFTER_MINUTES[support_request.email_attempts - 1])
            email_support.using(run_after=timezone.now() + wait).enqueue(support_request.pk)
        log.warning("Could not email support about %s: %s", support_request.reference, support_request.email_error)
        return False
    support_request.emailed_at = timezone.now()
    support_request.email_error = ""
    support_request.save(update_fields=["email_attempts", "email_error", "emailed_at"])
    return True
