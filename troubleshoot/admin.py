"""Admin for support staff: the checker editor (draft, preview, publish, history) and the read-only outcome log.

A checker's change page is its editor: the listing, then every step of the draft with its answers and links inline
(django-nested-admin: add, remove and drag to reorder without leaving the page), the flow picture and a rendered
preview of each step's Markdown. Publish, History, the diff and Restore are pages of their own beside it.
"""

import re
from dataclasses import dataclass

import nested_admin
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, F, Model, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe

from helpcenter import params
from helpcenter.admin import PlainHelpTextsMixin

from . import flowpicture, versions
from .models import (
    Article,
    ArticleVersion,
    Category,
    Checker,
    CheckerVersion,
    Choice,
    ErrorCode,
    Run,
    Step,
    StepLink,
    key_from_title,
)
from .rendering import render_markdown


def count_per_row(related: QuerySet, link: str) -> Coalesce:
    """How many `related` rows point (through `link`) at each row listed: a subquery evaluated for the page's rows
    only, where a Count() annotation would GROUP BY the whole table (8.8 s a page at 200,000 runs)."""
    per_row = related.filter(**{link: OuterRef("pk")}).order_by().values(link).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(per_row), 0)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}


class OwnRowsFormSet(nested_admin.NestedInlineFormSet):
    """A formset of the editor that reads and saves the rows of the object being saved only.

    Each row's form names its row by a hidden id. To let an answer be dragged to another step, nested-admin looks
    the posted ids up in the whole table (and saves whichever row an id names, moving or deleting it): another
    checker's answer, link, step or error code named in this checker's form was taken from it. Here the ids are
    looked up among the rows of the object at the top of the page (the checker), through every level in between
    (an answer's step's checker), so a row may still move between this checker's steps; an id that names anything
    else leaves its form without a row and refuses the whole save."""

    row_names = ("row", "rows")  # the inline's verbose names, for the message (set by OwnRowsInline)
    label_inputs = False  # a table's rows: each field gets the column's name (set by OwnRowsInline)

    def owner(self) -> tuple[str, Model]:
        """The object being saved, at the top of the page, and the lookup from this formset's rows to it:
        `checker` for steps and error codes, `step__checker` for answers and links."""
        formset, lookup = self, []
        while True:
            lookup.append(formset.fk.name)
            parent_form = getattr(formset, "parent_form", None)  # nested-admin's: the form this formset is under
            if parent_form is None:
                return "__".join(lookup), formset.instance
            formset = parent_form.parent_formset

    def get_queryset(self):
        if not self.is_bound:  # a page shown: Django's own rows of the parent
            return super().get_queryset()
        lookup, owner = self.owner()
        if owner.pk is None:  # a checker being added owns no rows yet
            return self.model._default_manager.none()
        return super().get_queryset().filter(**{lookup: owner})

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if self.label_inputs:  # a table row's fields are named by the column's header, which no <label> ties to them
            for field in form.fields.values():
                if not field.widget.is_hidden:
                    field.widget.attrs.setdefault("aria-label", str(field.label))

    def parent_removed(self) -> bool:
        """Whether the row these rows belong to (an answer's or a link's step) is deleted in this save."""
        parent = getattr(self, "parent_form", None)
        return parent is not None and parent.parent_formset.can_delete and bool(parent["DELETE"].value())

    def is_valid(self):
        # The rows of a step being deleted go with it: what they say can't refuse the save (the ownership rule
        # below still holds for them).
        if self.is_bound and self.parent_removed():
            return not self.non_form_errors()
        return super().is_valid()

    def save(self, commit=True):
        if self.parent_removed():
            self.new_objects, self.changed_objects, self.deleted_objects = [], [], []
            return []
        return super().save(commit)

    def clean(self):
        super().clean()
        pk_name = self.model._meta.pk.name
        for form in self.initial_forms:  # deleted ones too: a DELETE of another's row is refused as well
            if form.instance.pk is None:  # the id posted isn't one of the owner's rows (see get_queryset)
                _, owner = self.owner()
                name, names = self.row_names
                raise ValidationError(
                    "Nothing was saved: %(name)s %(id)s is not one of the %(names)s of this %(owner)s. "
                    "Reload the page and make the change again.",
                    code="not_owned",
                    params={
                        "name": name,
                        "names": names,
                        "owner": owner._meta.verbose_name,
                        "id": form[pk_name].data or "(none)",
                    },
                )


