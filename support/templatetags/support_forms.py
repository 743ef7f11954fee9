"""What support adds to a run's page at its endings: the support request form where the run escalates, the "Still
fixed?" offer where it is resolved. The walk's template shows them through these tags, so the walk needs nothing of
support's; support's views pass a bound form back (with its errors) as `support_form` / `followup_form`."""

from django import template

from troubleshoot.models import Answer

from ..forms import FollowUpForm, SupportRequestForm

register = template.Library()


def focus_first_error(form):
    """The form, its first field with an error marked `autofocus`: the browser focuses it when the page loads, htmx
    after it swaps the panel in (the panel's heading takes no focus then, see `render_run`)."""
    for field in form:
        if field.errors:
            field.field.widget.attrs["autofocus"] = True
            break
    return form


@register.inclusion_tag("support/_run_support_form.html", takes_context=True)
def support_request_form(context):
    form = context.get("support_form")
    if form is None:
        said = context["position"].answers
        # After "None of these fit", the seller's line starts their message to support.
        note = said[-1].note if said and said[-1].answer_index == Answer.NONE_FIT else ""
        form = SupportRequestForm(initial={"description": note})
    return {**context.flatten(), "support_form": focus_first_error(form)}


@register.inclusion_tag("support/_run_followup_form.html", takes_context=True)
def followup_form(context):
    return {**context.flatten(), "followup_form": focus_first_error(context.get("followup_form") or FollowUpForm())}
