"""Search for the staff roles: Editors manage synonyms and phrasings and act on the search log; Reviewers read."""

from django.db import migrations

from helpcenter.roles import EDITORS, REVIEWERS, grant

READ = ["view_searchlog", "view_unknowncode", "view_synonym", "view_phrasing"]
EDIT = [f"{action}_{model}" for model in ("synonym", "phrasing") for action in ("add", "change", "delete")]


def add(apps, schema_editor):
    grant(apps, "search", {EDITORS: [*READ, *EDIT], REVIEWERS: READ})


class Migration(migrations.Migration):
    dependencies = [("search", "0003_starter_synonyms"), ("troubleshoot", "0002_roles")]

    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
