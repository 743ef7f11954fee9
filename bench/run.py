#!/usr/bin/env python
"""`make bench`: the portal under load, measured with locust against gunicorn, on SQLite and on PostgreSQL.

For each database (PostgreSQL only when it answers on 127.0.0.1:5432; with Redis as the cache when that answers
on 127.0.0.1:6379, as production runs):

1. a fresh database, migrated, with the content library loaded and static files collected;
2. gunicorn with production settings (DEBUG off, behind a TLS proxy as far as Django can tell) and BENCHMARK on,
   which adds /bench/minimal/: the smallest Django view, through the same middleware and server;
3. single requests timed in-process with their query counts (bench/inprocess.py);
4. locust, headless, one page at a time (bench/locustfile.py): throughput, p50 and p99 of each seller page and of a
   step answer (htmx and without JavaScript), and each as a ratio to the minimal view measured in the same run,
   loaded before every page and after the last (each page's ratio is to the two loads beside it);
5. 200 sellers walking whole checkers at once, with double submits and Back; then every run in the database is
   compared with what its seller believes they answered: each answer recorded exactly once, and zero errors;
6. with --scale (the default), the database grown to 5,000 checkers, 200,000 runs and about 1,000,000 answers
   (bench/scale.py), and step 3 again: seller pages, a step answer, the admin's lists (and the review pages).

The figures are printed as Markdown and written to bench/results.md. They are measurements, not tests.
"""

import argparse
import csv
import json
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import date
from pathlib import Path

from runurl import run_id

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PAGES = [
    ("Minimal", "/bench/minimal/", "minimal Django view (the yardstick)"),
    ("Home", "/", "home page"),
    ("Article", "/articles/troubleshooting-xero-connection/", "article"),
    ("CheckerStart", "/troubleshoot/connection-error/?source=email&code=XC-001", "checker's first step"),
    ("StepAnswerHtmx", "step answer (htmx)", "step answer, htmx (→ next step's panel)"),
    ("StepAnswerNoJs", "step answer (no JavaScript)", "step answer, no JavaScript (→ 302)"),
]
WALK_CHECKERS = "connection-error,settlement-not-permitted,lock-date,xero-disconnected,stuck-connect-bookkeeping"