class OwnRowsInline(PlainHelpTextsMixin):
    """Every inline of the editor, at every level: its formset saves the edited object's own rows only."""

    formset = OwnRowsFormSet

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)  # a class made for this call
        formset.row_names = (self.verbose_name, self.verbose_name_plural)
        formset.label_inputs = isinstance(self, nested_admin.NestedTabularInline)
        return formset


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


NO_BASE = "This form didn't say which version it was opened on. Nothing was published: reload the page."


class VersionedPagesMixin:
    """The publish, history and restore pages a checker's and an article's admin both have.

    Each admin names what differs: how its draft is read, checked, compared, published and restored."""

    draft_of = None  # item → its content-file dict
    problems_in = None  # content-file dict → problems that refuse a publish
    changes_between = None  # (old dict, new dict) → [Change]
    publish_item = None  # versions.publish or versions.publish_article
    restore_item = None  # versions.restore or versions.restore_article
    restored_data = None  # (draft dict, version dict) → the draft's dict once the version is restored into it
    published_note = ""  # said after "Version N of … is live."
    restored_message = "Version {number} is back in the draft; publish to go live."

    def _item(self, request, object_id, permission: str):
        """The checker or article, with its live version, for a user who holds `permission`."""
        if not request.user.has_perm(f"troubleshoot.{permission}"):
            raise PermissionDenied
        return get_object_or_404(self.model.objects.select_related("category", "live_version"), pk=object_id)

    def _page(self, request, item, template, title, **context):
        name = self.model._meta.model_name  # "checker" or "article": the templates' folder and variable
        return TemplateResponse(
            request,
            [f"admin/troubleshoot/{name}/{template}", f"admin/troubleshoot/{template}"],
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "original": item,
                name: item,
                "title": title,
                **context,
            },
        )

    def publish_view(self, request, object_id):
        """Check the draft, show what would change, and publish it with a note (under the item's row lock)."""
        name = self.model._meta.model_name
        item = self._item(request, object_id, f"publish_{name}")
        live = item.live_version
        live_number = live.number if live else 0
        # The editor's page says which version was live when they opened the draft; if another was published since,
        # they see it here before anything happens, and publishing from this page would be refused anyway.
        opened = params.optional_number(request.GET, "base", highest=live_number)
        base = live_number if opened is None else opened
        problems, error = [], ""
        if request.method == "POST":
            done, problems, error = self._publish_posted(request, item)
            if done is not None:
                return done
        draft = self.draft_of(item)
        return self._page(
            request,
            item,
            "publish.html",
            f"Publish {item.title}",
            live=live,
            base=base,
            published_since=base != live_number,
            problems=problems or self.problems_in(draft),
            error=error,
            changes=self.changes_between(live.data if live else {}, draft),
            nothing_to_publish=live is not None and live.data == draft,
        )

    def _publish_posted(self, request, item):
        """Publish what the publish page posted: the redirect once done (or refused by a publish since), else the
        problems that refused it, or what was wrong with the form."""
        name = self.model._meta.model_name
        posted_base = params.number(request.POST.get("base"))
        if posted_base is None:
            return (
                None,
                [],
                "This form didn't say which version it was opened on. Nothing was published: reload the page.",
            )
        note = request.POST.get("note", "").strip()
        try:
            version = self.publish_item(item, user=request.user, note=note, base=posted_base)
        except versions.PublishConflict as conflict:
            messages.error(request, str(conflict))
            return redirect(f"admin:troubleshoot_{name}_versions", item.pk), [], ""
        except versions.PublishRefused as refused:
            return None, refused.problems, ""
        messages.success(request, f"Version {version.number} of {item.title} is live.{self.published_note}")
        return redirect(f"admin:troubleshoot_{name}_change", item.pk), [], ""

    def restore_view(self, request, object_id, number):
        """Restore a version into the draft (POST). A draft with changes since the live version is only replaced
        once the editor confirms on a page of its own, saying what it loses; the replaced draft is kept, and the
        editor offers to bring it back."""
        name = self.model._meta.model_name
        item = self._item(request, object_id, f"publish_{name}")
        version = item.versions.filter(number=number).first()
        if version is None:
            raise Http404(f"This {name} has no version {number}.")
        if request.method != "POST":
            return redirect(f"admin:troubleshoot_{name}_versions", item.pk)
        draft = self.draft_of(item)
        live = item.live_version
        if request.POST.get("confirm") != "yes" and (live is None or live.data != draft):
            return self._page(
                request,
                item,
                "restore.html",
                f"Restore version {number} of {item.title}?",
                version=version,
                changes=self.changes_between(draft, self.restored_data(draft, version.data)),
            )
        kept = self.restore_item(item, number, user=request.user)
        message = self.restored_message.format(number=number)
        if kept is not None:
            message += " The draft it replaced is kept: the editor can bring it back."
        messages.success(request, message)
        return redirect(f"admin:troubleshoot_{name}_change", item.pk)

    def response_change(self, request, obj):
        """Saved: back to the editor, or on to the page a link of the editor led to ("Publish…" with unsaved
        changes saves them first, then goes there; the editor's script posts the link as `_continue_to`)."""
        response = super().response_change(request, obj)
        target = request.POST.get("_continue_to", "")
        local = target.startswith("/") and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        return redirect(target) if local and response.status_code == 302 else response

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The editor offers back the draft the last restore replaced (to those who may restore).
        if obj is not None and request.user.has_perm(f"troubleshoot.publish_{self.model._meta.model_name}"):
            context["replaced_draft"] = versions.replaced_draft(obj)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def bring_back_view(self, request, object_id, kept_id):
        """Put back the draft a restore replaced (POST): the editor's "Bring back the draft you replaced"."""
        name = self.model._meta.model_name
        item = self._item(request, object_id, f"publish_{name}")
        kept = versions.replaced_draft(item)
        if request.method != "POST" or kept is None or kept.pk != kept_id:
            messages.warning(request, "That draft can no longer be brought back: nothing was changed.")
            return redirect(f"admin:troubleshoot_{name}_change", item.pk)
        versions.bring_back(kept, user=request.user)
        when = timezone.localtime(kept.created_at)
        messages.success(request, f"The draft you replaced on {when:%d %b %Y at %H:%M} is back. Publish to go live.")
        return redirect(f"admin:troubleshoot_{name}_change", item.pk)


