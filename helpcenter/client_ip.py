"""Who a client is, for rate limits and sign-in throttling: one rule for both (and for django-axes' log lines).

Behind N trusted proxies (TRUSTED_PROXY_COUNT; 1 when BEHIND_TLS_PROXY is on) each proxy appends the address it
was connected from to X-Forwarded-For, so the client is the Nth entry from the right: the one the outermost trusted
proxy wrote. Anything to its left came from the client and can say anything. With no proxy, X-Forwarded-For is
ignored and the client is the connection's own address, REMOTE_ADDR.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest

# No address at all (a Unix socket with no proxy in front): django-ratelimit needs one, so such clients share it.
NO_ADDRESS = "0.0.0.0"  # noqa: S104 - a value to count under, never one to bind to


def client_ip(request: HttpRequest) -> str:
    """The client's address: X-Forwarded-For's entry written by the outermost trusted proxy, else REMOTE_ADDR."""
    connection = _address(request.META.get("REMOTE_ADDR", ""))
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        # Repeated headers arrive joined by commas, in order; empty entries can only be the client's own.
        entries = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        entries = [entry for entry in entries if entry]
        if entries:
            # Fewer entries than proxies: the request came in past the outer ones, and all it holds is theirs.
            written = _address(entries[-proxies] if len(entries) >= proxies else entries[0])
            if written:
                return written
    return connection or NO_ADDRESS


def _address(value: str) -> str:
    """`value` as an IP address in its canonical form, or "" when it isn't one."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return ""
