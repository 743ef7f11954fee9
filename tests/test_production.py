"""Production: headers, the health check, structured logs, rate limits, and two app servers sharing one run.

The two-server test starts real gunicorn processes with production settings (DEBUG off, collected static files,
behind a TLS proxy) against the test database, and with REDIS_URL set (CI's PostgreSQL run) against one Redis.
"""

import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.db import connection

from support.models import SupportRequest
from tests.factories import escalated_run, make_checker, start_data
from troubleshoot.models import Run

pytestmark = pytest.mark.django_db


# Headers


def test_pages_carry_a_strict_content_security_policy_and_permissions_policy(client, checker):
    response = client.get(f"/troubleshoot/{checker.slug}/")
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'"  # no inline script, no eval
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]


def test_no_page_has_inline_script(client, checker, library):
    for url in ["/", "/search/?q=xero", f"/troubleshoot/{checker.slug}/", "/nope/", "/e/NOPE/"]:
        html = client.get(url).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url
        assert not re.search(r"\son[a-z]+=", html), url


def test_the_draft_preview_is_kept_by_no_cache_like_every_staff_page(admin_client, checker):
    url = f"/troubleshoot/{checker.slug}/preview/"
    responses = [
        admin_client.get(url),
        admin_client.get(f"{url}?path=0", HTTP_HX_REQUEST="true"),
        admin_client.post(url, {"step": "start", "answer": "0", "path": ""}),
    ]
    assert [response.status_code for response in responses] == [200, 200, 302]
    for response in responses:
        assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]


def test_request_id_is_made_or_kept_and_sent_back(client):
    made = client.get("/")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert client.get("/", HTTP_X_REQUEST_ID="lb-1234567890")["X-Request-ID"] == "lb-1234567890"
    assert client.get("/", HTTP_X_REQUEST_ID="bad\r\nid")["X-Request-ID"] != "bad\r\nid"


def test_logs_are_json_lines_with_the_request_id(client, capsys):
    from helpcenter.logs import JsonFormatter, RequestIdFilter, request_id

    record = logging.LogRecord("troubleshoot", logging.WARNING, __file__, 1, "Stored %s", ("HC-ABC234",), None)
    token = request_id.set("lb-1234567890")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id.reset(token)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "Stored HC-ABC234" and entry["request_id"] == "lb-1234567890"
    assert entry["level"] == "WARNING" and entry["logger"] == "troubleshoot"


# The health check


def test_healthz_reports_database_cache_and_queue(client):
    response = client.get("/healthz", HTTP_HOST="10.0.0.7")  # load balancers ask by address, over HTTP
    report = response.json()
    assert response.status_code == 200 and report["ok"] is True
    assert report["database"]["ok"] and report["cache"]["ok"] and report["queue"] == {"ok": True, "overdue": 0}
    assert response["Cache-Control"] == "no-store"


