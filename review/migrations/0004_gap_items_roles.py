"""Reviewers handle the gap inbox's items (mark handled, assign, note)."""

from django.db import migrations

from helpcenter.roles import REVIEWERS, grant


def add(apps, schema_editor):
    grant(apps, "review", {REVIEWERS: ["view_gapitem", "add_gapitem", "change_gapitem"]})


class Migration(migrations.Migration):
    dependencies = [("review", "0003_gap_items")]

    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
