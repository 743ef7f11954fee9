"""Staff roles as groups, created by migrations (troubleshoot 0002_roles, support 0002_roles). Superusers can do
everything both can.

- **Editors** edit checkers' and articles' drafts, preview, publish and restore versions; they read the history.
- **Reviewers** read the outcome log (runs, answers) and content and its history, read the review pages under
  /support/ and handle support requests (status, assignee, internal note); they change no content.

One person can be in both. Each app's migration grants its own app's permissions (a fresh database has an app's
permissions only once its own migrations run).
"""

EDITORS, REVIEWERS = "Editors", "Reviewers"
CONTENT_MODELS = ["category", "checker", "errorcode", "step", "steplink", "choice", "article"]
LOG_MODELS = ["run", "answer"]


def role_codenames(app_label: str = "troubleshoot") -> dict[str, list[str]]:
    edit = [f"{action}_{model}" for model in CONTENT_MODELS for action in ("add", "change", "delete", "view")]
    read_content = [f"view_{model}" for model in [*CONTENT_MODELS, "checkerversion"]]
    return {
        EDITORS: [*edit, "view_checkerversion", "view_articleversion", "publish_checker", "publish_article"],
        REVIEWERS: [*read_content, "view_articleversion", *(f"view_{model}" for model in LOG_MODELS)],
    }


def create_roles(apps, schema_editor, app_label: str = "troubleshoot") -> None:
    """Data migration: the two groups with `app_label`'s permissions (creating the permissions first if needed)."""
    grant(apps, app_label, role_codenames(app_label))


def grant(apps, app_label: str, grants: dict[str, list[str]]) -> None:
    """Data migration: add `app_label`'s permissions (created first on a fresh database) to the roles."""
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config(app_label)
    app_config.models_module = True  # historical app configs have none; create_permissions needs it set
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in grants.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))
