"""Copy each run's incident (`Run.incident`, removed by troubleshoot 0010) into its `IncidentRun` link, and back."""

from django.db import migrations

BATCH = 2000


def copy_to_links(apps, schema_editor):
    Run = apps.get_model("troubleshoot", "Run")
    IncidentRun = apps.get_model("incidents", "IncidentRun")
    marked = Run.objects.filter(incident__isnull=False).values_list("pk", "incident_id")
    links = []
    for run, incident in marked.iterator(chunk_size=BATCH):  # batches: bulk_create would hold every run at once
        links.append(IncidentRun(run_id=run, incident_id=incident))
        if len(links) == BATCH:
            IncidentRun.objects.bulk_create(links)
            links = []
    IncidentRun.objects.bulk_create(links)


def copy_to_runs(apps, schema_editor):
    Run = apps.get_model("troubleshoot", "Run")
    IncidentRun = apps.get_model("incidents", "IncidentRun")
    # One UPDATE per incident: there are few incidents and many runs.
    for incident in IncidentRun.objects.values_list("incident_id", flat=True).distinct().order_by():
        runs = IncidentRun.objects.filter(incident_id=incident).values("run_id")
        Run.objects.filter(pk__in=runs).update(incident_id=incident)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0003_incident_runs"), ("troubleshoot", "0009_listed_wording")]

    operations = [migrations.RunPython(copy_to_links, copy_to_runs)]
