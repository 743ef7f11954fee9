"""Support requests for the staff roles: Reviewers handle the queue (status, assignee, internal note) and read article
feedback; Editors have nothing here. The request queue's pages also need `review.view_pages` (review 0002_roles)."""

from django.db import migrations

from helpcenter.roles import REVIEWERS, grant


def add(apps, schema_editor):
    grant(apps, "support", {REVIEWERS: ["view_supportrequest", "change_supportrequest", "view_articlefeedback"]})


class Migration(migrations.Migration):
    dependencies = [("support", "0001_initial"), ("troubleshoot", "0002_roles")]

    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