class CheckerChangeList(ChangeList):
    """The checker list counts steps and runs for the page shown only, in one grouped query each. As annotations
    (sortable columns) the database counted them for every checker before sorting: 5,000 subqueries, a quarter of a
    second a page at 200,000 runs. Sellers' use of checkers, sorted, is on the review pages."""

    def get_results(self, request):
        super().get_results(request)
        shown = list(self.result_list)
        ids = [checker.pk for checker in shown]
        steps = dict(Step.objects.filter(checker__in=ids).values_list("checker").annotate(n=Count("pk")).order_by())
        # COUNT(*): a run's key (a UUID) isn't in the (checker, started_at) index, so COUNT(id) read every run's row.
        runs = dict(Run.objects.filter(checker__in=ids).values_list("checker").annotate(n=Count("*")).order_by())
        for checker in shown:
            checker.step_total, checker.run_total = steps.get(checker.pk, 0), runs.get(checker.pk, 0)
        self.result_list = shown


@admin.register(Checker)
class CheckerAdmin(PlainHelpTextsMixin, VersionedPagesMixin, nested_admin.NestedModelAdmin):
    list_display = ["title", "slug", "category", "is_published", "live", "step_count", "run_count"]
    list_filter = ["category", "platforms", "is_published"]
    search_fields = ["title", "slug", "symptom", "signatures", "error_codes__code"]
    list_per_page = 50  # as the review pages: the admin's own rendering of a row is what costs here
    show_full_result_count = False
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["live", "draft_status", "flow_picture", "view_on_site_link"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "category", "symptom", "is_published", "position", "view_on_site_link"]}),
        ("Xero and QuickBooks", {"fields": ["platforms"]}),
        ("Search and support", {"fields": ["signatures", "support_hint"], "classes": ["collapse"]}),
        ("The draft's flow", {"fields": ["draft_status", "flow_picture"]}),
    ]
    inlines = [ErrorCodeInline, StepInline]
    change_form_template = "admin/troubleshoot/checker/change_form.html"
    draft_of = staticmethod(versions.draft_data)
    problems_in = staticmethod(versions.checker_problems)
    changes_between = staticmethod(versions.diff)
    publish_item = staticmethod(versions.publish)
    restore_item = staticmethod(versions.restore)
    restored_data = staticmethod(lambda draft, version: {**draft, "steps": version["steps"]})
    published_note = " New runs walk it."
    restored_message = (
        "Version {number}'s steps are back in the draft. Runs in progress are unaffected; publish to go live."
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("category").annotate(live_number=F("live_version__number"))

    def get_changelist(self, request, **kwargs):
        return CheckerChangeList

    @admin.display(description="Live version", ordering="live_number")
    def live(self, obj):
        return f"Version {obj.live_number}" if obj.live_number else "Not published yet"

    @admin.display(description="Published")
    def draft_status(self, obj):
        if not obj.pk or not obj.live_version_id:
            return "Not published yet: sellers can't see this checker."
        number = obj.live_version.number
        if not versions.has_unpublished_changes(obj):
            return f"Version {number} is live; the draft below is the same."
        url = reverse("admin:troubleshoot_checker_diff", args=[obj.pk]) + f"?old={number}"
        return format_html(
            'Version {} is live. <strong>The draft below has unpublished changes</strong> (<a href="{}">see them</a>).',
            number,
            url,
        )

    @admin.display(description="Steps")
    def step_count(self, obj):
        return obj.step_total

    @admin.display(description="Runs")
    def run_count(self, obj):
        url = reverse("admin:troubleshoot_run_changelist") + f"?checker__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.run_total)

    @admin.display(description="Seller's page")
    def view_on_site_link(self, obj):
        if not obj.pk:
            return "-"
        return format_html('<a href="{}" target="_blank">{}</a>', obj.get_absolute_url(), obj.slug)

    @admin.display(description="Flow picture")
    def flow_picture(self, obj):
        if not obj.pk:
            return "Save the checker to see its flow."
        return render_to_string(
            "admin/troubleshoot/checker/flow.html", {"picture": flowpicture.picture(versions.draft_flow(obj))}
        )

    def save_related(self, request, form, formsets, change):
        """Save everything the page says as one change: the steps (new ones get their ids), then the answers,
        pointed at the steps by now saved, and links; the deleted steps last, when no answer goes to them."""
        super().save_related(request, form, formsets, change)  # formsets: the steps come before their answers
        for formset in formsets:
            if isinstance(formset, StepFormSet):
                formset.delete_removed()
        flow_problems(request, form.instance)
        shared_error_texts(request, form.instance)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["error_summary"] = error_summary(context.get("inline_admin_formsets", []))
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("markdown-preview/", wrap(self.markdown_preview), name="troubleshoot_markdown_preview"),
            path("<int:object_id>/publish/", wrap(self.publish_view), name="troubleshoot_checker_publish"),
            path("<int:object_id>/versions/", wrap(self.versions_view), name="troubleshoot_checker_versions"),
            path("<int:object_id>/diff/", wrap(self.diff_view), name="troubleshoot_checker_diff"),
            path(
                "<int:object_id>/restore/<int:number>/",
                wrap(self.restore_view),
                name="troubleshoot_checker_restore",
            ),
            path(
                "<int:object_id>/bring-back/<int:kept_id>/",
                wrap(self.bring_back_view),
                name="troubleshoot_checker_bring_back",
            ),
            path("<int:object_id>/copy/", wrap(self.copy_view), name="troubleshoot_checker_copy"),
            *super().get_urls(),
        ]

    def copy_view(self, request, object_id):
        """The editor's "Start from a copy of this checker" (POST): a new unlisted draft, opened in the editor."""
        checker = self._item(request, object_id, "add_checker")
        if request.method != "POST":
            return redirect("admin:troubleshoot_checker_change", checker.pk)
        copy = versions.copy_checker(checker)
        messages.success(
            request,
            f"This is a copy of {checker.title}: its steps, answers and links, not listed, not published. Error "
            "codes and error texts were not copied: each leads sellers to one checker.",
        )
        return redirect("admin:troubleshoot_checker_change", copy.pk)

    def markdown_preview(self, request):
        """The editor's live preview: Markdown typed in a step, rendered and sanitised exactly as sellers get it."""
        may_edit = request.user.has_perm("troubleshoot.change_checker") or request.user.has_perm(
            "troubleshoot.change_article"
        )
        if request.method != "POST" or not may_edit:
            raise PermissionDenied
        return HttpResponse(render_markdown(request.POST.get("body", "")[:20000]))

    def versions_view(self, request, object_id):
        checker = self._item(request, object_id, "view_checker")
        rows = (
            CheckerVersion.objects.filter(checker=checker)
            .select_related("created_by")
            .annotate(run_total=Count("runs"))
            .defer("data")
            .order_by("-number")
        )
        return self._page(
            request,
            checker,
            "history.html",
            f"Versions of {checker.title}",
            versions=rows,
            can_restore=request.user.has_perm("troubleshoot.publish_checker"),
        )

    def diff_view(self, request, object_id):
        checker = self._item(request, object_id, "view_checker")
        numbers = [params.optional_number(request.GET, name, lowest=1) for name in ("old", "new")]
        asked = {n for n in numbers if n is not None}
        found = {v.number: v for v in CheckerVersion.objects.filter(checker=checker, number__in=asked)}
        if asked - found.keys():
            raise Http404(f"{checker.title} has no version {min(asked - found.keys())}.")
        old, new = (found.get(n) for n in numbers)
        new_data = new.data if new else versions.draft_data(checker)  # no "new": compare with the draft
        return self._page(
            request,
            checker,
            "diff.html",
            f"Changes in {checker.title}",
            old=old,
            new=new,
            changes=versions.diff(old.data if old else {}, new_data),
        )


