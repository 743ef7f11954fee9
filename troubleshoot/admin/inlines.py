"""The checker editor's inlines: steps as cards, their answers and action links, and the error codes."""

import re
from dataclasses import dataclass

import nested_admin
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from helpcenter import params

from ..models import (
    Choice,
    ErrorCode,
    Step,
    StepLink,
    key_from_title,
)
from .rows import OwnRowsFormSet, OwnRowsInline


class InlineRowsOnce(nested_admin.NestedInlineAdminFormset):
    """An inline as the editor's page draws it, its rows made once. nested-admin makes them anew (each with a blank
    row for "Add another" and, for a step, its answers and links as well) every time the inline is walked: twice to
    sort them, once for the page's scripts, once for the slug's prepopulation, and again for each walk of the step
    above: some 90 times a page for the connection-error checker. Made once, the largest demo checker's editor
    (settlement-wont-send, 9 steps) went from a median of 220-229 to 179-186 ms, p95 300-308 to 251-289 ms."""

    @cached_property
    def rows(self) -> list:
        return list(super().__iter__())

    def __iter__(self):
        return iter(self.rows)


class ErrorCodeForm(forms.ModelForm):
    """An error code, checked as it will be stored (upper case): "sync-42" beside another checker's "SYNC-42" was
    let through, then refused by the database (a 500)."""

    class Meta:
        model = ErrorCode
        fields = ["code"]

    def clean_code(self):
        code = self.cleaned_data["code"].strip().upper()
        other = ErrorCode.objects.filter(code=code).exclude(pk=self.instance.pk).select_related("checker").first()
        if other is not None and other.checker_id != self.instance.checker_id:
            raise ValidationError(
                '%(code)s is already the error code of "%(title)s": a code leads to one checker. Use another code, '
                "or remove it there first.",
                code="code_taken",
                params={"code": code, "title": other.checker.title},
            )
        return code


class ErrorCodeInline(OwnRowsInline, nested_admin.NestedTabularInline):
    model = ErrorCode
    form = ErrorCodeForm
    extra = 0


@dataclass
class PageStep:
    """A step as the page being saved has it: its form, its key there, its key as saved, and whether it goes."""

    form: forms.ModelForm
    key: str
    saved_key: str | None
    removed: bool


class ChoiceForm(forms.ModelForm):
    """An answer. Where it goes is a step's key, so it can name any step on the page, one added on it too (its row
    has no id until the save); the steps of the page are resolved when the answer is checked, the answer saved after
    them (see CheckerAdmin.save_related). The page's script lists the steps on the page as they are typed; without
    it the list holds the checker's saved steps."""

    # Not the model's field: a key is no Step until the save has made the new ones. Set on the instance in clean().
    next_step = forms.CharField(
        required=False,
        label="Next step",
        widget=forms.Select,
        help_text='The step this answer leads to; only with "Go to another step".',
    )
    saved_steps: list[tuple[int, str, str]] = []  # (id, key, title) of the checker's saved steps, set per page

    class Meta:
        model = Choice
        fields = ["position", "label", "outcome", "platform"]  # and the form's own next_step above

    def __init__(self, *args, formset=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.formset = formset
        keys = {pk: key for pk, key, _ in self.saved_steps}
        if not self.is_bound and self.instance.next_step_id:
            self.initial["next_step"] = keys.get(self.instance.next_step_id, "")
        current = self["next_step"].value() or ""
        steps = enumerate(self.saved_steps, start=1)
        options = [("", "---------"), *((key, f"{n}. {title or key}") for n, (_, key, title) in steps)]
        if current and current not in keys.values():  # a step typed on the page before this one was refused
            options.append((current, current))
        self.fields["next_step"].widget.choices = options

    def page_steps(self) -> list[PageStep]:
        """The steps of the page this answer was posted with, saved or not, deleted or not."""
        parent = getattr(self.formset, "parent_form", None)  # this answer's step's form (nested-admin's)
        if parent is None:
            return []
        steps = parent.parent_formset
        return [
            PageStep(
                form,
                (form["key"].value() or "").strip(),
                form.initial.get("key") if form.instance.pk else None,
                steps.can_delete and bool(form["DELETE"].value()),
            )
            for form in steps.forms
            if form.instance.pk or form.has_changed()  # an untouched new step isn't saved
        ]

    def step_for(self, key: str) -> Step:
        """The step of this page that `key` names: by its key on the page, else by the key it was saved with (a
        step renamed in the same save, named as saved by a page without JavaScript)."""
        page = self.page_steps()
        kept = [step for step in page if not step.removed]
        found = next((s for s in kept if s.key == key), None) or next((s for s in kept if s.saved_key == key), None)
        if found:
            return found.form.instance
        if gone := next((s for s in page if s.removed and key in (s.key, s.saved_key)), None):
            title = (gone.form["title"].value() or key).strip()
            raise ValidationError(
                f'Step "{title}" is deleted in this save: point this answer at another step, or pick "Resolved" '
                'or "Escalate", then save again.',
                code="step_deleted",
            )
        raise ValidationError(
            f'There is no step "{key}" on this page: choose one of its steps, or pick "Resolved" or "Escalate".',
            code="no_such_step",
        )

    def clean(self):
        cleaned = super().clean()
        key = cleaned.get("next_step") or ""
        self.instance.next_step = None
        if cleaned.get("outcome") == Choice.Outcome.NEXT and key and not self.formset.parent_removed():
            try:
                self.instance.next_step = self.step_for(key)
            except ValidationError as error:
                self.add_error("next_step", error)
                self.instance.next_step = Step(key=key)  # said above: the model's "choose a step" would repeat it
        return cleaned


class ChoiceFormSet(OwnRowsFormSet):
    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "formset": self}


