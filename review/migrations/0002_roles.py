"""The review pages for the staff roles: Reviewers read them (`review.view_pages`, which the request queue under
/support/requests/ asks too); Editors don't."""

from django.db import migrations

from helpcenter.roles import REVIEWERS, grant


def add(apps, schema_editor):
    grant(apps, "review", {REVIEWERS: ["view_pages"]})


class Migration(migrations.Migration):
    dependencies = [("review", "0001_initial"), ("troubleshoot", "0002_roles")]

    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
