"""The seller's panel on a published version's step, rendered once per process and filled in for each request.

A published version never changes (`versions.flow_of`), so two runs standing at the same step of it, with the same
answers so far, are shown the same panel but for three things: the run's URLs, the seller's CSRF token and the
answer that Back undoes. `open_step` renders that panel once with a marker in each of those places, keeps it with
the version's flow, and fills the markers in for each request: a step answer then renders no template at all.

The panels that are rendered every time (the start page's, a refused answer's, an ending's, the draft's preview)
still render the step's own parts only once (`step_parts`).
"""

from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from . import markers
from .graph import Flow, StepNode
from .models import Answer, run_urls

PANEL = "troubleshoot/checker.html#panel"
CSRF, PAGE, UNDO = (markers.marker(name) for name in ("csrf", "page", "undo"))
# Entries kept with a version's flow before panels stop being kept (a few KB each; the steps' own parts, two a step,
# count too): a version with more ways through it than this renders the rest every time. (A process keeps up to
# `versions.MEMO_SIZE` versions' flows.)
KEEP = 200
# What, in a panel's context, makes it one of a kind (a refused answer, the preview), so it is rendered every time.
ONE_OFF = ("message", "none_fit_error", "none_fit_note", "preview")


def step_parts(flow: Flow, step: StepNode | None, focus: bool) -> dict | None:
    """A step's title, text, links, answer buttons and "None of these fit?", rendered once per version (kept with
    its flow). None for a draft: the preview renders them every time."""
    if step is None or flow.version_id is None:
        return None
    parts = flow.rendered.get((step.key, focus))
    if parts is None:
        context = {"step": step, "focus": focus, "none_fit": Answer.NONE_FIT}
        parts = {
            "text": render_to_string("troubleshoot/checker.html#step_text", context),
            "choices": render_to_string("troubleshoot/checker.html#step_choices", context),
            # As it shows with no error and nothing typed (otherwise it is rendered with them).
            "none_fit": render_to_string("troubleshoot/checker.html#none_fit", context),
        }
        flow.rendered[(step.key, focus)] = parts
    return parts


def open_step(request, flow: Flow, context: dict) -> SafeString | None:
    """The panel of `context` (as `views._render` builds it) for a run standing at a step of a published version,
    filled in for this request; None when the panel is one of a kind and must be rendered."""
    run, position = context["run"], context["position"]
    if run is None or position.step is None or flow.version_id is None or any(name in context for name in ONE_OFF):
        return None
    said = tuple((answer.question, answer.choice_label, answer.note) for answer in position.answers)
    key = (context["checker"].slug, position.step.key, context["focus"], said)
    parts = flow.rendered.get(key)
    if parts is None:
        # Rendered for no run in particular: whatever it shows of the run is a marker (a test holds the filled-in
        # panel equal to the template's for every step of the library, so anything else of the run's would show).
        urls = run_urls(PAGE)
        marked = {
            **context,
            "run": True,
            "csrf_token": CSRF,
            "urls": urls,
            "answer_url": urls["answer"],
            "undo_id": UNDO,
        }
        parts = markers.split(render_to_string(PANEL, marked))
        if len(flow.rendered) < KEEP:
            flow.rendered[key] = parts
    filled = {"csrf": get_token(request), "page": run.urls["page"], "undo": context["undo_id"]}
    return mark_safe(markers.fill(parts, filled))  # noqa: S308 - rendered by the template, filled in escaped
