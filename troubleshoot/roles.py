"""The "Support" group: what support staff may do in the admin, kept in step with the models after each migrate.

Give a colleague staff status and this group, and they can edit content and read (never change) the run log.
"""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

SUPPORT_GROUP = "Support"
CONTENT_MODELS = ["category", "checker", "errorcode", "step", "steplink", "choice", "article"]
LOG_MODELS = ["run", "answer", "supportrequest"]
# What staff teach search, and what sellers searched for.
SEARCH_CONTENT_MODELS = ["synonym", "phrasing"]
SEARCH_LOG_MODELS = ["searchlog", "unknowncode"]
INCIDENT_MODELS = ["incident"]


def support_permissions():
    codenames = [f"{action}_{model}" for model in CONTENT_MODELS for action in ("add", "change", "delete", "view")]
    codenames += [f"view_{model}" for model in LOG_MODELS]
    search = [f"{action}_{model}" for model in SEARCH_CONTENT_MODELS for action in ("add", "change", "delete", "view")]
    search += [f"view_{model}" for model in SEARCH_LOG_MODELS]
    incidents = [f"{action}_{model}" for model in INCIDENT_MODELS for action in ("add", "change", "delete", "view")]
    return Permission.objects.filter(
        Q(content_type__app_label="troubleshoot", codename__in=codenames)
        | Q(content_type__app_label="search", codename__in=search)
        | Q(content_type__app_label="incidents", codename__in=incidents)
    )


def ensure_support_group(**kwargs) -> Group:
    group, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
    group.permissions.add(*support_permissions())
    return group
