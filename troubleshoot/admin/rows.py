"""Editor inlines that save only the edited checker's own rows (`OwnRowsFormSet`): a posted id of another checker's
step, answer, link or error code is a form error, with or without DELETE, and nothing is saved."""

import nested_admin
from django.core.exceptions import ValidationError
from django.db.models import Model

from helpcenter.admin import PlainHelpTextsMixin


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
