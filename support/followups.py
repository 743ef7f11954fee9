"""'Still fixed?': a seller at a resolved ending may leave an email; a few days later `manage.py sendfollowups` (run
by cron) queues a question with two signed links. A link shows the question (mail security scanners open every link
in an email, so opening one answers nothing); the seller's POST stores the answer on the run. "It came back" offers
the support form with the run attached.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from troubleshoot.models import FollowUp, Run

from .models import FollowUpEmail, SupportRequest


class NotResolved(Exception):
    """Only a run that ended resolved can be followed up."""


def ask_later(run: Run, email: str) -> Run:
    """Remember to ask the seller of a resolved run, at `email`, whether it is still fixed."""
    if run.outcome != Run.Outcome.RESOLVED:
        raise NotResolved
    run.followup_email = email
    run.followup_due = timezone.now() + timedelta(days=settings.HELPCENTER_FOLLOWUP_AFTER_DAYS)
    run.save(update_fields=["followup_email", "followup_due"])
    return run


def record(run: Run, answer: str) -> Run:
    """Store the seller's answer (the last one counts: a seller may change their mind); the next fill of the
    day-by-day counts (`review.rollups.fill`) counts the run's day again, found by `followup_answered_at`. The same
    answer again (a double click, a reloaded POST) changes nothing: one conditional update, so two at once store it
    once."""
    now = timezone.now()
    changed = (
        Run.objects.filter(pk=run.pk)
        .exclude(followup_answer=answer)
        .update(followup_answer=answer, followup_answered_at=now)
    )
    if changed:
        run.followup_answer, run.followup_answered_at = answer, now
    return run


def due(now=None):
    now = now or timezone.now()
    return Run.objects.filter(
        outcome=Run.Outcome.RESOLVED, followup_sent_at__isnull=True, followup_due__lte=now
    ).exclude(followup_email="")


def send_due(now=None, batch: int = 500) -> int:
    """Queue the follow-up email of every run that is due (at most `batch` a call); how many were queued."""
    from .tasks import email_followup

    queued = 0
    with transaction.atomic():
        for run in due(now).select_for_update().order_by("followup_due")[:batch]:
            run.followup_sent_at = timezone.now()
            run.save(update_fields=["followup_sent_at"])
            # The queue lives in this database: marking and queueing commit together.
            email_followup.enqueue(FollowUpEmail.objects.create(run=run).pk)
            queued += 1
    return queued


def request_support_after(run: Run, support_request: SupportRequest) -> SupportRequest:
    """A seller whose fix didn't hold asks support, with the run attached (it stays resolved in the stats)."""
    from .tasks import email_support

    with transaction.atomic():
        existing = SupportRequest.objects.filter(run=run).first()
        if existing is not None:
            return existing
        support_request.run = run
        support_request.save()
        if run.followup_answer != FollowUp.CAME_BACK:
            record(run, FollowUp.CAME_BACK)
        email_support.enqueue(support_request.pk)
    return support_request
