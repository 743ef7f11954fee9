"""Queue the "Still fixed?" emails that are due. Run it from cron, e.g. every hour:

    17 * * * *  cd /srv/helpcenter && .venv/bin/python manage.py sendfollowups

The task worker (`manage.py db_worker`) sends them.
"""

from django.core.management.base import BaseCommand

from support.followups import send_due


class Command(BaseCommand):
    help = 'Queue the "Still fixed?" follow-up emails that are due (run it from cron; the task worker sends them).'

    def handle(self, *args, **options):
        total = 0
        while queued := send_due():
            total += queued
        self.stdout.write(f"Queued {total} follow-up email(s).")
