from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class TroubleshootConfig(AppConfig):
    name = "troubleshoot"
    verbose_name = "Troubleshooting"

    def ready(self):
        from helpcenter.contentcache import content_changed

        from . import models

        # What sellers see changed (a publish, a checker or article listed or not, a category, an error code):
        # what was kept under the content generation is retired (helpcenter/contentcache.py). Drafts (steps,
        # answers) don't reach sellers until published.
        for model in [models.Category, models.Checker, models.CheckerVersion, models.ErrorCode, models.Article,
                      models.ArticleVersion]:  # fmt: skip
            post_save.connect(content_changed, sender=model, dispatch_uid=f"pagecache-save-{model.__name__}")
            post_delete.connect(content_changed, sender=model, dispatch_uid=f"pagecache-delete-{model.__name__}")
        m2m_changed.connect(content_changed, sender=models.Article.checkers.through, dispatch_uid="pagecache-m2m")
