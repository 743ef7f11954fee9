"""The hand-over from a seller's walk to support: an escalated run's support request, stored and emailed."""

from django.db import transaction

from troubleshoot import walk
from troubleshoot.models import Run

from .models import SupportRequest
from .tasks import email_support


def request_support(run: Run, support_request: SupportRequest) -> SupportRequest:
    """Attach the seller's support request to their escalated run and queue the email to the support inbox.

    Decided under the run's row lock (`walk.lock`), so a Back in another tab can't reopen the run as the request is
    stored: the walk is told by `walk.hand_over`, in the same transaction. A double submit gets the request already
    stored.
    """
    with transaction.atomic():
        run = walk.lock(run)
        existing = SupportRequest.objects.filter(run=run).first()
        if existing is not None:
            return existing
        walk.hand_over(run)  # refuses a run that is not (or no longer) escalated
        support_request.run = run
        support_request.save()
        # The task queue lives in this database, so the email is queued in the same transaction as the request:
        # both are stored, or neither.
        email_support.enqueue(support_request.pk)
    return support_request