def test_healthz_is_503_when_the_database_is_down(client, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("database down")

    monkeypatch.setattr(connection, "cursor", down)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["database"] == {"ok": False, "error": "ConnectionError"}


def test_healthz_reports_a_queue_nobody_works(client, checker, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    from support.tasks import email_support

    email_support.enqueue(0)
    DBTaskResult.objects.update(enqueued_at=DBTaskResult.objects.get().enqueued_at.replace(year=2000))
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["queue"] == {"ok": False, "overdue": 1}


# Rate limits


def test_starting_runs_is_rate_limited_per_address_and_keeps_where_the_seller_came_from(client, checker, settings):
    settings.HELPCENTER_RATE_LIMITS = {**settings.HELPCENTER_RATE_LIMITS, "start": "2/m"}
    for _ in range(2):
        assert client.post(f"/troubleshoot/{checker.slug}/start/", start_data(checker)).status_code == 302
    response = client.post(f"/troubleshoot/{checker.slug}/start/", start_data(checker, source="email", code="XC-9"))
    html = response.content.decode()
    assert response.status_code == 429 and "Please wait a minute" in html
    assert 'name="source" value="email"' in html and 'name="code" value="XC-9"' in html
    assert Run.objects.count() == 2
    other = client.post(f"/troubleshoot/{checker.slug}/start/", start_data(checker), REMOTE_ADDR="198.51.100.9")
    assert other.status_code == 302  # another address has its own allowance


def test_support_requests_are_rate_limited_and_what_was_typed_is_kept(client, checker, settings):
    settings.HELPCENTER_RATE_LIMITS = {**settings.HELPCENTER_RATE_LIMITS, "support": "1/m"}
    first, second = escalated_run(client, checker), escalated_run(client, checker)
    data = {"email": "seller@shop.test", "description": "It hangs."}
    assert client.post(f"{first.get_absolute_url()}support/", data).status_code == 302
    response = client.post(f"{second.get_absolute_url()}support/", data | {"description": "Still hangs."})
    html = response.content.decode()
    assert response.status_code == 429 and "Please wait a minute" in html
    assert "Still hangs." in html and 'value="seller@shop.test"' in html
    assert SupportRequest.objects.count() == 1


def test_search_api_is_rate_limited_and_the_search_page_stops_logging_a_flood(client, library, settings):
    from search.models import SearchLog

    settings.HELPCENTER_RATE_LIMITS = {**settings.HELPCENTER_RATE_LIMITS, "search": "2/m"}
    for _ in range(2):
        assert client.get("/api/search?q=lock+date").status_code == 200
    refused = client.get("/api/search?q=lock+date")
    assert refused.status_code == 429 and refused["Retry-After"] == "60" and "error" in refused.json()
    logged = SearchLog.objects.count()
    response = client.get("/search/?q=lock+date")  # a seller's page still answers...
    assert response.status_code == 200 and "lock" in response.content.decode().lower()
    assert SearchLog.objects.count() == logged  # ...but a flood no longer fills the log


# Two app servers, one run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A gunicorn app server with production settings; requests go through it as through a TLS proxy."""

    HOST = "help.test"

    def __init__(self, env: dict):
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "helpcenter.wsgi",
                "--config",
                "helpcenter/gunicorn.conf.py",  # as `make serve` runs it (its --bind wins over the file's)
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--threads",
                "4",
                "--log-level",
                "warning",
            ],  # fmt: skip
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):  # noqa: S310
                    return
            except OSError:  # not listening yet, or too slow to answer on a busy machine: ask again
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"gunicorn did not start: {self.process.stderr.read().decode()[-2000:]}")

    def request(
        self, path: str, cookies: dict, data: dict | None = None, forwarded_for: str = "203.0.113.50"
    ) -> tuple[int, str, str]:
        """A request as the TLS proxy passes it on: `forwarded_for` as its X-Forwarded-For ends up (a client that
        sends its own header gets the proxy's entry appended: "what it sent, its address")."""
        headers = {
            "Host": self.HOST,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": forwarded_for,
            "Origin": f"https://{self.HOST}",
            "Referer": f"https://{self.HOST}/",
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        }
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=body, headers=headers)  # noqa: S310
        opener = urllib.request.build_opener(NoRedirect)
        try:
            response = opener.open(request, timeout=10)
        except urllib.error.HTTPError as error:
            response = error
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            cookies[name] = value
        return response.status, response.headers.get("Location", ""), response.read().decode()

    def stop(self) -> str:
        """Stop the server; return what it logged (errors only), for a failing test to show."""
        self.process.terminate()
        self.process.wait(timeout=10)
        return self.process.stderr.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def form_values(html: str) -> dict:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))


def first_choice(html: str, label: str) -> str:
    return re.search(rf'<button type="submit" name="answer" value="(\d+)">{label}</button>', html).group(1)


