"""Admin pieces every app's admin shares."""


class ReadOnlyAdminMixin:
    """Logs are evidence (runs, searches, requests as sent): staff may read them, nobody edits or deletes them here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
