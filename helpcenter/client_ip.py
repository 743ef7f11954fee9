"""Who a client is, for rate limits and sign-in throttling: one rule for both."""

from axes.helpers import get_client_ip_address


def client_ip(request) -> str:
    """The client's address as django-axes reads it (X-Forwarded-For behind a TLS proxy, see AXES_IPWARE_*),
    falling back to the connection's own address when a proxy sent none."""
    return get_client_ip_address(request) or request.META.get("REMOTE_ADDR") or "unknown"
