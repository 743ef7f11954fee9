"""Admin pieces every app's admin shares."""

from django.utils.html import escape


class ReadOnlyAdminMixin:
    """Logs are evidence (runs, searches, requests as sent): staff may read them, nobody edits or deletes them here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PlainHelpTextsMixin:
    """Help texts shown as written: the admin puts them into the page as HTML, so "/troubleshoot/<slug>/" read
    "/troubleshoot//" (and the tables' tooltips, which strip tags, the same). For a ModelAdmin or an inline."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and formfield.help_text:
            formfield.help_text = escape(formfield.help_text)
        return formfield