def answers(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(env: dict, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, input=stdin, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def environment(database_url: str, redis_url: str, workdir: Path) -> dict:
    return {
        **{k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE",)},
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,testserver",  # testserver: the in-process client
        "BEHIND_TLS_PROXY": "true",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "STATIC_ROOT": str(workdir / "static"),
        "BENCHMARK": "true",
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_START": "1000000/m",  # one address sends everything here
        "RATE_LIMIT_SUPPORT": "1000000/m",
        "RATE_LIMIT_SEARCH": "1000000/m",
        "RATE_LIMIT_UNKNOWN_CODE": "1000000/m",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }


CLONE_RUNS = "import json; from bench.clones import clone_runs; print(json.dumps(clone_runs({seed!r}, {count})))"

CHECK_WALKS = """
import json
from troubleshoot.models import Run
walks = json.load(open({path!r}))
ids = [walk["run"] for walk in walks]
runs = {{str(run.pk): run for run in Run.objects.filter(pk__in=ids).prefetch_related("answers")}}
wrong = []
for walk in walks:
    run = runs.get(walk["run"])
    live = [a.choice_label for a in run.answers.all() if a.withdrawn_at is None] if run else None
    if live != walk["path"]:
        wrong.append({{"run": walk["run"], "expected": walk["path"], "recorded": live}})
recorded = sum(len([a for a in run.answers.all() if a.withdrawn_at is None]) for run in runs.values())
print(json.dumps({{"walks": len(walks), "runs": len(runs), "live_answers": recorded, "wrong": wrong[:5],
                  "wrong_count": len(wrong), "all_runs": Run.objects.count()}}))
"""


def seed_run(base: str) -> str:
    """A run waiting at its second step, started through HTTP like any seller's (the page, then the first answer)."""
    import re

    secure = base.replace("http://", "https://")
    headers = {"X-Forwarded-Proto": "https", "Origin": secure, "Referer": secure + "/"}
    with urllib.request.urlopen(urllib.request.Request(f"{base}/troubleshoot/connection-error/", headers=headers)) as r:
        html = r.read().decode()
        cookie = r.headers["Set-Cookie"].split(";", 1)[0]
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
    choice = re.search(r'name="answer" value="(\d+)"', html).group(1)
    body = urllib.parse.urlencode(hidden | {"answer": choice}).encode()
    request = urllib.request.Request(
        f"{base}/troubleshoot/connection-error/start/",
        data=body,
        headers=headers | {"Cookie": cookie, "HX-Request": "true"},
    )
    with urllib.request.urlopen(request) as r:
        return run_id(r.headers["HX-Push-Url"])


class Gunicorn:
    def __init__(self, env: dict, workers: int, threads: int, port: int = 0):
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        command = [PY, "-m", "gunicorn", "helpcenter.wsgi", "--bind", f"127.0.0.1:{self.port}", "--workers",
                   str(workers), "--threads", str(threads), "--log-level", "warning"]  # fmt: skip
        self.process = subprocess.Popen(command, cwd=ROOT, env=env)
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{self.base}/healthz", timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit("gunicorn did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=20)


def locust(env: dict, user_class: str, host: str, users: int, seconds: int, workdir: Path, *extra: str) -> dict:
    """Run one locust scenario headless; return its stats rows by request name."""
    prefix = workdir / f"locust-{user_class}"
    command = [PY, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless", "--only-summary",
               "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--host", host, "--csv", str(prefix),
               "--loglevel", "ERROR", *extra, user_class]  # fmt: skip
    subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds + 120)
    with open(f"{prefix}_stats.csv") as stats:
        return {row["Name"]: row for row in csv.DictReader(stats)}


def inprocess(env: dict) -> dict:
    """Single requests timed in-process with their query counts (bench/inprocess.py)."""
    return json.loads(manage(env, "shell", "-v0", "-c", (ROOT / "bench" / "inprocess.py").read_text()))


def measure(label: str, database_url: str, redis_url: str, args) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    env = environment(database_url, redis_url, workdir)
    manage(env, "migrate", "--no-input", "-v0")
    manage(env, "loadcontent", "-v0")
    manage(env, "collectstatic", "--no-input", "-v0")
    small = inprocess(env) if args.scale else {}
    server = Gunicorn(env, args.workers, args.threads, args.port)
    try:
        seed = seed_run(server.base)
        rows, yardsticks = {}, []

        def load(user_class: str, name: str) -> dict:
            row = locust(env, user_class, server.base, args.users, args.seconds, workdir).get(name) or {}
            return {
                "rps": float(row.get("Requests/s") or 0),
                "p50": float(row.get("50%") or 0),
                "p99": float(row.get("99%") or 0),
                "requests": int(row.get("Request Count") or 0),
                "failures": int(row.get("Failure Count") or 0),
            }

        # The minimal view is loaded before every page and after the last: each page's ratio is to the mean of the
        # two beside it, as this machine's speed drifts over minutes (a shared virtual machine: the minimal view
        # measured 1,250 and 2,100 requests a second an hour apart).
        minimal_class, minimal_name, minimal_title = PAGES[0]
        yardsticks.append(load(minimal_class, minimal_name))
        for user_class, name, title in PAGES[1:]:
            if args.pages and user_class not in args.pages.split(","):
                continue
            if user_class.startswith("StepAnswer"):
                listing = workdir / f"runs-{user_class}.json"
                listing.write_text(manage(env, "shell", "-v0", "-c", CLONE_RUNS.format(seed=seed, count=args.clones)))
                env["BENCH_RUNS_FILE"] = str(listing)
            rows[title] = load(user_class, name)
            yardsticks.append(load(minimal_class, minimal_name))
            rows[title]["yardstick"] = (yardsticks[-2]["rps"] + yardsticks[-1]["rps"]) / 2
            print(f"  {label}: {title}: {rows[title]}", flush=True)
        rows = {minimal_title: _mean(yardsticks), **rows}
        print(f"  {label}: {minimal_title}: {[round(y['rps']) for y in yardsticks]}", flush=True)
        walk = walking_sellers(env, server, workdir, label, args) if args.walk else {}
    finally:
        server.stop()
    large = {}
    if args.scale:
        began = time.monotonic()
        print(f"  {label}: {manage(env, 'shell', '-v0', '-c', (ROOT / 'bench' / 'scale.py').read_text()).strip()}"
              f" generated in {time.monotonic() - began:.0f} s", flush=True)  # fmt: skip
        large = inprocess(env)
    return {"pages": rows, "walk": walk, "small": small, "large": large}


def walking_sellers(env: dict, server: Gunicorn, workdir: Path, label: str, args) -> dict:
    """200 sellers walking whole checkers; then every run checked against what its seller answered."""
    walks_file = workdir / "walks.json"
    env["BENCH_WALKS_FILE"] = str(walks_file)
    stats = locust(env, "WalkingSeller", server.base, args.sellers, args.walk_seconds, workdir,
                   "--checkers", WALK_CHECKERS)  # fmt: skip
    aggregated = stats.get("Aggregated", {})
    walk = json.loads(manage(env, "shell", "-v0", "-c", CHECK_WALKS.format(path=str(walks_file))))
    walk |= {"sellers": args.sellers, "requests": int(aggregated.get("Request Count") or 0),
             "failures": int(aggregated.get("Failure Count") or 0)}  # fmt: skip
    print(f"  {label}: walks: {walk}", flush=True)
    return walk


def _mean(yardsticks: list[dict]) -> dict:
    """The minimal view's loads as one row: their mean, the range of requests a second, every request counted."""
    rates = [y["rps"] for y in yardsticks]
    return {
        "rps": sum(rates) / len(rates),
        "range": (min(rates), max(rates)),
        "p50": sorted(y["p50"] for y in yardsticks)[len(yardsticks) // 2],
        "p99": max(y["p99"] for y in yardsticks),
        "requests": sum(y["requests"] for y in yardsticks),
        "failures": sum(y["failures"] for y in yardsticks),
    }


def table(label: str, result: dict) -> str:
    pages = result["pages"]
    yardstick = pages["minimal Django view (the yardstick)"]
    lines = [
        f"**{label}**",
        "",
        "| Request | Requests/s | Minimal view beside it | Ratio to minimal | p50 | p99 | Ratio p50 | Failures |",
        "| --- | --: | --: | --: | --: | --: | --: | --: |",
    ]
    for title, row in pages.items():
        beside = row.get("yardstick", yardstick["rps"])
        ratio = row["rps"] / beside if beside else 0
        p50_ratio = row["p50"] / yardstick["p50"] if yardstick["p50"] else 0
        low, high = row.get("range", (beside, beside))
        lines.append(
            f"| {title} | {row['rps']:.0f} | {f'{low:.0f} to {high:.0f}' if 'range' in row else f'{beside:.0f}'} "
            f"| {ratio:.2f} | {row['p50']:.0f} ms | {row['p99']:.0f} ms | {p50_ratio:.1f}x | {row['failures']} |"
        )
    walk = result["walk"]
    if walk:
        lines += [
            "",
            f"Walking sellers: {walk['walks']} whole walks by {walk['sellers']} concurrent sellers "
            f"({walk['requests']} requests, {walk['failures']} failed); {walk['live_answers']} live answers "
            f"recorded; runs whose recorded answers differ from what the seller answered: **{walk['wrong_count']}**.",
        ]
    if result["large"]:
        lines += [
            "",
            "At scale: the demo library and a few runs, then 5,000 checkers, 200,000 runs and about 1,000,000 "
            "answers (bench/scale.py); single requests in-process (bench/inprocess.py), median of 15:",
            "",
            "| Request | Small: p50 | queries | At scale: p50 | queries | Ratio |",
            "| --- | --: | --: | --: | --: | --: |",
        ]
        for name, large in result["large"].items():
            small = result["small"].get(name, {})
            ratio = large["p50"] / small["p50"] if small.get("p50") else 0
            lines.append(
                f"| {name} | {small.get('p50', 0):.1f} ms | {small.get('queries', '-')} | {large['p50']:.1f} ms "
                f"| {large['queries']} | {ratio:.1f}x |"
            )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=15, help="How long each page is loaded.")
    parser.add_argument("--users", type=int, default=16, help="Concurrent locust users per page.")
    parser.add_argument("--sellers", type=int, default=200)
    parser.add_argument("--walk-seconds", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes.")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker.")
    parser.add_argument("--clones", type=int, default=20000, help="Runs prepared for each step-answer scenario.")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (default: any free one).")
    parser.add_argument(
        "--pg-url",
        default="postgres://postgres@127.0.0.1:5432/helpcenter_bench",
        help="The PostgreSQL database to measure on: dropped and created afresh (default: helpcenter_bench).",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13", help="Redis for the PostgreSQL run.")
    parser.add_argument("--pages", default="", help="Only these locust classes (comma-separated), with Minimal.")
    parser.add_argument("--walk", action=argparse.BooleanOptionalAction, default=True, help="The walking sellers.")
    parser.add_argument(
        "--scale",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Also grow the database to 5,000 checkers and 200,000 runs and time pages again.",
    )
    parser.add_argument("--output", default=str(ROOT / "bench" / "results.md"))
    args = parser.parse_args()

    redis = urllib.parse.urlsplit(args.redis_url)
    redis_url = args.redis_url if answers(redis.hostname or "127.0.0.1", redis.port or 6379) else ""
    sections = []
    if args.only != "postgresql":
        database = Path(tempfile.mkdtemp(prefix="bench-db-")) / "bench.sqlite3"
        print("SQLite", flush=True)
        sections.append(table("SQLite (local-memory cache)", measure("SQLite", f"sqlite:///{database}", "", args)))
    pg = urllib.parse.urlsplit(args.pg_url)
    if args.only != "sqlite" and answers(pg.hostname or "127.0.0.1", pg.port or 5432):
        import psycopg

        name = pg.path.lstrip("/")
        server = urllib.parse.urlunsplit(pg._replace(scheme="postgresql", path="/postgres"))
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
        print("PostgreSQL", flush=True)
        url = args.pg_url
        cache = "Redis cache" if redis_url else "local-memory cache"
        sections.append(table(f"PostgreSQL ({cache})", measure("PostgreSQL", url, redis_url, args)))
    header = (
        f"Measured {date.today():%Y-%m-%d} by `make bench` on {platform.node() or 'this machine'} "
        f"({os.cpu_count()} cores, Python {platform.python_version()}): gunicorn with {args.workers} workers x "
        f"{args.threads} threads, production settings; locust with {args.users} users for {args.seconds} s a page, "
        f"on the same machine as the server; the minimal view loaded before every page and after the last, each "
        f"page's ratio taken to the mean of the two beside it."
    )
    report = "\n\n".join([header, *sections]) + "\n"
    Path(args.output).write_text(report)
    print()
    print(report)


if __name__ == "__main__":
    main()
