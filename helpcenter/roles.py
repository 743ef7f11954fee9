"""Staff roles as groups, each app's permissions granted to them by its own roles migration (troubleshoot, support,
search, incidents and review 00xx_roles, through `grant`). Superusers can do everything both can.

- **Editors** edit checkers' and articles' drafts, preview, publish and restore versions; they read the history.
- **Reviewers** read the outcome log (runs, answers) and content and its history, read the review pages under
  /support/ (`review.view_pages`) and handle support requests (status, assignee, internal note); they change no
  content.

One person can be in both. Each app's migration grants its own app's permissions (a fresh database has an app's
permissions only once its own migrations run).

The reviewer rule is here, in the project package, because two apps ask it: review's pages and support's request
queue.
"""

from django.contrib.auth.decorators import user_passes_test
from django.views.decorators.cache import never_cache

EDITORS, REVIEWERS = "Editors", "Reviewers"
REVIEW_PAGES = "review.view_pages"


def is_reviewer(user) -> bool:
    """Reviewers and superusers (the `review.view_pages` permission), signed in to the admin as staff."""
    return user.is_active and user.is_staff and user.has_perm(REVIEW_PAGES)


def reviewer_required(view):
    """Reviewers and superusers only: everyone else goes to the admin's sign-in page (which tells a signed-in
    Editor they lack access). The pages hold sellers' personal data, so no browser or proxy keeps a copy."""
    return never_cache(user_passes_test(is_reviewer, login_url="admin:login")(view))


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
