from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save


class TroubleshootConfig(AppConfig):
    name = "troubleshoot"
    verbose_name = "Troubleshooting"

    def ready(self):
        from . import models
        from .pagecache import content_changed
        from .roles import ensure_support_group

        post_migrate.connect(ensure_support_group, sender=self)
        # Whatever sellers see changed: cached pages are retired (see pagecache.py).
        for model in [models.Category, models.Checker, models.ErrorCode, models.Step, models.StepLink,
                      models.Choice, models.Article]:  # fmt: skip
            post_save.connect(content_changed, sender=model, dispatch_uid=f"pagecache-save-{model.__name__}")
            post_delete.connect(content_changed, sender=model, dispatch_uid=f"pagecache-delete-{model.__name__}")
        m2m_changed.connect(content_changed, sender=models.Article.checkers.through, dispatch_uid="pagecache-m2m")
