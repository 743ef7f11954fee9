"""The Editors and Reviewers groups (see troubleshoot/roles.py)."""

from django.db import migrations

from troubleshoot.roles import create_roles


class Migration(migrations.Migration):
    dependencies = [
        ("troubleshoot", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
