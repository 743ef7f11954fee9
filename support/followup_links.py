"""The signed links of a "Still fixed?" email: what the email (support/tasks.py) puts in, and what the follow-up pages
read back."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

from troubleshoot.models import Run

SALT = "support.followup"


def token(run: Run) -> str:
    return signing.TimestampSigner(salt=SALT).sign(str(run.pk))


def run_for(signed: str) -> Run | None:
    """The run a follow-up link was signed for; None for a forged, altered or expired link."""
    try:
        run_id = signing.TimestampSigner(salt=SALT).unsign(
            signed, max_age=timedelta(days=settings.HELPCENTER_FOLLOWUP_LINK_DAYS)
        )
    except signing.BadSignature:
        return None
    return Run.objects.select_related("checker", "support_request").filter(pk=run_id).first()


def answer_urls(run: Run) -> dict[str, str]:
    signed = token(run)
    return {
        name: settings.PORTAL_URL + reverse("support:followup", args=[signed, slug])
        for name, slug in (("fixed", "fixed"), ("came_back", "came-back"))
    }
