"""Which active incidents concern what a seller is looking at, and marking the runs started during one.

The common case is no incident at all: then nothing is read (the schedule is remembered, `active_incident_ids`).
"""

from django.core.cache import cache
from django.db.models import Prefetch, Q
from django.utils import timezone

from helpcenter.contentcache import content_generation, remember
from troubleshoot.models import Category, Checker, ErrorCode, Run

from .models import Incident, IncidentRun

SCHEDULE_SECONDS = 60 * 60


def active_incidents() -> list[Incident]:
    return list(
        Incident.objects.active().prefetch_related(
            Prefetch("checkers", queryset=Checker.objects.only("pk")),
            Prefetch("categories", queryset=Category.objects.only("pk")),
        )
    )


def active_incident_ids() -> tuple[int, ...]:
    """What a cached page with banners depends on, so it is filed again when an incident starts or ends.

    The incidents not yet over are kept in the cache under the content generation (posting or editing one moves
    it on), and in each process's memory (`remember`); which are active is decided against the clock here: no
    query and no round trip to the cache while a page is served from it.
    """
    schedule = remember("incidents", None, _schedule)
    now = timezone.now()
    return tuple(pk for pk, starts, ends in schedule if starts <= now and (ends is None or ends > now))


def _schedule() -> list[tuple]:
    key = f"incidents:schedule:{content_generation()}"
    schedule = cache.get(key)
    if schedule is None:
        now = timezone.now()
        schedule = list(
            Incident.objects.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now)).values_list(
                "pk", "starts_at", "ends_at"
            )
        )
        cache.set(key, schedule, SCHEDULE_SECONDS)
    return schedule


def incidents_for(checker: Checker | None = None, code: str = "") -> list[Incident]:
    """Active incidents affecting this checker (directly, by category or by one of its error codes) or this code;
    with neither given, all of them (the home page). While none is active by the schedule (remembered until an
    incident is posted or edited), nothing is read."""
    if not active_incident_ids():
        return []
    incidents = active_incidents()
    if not incidents or (checker is None and not code):
        return incidents
    codes = {code.strip().upper()} - {""}
    if checker is not None and any(incident.code_list for incident in incidents):
        codes |= set(ErrorCode.objects.filter(checker=checker).values_list("code", flat=True))
    return [incident for incident in incidents if _affects(incident, checker, codes)]


def _affects(incident: Incident, checker: Checker | None, codes: set[str]) -> bool:
    if incident.everywhere or codes & set(incident.code_list):
        return True
    if checker is None:
        return False
    return checker.pk in {c.pk for c in incident.checkers.all()} or checker.category_id in {
        c.pk for c in incident.categories.all()
    }


def mark_new_run(sender, instance: Run, created=False, raw=False, **kwargs) -> None:
    """post_save on Run: a run that starts while an incident affects its checker (or the code it came with) is
    linked to that incident. With none active by the schedule, nothing is read or written (not even the run's
    checker)."""
    if raw or not created or not active_incident_ids():
        return
    found = incidents_for(instance.checker, instance.error_code)
    if found:
        IncidentRun.objects.create(run=instance, incident=found[0])
