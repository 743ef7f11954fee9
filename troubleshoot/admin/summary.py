"""What the editor says at the top of a save that was refused or kept with warnings: each error with where it is,
the flow check's problems and error texts another checker has."""

from django.contrib import messages
from django.urls import reverse
from django.utils.html import format_html

from .. import versions
from ..models import (
    Checker,
)


def _removed(formset, form) -> bool:
    return formset.can_delete and bool(form["DELETE"].value())


def _text(form, name: str) -> str:
    return (form[name].value() or "").strip() if name in form.fields else ""


def _field_errors(form, where: str, anchor: str) -> list[dict]:
    """A row's errors, each with where it is ("Step "Token", answer "No", next step") and the field to jump to."""
    found = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        target = f"id_{form.prefix}-{name}" if field and not field.widget.is_hidden else anchor
        label = f"{where}, {field.label.lower()}" if field and field.label else where
        found.extend({"where": label, "message": message, "anchor": target} for message in errors)
    return found


def _row_errors(formset, form) -> list[dict]:
    """A step's (or an error code's) errors, then those of its answers and links."""
    name = _text(form, "title") or _text(form, "key") or _text(form, "code") or "new"
    where = f'{formset.row_names[0].capitalize()} "{name}"'
    found = _field_errors(form, where, form.prefix)
    for nested in getattr(form, "nested_formsets", []):  # nested-admin's: the step's answers and links
        found.extend(
            {"where": where, "message": message, "anchor": f"{nested.prefix}-group"}
            for message in nested.non_form_errors()
        )
        for row in nested.forms:
            if not _removed(nested, row):
                label = _text(row, "label") or "new"
                found.extend(_field_errors(row, f'{where}, {nested.row_names[0]} "{label}"', row.prefix))
    return found


def error_summary(inline_admin_formsets) -> list[dict]:
    """Every error of the editor's rows, for the top of the page: where (a step, an answer of a step), what, and
    the id of the field to jump to. The admin shows each beside its row only, often far below its banner."""
    found = []
    for inline_admin_formset in inline_admin_formsets:
        formset = inline_admin_formset.formset
        if not formset.is_bound:
            continue
        where = formset.row_names[1].capitalize()
        found.extend(
            {"where": where, "message": message, "anchor": f"{formset.prefix}-group"}
            for message in formset.non_form_errors()
        )
        for form in formset.forms:
            if not _removed(formset, form):
                found.extend(_row_errors(formset, form))
    return found


def flow_problems(request, checker: Checker) -> None:
    for problem in versions.draft_flow(checker).problems():
        messages.warning(request, f"{checker.title}: {problem} The draft is saved; it can't be published like this.")


def shared_error_texts(request, checker: Checker) -> None:
    """Warn (the save is kept) of error texts another checker has. A warning, not a refused save: moving a text
    from one checker to another takes a save of each, in either order, and nothing on the editor's page should
    wait on that; publishing is what refuses while a checker sellers can find has it (versions.checker_problems)."""
    others = Checker.objects.exclude(pk=checker.pk).sharing_error_texts(checker.signature_list)
    for other, text in others:
        shown = other.is_published and other.live_version_id
        messages.warning(
            request,
            format_html(
                'The error text "{}" is also <a href="{}">{}</a>\'s{}: {}',
                text,
                reverse("admin:troubleshoot_checker_change", args=[other.pk]),
                other.title,
                "" if shown else " (not shown to sellers yet)",
                "a seller who pastes it would find both, and its runs split between them. Keep it on one checker: "
                "this one can't be published while both have it."
                if shown
                else "keep it on one checker, or the second of the two to be published is refused.",
            ),
        )
