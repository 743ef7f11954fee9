#!/usr/bin/env python
"""Benchmark of the help portal's seller pages, step transitions, static assets and content commands.

Run it from the repository root:

    make bench                                  # = .venv/bin/python bench/bench.py
    .venv/bin/python bench/bench.py --iterations 50
    .venv/bin/python bench/bench.py --show-sql  # also print the SQL of the step-transition POSTs
    .venv/bin/python bench/bench.py --database-url postgres://postgres@127.0.0.1:5432/test \
        --output bench/results-postgresql.md
    .venv/bin/python bench/bench.py --no-debug  # production-like: DEBUG off (see --help)

What it does:

* Builds a throw-away database: by default a fresh SQLite file in a temporary folder (passed to the settings as
  DATABASE_URL before `django.setup()`, so the real settings apply: WAL, busy timeout, IMMEDIATE transactions).
  With `--database-url` it connects to that PostgreSQL server, creates a separate database `helpcenter_bench`,
  runs everything there and drops it at the end. Nothing touches `db.sqlite3` or any other existing database.
* Times `migrate`, then `loadcontent` on the real library in `content/` (first import, then the idempotent second
  run with nothing changed) and `dumpcontent` into a temporary folder, counting their SQL queries.
* Drives the pages with `django.test.Client` (the full request/response cycle through every middleware; CSRF
  checks off) and measures, per scenario: the HTTP status, the number of SQL queries (with
  `CaptureQueriesContext`, including transaction statements such as BEGIN/SAVEPOINT, which are shown apart), how
  many of those queries repeat the shape of an earlier one in the same request (a hint of N+1 or redundant reads),
  the median and 95th-percentile wall time over `--iterations` requests (after `--warmup` untimed ones), and the
  response size raw and gzipped. Every POST gets its own run, prepared before the timed loop, because a run
  records one answer per step.
* Measures the static assets the home page links (portal.css, portal.js and the htmx script django-htmx ships),
  raw and gzipped.
* Concurrency: `--threads` threads, each with its own Client, post `--concurrent-posts` answers each on distinct
  runs at the same time; it reports errors (for example "database is locked"), throughput and latency, and
  checks in the database that every answer was recorded exactly once. On SQLite it prints the journal mode.

Gzip sizes use `gzip.compress(..., compresslevel=6)`, what nginx and most proxies use. Times include the test
client's own overhead (building the WSGI environ, reading the response), but no network and no WSGI server.
Note that `django.test.Client` keeps the database connection open between requests; the "new DB connection per
request" row measures what a server pays when it opens one per request (CONN_MAX_AGE=0).

`--show-sql` also prints (on stdout, not in the results file) every query of the htmx start, answer and back POSTs,
marking repeated query shapes, and the query shapes `loadcontent` runs when nothing changed.

The Markdown printed on stdout is also written to `--output` (default `bench/results.md`); progress goes to stderr.
"""

import argparse
import gzip
import io
import os
import platform
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DB_NAME = "helpcenter_bench"
HOST = "localhost"
GZIP_LEVEL = 6
SEARCH_QUERY = "Error: Account Code Archived while sending settlement 123"
ARTICLE_SLUG = "troubleshooting-xero-connection"
TX_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--iterations", type=int, default=200, help="timed requests per scenario (default 200)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per scenario first (default 3)")
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server to run against instead of a temporary SQLite file, e.g.\n"
        "postgres://postgres@127.0.0.1:5432/test (a separate database "
        f"'{BENCH_DB_NAME}' is created there and dropped after)",
    )
    parser.add_argument("--checker", help="slug of the checker to walk (default: the one with the longest path)")
    parser.add_argument("--threads", type=int, default=4, help="threads in the concurrency check (default 4)")
    parser.add_argument(
        "--concurrent-posts", type=int, default=50, help="answer POSTs per thread in the concurrency check (default 50)"
    )
    parser.add_argument(
        "--show-sql", action="store_true", help="print the SQL of the step-transition POSTs and of loadcontent"
    )
    parser.add_argument(
        "--no-debug",
        action="store_true",
        help="run with DEBUG=false (production settings, except: HTTP allowed and plain static storage,\n"
        "because the manifest storage needs `collectstatic`)",
    )
    parser.add_argument("--output", default=str(ROOT / "bench" / "results.md"), help="where to write the Markdown")
    parser.add_argument("--keep-db", action="store_true", help="keep the temporary database (prints where)")
    args = parser.parse_args()
    if args.iterations < 1 or args.warmup < 1:
        parser.error("--iterations and --warmup must be at least 1")
    return args


