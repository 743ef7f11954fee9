"""Count the runs of every settled day into the day-by-day tables the review pages read. Run it from cron, e.g.
every hour (the pages also count a missing day themselves when read, but the first read of a long period then
waits for it):

    7 * * * *  cd /srv/helpcenter && .venv/bin/python manage.py rollupruns
"""

from django.core.management.base import BaseCommand

from support.rollups import roll_settled


class Command(BaseCommand):
    help = "Count the runs of every settled day into the day-by-day tables the review pages read (run it from cron)."

    def handle(self, *args, **options):
        self.stdout.write(f"{roll_settled()} settled day(s) counted and up to date.")
