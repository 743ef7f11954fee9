"""Import the content library (categories, checkers, articles) from files."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from troubleshoot.library import ContentError, read_library
from troubleshoot.librarysync import import_library


class Command(BaseCommand):
    help = (
        "Import content/ into the database, publishing a new version of each checker whose file changed. "
        "Idempotent: unchanged files change nothing, runs keep their versions, and a file with a mistake refuses "
        "the whole import."
    )

    def add_arguments(self, parser):
        parser.add_argument("--path", default=str(settings.BASE_DIR / "content"))
        parser.add_argument("--check", action="store_true", help="Only read and check the files; write nothing.")

    def handle(self, *args, path, check, **options):
        root = Path(path)
        if not root.is_dir():
            raise CommandError(f"{root} is not a folder")
        try:
            library = read_library(root)
            if check:
                self.stdout.write(
                    f"{len(library.checkers)} checkers and {len(library.articles)} articles read; no problems found."
                )
                return
            report = import_library(library)
        except ContentError as exc:
            raise CommandError(f"Nothing imported. {exc}") from exc
        for label, names in (("created", report.created), ("updated", report.updated)):
            for name in names:
                self.stdout.write(f"{label}: {name}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Content loaded: {len(report.created)} created, {len(report.updated)} updated, "
                f"{len(report.unchanged)} unchanged."
            )
        )