# ---------------------------------------------------------------------------------------------------------------
# The database: a temporary SQLite file, or a separate database on a PostgreSQL server.


@dataclass
class Database:
    url: str
    cleanup_note: str = ""
    sqlite_dir: str | None = None
    pg_admin_url: str | None = None


def create_database(args) -> Database:
    if not args.database_url:
        folder = tempfile.mkdtemp(prefix="helpcenter-bench-")
        return Database(url=f"sqlite:///{folder}/bench.sqlite3", sqlite_dir=folder)
    parts = urlsplit(args.database_url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql", "postgis"}:
        sys.exit("--database-url: only PostgreSQL URLs are supported (SQLite is the default)")
    import psycopg

    admin_url = urlunsplit(parts._replace(scheme="postgresql"))
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB_NAME}"')
            conn.execute(f'CREATE DATABASE "{BENCH_DB_NAME}"')
    except psycopg.Error as exc:
        sys.exit(f"Could not create the database {BENCH_DB_NAME} through {args.database_url}: {exc}")
    url = urlunsplit(parts._replace(path="/" + BENCH_DB_NAME))
    return Database(url=url, pg_admin_url=admin_url)


def drop_database(db: Database, keep: bool) -> None:
    if keep:
        log(f"Kept the database: {db.url}")
        return
    if db.sqlite_dir:
        shutil.rmtree(db.sqlite_dir, ignore_errors=True)
    elif db.pg_admin_url:
        import psycopg

        try:
            with psycopg.connect(db.pg_admin_url, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB_NAME}" WITH (FORCE)')
        except psycopg.Error as exc:
            log(f"Could not drop {BENCH_DB_NAME}: {exc}")


def configure_environment(args, db: Database) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "helpcenter.settings"
    os.environ["DATABASE_URL"] = db.url
    if args.no_debug:
        os.environ["DEBUG"] = "false"
        os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
        os.environ["ALLOWED_HOSTS"] = HOST
        os.environ["SECURE_SSL_REDIRECT"] = "false"
    # whitenoise warns that STATIC_ROOT is missing: only `collectstatic` (production) creates it.
    warnings.filterwarnings("ignore", message="No directory at")


# ---------------------------------------------------------------------------------------------------------------
# Measuring


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]  # nearest rank


def sql_shape(sql: str) -> str:
    """The query with its literals replaced, so the same query with other parameters compares equal."""
    shape = re.sub(r"'(?:[^']|'')*'", "?", sql)
    shape = re.sub(r"\b\d+(?:\.\d+)?\b", "?", shape)
    shape = re.sub(r"%s", "?", shape)
    # `x = ? OR x = ? …` is how Django sometimes writes a prefetch's IN list: the same query whatever the length.
    shape = re.sub(r"\((\S+) = \?(?: OR \1 = \?)*\)", r"\1 IN (?…)", shape)
    return re.sub(r"\((?:\?\s*,\s*)*\?\)", "(?…)", shape)


@dataclass
class QueryStats:
    total: int
    tx: int
    repeats: int  # queries whose shape already ran earlier in the same request
    exact_duplicates: int
    sql: list[str]
    executed: int = 0  # what a `connection.execute_wrapper` sees (Django logs some BEGIN/COMMIT without a cursor)

    @classmethod
    def from_captured(cls, captured: list[dict]) -> "QueryStats":
        sql = [q["sql"] for q in captured]
        data = [s for s in sql if not TX_CONTROL.match(s)]
        shapes = Counter(sql_shape(s) for s in data)
        exact = Counter(data)
        return cls(
            total=len(sql),
            tx=len(sql) - len(data),
            repeats=sum(n - 1 for n in shapes.values()),
            exact_duplicates=sum(n - 1 for n in exact.values()),
            sql=sql,
        )


