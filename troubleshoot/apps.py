from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save


class TroubleshootConfig(AppConfig):
    name = "troubleshoot"
    verbose_name = "Troubleshooting"

    def ready(self):
        from .browse import forget_overview
        from .models import Category, Checker
        from .roles import ensure_support_group
        from .signals import content_changed

        post_migrate.connect(ensure_support_group, sender=self)
        # The cached list of categories and their first checkers is read afresh after any content save.
        for model in (Category, Checker):
            post_save.connect(forget_overview, sender=model, dispatch_uid=f"forget_overview_save_{model.__name__}")
            post_delete.connect(forget_overview, sender=model, dispatch_uid=f"forget_overview_del_{model.__name__}")
        content_changed.connect(forget_overview, dispatch_uid="forget_overview_content")
