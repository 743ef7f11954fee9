"""The Editors and Reviewers groups with troubleshoot's permissions (see helpcenter/roles.py)."""

from django.db import migrations

from helpcenter.roles import EDITORS, REVIEWERS, grant

CONTENT_MODELS = ["category", "checker", "errorcode", "step", "steplink", "choice", "article"]
LOG_MODELS = ["run", "answer"]


def create_roles(apps, schema_editor):
    edit = [f"{action}_{model}" for model in CONTENT_MODELS for action in ("add", "change", "delete", "view")]
    read_content = [f"view_{model}" for model in [*CONTENT_MODELS, "checkerversion"]]
    grant(
        apps,
        "troubleshoot",
        {
            EDITORS: [*edit, "view_checkerversion", "view_articleversion", "publish_checker", "publish_article"],
            REVIEWERS: [*read_content, "view_articleversion", *(f"view_{model}" for model in LOG_MODELS)],
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("troubleshoot", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
