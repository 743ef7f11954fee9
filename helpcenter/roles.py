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

from functools import wraps

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache

EDITORS, REVIEWERS = "Editors", "Reviewers"
REVIEW_PAGES = "review.view_pages"


def is_reviewer(user) -> bool:
    """Reviewers and superusers (the `review.view_pages` permission), signed in to the admin as staff."""
    return user.is_active and user.is_staff and user.has_perm(REVIEW_PAGES)


def reviewers():
    """Whom a request or a gap can be assigned to: active Reviewers and superusers, by username."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    reviewers = Q(is_superuser=True) | Q(groups__name=REVIEWERS)
    return get_user_model().objects.filter(reviewers, is_active=True).distinct().order_by("username")


def reviewer_required(view):
    """Reviewers and superusers only. Someone not signed in to the admin goes to its sign-in page; a signed-in staff
    member without the role (an Editor, say) gets a 403 page that says why and whom to ask, with a link back to the
    admin. The pages hold sellers' personal data, so no browser or proxy keeps a copy of either."""

    @wraps(view)
    def checked(request, *args, **kwargs):
        user = request.user
        if is_reviewer(user):
            return view(request, *args, **kwargs)
        if user.is_active and user.is_staff:
            context = {**admin.site.each_context(request), "title": "Review pages", "admin_url": reverse("admin:index")}
            return TemplateResponse(request, "reviewers_only.html", context, status=403)
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))

    return never_cache(checked)


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
