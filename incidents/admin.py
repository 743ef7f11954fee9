from django.contrib import admin
from django.db.models import Count

from .models import Incident


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["message", "starts_at", "ends_at", "active", "run_count"]
    search_fields = ["message", "error_codes"]
    date_hierarchy = "starts_at"
    autocomplete_fields = ["checkers"]
    filter_horizontal = ["categories"]
    fields = ["message", "starts_at", "ends_at", "error_codes", "checkers", "categories", "everywhere"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(run_total=Count("run_links"))

    @admin.display(boolean=True, description="Showing now")
    def active(self, obj):
        return obj.is_active()

    @admin.display(description="Runs started during it", ordering="run_total")
    def run_count(self, obj):
        return obj.run_total