class QueryCounter:
    """A `connection.execute_wrapper` that only counts (cheap enough to leave on inside the timed loop)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


@dataclass
class Result:
    name: str
    status: int
    queries: QueryStats
    query_range: tuple[int, int]
    times_ms: list[float]
    size: int
    gzip_size: int
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        return p95(self.times_ms)


@dataclass
class Request:
    method: str
    path: str
    data: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)


def send(client, request: Request):
    if request.method == "GET":
        return client.get(request.path, headers=request.headers)
    return client.post(request.path, request.data, headers=request.headers)


def measure(client, name: str, make_request, *, expect: int, check=None, iterations: int, warmup: int, before=None):
    """Run `warmup` captured requests (query counts and SQL), then `iterations` timed ones (query count only).

    `make_request(i)` returns the i-th Request (each POST uses its own run); `check(response, i)` raises if the
    response isn't what the scenario expects; `before()` runs inside the timed section just before each request.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def verify(response, i):
        if response.status_code != expect:
            raise SystemExit(f"{name}: expected HTTP {expect}, got {response.status_code}\n{response.content[:2000]!r}")
        if check:
            check(response, i)

    stats = None
    for i in range(warmup):
        request = make_request(i)
        if before:
            before()
        counter = QueryCounter()
        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(counter):
            response = send(client, request)
        verify(response, i)
        stats = QueryStats.from_captured(captured.captured_queries)  # the last warm request is representative
        stats.executed = counter.count

    counter = QueryCounter()
    times, counts = [], []
    with connection.execute_wrapper(counter):
        for i in range(warmup, warmup + iterations):
            request = make_request(i)
            counter.count = 0
            start = time.perf_counter()
            if before:
                before()
            response = send(client, request)
            elapsed = time.perf_counter() - start
            verify(response, i)
            times.append(elapsed * 1000)
            counts.append(counter.count)
    body = response.content
    return Result(
        name=name,
        status=response.status_code,
        queries=stats,
        query_range=(min(counts), max(counts)),
        times_ms=times,
        size=len(body),
        gzip_size=len(gzip.compress(body, compresslevel=GZIP_LEVEL)) if body else 0,
    )


def timed_command(*args, **kwargs) -> tuple[float, int, str]:
    """Run a management command; return (milliseconds, SQL queries, its output)."""
    from django.core.management import call_command
    from django.db import connection

    out = io.StringIO()
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        start = time.perf_counter()
        call_command(*args, stdout=out, stderr=out, **kwargs)
        elapsed = time.perf_counter() - start
    return elapsed * 1000, counter.count, out.getvalue().strip()


# ---------------------------------------------------------------------------------------------------------------
# The checker walked by the step-transition scenarios


@dataclass
class Walk:
    checker: object
    steps: list  # [first, second, third]
    choices: list  # [first -> second, second -> third]


def choose_walk(slug: str | None) -> Walk:
    """A checker with a path first --next--> second --next--> third, so every POST is a real step transition."""
    from troubleshoot import versions
    from troubleshoot.models import Checker

    checkers = Checker.objects.published().select_related("category").order_by("slug")
    if slug:
        checkers = checkers.filter(slug=slug)
    candidates = []
    for checker in checkers:
        graph = versions.flow_of(checker.live_version_id)
        if graph.problems():
            continue
        first = graph.start
        paths = [
            (a1, a2)
            for a1 in first.answers
            if a1.next in graph.by_key
            for a2 in graph.by_key[a1.next].answers
            if a2.next in graph.by_key
        ]
        if paths:
            a1, a2 = paths[0]
            walk = Walk(checker, [first, graph.by_key[a1.next], graph.by_key[a2.next]], [a1, a2])
            candidates.append((graph.longest[first.key], len(graph.steps), walk))
    if not candidates:
        sys.exit(f"No published checker {'(' + slug + ') ' if slug else ''}has a first → second → third step path.")
    return max(candidates, key=lambda c: (c[0], c[1]))[2]


def last_answer(run) -> int:
    """What the run page's Back form names: the answer it undoes."""
    return run.answers.filter(withdrawn_at__isnull=True).last().pk


def new_run(walk: Walk, answers: int):
    """A run in progress with `answers` answers (1: on the second step, 2: on the third)."""
    from troubleshoot import versions
    from troubleshoot import walk as walking

    current = versions.flow_of(walk.checker.live_version_id)
    run = walking.start_run(current, uuid.uuid4(), walk.steps[0].key, walk.choices[0].index, source="home")
    if answers >= 2:
        run = walking.record_answer(current, run, walk.steps[1].key, walk.choices[1].index)
    return run


# ---------------------------------------------------------------------------------------------------------------
# The benchmark


