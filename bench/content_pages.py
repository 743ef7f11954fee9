"""Staff pages (the admin, the editor) and the seller pages that open one item, timed on the demo library alone and
on the 5,000 checkers + 5,000 articles `bench/search_bench.py --generate-only` leaves, with production settings.

    .venv/bin/python bench/search_bench.py --generate-only [--database-url URL]   # once: minutes
    flock /tmp/bench.lock .venv/bin/python bench/content_pages.py [--database-url URL --output ...]   # 3-4 minutes

Each database is timed in a process of its own: (a) a fresh one, migrated and loaded with the demo library, dropped
at the end; (b) the kept 5,000 + 5,000 one. Requests go through `django.test.Client` as a superuser, DEBUG off, over
HTTPS as far as Django can tell; the same demo checker and article are opened on both. On PostgreSQL one persistent
connection (no pool), so its server process's CPU can be read (`search_bench.cpu_time`).
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.search_bench import DB_NAME, ROOT, cpu_time, create_database, kept_database, p95, table  # noqa: E402

CHECKER, ARTICLE = "connection-error", "troubleshooting-xero-connection"  # demo items, opened on both databases
HEADERS = ["Page", "Status", "SQL", "Median ms", "p95 ms", "CPU ms", "KB"]
COLUMNS = [("queries", "{}"), ("median", "{:.1f}"), ("p95", "{:.1f}"), ("cpu", "{:.1f}"), ("kb", "{:.0f}")]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite)")
    parser.add_argument("--database-name", default=DB_NAME, help=f"the kept 5,000 + 5,000 one there ({DB_NAME})")
    parser.add_argument("--iterations", type=int, default=20, help="timed requests a page (default 20)")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results-content-pages.md"))
    parser.add_argument("--one", help=argparse.SUPPRESS)  # child: time on this database URL, print JSON
    parser.add_argument("--fresh", action="store_true", help=argparse.SUPPRESS)  # child: migrate + loadcontent first
    return parser.parse_args()


def time_page(get, url: str, iterations: int) -> dict:
    """The rule for every page: one request to warm up (templates, caches), one whose SQL statements are counted,
    then `iterations` timed (wall clock, and CPU: this process's plus PostgreSQL's server process's)."""
    from django.db import connection

    get(url)
    statements = []  # counted at the cursor: Django's query log is emptied as each request starts
    with connection.execute_wrapper(lambda execute, sql, *args: statements.append(sql) or execute(sql, *args)):
        response = get(url)
    times = []
    with cpu_time() as cpu:
        for _ in range(iterations):
            start = time.perf_counter()
            get(url)
            times.append((time.perf_counter() - start) * 1000)
    return {
        "status": response.status_code,
        "queries": len(statements),
        "median": statistics.median(times),
        "p95": p95(times),
        "cpu": cpu.total * 1000 / iterations,
        "kb": len(response.content) / 1024,
    }


def started_run(get, post) -> str:
    """A run of the demo checker, started through its first step as a seller would: its step page's address."""
    page = get(f"/troubleshoot/{CHECKER}/").content.decode()
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    fields["answer"] = re.search(r'name="answer" value="(\d+)"', page).group(1)
    response = post(f"/troubleshoot/{CHECKER}/start/", fields)
    assert response.status_code == 302, response.status_code
    return response["Location"]


def pages(get, post) -> list[tuple[str, str]]:
    from troubleshoot.models import Article, Category, Checker, ErrorCode

    checker = Checker.objects.get(slug=CHECKER)
    article = Article.objects.get(slug=ARTICLE)
    category = Category.objects.order_by("pk").first()
    code = ErrorCode.objects.order_by("pk").values_list("code", flat=True).first()  # the demo library's first
    at, art = f"/admin/troubleshoot/checker/{checker.pk}", f"/admin/troubleshoot/article/{article.pk}"
    return [
        ("admin index", "/admin/"),
        ("checkers", "/admin/troubleshoot/checker/"),
        ("checkers ?q=xero", "/admin/troubleshoot/checker/?q=xero"),
        ("checkers, one category", f"/admin/troubleshoot/checker/?category__id__exact={category.pk}"),
        ("articles", "/admin/troubleshoot/article/"),
        ("articles ?q=xero", "/admin/troubleshoot/article/?q=xero"),
        ("articles, published", "/admin/troubleshoot/article/?is_published__exact=1"),
        ("categories", "/admin/troubleshoot/category/"),
        ("runs", "/admin/troubleshoot/run/"),
        ("runs ?q=<checker slug>", f"/admin/troubleshoot/run/?q={CHECKER}"),
        ("runs, abandoned", "/admin/troubleshoot/run/?status=abandoned"),
        ("support requests", "/admin/support/supportrequest/"),
        ("support requests ?q=xero", "/admin/support/supportrequest/?q=xero"),
        ("support requests, queued", "/admin/support/supportrequest/?email=queued"),
        ("article feedback", "/admin/support/articlefeedback/"),
        ("follow-up emails", "/admin/support/followupemail/"),
        ("incidents", "/admin/incidents/incident/"),
        ("new incident", "/admin/incidents/incident/add/"),
        ("editor: checker", f"{at}/change/"),
        ("editor: new checker", "/admin/troubleshoot/checker/add/"),
        ("editor: article", f"{art}/change/"),
        ("editor: new article", "/admin/troubleshoot/article/add/"),
        ("checker: publish (confirm)", f"{at}/publish/"),
        ("checker: versions", f"{at}/versions/"),
        ("checker: diff, v1 → draft", f"{at}/diff/?old=1"),
        ("checker: preview of the draft", f"/troubleshoot/{CHECKER}/preview/"),
        ("article: publish (confirm)", f"{art}/publish/"),
        ("article: versions", f"{art}/versions/"),
        ("seller: article page", f"/articles/{ARTICLE}/"),
        ("seller: checker's start page", f"/troubleshoot/{CHECKER}/"),
        ("seller: a run's step page", started_run(get, post)),
        (f"seller: /e/{code}/ (known code)", f"/e/{code}/"),
    ]


def time_database(url: str, fresh: bool, iterations: int) -> None:
    """In a child process: set Django up on `url`, time every page, print the rows as JSON."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="helpcenter.settings",
        DATABASE_URL=url,
        DATABASE_POOL="false",  # one connection, its server process's CPU read from /proc
        DEBUG="false",
        SECRET_KEY="bench-only-secret-key-" + "x" * 40,
        ALLOWED_HOSTS="testserver",
        STATIC_ROOT=str(ROOT / "var" / "bench-static"),  # the manifest DEBUG off needs
        LOG_LEVEL="WARNING",
        RATE_LIMIT_START="1000000/m",
        RATE_LIMIT_UNKNOWN_CODE="1000000/m",
    )
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--no-input", verbosity=0)
    if fresh:
        call_command("loadcontent", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    user = User.objects.filter(username="bench-staff").first()
    user = user or User.objects.create_superuser("bench-staff", "bench@example.com", None)
    client = Client()
    client.force_login(user)
    get = lambda url: client.get(url, secure=True)  # noqa: E731 - SECURE_SSL_REDIRECT is on, as in production
    post = lambda url, data: client.post(url, data, secure=True)  # noqa: E731
    print(json.dumps({name: time_page(get, url, iterations) for name, url in pages(get, post)}))


def child(args, url: str, fresh: bool) -> dict:
    command = [sys.executable, __file__, "--one", url, "--iterations", str(args.iterations)]
    done = subprocess.run(command + ["--fresh"] * fresh, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    args = parse_args()
    if args.one:
        return time_database(args.one, args.fresh, args.iterations)
    load = os.getloadavg()[0]
    os.environ["DJANGO_SETTINGS_MODULE"] = "helpcenter.settings"  # search_bench's drop() closes Django's connections
    demo_url, drop = create_database(args.database_url, args.database_name + "_demo")
    try:
        demo = child(args, demo_url, fresh=True)
    finally:
        drop()
    large = child(args, kept_database(args.database_url, args.database_name), fresh=False)

    def cell(name: str, key: str, pattern: str) -> str:
        before, after = (pattern.format(side[name][key]) for side in (demo, large))
        return f"{before} → **{after}**" if key == "p95" and large[name][key] > 300 else f"{before} → {after}"

    rows = [
        [name, row["status"], *(cell(name, key, pattern) for key, pattern in COLUMNS)] for name, row in large.items()
    ]
    engine, server = ("PostgreSQL", " + the PostgreSQL server process's") if args.database_url else ("SQLite", "")
    report = f"""## Staff and seller content pages ({engine}): demo library → 5,000 checkers + 5,000 articles

{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {os.cpu_count()} CPUs, load average {load:.1f} at the start and
{os.getloadavg()[0]:.1f} at the end (other work shares this machine: the wall-clock figures are noisy, CPU ms less so)
· `bench/content_pages.py`, {args.iterations} timed requests a page after a warm-up; SQL: the statements of one
request after the warm-up. CPU ms: a request's, this process's{server}.
Each cell: demo library → 5,000 + 5,000 (20,000 runs). p95 over 300 ms in bold.

{table(HEADERS, rows)}
"""
    Path(args.output).write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
