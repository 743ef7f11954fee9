from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Search"

    def ready(self):
        from helpcenter.contentcache import content_changed
        from troubleshoot import signals as seller_pages

        from . import signals  # noqa: F401  keeps the index in step with content saved anywhere
        from .index import build_if_empty
        from .log import on_page_opened, on_unknown_code
        from .models import Phrasing, Synonym

        post_migrate.connect(build_if_empty, sender=self)
        seller_pages.page_opened.connect(on_page_opened, dispatch_uid="search.log.opened")
        seller_pages.unknown_code.connect(on_unknown_code, dispatch_uid="search.log.unknown_code")
        # Synonyms and phrasings change what search finds: cached results are filed afresh.
        for model in (Synonym, Phrasing):
            post_save.connect(content_changed, sender=model, dispatch_uid=f"search.pagecache.save.{model.__name__}")
            post_delete.connect(content_changed, sender=model, dispatch_uid=f"search.pagecache.del.{model.__name__}")