def machine_info() -> dict:
    import django
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            import sqlite3

            version = f"SQLite {sqlite3.sqlite_version}"
        else:
            cursor.execute("SHOW server_version")
            version = f"PostgreSQL {cursor.fetchone()[0]}"
    return {
        "python": platform.python_version(),
        "django": django.get_version(),
        "cpus": os.cpu_count(),
        "vendor": connection.vendor,
        "database": version,
        "platform": platform.platform(terse=True),
        "debug": settings.DEBUG,
        "load": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def static_assets(home_html: str) -> list[tuple[str, int, int]]:
    """Every stylesheet and script the home page links, resolved through the staticfiles finders."""
    from django.conf import settings
    from django.contrib.staticfiles import finders

    prefix = "/" + settings.STATIC_URL.lstrip("/")
    urls = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', home_html)
    urls += re.findall(r'<script[^>]+src="([^"]+)"', home_html)
    assets = []
    for url in urls:
        path = url.split("?")[0]
        if not path.startswith(prefix):
            continue
        found = finders.find(path[len(prefix) :])
        if not found:
            log(f"static asset not found: {url}")
            continue
        data = Path(found).read_bytes()
        shown = (
            os.path.relpath(found, ROOT)
            if not found.startswith(sys.prefix)
            else "site-packages/" + found.split("site-packages/", 1)[-1]
        )
        assets.append((shown, len(data), len(gzip.compress(data, compresslevel=GZIP_LEVEL))))
    return assets


def concurrency_check(walk: Walk, threads: int, per_thread: int) -> dict:
    from django.db import connection
    from django.test import Client

    from troubleshoot.models import Answer

    log(f"Concurrency: preparing {threads * per_thread} runs")
    runs = [new_run(walk, 1) for _ in range(threads * per_thread)]
    url = "/troubleshoot/{slug}/{run}/answer/"
    data = {"step": walk.steps[1].key, "answer": walk.choices[1].index}
    barrier = threading.Barrier(threads + 1)
    lock = threading.Lock()
    statuses: Counter = Counter()
    errors: list[str] = []
    latencies: list[float] = []

    def worker(my_runs):
        client = Client(enforce_csrf_checks=False, HTTP_HOST=HOST)
        mine = []
        try:
            barrier.wait()
            for run in my_runs:
                start = time.perf_counter()
                try:
                    response = client.post(url.format(slug=walk.checker.slug, run=run.pk), data)
                    status = response.status_code
                except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
                    status = "exception"
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                mine.append((time.perf_counter() - start) * 1000)
                with lock:
                    statuses[status] += 1
        finally:
            with lock:
                latencies.extend(mine)
            connection.close()

    workers = [
        threading.Thread(target=worker, args=(runs[i * per_thread : (i + 1) * per_thread],)) for i in range(threads)
    ]
    for thread in workers:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - start

    live = Counter(
        Answer.objects.filter(run__in=[r.pk for r in runs], withdrawn_at__isnull=True).values_list("run_id", flat=True)
    )
    wrong = sum(1 for r in runs if live[r.pk] != 2)
    total = threads * per_thread
    return {
        "threads": threads,
        "per_thread": per_thread,
        "total": total,
        "statuses": dict(statuses),
        "errors": errors,
        "locked": sum("locked" in e for e in errors),
        "elapsed": elapsed,
        "throughput": total / elapsed,
        "median": statistics.median(latencies),
        "p95": p95(latencies),
        "max": max(latencies),
        "wrong_runs": wrong,
    }


def run_benchmark(args) -> tuple[str, str]:
    import django

    django.setup()
    from django.conf import settings

    if args.no_debug:
        # Production uses the manifest storage, which needs `collectstatic` (writes outside bench/): serve from
        # the finders' files with plain storage instead. Nothing has touched the storage yet.
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }

    from django.db import connection
    from django.test import Client
    from django.utils.html import escape

    from troubleshoot.models import Article

    info = machine_info()
    log(f"Database: {info['database']} ({settings.DATABASES['default']['NAME']}), DEBUG={info['debug']}")

    # Content commands
    commands = []
    log("migrate…")
    ms, queries, _ = timed_command("migrate", interactive=False, verbosity=0)
    commands.append(("`migrate` (empty database)", ms, queries, ""))
    log("loadcontent (first)…")
    ms, queries, out = timed_command("loadcontent")
    commands.append(("`loadcontent` first import", ms, queries, out.splitlines()[-1]))
    log("loadcontent (unchanged)…")
    ms, queries, out = timed_command("loadcontent")
    commands.append(("`loadcontent` again, unchanged", ms, queries, out.splitlines()[-1]))
    dump_dir = tempfile.mkdtemp(prefix="helpcenter-dump-")
    try:
        log("dumpcontent…")
        ms, queries, out = timed_command("dumpcontent", path=dump_dir)
        commands.append(("`dumpcontent` to a temporary folder", ms, queries, out.splitlines()[-1].split(" to ")[0]))
    finally:
        shutil.rmtree(dump_dir, ignore_errors=True)

    load_sql = None
    if args.show_sql:
        from django.core.management import call_command
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            call_command("loadcontent", stdout=io.StringIO())
        load_sql = QueryStats.from_captured(captured.captured_queries)

    journal = ""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            mode = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous")
            sync = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(cursor.fetchone()[0])
        journal = f"journal_mode={mode}, synchronous={sync}"
        log(f"SQLite {journal}")

    walk = choose_walk(args.checker)
    slug = walk.checker.slug
    first, second, third = walk.steps
    log(f"Walking {slug}: {first.key} → {second.key} → {third.key}")
    if not Article.objects.published().filter(slug=ARTICLE_SLUG).exists():
        sys.exit(f"The article {ARTICLE_SLUG} isn't in the library any more: update ARTICLE_SLUG.")

    client = Client(enforce_csrf_checks=False, HTTP_HOST=HOST)
    n, w = args.iterations, args.warmup
    results: list[Result] = []
    sql_dumps: list[tuple[str, QueryStats]] = []

    def bench(name, make_request, **kwargs):
        log(f"  {name}")
        result = measure(client, name, make_request, iterations=n, warmup=w, **kwargs)
        results.append(result)
        return result

    def contains(*texts):
        def check(response, i):
            body = response.content.decode()
            for text in texts:
                if escape(str(text)) not in body and str(text) not in body:
                    raise SystemExit(f"expected {text!r} in the response")

        return check

    def header(name, value):
        def check(response, i):
            if response.headers.get(name) != value:
                raise SystemExit(f"expected header {name}: {value}, got {response.headers.get(name)!r}")

        return check

    def redirect_to(urls):
        def check(response, i):
            if response.headers["Location"] != urls[i]:
                raise SystemExit(f"expected a redirect to {urls[i]}, got {response.headers['Location']}")

        return check

    start_url = f"/troubleshoot/{slug}/"
    log("Pages:")
    home = bench("GET / (home)", lambda i: Request("GET", "/"), expect=200, check=contains(walk.checker.title))
    bench(
        "GET /search/?q=<pasted error>",
        lambda i: Request("GET", "/search/?" + f"q={SEARCH_QUERY.replace(' ', '+')}"),
        expect=200,
        check=contains("/troubleshoot/account-mapping-error/"),
    )
    bench(
        f"GET {start_url} (start page)",
        lambda i: Request("GET", start_url),
        expect=200,
        check=contains(f'name="step" value="{first.key}"', f'value="{walk.choices[0].index}"'),
    )
    bench(
        f"GET {start_url}, new DB connection per request",
        lambda i: Request("GET", start_url),
        expect=200,
        before=connection.close,
    )
    bench(f"GET /articles/{ARTICLE_SLUG}/", lambda i: Request("GET", f"/articles/{ARTICLE_SLUG}/"), expect=200)
    in_progress = new_run(walk, 2)
    bench(
        "GET run page (in progress, 2 answers)",
        lambda i: Request("GET", in_progress.get_absolute_url()),
        expect=200,
        check=contains(third.title),
    )

    log("Step transitions:")
    start_data = {"step": first.key, "answer": walk.choices[0].index, "source": "home"}
    run_ids = [uuid.uuid4() for _ in range(n + w)]
    bench(
        "POST start (first answer) → 302",
        lambda i: Request("POST", f"{start_url}start/", {**start_data, "run": run_ids[i]}),
        expect=302,
        check=redirect_to([f"{start_url}{r}/" for r in run_ids]),
    )
    htmx_start = {"HX-Request": "true", "HX-Current-URL": f"http://{HOST}{start_url}?source=home"}
    result = bench(
        "POST start (first answer), htmx → panel",
        lambda i: Request("POST", f"{start_url}start/", {**start_data, "run": uuid.uuid4()}, htmx_start),
        expect=200,
        check=contains(second.title),
    )
    sql_dumps.append(("POST start (first answer), htmx", result.queries))

    answer_data = {"step": second.key, "answer": walk.choices[1].index}
    log(f"  (preparing {n + w} runs on step 2)")
    runs = [new_run(walk, 1) for _ in range(n + w)]
    bench(
        "POST answer mid-run → 302",
        lambda i: Request("POST", f"{runs[i].get_absolute_url()}answer/", answer_data),
        expect=302,
        check=redirect_to([r.get_absolute_url() for r in runs]),
    )
    log(f"  (preparing {n + w} runs on step 2)")
    runs_htmx = [new_run(walk, 1) for _ in range(n + w)]
    result = bench(
        "POST answer mid-run, htmx → panel",
        lambda i: Request(
            "POST",
            f"{runs_htmx[i].get_absolute_url()}answer/",
            answer_data,
            {"HX-Request": "true", "HX-Current-URL": f"http://{HOST}{runs_htmx[i].get_absolute_url()}"},
        ),
        expect=200,
        check=contains(third.title),
    )
    sql_dumps.append(("POST answer mid-run, htmx", result.queries))

    log(f"  (preparing {2 * (n + w)} runs on step 3)")
    back_runs = [new_run(walk, 2) for _ in range(n + w)]
    bench(
        "POST back → 302",
        lambda i: Request("POST", f"{back_runs[i].get_absolute_url()}back/", {"answer": last_answer(back_runs[i])}),
        expect=302,
        check=redirect_to([r.get_absolute_url() for r in back_runs]),
    )
    back_htmx = [new_run(walk, 2) for _ in range(n + w)]
    result = bench(
        "POST back, htmx → panel",
        lambda i: Request(
            "POST",
            f"{back_htmx[i].get_absolute_url()}back/",
            {"answer": last_answer(back_htmx[i])},
            headers={"HX-Request": "true", "HX-Current-URL": f"http://{HOST}{back_htmx[i].get_absolute_url()}"},
        ),
        expect=200,
        check=contains(second.title),
    )
    sql_dumps.append(("POST back, htmx", result.queries))

    assets = static_assets(Client(HTTP_HOST=HOST).get("/").content.decode())

    log(f"Concurrency: {args.threads} threads × {args.concurrent_posts} answer POSTs")
    concurrency = concurrency_check(walk, args.threads, args.concurrent_posts)

    markdown = render_markdown(args, info, journal, walk, results, home, assets, commands, concurrency)
    sql_text = render_sql(sql_dumps, load_sql) if args.show_sql else ""
    return markdown, sql_text


