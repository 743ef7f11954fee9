"""The seller's accounting platform (Xero or QuickBooks): given by the link, else remembered for the visit.

A link may say it (`?platform=quickbooks`: the integration's own links, `/e/<code>/` and the checker pages take it,
as do the home, category and search pages and the JSON API); a seller who answers a "Which do you use?" step tells
it. Either way it is remembered for the visit in a browser-session cookie (no expiry: it goes when the browser
closes), so the next checker takes their platform's steps without asking and browse and search show their
platform's guides. `?platform=all` ("Show all") forgets it. Anything else in the link is ignored, never an error.

A cookie rather than Django's session: the platform is all there is to remember, nothing in it is secret or worth
forging (any seller may pick either platform), and sellers' pages then read and write no session row.
"""

from django.conf import settings

from .models import Platform

COOKIE = "platform"
SHOW_ALL = "all"


def from_request(request) -> str:
    """The platform the link gives, else the one remembered for the visit, else "" (unknown)."""
    given = request.GET.get("platform", "")
    if given == SHOW_ALL:
        return ""
    if given in Platform.values:
        return given
    remembered = request.COOKIES.get(COOKIE, "")
    return remembered if remembered in Platform.values else ""


def remember(request, response) -> None:
    """Keep `request.platform` for the rest of the visit, or forget it, if the visit's cookie says otherwise."""
    platform = getattr(request, "platform", "")
    if request.COOKIES.get(COOKIE, "") == platform:
        return
    if platform:
        response.set_cookie(COOKIE, platform, secure=settings.SESSION_COOKIE_SECURE, httponly=True, samesite="Lax")
    elif COOKIE in request.COOKIES:
        response.delete_cookie(COOKIE, samesite="Lax")


def name(platform: str) -> str:
    """The platform as sellers read it ("QuickBooks"); "" for none."""
    return Platform(platform).label if platform in Platform.values else ""


def other(platform: str) -> str:
    """The other platform than `platform`; "" when it is unknown."""
    return next((p for p in Platform.values if p != platform), "") if platform in Platform.values else ""


def on_checker(checker, platform: str, asks: bool) -> dict:
    """What a checker's page says of platforms to a seller of `platform` ("" if unknown): a checker for one
    platform says which (and, to a seller of the other, where their guides are); one whose steps differ by
    platform (`asks`: it has a "Which do you use?" step) says whose steps these are, and how to change."""
    only = "" if checker.platforms == checker.Platforms.BOTH else checker.platforms
    return {
        "platform": platform,
        "name": name(platform),
        "other": other(platform),
        "other_name": name(other(platform)),
        "only": only,
        "only_name": name(only),
        "applies": checker.applies_to(platform),
        "differs": asks and not only,
    }


def narrowed(platform: str) -> dict:
    """What a list page says of the seller's platform: "Showing guides for QuickBooks · Show all" when it is
    known, else a way to narrow to one (`_platform_filter.html`)."""
    return {"platform": platform, "name": name(platform), "choices": [(p.value, p.label) for p in Platform]}
