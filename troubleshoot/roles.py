"""Staff roles as groups, created by a migration (0002_roles). Superusers can do everything both can.

- **Editors** edit checkers' and articles' drafts, preview, publish and restore versions; they read the history.
- **Reviewers** read the outcome log (runs, answers, support requests) and content and its history; they change no
  content. (Handling support requests and the review pages come with the support review work.)

They replace the single "Support" group of before: one person can be in both.
"""

EDITORS, REVIEWERS = "Editors", "Reviewers"
CONTENT_MODELS = ["category", "checker", "errorcode", "step", "steplink", "choice", "article"]
LOG_MODELS = ["run", "answer", "supportrequest"]


def role_codenames() -> dict[str, list[str]]:
    edit = [f"{action}_{model}" for model in CONTENT_MODELS for action in ("add", "change", "delete", "view")]
    read_content = [f"view_{model}" for model in [*CONTENT_MODELS, "checkerversion"]]
    return {
        EDITORS: [*edit, "view_checkerversion", "view_articleversion", "publish_checker", "publish_article"],
        REVIEWERS: [*read_content, "view_articleversion", *(f"view_{model}" for model in LOG_MODELS)],
    }


def create_roles(apps, schema_editor) -> None:
    """Data migration: the two groups with their permissions (creating the permissions first on a fresh database)."""
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("troubleshoot")
    app_config.models_module = True  # historical app configs have none; create_permissions needs it set
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in role_codenames().items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(Permission.objects.filter(content_type__app_label="troubleshoot", codename__in=codenames))


def grant(apps, app_label: str, grants: dict[str, list[str]]) -> None:
    """Data migration for another app (search, incidents): add its permissions to the roles."""
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config(app_label)
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in grants.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))