@pytest.fixture
def two_servers(transactional_db, tmp_path):
    static_root = tmp_path / "static"
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        database_url = f"sqlite:///{db['NAME']}"
    else:
        database_url = (
            f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DEBUG": "false",
        "SECRET_KEY": "two-servers-test-key-" + "x" * 40,
        "ALLOWED_HOSTS": Server.HOST,
        "BEHIND_TLS_PROXY": "true",
        "DATABASE_URL": database_url,
        "STATIC_ROOT": str(static_root),
        "RATE_LIMIT_START": "3/m",
        "LOG_LEVEL": "ERROR",
    }
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=settings.BASE_DIR,
                   env=env, check=True, timeout=120)  # fmt: skip
    servers = [Server(env)]
    try:
        servers.append(Server(env))
    except BaseException:
        servers[0].stop()  # never left running when the second one fails to start
        raise
    yield servers
    logged = [server.stop() for server in servers]
    assert not any('"level": "ERROR"' in log for log in logged), "\n".join(logged)[-4000:]


@pytest.mark.slow
def test_one_run_carried_across_two_app_servers(two_servers):
    a, b = two_servers
    checker = make_checker("shared", code="XC-77")
    cookies: dict = {}

    status, _, html = b.request("/e/XC-77/", cookies)  # the landing (the checker's page at once), on B
    assert status == 200
    form = form_values(html) | {"answer": first_choice(html, "Yes")}
    status, run_url, _ = a.request(f"/troubleshoot/{checker.slug}/start/", cookies, form)  # started on A
    assert status == 302, status
    run_path = run_url.replace(f"https://{Server.HOST}", "").partition("?")[0]  # the run's page, not one step's

    status, _, html = b.request(run_path, cookies)  # shown by B
    assert status == 200 and "Step 2" in html
    form = form_values(html)
    answer = {
        "csrfmiddlewaretoken": form["csrfmiddlewaretoken"],
        "step": form["step"],
        "answer": first_choice(html, "No"),
    }
    assert b.request(run_path + "answer/", cookies, answer)[0] == 302  # answered on B
    status, _, html = a.request(run_path, cookies)
    assert "Step 3" in html
    back = {"csrfmiddlewaretoken": form_values(html)["csrfmiddlewaretoken"], "answer": form_values(html)["answer"]}
    assert a.request(run_path + "back/", cookies, back)[0] == 302  # Back on A
    assert b.request(run_path + "back/", cookies, back)[0] == 302  # the same Back again on B: a no-op
    status, _, html = b.request(run_path, cookies)
    assert "Step 2" in html
    assert a.request(run_path + "answer/", cookies, answer)[0] == 302
    status, _, html = b.request(run_path, cookies)
    form = form_values(html)
    final = {"csrfmiddlewaretoken": form["csrfmiddlewaretoken"], "step": form["step"],
             "answer": first_choice(html, "Still broken")}  # fmt: skip
    assert b.request(run_path + "answer/", cookies, final)[0] == 302
    support = {"csrfmiddlewaretoken": form["csrfmiddlewaretoken"], "email": "seller@shop.test", "description": "Help"}
    assert a.request(run_path + "support/", cookies, support)[0] == 302
    status, _, html = b.request(run_path, cookies)
    request = SupportRequest.objects.get()
    assert request.reference in html

    run = Run.objects.get()
    assert run.source == "email" and run.error_code == "XC-77" and run.outcome == Run.Outcome.ESCALATED
    assert [(a.choice_label, a.withdrawn_at is None) for a in run.answers.all()] == [
        ("Yes", True), ("No", False), ("No", True), ("Still broken", True)
    ]  # fmt: skip


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL: one Redis shared by both servers")
def test_two_app_servers_share_rate_limits_through_redis_per_client_behind_the_proxy(two_servers):
    a, b = two_servers
    checker = make_checker("limits")
    cookies: dict = {}

    def start(server: Server, forwarded_for: str = "203.0.113.50") -> int:
        html = server.request(f"/troubleshoot/{checker.slug}/", cookies)[2]
        form = form_values(html) | {"answer": first_choice(html, "Yes")}
        return server.request(f"/troubleshoot/{checker.slug}/start/", cookies, form, forwarded_for)[0]

    # RATE_LIMIT_START is 3 a minute, counted across both servers, for the address the proxy wrote: an entry the
    # client put to its left changes nothing, and another client has its own allowance.
    assert [start(a), start(b), start(a, "192.0.2.1, 203.0.113.50"), start(b)] == [302, 302, 302, 429]
    assert start(a, "192.0.2.2, 203.0.113.50") == 429
    assert [start(b, "203.0.113.51"), start(a, "203.0.113.50, 203.0.113.52")] == [302, 302]


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL: one Redis shared by both servers")
def test_a_content_change_shows_on_every_app_server_within_the_generations_ttl(two_servers):
    """Each server keeps the content generation for GENERATION_TTL and its cached pages in memory: a change made
    anywhere (here, by this process) shows on both within that time, with no purge."""
    from helpcenter.contentcache import GENERATION_TTL

    checker = make_checker("renamed")
    for server in two_servers:
        assert checker.title in server.request("/", {})[2]  # cached now, on both
    checker.title = "A title nobody had seen"
    checker.save()
    changed = time.monotonic()
    for server in two_servers:
        while checker.title not in server.request("/", {})[2]:
            assert time.monotonic() - changed < GENERATION_TTL + 1.5, "the old page outlived the generation's TTL"
            time.sleep(0.1)


