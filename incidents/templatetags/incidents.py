"""`{% incident_banners %}`: the active incidents that concern this page, first thing on it."""

from django import template

from ..banners import incidents_for

register = template.Library()


@register.inclusion_tag("incidents/_banners.html")
def incident_banners(checker=None, code="", run=None):
    """All active incidents (no arguments), or those affecting a checker, the code a seller came with, or a run
    (`incidents_for`: nothing is read while none is active)."""
    code = code or (run.error_code if run is not None else "")
    return {"incidents": incidents_for(checker, code or "")}
