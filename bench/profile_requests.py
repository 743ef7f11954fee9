"""Where a request's time goes: requests served in-process through the WSGI application exactly as gunicorn calls it
(every middleware, production settings from the environment), measured in CPU time rather than wall-clock time, so
that figures taken on a busy machine still compare, and optionally profiled.

Run it with the environment `make bench` gives its servers (DEBUG off, BEHIND_TLS_PROXY, DATABASE_URL, REDIS_URL,
BENCHMARK on, STATIC_ROOT collected), on a database with the content library loaded:

    .venv/bin/python bench/profile_requests.py minimal first-step start-htmx answer-htmx answer-nojs run-page -n 500
    .venv/bin/python bench/profile_requests.py answer-htmx -n 300 --profile pyinstrument

For each kind it prints the CPU milliseconds per request of this process (`time.process_time`), the same as a ratio
to the minimal view's when that was measured too, and the SQL statements and cache calls one request makes. On
PostgreSQL with the server on this machine it also prints the server's CPU a request: the user and system time
of the database's backend processes (from /proc, in clock ticks, so measure a few hundred requests).
The first step is a checker's as an error email links to it (with a source and a code); a start is the first answer
on it, each with a run id of its own. A step answer answers the second step of a run of its own, and a run page
shows a run's second step (runs cloned from one before the clock starts).
"""

import argparse
import io
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpcenter.settings")

import django  # noqa: E402

django.setup()

from django.core.cache import caches  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.clones import clone_runs  # noqa: E402
from bench.runurl import run_id  # noqa: E402

ARTICLE = "/articles/troubleshooting-xero-connection/"
CHECKER = "connection-error"
HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)"')
application = WSGIHandler()
KINDS = ["minimal", "article", "first-step", "start-htmx", "start-nojs", "answer-htmx", "answer-nojs", "run-page"]


def call(method: str, path: str, *, cookies: dict, body: bytes = b"", htmx: bool = False):
    """One request through the WSGI application, as from a browser behind the TLS proxy: (status, headers, body)."""
    path, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_ORIGIN": "https://127.0.0.1",
        "HTTP_REFERER": "https://127.0.0.1/",
        "HTTP_ACCEPT_ENCODING": "gzip",
        "HTTP_COOKIE": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    if body:
        environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
        environ["CONTENT_LENGTH"] = str(len(body))
    if htmx:
        environ["HTTP_HX_REQUEST"] = "true"
    started = {}

    def start_response(status, headers, exc_info=None):
        started["status"], started["headers"] = int(status.split()[0]), headers

    response = application(environ, start_response)
    content = b"".join(response)
    if hasattr(response, "close"):
        response.close()
    for name, value in started["headers"]:
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            cookies[key] = rest.split(";", 1)[0]
    return started["status"], started["headers"], content


def seller() -> tuple[dict, dict, str]:
    """A seller's cookies, the second step's form fields, and the seed run waiting at that step."""
    from urllib.parse import urlencode

    cookies: dict = {}
    _, _, page = call("GET", f"/troubleshoot/{CHECKER}/", cookies=cookies)
    page = page.decode() if page.startswith(b"<") else __import__("gzip").decompress(page).decode()
    hidden = dict(HIDDEN.findall(page))
    first = re.search(r'name="answer" value="(\d+)"', page).group(1)
    status, headers, panel = call("POST", f"/troubleshoot/{CHECKER}/start/", cookies=cookies, htmx=True,
                                  body=urlencode(hidden | {"answer": first}).encode())  # fmt: skip
    assert status == 200, (status, panel[:300])
    pushed = dict(headers)["HX-Push-Url"]
    panel = __import__("gzip").decompress(panel).decode() if not panel.startswith(b"<") else panel.decode()
    data = {"csrfmiddlewaretoken": hidden["csrfmiddlewaretoken"],
            "step": re.search(r'name="step" value="([^"]+)"', panel).group(1),
            "answer": re.search(r'name="answer" value="(\d+)"', panel).group(1)}  # fmt: skip
    return cookies, data, run_id(pushed)


def senders(kind: str, count: int):
    """`count` calls of one kind of request, made ready before the clock starts; and the status it should give."""
    from urllib.parse import urlencode

    if kind == "minimal":
        cookies: dict = {}
        return [lambda: call("GET", "/bench/minimal/", cookies=cookies)] * count, 200
    if kind == "article":
        cookies = {}
        call("GET", ARTICLE, cookies=cookies)  # the seller's CSRF cookie, as a browser has it on its second page
        return [lambda: call("GET", ARTICLE, cookies=cookies)] * count, 200
    if kind == "first-step":
        cookies = {}
        call("GET", ARTICLE, cookies=cookies)  # the seller's CSRF cookie
        return [
            lambda: call("GET", f"/troubleshoot/{CHECKER}/?source=email&code=XERO-401", cookies=cookies)
        ] * count, 200
    if kind.startswith("start-"):
        return starts(count, htmx=kind == "start-htmx"), 200 if kind == "start-htmx" else 302
    cookies, data, seed = seller()
    if kind == "run-page":
        return [lambda url=url: call("GET", f"{url}?at=2", cookies=cookies) for url in clone_runs(seed, count)], 200
    body = urlencode(data).encode()
    htmx = kind == "answer-htmx"
    urls = clone_runs(seed, count)
    return [lambda url=url: call("POST", f"{url}answer/", cookies=cookies, body=body, htmx=htmx) for url in urls], (
        200 if htmx else 302
    )


