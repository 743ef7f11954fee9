"""Markers in HTML rendered once, filled in for each request: what differs between two sellers' copies of a page.

A marker is a string no content can hold: private-use characters around a secret derived from `SECRET_KEY` (the
same in every process of a deployment, so a page kept in the shared cache is filled by any of them) and the
marker's name. A page is rendered with markers where its per-request values go, split at them once (`split`), and
filled in with each request's values, escaped as the template would have escaped them (`fill`).
"""

import re

from django.utils.crypto import salted_hmac
from django.utils.html import escape

_SECRET = salted_hmac("troubleshoot.markers", "markers").hexdigest()[:16]
_MARKER = re.compile(f"\ue000{_SECRET}:(\\w+)\ue000")


def marker(name: str) -> str:
    return f"\ue000{_SECRET}:{name}\ue000"


def split(html: str) -> list[str]:
    """The page's text and its markers' names, alternating: text, name, text, ..., text."""
    return _MARKER.split(html)


def fill(parts: list[str], values: dict) -> str:
    """The page `split` gave, each marker replaced by its value in `values`, escaped."""
    page = parts.copy()
    page[1::2] = [escape(values[name]) for name in parts[1::2]]
    return "".join(page)
