"""Remove personal data (emails, free text) from old runs, support requests and article feedback.

Rows stay, so every count on the review pages stays right; only what a seller typed goes.
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from support.models import ArticleFeedback, SupportRequest
from troubleshoot.models import Answer, Run


def purge(older_than_days: int) -> dict[str, int]:
    """Blank what sellers typed in runs, answers, requests and feedback started before the cutoff; counts by kind."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    runs = Run.objects.filter(started_at__lt=cutoff)
    with transaction.atomic():
        return {
            "runs": runs.exclude(fixed_note="", source_detail="", followup_email="").update(
                fixed_note="", source_detail="", followup_email=""
            ),
            "answers": Answer.objects.filter(run__in=runs).exclude(note="").update(note=""),
            "support requests": SupportRequest.objects.filter(created_at__lt=cutoff, purged_at__isnull=True).update(
                email="",
                description="",
                error_message="",
                settlement_id="",
                recording_url="",
                internal_note="",
                purged_at=timezone.now(),
            ),
            "article feedback": ArticleFeedback.objects.filter(created_at__lt=cutoff)
            .exclude(comment="")
            .update(comment=""),
        }


class Command(BaseCommand):
    help = "Remove personal data (emails, free text) from runs, support requests and feedback older than DAYS."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            metavar="DAYS",
            default=settings.HELPCENTER_PURGE_AFTER_DAYS,
            help="Age in days (default: HELPCENTER_PURGE_AFTER_DAYS, %(default)s).",
        )

    def handle(self, *args, older_than, **options):
        if older_than < 1:
            self.stderr.write("--older-than must be at least 1 day.")
            return
        done = purge(older_than)
        self.stdout.write(
            f"Removed personal data older than {older_than} days: "
            + ", ".join(f"{count} {kind}" for kind, count in done.items())
            + "."
        )
