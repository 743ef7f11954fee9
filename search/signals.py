"""Keep the search index in step with content, wherever it is saved."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from troubleshoot.models import Article, Checker
from troubleshoot.signals import content_changed

from .index import reindex_articles, reindex_checkers
from .models import Phrasing


@receiver(content_changed)
def content_saved(sender, checkers=(), articles=(), **kwargs):
    reindex_checkers(checkers)
    reindex_articles(articles)


@receiver(post_save, sender=Checker)
def checker_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        reindex_checkers([instance.pk])


@receiver(post_save, sender=Article)
def article_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        reindex_articles([instance.pk])


@receiver([post_save, post_delete], sender=Phrasing)
def phrasing_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        reindex_checkers([instance.checker_id])
