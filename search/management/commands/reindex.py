"""Rebuild the search index from the content (it is kept up to date on every save; this is for repairs)."""

from django.core.management.base import BaseCommand

from search.index import rebuild


class Command(BaseCommand):
    help = "Rebuild the search index from the published checkers and articles."

    def handle(self, *args, **options):
        self.stdout.write(self.style.SUCCESS(f"Search index rebuilt: {rebuild()} documents."))