# ---------------------------------------------------------------------------------------------------------------
# Output


def table(headers: list[str], rows: list[list], align: str) -> str:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    sep = ["-" * (w - 1) + ":" if a == "r" else "-" * w for w, a in zip(widths, align, strict=True)]

    def line(row):
        return (
            "| "
            + " | ".join(c.rjust(w) if a == "r" else c.ljust(w) for c, w, a in zip(row, widths, align, strict=True))
            + " |"
        )

    return "\n".join([line(headers), "| " + " | ".join(sep) + " |", *(line(r) for r in cells)])


def kib(n: int) -> str:
    return f"{n:,}"


def render_markdown(args, info, journal, walk, results, home, assets, commands, concurrency) -> str:
    out = []
    out.append(f"## Benchmark ({info['database']})")
    out.append("")
    out.append(
        f"Python {info['python']} · Django {info['django']} · {info['cpus']} CPUs · database: {info['vendor']} "
        f"({info['database']}{', ' + journal if journal else ''}) · DEBUG={info['debug']} · {info['platform']} · "
        f"load average {info['load']:.2f} at start · "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    out.append("")
    steps = " → ".join(s.key for s in walk.steps)
    out.append(
        f"{args.iterations} timed requests per row after {args.warmup} warm-up ones, through `django.test.Client`; "
        f"checker `{walk.checker.slug}` ({steps}). SQL queries include transaction statements (BEGIN/COMMIT/"
        f"SAVEPOINT…, counted in brackets); *repeats* = queries whose shape already ran in the same request. "
        f"Sizes are the response body, raw and gzip -{GZIP_LEVEL}."
    )
    out.append("")
    rows = []
    for r in results:
        lo, hi = r.query_range
        queries = f"{r.queries.total}" + (f" ({r.queries.tx} tx)" if r.queries.tx else "")
        if (lo, hi) != (r.queries.executed, r.queries.executed):
            queries += f" [timed runs: {lo}–{hi} executed, expected {r.queries.executed}]"
        rows.append(
            [
                r.name,
                r.status,
                queries,
                r.queries.repeats,
                f"{r.median:.2f}",
                f"{r.p95:.2f}",
                kib(r.size),
                kib(r.gzip_size),
            ]
        )
    out.append(
        table(
            ["Request", "Status", "SQL queries", "Repeats", "Median ms", "p95 ms", "Bytes", "Gzip bytes"],
            rows,
            "lrrrrrrr",
        )
    )
    out.append("")
    out.append("### Static assets linked from the home page")
    out.append("")
    rows = [[f"`{name}`", kib(raw), kib(gz)] for name, raw, gz in assets]
    total_raw = sum(a[1] for a in assets) + home.size
    total_gz = sum(a[2] for a in assets) + home.gzip_size
    rows.append(
        ["**First visit to the home page** (HTML + these assets)", f"**{kib(total_raw)}**", f"**{kib(total_gz)}**"]
    )
    out.append(table(["File", "Bytes", "Gzip bytes"], rows, "lrr"))
    out.append("")
    out.append("### Content commands (full library in `content/`)")
    out.append("")
    rows = [[name, f"{ms:,.0f}", f"{queries:,}", note] for name, ms, queries, note in commands]
    out.append(table(["Command", "Time ms", "SQL queries", "Output"], rows, "lrrl"))
    out.append("")
    c = concurrency
    baseline = next(r.median for r in results if r.name == "POST answer mid-run → 302")
    out.append("### Concurrency")
    out.append("")
    verdict = "no errors" if not c["errors"] and c["wrong_runs"] == 0 else "**FAILED**"
    out.append(
        f"{c['threads']} threads × {c['per_thread']} answer POSTs (no htmx) on distinct runs, one Client per thread: "
        f'{verdict}; statuses {c["statuses"]}, {len(c["errors"])} exceptions ({c["locked"]} "database is locked"), '
        f"{c['wrong_runs']} runs without exactly 2 live answers. {c['total']} requests in {c['elapsed']:.2f} s = "
        f"**{c['throughput']:.0f} requests/s** (one thread, from the table: {1000 / baseline:.0f} requests/s); "
        f"latency median {c['median']:.2f} ms, p95 {c['p95']:.2f} ms, max {c['max']:.2f} ms."
    )
    if c["errors"]:
        out.append("")
        for error, count in Counter(c["errors"]).most_common(5):
            out.append(f"- {count} × `{error[:200]}`")
    out.append("")
    return "\n".join(out)


def render_sql(dumps: list[tuple[str, QueryStats]], load: QueryStats | None) -> str:
    out = ["## SQL of the step-transition POSTs (last warm-up request)", ""]
    for name, stats in dumps:
        out.append(
            f"### {name}: {stats.total} queries, {stats.tx} transaction statements, {stats.repeats} repeated shapes, "
            f"{stats.exact_duplicates} exact duplicates"
        )
        out.append("")
        out.append("```sql")
        seen: Counter = Counter()
        for i, sql in enumerate(stats.sql, 1):
            shape = sql_shape(sql)
            mark = ""
            if not TX_CONTROL.match(sql):
                seen[shape] += 1
                if seen[shape] > 1:
                    mark = f"  -- repeat #{seen[shape]} of this query shape"
            out.append(f"{i:2}. {sql}{mark}")
        out.append("```")
        out.append("")
    if load:
        shapes = Counter(sql_shape(q) for q in load.sql if not TX_CONTROL.match(q))
        out.append(f"## `loadcontent` with nothing changed: {load.total} queries, by shape (most frequent first)")
        out.append("")
        out.append("```sql")
        for shape, count in shapes.most_common():
            out.append(f"{count:4} × {shape[:220]}{'…' if len(shape) > 220 else ''}")
        out.append("```")
        out.append("")
    return "\n".join(out)


def main() -> None:
    args = parse_args()
    db = create_database(args)
    try:
        configure_environment(args, db)
        started = time.perf_counter()
        markdown, sql_text = run_benchmark(args)
        log(f"Done in {time.perf_counter() - started:.1f} s")
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001, S110 - Django may not have been set up
            pass
        drop_database(db, args.keep_db)
    print(markdown)
    if sql_text:
        print(sql_text)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(markdown, encoding="utf-8")
    log(f"Written to {output}")


if __name__ == "__main__":
    main()
