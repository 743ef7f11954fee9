"""Keep the search index in step with what sellers see, wherever content is saved or published."""

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from troubleshoot.models import Article, ArticleVersion, Checker, CheckerVersion, ErrorCode

from .index import reindex_articles, reindex_checkers
from .models import Phrasing, Synonym
from .search import SYNONYMS_CACHE_KEY


@receiver(post_save, sender=Checker)
def checker_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        reindex_checkers([instance.pk])


@receiver(post_save, sender=CheckerVersion)
def checker_published(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        reindex_checkers([instance.checker_id], publishing=instance)


@receiver(post_save, sender=Article)
def article_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        reindex_articles([instance.pk])


@receiver(post_save, sender=ArticleVersion)
def article_published(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        reindex_articles([instance.article_id], publishing=instance)


@receiver([post_save, post_delete], sender=ErrorCode)
@receiver([post_save, post_delete], sender=Phrasing)
def listing_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        reindex_checkers([instance.checker_id])


@receiver([post_save, post_delete], sender=Synonym)
def synonyms_changed(sender, raw=False, **kwargs):
    """Forget the cached synonym groups now, and again once the change is committed: a search in another process
    may have cached the old groups in between."""
    cache.delete(SYNONYMS_CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(SYNONYMS_CACHE_KEY))
