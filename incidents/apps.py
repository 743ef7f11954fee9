from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self):
        from helpcenter.contentcache import content_changed
        from troubleshoot.models import Run

        from .banners import mark_new_run
        from .models import Incident

        post_save.connect(mark_new_run, sender=Run, dispatch_uid="incidents.mark_new_run")
        # An incident posted, edited or removed: cached pages showing banners are filed afresh.
        post_save.connect(content_changed, sender=Incident, dispatch_uid="incidents.pagecache.save")
        post_delete.connect(content_changed, sender=Incident, dispatch_uid="incidents.pagecache.delete")
        for through in (Incident.checkers.through, Incident.categories.through):
            m2m_changed.connect(content_changed, sender=through, dispatch_uid=f"incidents.pagecache.{through.__name__}")
