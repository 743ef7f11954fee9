from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_save


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self):
        from troubleshoot.models import Run
        from troubleshoot.roles import ensure_support_group

        from .banners import mark_new_run

        pre_save.connect(mark_new_run, sender=Run, dispatch_uid="incidents.mark_new_run")
        post_migrate.connect(ensure_support_group, sender=self)
