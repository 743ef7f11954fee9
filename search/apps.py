from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Search"

    def ready(self):
        from troubleshoot.roles import ensure_support_group

        from . import signals  # noqa: F401  keeps the index in step with content saved anywhere
        from .index import build_if_empty

        # Search's permissions exist only after its own post_migrate: give them to the Support group then too.
        post_migrate.connect(ensure_support_group, sender=self)
        post_migrate.connect(build_if_empty, sender=self)
