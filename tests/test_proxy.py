"""Who a client is behind the TLS proxy: rate limits and sign-in throttling count the address the proxy wrote.

Requests arrive as they would through two kinds of proxy in front of the app: one that appends the address it was
connected from to whatever X-Forwarded-For the client sent (nginx's $proxy_add_x_forwarded_for), and one that
overwrites the header with that address alone. Either way the app's own peer (REMOTE_ADDR) is the proxy.
"""

import pytest
from django.contrib.auth.models import User
from django.test import RequestFactory

from helpcenter.client_ip import client_ip

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"  # the proxy's own address, as the app server sees every request come in
SELLER = "203.0.113.7"
OTHER = "198.51.100.20"
PASSWORD = "the-right-one-for-tests"


@pytest.fixture(autouse=True)
def behind_the_proxy(settings):
    """BEHIND_TLS_PROXY=true's setting: one trusted proxy in front of the app."""
    settings.TRUSTED_PROXY_COUNT = 1


def appending(address: str, sent: str = "") -> dict:
    """A request from `address` through a proxy that appends it to the X-Forwarded-For the client `sent`."""
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": f"{sent}, {address}" if sent else address}


def overwriting(address: str) -> dict:
    """A request from `address` through a proxy that replaces any X-Forwarded-For the client sent with `address`."""
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": address}


def search(client, through: dict) -> int:
    return client.get("/api/search?q=lock+date", **through).status_code


def sign_in(client, through: dict, username: str, password: str = "a-wrong-one") -> int:  # noqa: S107
    data = {"username": username, "password": password}
    return client.post("/admin/login/?next=/admin/", data, **through).status_code


@pytest.fixture
def tight_search_limit(settings):
    settings.HELPCENTER_RATE_LIMITS = {**settings.HELPCENTER_RATE_LIMITS, "search": "2/m"}


# Rate limits


@pytest.mark.usefixtures("tight_search_limit")
def test_each_client_behind_the_proxy_has_its_own_rate_limit(client):
    assert [search(client, overwriting(SELLER)) for _ in range(3)] == [200, 200, 429]
    assert search(client, appending(OTHER)) == 200  # another seller is not refused for the first one's searches
    assert search(client, overwriting("192.0.2.30")) == 200


@pytest.mark.usefixtures("tight_search_limit")
def test_a_spoofed_left_hand_entry_is_ignored_and_the_spoofer_still_limited(client):
    statuses = [search(client, appending(SELLER, sent=f"192.0.2.{n}")) for n in range(3)]
    assert statuses == [200, 200, 429]
    assert search(client, appending(SELLER, sent=OTHER)) == 429  # naming another client's address doesn't help
    assert search(client, appending(OTHER)) == 200  # ...nor does it use that client's allowance up


@pytest.mark.usefixtures("tight_search_limit")
def test_without_the_proxy_x_forwarded_for_is_ignored(client, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    statuses = [search(client, {"REMOTE_ADDR": SELLER, "HTTP_X_FORWARDED_FOR": f"192.0.2.{n}"}) for n in range(3)]
    assert statuses == [200, 200, 429]
    assert search(client, {"REMOTE_ADDR": OTHER, "HTTP_X_FORWARDED_FOR": SELLER}) == 200


def test_an_entry_that_is_no_address_counts_as_the_connection_and_is_no_error(client):
    assert search(client, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.7, not-an-address"}) == 200
    assert search(client, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": " , "}) == 200


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "expected"),
    [
        (1, "", PROXY),  # no header at all: the connection's own address
        (1, SELLER, SELLER),
        (1, f"192.0.2.1, {SELLER}", SELLER),
        (1, f"192.0.2.1,{SELLER}, ", SELLER),  # an empty entry can only be the client's
        (2, f"192.0.2.1, {SELLER}, 10.0.0.9", SELLER),  # the outer proxy wrote SELLER, the inner one 10.0.0.9
        (2, "10.0.0.9", "10.0.0.9"),  # came in past the outer proxy: all the header holds is the inner one's
        (1, "2001:DB8::0:1", "2001:db8::1"),  # one client, one spelling
        (0, SELLER, PROXY),
    ],
)
def test_client_ip_is_the_entry_the_outermost_trusted_proxy_wrote(settings, proxies, forwarded_for, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)
    assert client_ip(request) == expected


# Sign-in throttling (django-axes reads the same address: AXES_CLIENT_IP_CALLABLE)


@pytest.fixture
def staff(db):
    return User.objects.create_user("support", password=PASSWORD, is_staff=True)


@pytest.mark.slow
def test_one_clients_failed_sign_ins_do_not_lock_out_another(client, staff, settings):
    limit = settings.AXES_FAILURE_LIMIT
    statuses = [sign_in(client, overwriting(SELLER), f"guess{n}") for n in range(limit)]
    assert statuses == [200] * (limit - 1) + [429]
    assert sign_in(client, appending(OTHER), "support", PASSWORD) == 302  # the staff member signs in


@pytest.mark.slow
def test_a_password_spray_is_locked_out_across_usernames_whatever_it_puts_in_x_forwarded_for(client, staff, settings):
    limit = settings.AXES_FAILURE_LIMIT
    statuses = [sign_in(client, appending(SELLER, sent=f"192.0.2.{n}"), f"guess{n}") for n in range(limit)]
    assert statuses == [200] * (limit - 1) + [429]
    # Locked out by its address: for a username it never tried, even with the right password, whatever it sends.
    assert sign_in(client, appending(SELLER, sent="192.0.2.99"), "support", PASSWORD) == 429
    assert sign_in(client, overwriting(SELLER), "support", PASSWORD) == 429
    assert sign_in(client, appending(OTHER, sent=SELLER), "support", PASSWORD) == 302  # another client isn't