# `make serve` with the virtualenv taken as it is (-o: never installed into from a test).
MAKE_SERVE = ["make", "-s", "-o", ".venv/.installed", "serve"]


def test_make_serve_refuses_to_start_without_a_secret_key_or_with_debug_on():
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    result = subprocess.run(MAKE_SERVE, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "SECRET_KEY" in result.stdout + result.stderr
    env |= {"SECRET_KEY": "x" * 50, "DEBUG": "true"}
    result = subprocess.run(MAKE_SERVE, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "DEBUG" in result.stdout + result.stderr


def gunicorn_settings(tmp_path, **environ: str) -> dict:
    """The settings `make serve` starts gunicorn with under `environ`: gunicorn prints them and exits
    (--print-config); the manage.py commands before it (migrate, collectstatic, the task worker) are skipped."""
    python = tmp_path / "python"
    python.write_text(f'#!/bin/sh\ncase "$1" in manage.py) exit 0;; esac\nexec {sys.executable} "$@" --print-config\n')
    python.chmod(0o755)
    unset = ("DEBUG", "PORT", "BIND", "BEHIND_TLS_PROXY", "FORWARDED_ALLOW_IPS", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in unset} | {"SECRET_KEY": "x" * 50} | environ
    result = subprocess.run([*MAKE_SERVE, f"PY={python}"], cwd=settings.BASE_DIR, env=env, capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return dict(re.findall(r"^(\w+) += (.*)$", result.stdout, re.MULTILINE))


@pytest.mark.parametrize(
    ("environ", "bind", "trusted"),
    [
        ({}, "['127.0.0.1:8000']", "[]"),  # nobody may say a plain HTTP request came over HTTPS
        ({"PORT": "8001", "BEHIND_TLS_PROXY": "true"}, "['127.0.0.1:8001']", "['127.0.0.1']"),  # PORT as `make run`
        ({"PORT": "8001", "BIND": "0.0.0.0:9000", "FORWARDED_ALLOW_IPS": "10.0.0.2"}, "['0.0.0.0:9000']", "[]"),
        ({"BEHIND_TLS_PROXY": "true", "FORWARDED_ALLOW_IPS": "10.0.0.0/8"}, "['127.0.0.1:8000']", "['10.0.0.0/8']"),
    ],
)
def test_make_serve_listens_on_port_or_bind_and_trusts_x_forwarded_proto_only_behind_the_tls_proxy(
    tmp_path, environ, bind, trusted
):
    served = gunicorn_settings(tmp_path, **environ)
    assert (served["bind"], served["forwarded_allow_ips"]) == (bind, trusted)


# Cached pages


def test_home_page_reads_what_changes_with_content_from_the_cache_until_it_changes(
    client, library, django_assert_num_queries, django_capture_on_commit_callbacks
):
    from troubleshoot.models import Checker

    first_home = client.get("/")
    with django_assert_num_queries(2):  # the latest guides, once a request; the overview from the cache
        assert client.get("/").content == first_home.content
        assert client.get("/?utm_source=newsletter").content == first_home.content  # other parameters: same page

    checker = Checker.objects.get(slug="lock-date")
    checker.title = "Lock dates stop a settlement"
    with django_capture_on_commit_callbacks(execute=True):
        checker.save()  # any content change retires what was kept, as it commits
    assert "Lock dates stop a settlement" in client.get("/").content.decode()


def test_article_feedback_needs_the_pages_csrf_token(library):
    """Every POST carries CSRF, the article's vote included: so the article page is rendered per request."""
    from django.test import Client

    from support.models import ArticleFeedback

    client = Client(enforce_csrf_checks=True)
    page = client.get("/articles/troubleshooting-xero-connection/").content.decode()
    url = "/articles/troubleshooting-xero-connection/feedback/"
    assert client.post(url, {"helpful": "yes"}).status_code == 403
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert client.post(url, {"helpful": "yes", "csrfmiddlewaretoken": token}).status_code == 302
    assert ArticleFeedback.objects.count() == 1


def test_the_article_page_carries_each_sellers_own_csrf_token(library, django_assert_num_queries):
    """The article's text is rendered once per version (`versioncache.article_page`); the page around it, with its
    feedback form, for each seller: a seller's token never reaches another seller, and a seller without a CSRF
    cookie gets one with the page."""
    from django.test import Client

    url = "/articles/troubleshooting-xero-connection/"
    one, two = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first = one.get(url)
    with django_assert_num_queries(2):  # the article (with its category) and its checkers; its text from the cache
        second = two.get(url)
    tokens = [
        re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', r.content.decode()).group(1) for r in (first, second)
    ]
    assert tokens[0] != tokens[1] and "csrftoken" in second.cookies
    assert first.content.decode().replace(tokens[0], "") == second.content.decode().replace(tokens[1], "")
    feedback = "/articles/troubleshooting-xero-connection/feedback/"
    assert two.post(feedback, {"helpful": "yes", "csrfmiddlewaretoken": tokens[0]}).status_code == 403  # not theirs
    assert two.post(feedback, {"helpful": "yes", "csrfmiddlewaretoken": tokens[1]}).status_code == 302


def test_search_results_are_cached_per_query(client, library, django_assert_num_queries):
    """Results come from the cache; the one query left is the search log's row (each search is logged, and the
    result links carry its id, so the page itself can't be served whole)."""
    strip = re.compile(rb"search=[0-9a-f-]{36}")
    kaput = strip.sub(b"", client.get("/search/?q=lock+date").content)
    other = strip.sub(b"", client.get("/search/?q=xero+plan").content)
    assert kaput != other
    with django_assert_num_queries(1):
        assert strip.sub(b"", client.get("/search/?q=lock+date").content) == kaput


def test_checker_pages_are_not_cached_whole(client, checker):
    """A checker's first step carries a fresh run id and a CSRF token: each seller gets their own."""
    first, second = client.get(f"/troubleshoot/{checker.slug}/"), client.get(f"/troubleshoot/{checker.slug}/")
    run_ids = [re.search(r'name="run" value="([^"]+)"', r.content.decode()).group(1) for r in (first, second)]
    assert run_ids[0] != run_ids[1]
