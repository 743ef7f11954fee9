"""Incidents for the staff roles: Editors post and end incidents; Reviewers read them."""

from django.db import migrations

from helpcenter.roles import EDITORS, REVIEWERS, grant


def add(apps, schema_editor):
    edit = [f"{action}_incident" for action in ("add", "change", "delete", "view")]
    grant(apps, "incidents", {EDITORS: edit, REVIEWERS: ["view_incident"]})


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial"), ("troubleshoot", "0002_roles")]

    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
