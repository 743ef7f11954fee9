"""The editor's preview: the draft, walked with the seller's template (as `runs` renders a run), stored nowhere."""

from urllib.parse import urlencode

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_htmx.http import replace_url

from helpcenter import params

from .. import positions, versions
from ..forms import PreviewForm
from ..graph import Flow
from ..models import Answer, Checker
from .runs import REFUSED, refusal


def _path(text: str) -> list[int] | None:
    """The answers of a preview's path ("0.2.1": the first answer, then the third, ...); None if it isn't one."""
    parts = text.split(".", 200) if text else []
    path = [params.number(part, highest=999) for part in parts]
    return None if len(parts) > 200 or None in path else path


def _path_url(slug: str, path: list[int], note: str = "") -> str:
    query = {"path": ".".join(map(str, path))} if path else {}
    if note and path and path[-1] == Answer.NONE_FIT:  # the seller's line travels to the ending, as in a run
        query["note"] = note
    return reverse("troubleshoot:preview", args=[slug]) + (f"?{urlencode(query)}" if query else "")


def _preview_answer(current: Flow, post) -> tuple[list[int], str, dict]:
    """The preview's path after the posted answer, the seller's "None of these fit" line, and what the panel
    says if the answer was refused (path unchanged)."""
    form = PreviewForm(post)
    if not form.is_valid():
        return _path(post.get("path", "")) or [], "", refusal(form)
    path = _path(form.cleaned_data["path"]) or []
    step = positions.replay(current, path).step
    if step is None or step.key != form.cleaned_data["step"]:
        return path, "", {"message": "The draft changed under this preview. Here is where it stands now."}
    try:
        positions.find_answer(current, step.key, form.cleaned_data["answer"])
    except positions.StaleAnswer as stale:
        return path, "", {"message": str(stale)}
    return [*path, form.cleaned_data["answer"]], form.cleaned_data["note"], {}


@never_cache  # like every staff page (support/views.py): no cache, shared or the browser's, keeps a draft
@staff_member_required
@require_http_methods(["GET", "POST"])
def preview(request, slug):
    """Walk the draft as a seller would (htmx and no-JS alike) to its real ending; the answers so far travel in
    the URL. Nothing is logged, and the support form at an escalation is shown but can't be sent."""
    if not request.user.has_perm("troubleshoot.change_checker"):
        raise PermissionDenied
    checker = get_object_or_404(Checker.objects.select_related("category"), slug=slug)
    current = versions.draft_flow(checker)
    path, note, refused = _path(request.GET.get("path", "")), " ".join(request.GET.get("note", "").split())[:300], {}
    if path is None:
        raise Http404("That preview path is not a list of answers.")
    if request.method == "POST":
        path, note, refused = _preview_answer(current, request.POST)
        if not refused and not request.htmx:
            return redirect(_path_url(slug, path, note))
    restart = reverse("troubleshoot:preview", args=[slug])
    context = {
        "checker": checker,
        "run": None,
        "position": positions.replay(current, path, note),
        "focus": bool(request.htmx),
        "answer_url": restart,
        "none_fit": Answer.NONE_FIT,
        "message": "",
        **refused,
        "preview": {"path": ".".join(map(str, path)), "back": ".".join(map(str, path[:-1])), "restart": restart},
    }
    sent_back = bool(context["message"] or context.get("none_fit_error"))
    template = "troubleshoot/checker.html#panel" if request.htmx else "troubleshoot/checker.html"
    response = TemplateResponse(request, template, context, status=REFUSED if sent_back else 200)
    if request.htmx and request.method == "POST" and not sent_back:
        return replace_url(response, _path_url(slug, path, note))  # the preview's history entry follows the walk
    return response
