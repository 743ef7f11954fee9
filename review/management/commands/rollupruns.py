"""Fill the day-by-day tables the review pages read (`review/rollups.py`): the settled days after those filled, and
the filled days whose runs changed since the last fill (a seller back on an old run, a follow-up answer). The pages
only read: they add the days not yet filled (today, mostly) from the runs. Run it from cron, hourly:

    7 * * * *  cd /srv/helpcenter && .venv/bin/python manage.py rollupruns
"""

from django.core.management.base import BaseCommand

from review import rollups
from review.models import FillState


class Command(BaseCommand):
    help = "Fill the day-by-day tables the review pages read (run it from cron, hourly)."

    def handle(self, *args, **options):
        counted = rollups.fill()
        state = FillState.objects.filter(name=FillState.DAY_TABLES).first()
        through = f"filled through {state.filled_through}" if state else "no runs yet"
        self.stdout.write(f"{counted} day(s) counted; {through}.")