class ChoiceInline(OwnRowsInline, nested_admin.NestedTabularInline):
    model = Choice
    form = ChoiceForm
    formset = ChoiceFormSet
    fk_name = "step"
    fields = ["position", "label", "outcome", "next_step", "platform"]
    exclude = ["next_step"]  # the model's field: ChoiceForm's own stands in for it, and sets it in clean()
    sortable_field_name = "position"
    extra = 0
    verbose_name = "answer"
    verbose_name_plural = "answers"

    def get_extra(self, request, obj=None, **kwargs):
        # A step added on the page comes with two answer rows ready (most steps have two); rows left empty are
        # not saved. A saved step's answers are added one by one.
        return 2 if obj is None or obj.pk is None else 0

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.saved_steps = self.saved_steps(request)  # the class is made for this call
        return formset

    def saved_steps(self, request) -> list[tuple[int, str, str]]:
        """The steps of the checker being edited (only its own make sense as a next step), read once a page: this
        inline is made anew for each request, and asked for a formset once per step."""
        if getattr(self, "_steps_for", None) is not request:
            checker_id = request.resolver_match.kwargs.get("object_id")
            steps = (
                Step.objects.filter(checker_id=params.number(checker_id) or 0) if checker_id else Step.objects.none()
            )
            self._steps = list(steps.order_by("position", "pk").values_list("pk", "key", "title"))
            self._steps_for = request
        return self._steps


class StepLinkInline(OwnRowsInline, nested_admin.NestedTabularInline):
    model = StepLink
    fields = ["position", "label", "url"]
    # The address as a plain field: the admin's "Currently: <link>" above it repeated it, and a long one widened
    # the page.
    formfield_overrides = {models.URLField: {"widget": forms.URLInput}}
    sortable_field_name = "position"
    extra = 0
    verbose_name = "action link"


class StepForm(forms.ModelForm):
    """A step; its key may be left empty, to be made from its title (StepFormSet.suggest_keys)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key"].required = False
        self.fields["key"].help_text = f"{self.fields['key'].help_text} Left empty, it is made from the title."


class StepFormSet(OwnRowsFormSet):
    """The steps: deleted last, after every answer of the page is saved (CheckerAdmin.save_related), so one save
    can re-point an answer away from a step and delete the step."""

    def clean(self):
        self.suggest_keys()
        super().clean()  # then the keys, suggested ones too, are checked unique

    def suggest_keys(self) -> None:
        """Give each step left without a key one made from its title, unlike the page's other keys (the page's
        script does the same as the title is typed; this is for a page without it)."""
        kept = [f for f in self.forms if hasattr(f, "cleaned_data") and not self._should_delete_form(f)]
        taken = {form.cleaned_data.get("key") for form in kept} - {None, ""}
        for form in kept:
            title = form.cleaned_data.get("title")
            if not form.cleaned_data.get("key") and title:
                key = key_from_title(title, taken, Step._meta.get_field("key").max_length)
                taken.add(key)
                form.cleaned_data["key"] = form.instance.key = key

    def delete_existing(self, obj, commit=True):
        self.removed = [*getattr(self, "removed", []), obj]

    def delete_removed(self) -> None:
        for step in getattr(self, "removed", []):
            step.delete()
        self.removed = []


def answers_from_elsewhere(step: Step, data) -> bool:
    """Whether an answer not on the page being saved (another checker's, or one added since the page was opened)
    goes to `step`: deleting the step would break it."""
    posted = {value for name, value in data.items() if re.fullmatch(r"steps-\d+-choices-\d+-id", name) and value}
    pointing = Choice.objects.filter(next_step=step).values_list("pk", flat=True)
    return any(str(pk) not in posted for pk in pointing)


class StepInline(OwnRowsInline, nested_admin.NestedStackedInline):
    model = Step
    form = StepForm
    formset = StepFormSet
    fields = ["position", ("title", "key"), "question", ("body", "body_preview")]
    readonly_fields = ["body_preview"]
    sortable_field_name = "position"
    inlines = [ChoiceInline, StepLinkInline]
    extra = 0
    classes = ["steps"]

    def get_extra(self, request, obj=None, **kwargs):
        return 1 if obj is None else 0  # a new checker's page opens with its first step ready

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)

        def hand_clean_DELETE(form):  # noqa: N802 - the admin's name for its check
            """The admin refuses to delete a step any answer goes to, even one this same save re-points: here the
            answers on the page are checked against the steps they'll go to (ChoiceForm), and only an answer the
            page doesn't hold refuses the delete."""
            if (
                form.cleaned_data.get("DELETE")
                and form.instance.pk
                and answers_from_elsewhere(form.instance, form.data)
            ):
                raise ValidationError(
                    'Step "%(title)s" was not deleted: an answer that is not on this page goes to it (added since the '
                    "page was opened). Reload the page and delete it again.",
                    code="deleting_protected",
                    params={"title": form.instance.title},
                )

        formset.form = type(formset.form.__name__, (formset.form,), {"hand_clean_DELETE": hand_clean_DELETE})
        return formset

    @admin.display(description="Preview")
    def body_preview(self, obj):
        # Rendered and sanitised on save (rendering.py), exactly as sellers will see it.
        return format_html('<div class="md-preview">{}</div>', mark_safe(obj.body_html))  # noqa: S308
