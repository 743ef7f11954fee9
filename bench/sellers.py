#!/usr/bin/env python
"""`make bench-sellers`: what a seller feels under a realistic load, measured with locust against the production stack.

The stack is `make serve`'s: gunicorn (3 workers x 4 threads) with production settings, PostgreSQL, Redis as the
cache, on a fresh database with the content library loaded. Each locust user is a seller walking a whole checker
as a person does (bench/locustfile.py ThinkingSeller): 5 to 15 s reading each step before answering, 70% with htmx
(the answer's response is the next step) and 30% without JavaScript (POST, then the redirect), with double submits
and Back. For each number of sellers: p50, p95 and p99 of every request, requests a second, failed requests, and
every run checked against what its seller answered (0 runs may differ). The load generator runs on the same cores as
the server: it takes part of the machine it measures.

    .venv/bin/python bench/sellers.py --sellers 500,1500,2500 --seconds 150
"""

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import CHECK_WALKS, PY, ROOT, WALK_CHECKERS, Gunicorn, environment, manage  # noqa: E402


def fresh_postgres(url: str) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    server = urllib.parse.urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def load(env: dict, host: str, sellers: int, seconds: int, workdir: Path) -> dict:
    """Ramp up `sellers` at 50 a second, reset the figures, then measure `seconds` of walking."""
    prefix = workdir / f"sellers-{sellers}"
    walks_file = workdir / f"walks-{sellers}.json"
    ramp = sellers // 50 + 1
    command = [PY, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless", "--only-summary",
               "-u", str(sellers), "-r", "50", "-t", f"{seconds + ramp}s", "--reset-stats", "--host", host,
               "--csv", str(prefix), "--loglevel", "ERROR", "--stop-timeout", "20", "--checkers", WALK_CHECKERS,
               "ThinkingSeller"]  # fmt: skip
    subprocess.run(command, cwd=ROOT, env=env | {"BENCH_WALKS_FILE": str(walks_file)}, capture_output=True,
                   text=True, timeout=seconds + ramp + 180)  # fmt: skip
    with open(f"{prefix}_stats.csv") as stats:
        rows = {row["Name"]: row for row in csv.DictReader(stats)}
    total = rows["Aggregated"]
    walks = json.loads(manage(env, "shell", "-v0", "-c", CHECK_WALKS.format(path=str(walks_file))))
    return {
        "sellers": sellers,
        "rps": float(total["Requests/s"]),
        "requests": int(total["Request Count"]),
        "failures": int(total["Failure Count"]),
        "p50": float(total["50%"]),
        "p95": float(total["95%"]),
        "p99": float(total["99%"]),
        "walks": walks["walks"],
        "runs_differ": walks["wrong_count"],
        "p95_p99_by_request": {
            name: (float(row["95%"]), float(row["99%"])) for name, row in rows.items() if name != "Aggregated"
        },
    }


def table(results: list[dict]) -> str:
    lines = ["| Sellers | Requests/s | p50 | p95 | p99 | Failed | Walks checked | Runs that differ |",
             "| --: | --: | --: | --: | --: | --: | --: | --: |"]  # fmt: skip
    for r in results:
        lines.append(f"| {r['sellers']} | {r['rps']:.0f} | {r['p50']:.0f} ms | {r['p95']:.0f} ms | {r['p99']:.0f} ms"
                     f" | {r['failures']} | {r['walks']} | {r['runs_differ']} |")  # fmt: skip
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sellers", default="500,1500,2500", help="Comma-separated numbers of concurrent sellers.")
    parser.add_argument("--seconds", type=int, default=150, help="Measured seconds at each number, after ramp-up.")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/helpcenter_bench_sellers")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results-sellers.md"))
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-sellers-"))
    fresh_postgres(args.pg_url)
    env = environment(args.pg_url, args.redis_url, workdir)
    subprocess.run(["redis-cli", "-n", urllib.parse.urlsplit(args.redis_url).path.lstrip("/"), "flushdb"],
                   capture_output=True)  # fmt: skip
    manage(env, "migrate", "--no-input", "-v0")
    manage(env, "loadcontent", "-v0")
    manage(env, "collectstatic", "--no-input", "-v0")
    server = Gunicorn(env, args.workers, args.threads)
    results = []
    try:
        for sellers in (int(n) for n in args.sellers.split(",")):
            results.append(load(env, server.base, sellers, args.seconds, workdir))
            print(json.dumps(results[-1]), flush=True)
    finally:
        server.stop()
    header = (f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `bench/sellers.py` on "
              f"{platform.node() or 'this machine'} ({os.cpu_count()} cores, Python {platform.python_version()}): "
              f"gunicorn {args.workers} workers x {args.threads} threads, production settings, PostgreSQL and Redis; "
              f"{args.seconds} s measured at each number of sellers after ramp-up; sellers think 5 to 15 s a step; "
              f"locust runs on the same 2 cores as the server and the databases.")  # fmt: skip
    report = header + "\n\n" + table(results) + "\n"
    Path(args.output).write_text(report)
    print(report)


if __name__ == "__main__":
    main()
