"""Write the live content back out as files, in the format loadcontent reads; unchanged files are left alone."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from troubleshoot.librarysync import dump_library


class Command(BaseCommand):
    help = "Write categories, live checker versions and articles to files (default: content/), for review as a diff."

    def add_arguments(self, parser):
        parser.add_argument("--path", default=str(settings.BASE_DIR / "content"))

    def handle(self, *args, path, **options):
        written = dump_library(Path(path))
        for name in written:
            self.stdout.write(f"written: {name}")
        self.stdout.write(self.style.SUCCESS(f"{len(written)} files changed in {path}"))