@admin.register(Article)
class ArticleAdmin(PlainHelpTextsMixin, VersionedPagesMixin, admin.ModelAdmin):
    """An article's title, summary and body are its draft; Publish, Versions and Restore work as for checkers."""

    list_display = ["title", "slug", "category", "is_published", "live", "updated_at"]
    list_filter = ["is_published", "category"]
    search_fields = ["title", "summary", "body"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["checkers"]
    readonly_fields = ["draft_status", "body_preview"]
    fields = [
        *("title", "slug", "summary", "category", "checkers", "is_published"),
        *("draft_status", "body", "body_preview"),
    ]
    change_form_template = "admin/troubleshoot/article/change_form.html"
    draft_of = staticmethod(versions.article_data)
    problems_in = staticmethod(versions.article_problems)
    changes_between = staticmethod(versions.diff_article)
    publish_item = staticmethod(versions.publish_article)
    restore_item = staticmethod(versions.restore_article)
    restored_data = staticmethod(
        lambda draft, version: {**draft, **{name: version[name] for name in versions.ARTICLE_TEXT}}
    )
    restored_message = "Version {number}'s text is back in the draft; publish to go live."

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("category", "live_version")

    @admin.display(description="Live version")
    def live(self, obj):
        return f"Version {obj.live_version.number}" if obj.live_version_id else "Not published yet"

    @admin.display(description="Published")
    def draft_status(self, obj):
        if not obj.pk or not obj.live_version_id:
            return "Not published yet: sellers can't see this article."
        if obj.live_version.data == versions.article_data(obj):
            return f"Version {obj.live_version.number} is live; the draft is the same."
        return format_html(
            'Version {} is live. <strong>The draft has unpublished changes</strong> (<a href="{}">see them</a>).',
            obj.live_version.number,
            reverse("admin:troubleshoot_article_publish", args=[obj.pk]),
        )

    @admin.display(description="Preview")
    def body_preview(self, obj):
        return format_html('<div class="md-preview">{}</div>', mark_safe(obj.body_html))  # noqa: S308

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:object_id>/publish/", wrap(self.publish_view), name="troubleshoot_article_publish"),
            path("<int:object_id>/versions/", wrap(self.versions_view), name="troubleshoot_article_versions"),
            path(
                "<int:object_id>/restore/<int:number>/",
                wrap(self.restore_view),
                name="troubleshoot_article_restore",
            ),
            path(
                "<int:object_id>/bring-back/<int:kept_id>/",
                wrap(self.bring_back_view),
                name="troubleshoot_article_bring_back",
            ),
            *super().get_urls(),
        ]

    def versions_view(self, request, object_id):
        article = self._item(request, object_id, "view_article")
        rows = list(ArticleVersion.objects.filter(article=article).select_related("created_by").order_by("-number"))
        for row in rows:
            row.changes = None  # the first version has nothing before it
        for older, newer in zip(rows[1:], rows, strict=False):
            newer.changes = versions.diff_article(older.data, newer.data)
        return self._page(
            request,
            article,
            "history.html",
            f"Versions of {article.title}",
            versions=rows,
            can_restore=request.user.has_perm("troubleshoot.publish_article"),
        )