def starts(count: int, *, htmx: bool) -> list:
    """`count` first answers on a checker's first step, as from an error email, each with a run id of its own."""
    from urllib.parse import urlencode

    cookies: dict = {}
    _, _, page = call("GET", f"/troubleshoot/{CHECKER}/?source=email&code=XERO-401", cookies=cookies)
    page = page.decode() if page.startswith(b"<") else __import__("gzip").decompress(page).decode()
    hidden = dict(HIDDEN.findall(page))
    hidden["answer"] = re.search(r'name="answer" value="(\d+)"', page).group(1)
    bodies = [urlencode(hidden | {"run": str(uuid.uuid4())}).encode() for _ in range(count)]
    return [
        lambda body=body: call("POST", f"/troubleshoot/{CHECKER}/start/", cookies=cookies, body=body, htmx=htmx)
        for body in bodies
    ]


class CacheCalls:
    """Counts calls to the cache (Redis round trips, with REDIS_URL)."""

    NAMES = ("get", "set", "add", "incr", "get_many", "set_many", "delete", "touch", "has_key")

    def __init__(self):
        self.count = 0

    def __enter__(self):
        self.backend = caches["default"]
        self.saved = {}
        for name in self.NAMES:
            original = getattr(self.backend, name)
            self.saved[name] = original

            def counted(*args, _original=original, **kwargs):
                self.count += 1
                return _original(*args, **kwargs)

            setattr(self.backend, name, counted)
        return self

    def __exit__(self, *exc):
        for name in self.NAMES:
            delattr(self.backend, name)


def server_ticks() -> int | None:
    """CPU clock ticks used so far by the PostgreSQL backends connected to this database, when the server is local."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'"
        )
        pids = [pid for (pid,) in cursor.fetchall()]
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None  # not on this machine, or not readable
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks


def measure(kind: str, count: int, profiler: str) -> float:
    sends, status = senders(kind, count + 20)
    for send in sends[:20]:  # warm up: templates compiled, caches filled, connections open
        got = send()[0]
        assert got == status, (kind, got)
    sends = sends[20:]
    with CaptureQueriesContext(connection) as queries, CacheCalls() as cache_calls:
        got, headers, body = sends.pop()()
    assert got == status, (kind, got, body[:300])
    statements = [query["sql"][:110] for query in queries.captured_queries]
    profile = None
    if profiler == "pyinstrument":
        from pyinstrument import Profiler

        profile = Profiler(interval=0.0002)
    elif profiler == "cprofile":
        import cProfile

        profile = cProfile.Profile(time.process_time)
    if profile:
        profile.enable() if profiler == "cprofile" else profile.start()
    if profiler == "callgrind":  # under `valgrind --tool=callgrind --instr-atstart=no`: count these requests only
        subprocess.run(["callgrind_control", "--instr=on", str(os.getpid())], check=True, capture_output=True)
    server_began = server_ticks()
    began = time.process_time()
    for send in sends:
        send()
    cpu = (time.process_time() - began) * 1000 / len(sends)
    server_ended = server_ticks()
    if profiler == "callgrind":
        subprocess.run(["callgrind_control", "--instr=off", str(os.getpid())], check=True, capture_output=True)
        subprocess.run(["callgrind_control", "--dump", str(os.getpid())], check=True, capture_output=True)
    if profiler == "pyinstrument":
        profile.stop()
        print(profile.output_text(unicode=False, color=False, show_all=False))
    elif profiler == "cprofile":
        import pstats

        profile.disable()
        if os.environ.get("PROFILE_DUMP"):  # for pstats or snakeviz
            profile.dump_stats(f"{os.environ['PROFILE_DUMP']}.{kind}")
        pstats.Stats(profile).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(
            int(os.environ.get("PROFILE_LINES", "45"))
        )
    print(f"{kind}: {cpu:.2f} ms CPU a request ({len(sends)} requests); {len(statements)} SQL statements, "
          f"{cache_calls.count} cache calls; {len(body)} bytes")  # fmt: skip
    if server_began is not None and server_ended is not None:
        server = (server_ended - server_began) * 1000 / os.sysconf("SC_CLK_TCK") / len(sends)
        print(f"    database server: {server:.2f} ms CPU a request")
    for sql in statements:
        print(f"    {sql}")
    return cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kinds", nargs="+", choices=KINDS)
    parser.add_argument("-n", type=int, default=300, help="Requests of each kind measured.")
    parser.add_argument(
        "--profile", choices=["pyinstrument", "cprofile", "callgrind"], help="Profile the measured requests."
    )
    args = parser.parse_args()
    cpu = {kind: measure(kind, args.n, args.profile) for kind in args.kinds}
    if "minimal" in cpu:
        print("CPU a request as a ratio (minimal / this, as throughput would be):")
        for kind, ms in cpu.items():
            print(f"    {kind}: {cpu['minimal'] / ms:.2f}")


if __name__ == "__main__":
    main()
