"""`{% incident_banners %}`: the active incidents that concern this page, first thing on it."""

from django import template

from ..banners import active_incident_ids, incidents_for

register = template.Library()


@register.inclusion_tag("incidents/_banners.html")
def incident_banners(checker=None, code="", run=None):
    """All active incidents (no arguments), or those affecting a checker, the code a seller came with, or a run.
    While none is active by the schedule (remembered until an incident is posted or edited), nothing is read."""
    if not active_incident_ids():
        return {"incidents": []}
    code = code or (run.error_code if run is not None else "")
    return {"incidents": incidents_for(checker, code or "")}
