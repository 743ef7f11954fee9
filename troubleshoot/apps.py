from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TroubleshootConfig(AppConfig):
    name = "troubleshoot"
    verbose_name = "Troubleshooting"

    def ready(self):
        from .roles import ensure_support_group

        post_migrate.connect(ensure_support_group, sender=self)
