"""Reviewers read the review pages and handle support requests (see troubleshoot/roles.py)."""

from django.db import migrations

from troubleshoot.roles import create_support_roles


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0001_initial"),
        ("troubleshoot", "0002_roles"),
    ]

    operations = [migrations.RunPython(create_support_roles, migrations.RunPython.noop)]
