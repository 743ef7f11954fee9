"""Rate limits per client address (django-ratelimit, counted in the cache): one function for every view that has
one. The rates are HELPCENTER_RATE_LIMITS in settings; the address is helpcenter/client_ip.py's."""

from django.conf import settings
from django_ratelimit import ALL
from django_ratelimit.core import is_ratelimited


def over_limit(request, group: str) -> bool:
    """Count this request against its address's limit for `group`; True once the limit is passed."""
    rate = settings.HELPCENTER_RATE_LIMITS[group]
    return is_ratelimited(request, group=group, key="ip", rate=rate, method=ALL, increment=True)
