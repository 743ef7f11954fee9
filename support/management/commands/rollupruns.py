"""Count the runs of every settled day into the day-by-day tables the review pages read, and add up the default
period's (the overview's and the gap inbox's last 30 days, and the 30 before them for its trends). Run it from cron,
e.g. every hour (the pages also count a missing day, and make a missing total, themselves when read, but the first
read of a long period then waits for it):

    7 * * * *  cd /srv/helpcenter && .venv/bin/python manage.py rollupruns
"""

from django.core.management.base import BaseCommand

from support import gaps, rollups
from support.stats import Period


class Command(BaseCommand):
    help = "Count the runs of every settled day into the day-by-day tables the review pages read (run it from cron)."

    def handle(self, *args, **options):
        self.stdout.write(f"{rollups.roll_settled()} settled day(s) counted and up to date.")
        gaps.make_totals(Period.ending_today())
