"""Write the database's content back out as files, in the format loadcontent reads."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from troubleshoot.content import dump_library


class Command(BaseCommand):
    help = "Write categories, checkers and articles to files (default: content/), for review as a diff."

    def add_arguments(self, parser):
        parser.add_argument("--path", default=str(settings.BASE_DIR / "content"))

    def handle(self, *args, path, **options):
        written = dump_library(Path(path))
        self.stdout.write(self.style.SUCCESS(f"{written} files written to {path}"))
