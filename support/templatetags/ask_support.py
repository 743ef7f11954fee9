"""`{% ask_support query %}`: the support form for a search that found no guide, with the seller's search in it.

A template tag, so the search page offers support's form without the search app importing support (the way
`{% incident_banners %}` puts incidents on the home page)."""

from django import template

from ..forms import AskSupportForm

register = template.Library()


@register.inclusion_tag("support/_ask.html", takes_context=True)
def ask_support(context, query: str) -> dict:
    return {"form": AskSupportForm.for_search(query), "csrf_token": context.get("csrf_token")}
