#!/usr/bin/env python
"""`make bench-sellers`: what a seller feels under a realistic load, measured with locust against the production stack.

The stack is `make serve`'s: gunicorn (3 workers x 4 threads) with production settings, PostgreSQL, Redis as the
cache, on a fresh database with the content library loaded. Each locust user is a seller walking a whole checker
as a person does (bench/locustfile.py ThinkingSeller): 5 to 15 s reading each step before answering, 70% with htmx
(the answer's response is the next step) and 30% without JavaScript (POST, then the redirect), with double submits
and Back. For each number of sellers: p50, p95 and p99 of every request, requests a second, failed requests, and
every run checked against what its seller answered (0 runs may differ). The load generator runs on the same cores as
the server: it takes part of the machine it measures.

The knee is the number of sellers at which p95 passes 500 ms (--knee-ms). `--sellers` is a list (500,1500,2500), a
stepped range (500-3000/500: 500, 1000, ... 3000) or both; the loads run in that order, one after another on the same
server, and stop after the first whose p95 passes the knee (--keep-going runs them all). Then --refine halves the
gap around the knee that many times (the loads between the last number under it and the first past it). The table,
sorted by sellers, and the knee's sentence are written to --output after every load, so a run cut short keeps what
it measured.

    .venv/bin/python bench/sellers.py --sellers 500-3000/500 --refine 2 --seconds 150
    .venv/bin/python bench/sellers.py --sellers 50 --seconds 30 --output /tmp/smoke.md   # does it work?
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
import urllib.request
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


def warm_up(host: str, workers: int) -> None:
    """The home page and each walked checker's first page a few times per worker, so that the first load does not
    measure each process's first renders (templates compiled, flows read)."""
    for _ in range(3 * workers):
        for path in ["/", *(f"/troubleshoot/{slug}/" for slug in WALK_CHECKERS.split(","))]:
            # As through production's TLS proxy, as the sellers' requests come (bench/locustfile.py).
            request = urllib.request.Request(host + path, headers={"X-Forwarded-Proto": "https"})
            urllib.request.urlopen(request, timeout=30).close()


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


def planned(spec: str) -> list[int]:
    """The numbers of sellers to load, in order: "500,1500,2500", a range with its step "500-3000/500", or both."""
    numbers = []
    for part in spec.replace(" ", "").split(","):
        span, _, step = part.partition("/")
        first, _, last = span.partition("-")
        if step or last:
            numbers.extend(range(int(first), int(last or first) + 1, int(step or 1)))
        else:
            numbers.append(int(first))
    if not numbers or min(numbers) < 1:
        raise ValueError("no number of sellers")
    return list(dict.fromkeys(numbers))


def bracket(results: list[dict], knee_ms: float) -> tuple[dict | None, dict | None]:
    """The load nearest under the knee and the first past it: the fewest sellers whose p95 passed `knee_ms`, and the
    most sellers below that number whose p95 did not (either None when no load was on that side)."""
    past = min((r for r in results if r["p95"] > knee_ms), key=lambda r: r["sellers"], default=None)
    under = [r for r in results if r["p95"] <= knee_ms and (past is None or r["sellers"] < past["sellers"])]
    return max(under, key=lambda r: r["sellers"], default=None), past


def knee_sentence(results: list[dict], knee_ms: float) -> str:
    under, past = bracket(results, knee_ms)
    limit = f"{knee_ms:.0f} ms"
    if past is None:
        return f"p95 stayed under {limit} up to {max(r['sellers'] for r in results)} sellers: the knee is further."
    if under is None:
        return f"p95 was past {limit} already at {past['sellers']} sellers ({past['p95']:.0f} ms): the knee is lower."
    return (f"**The knee** (p95 passes {limit}): between {under['sellers']} sellers (p95 {under['p95']:.0f} ms) and "
            f"{past['sellers']} (p95 {past['p95']:.0f} ms).")  # fmt: skip


def halfway(results: list[dict], knee_ms: float) -> int | None:
    """The number of sellers halfway between the two loads around the knee (to tens), None when they are not known
    or are too close to halve."""
    under, past = bracket(results, knee_ms)
    if under is None or past is None or past["sellers"] - under["sellers"] < 20:
        return None
    return round((under["sellers"] + past["sellers"]) / 20) * 10


def table(results: list[dict]) -> str:
    lines = ["| Sellers | Requests/s | p50 | p95 | p99 | Failed | Walks checked | Runs that differ | Load average |",
             "| --: | --: | --: | --: | --: | --: | --: | --: | --: |"]  # fmt: skip
    for r in sorted(results, key=lambda r: r["sellers"]):
        lines.append(f"| {r['sellers']} | {r['rps']:.0f} | {r['p50']:.0f} ms | {r['p95']:.0f} ms | {r['p99']:.0f} ms"
                     f" | {r['failures']} | {r['walks']} | {r['runs_differ']} | {r['load_average']:.1f} |")  # fmt: skip
    return "\n".join(lines)


def report(args, started: datetime, results: list[dict]) -> str:
    header = (f"Measured {started:%Y-%m-%d %H:%M} UTC by `bench/sellers.py --sellers {args.sellers}` on "
              f"{platform.node() or 'this machine'} ({os.cpu_count()} cores, Python {platform.python_version()}): "
              f"gunicorn {args.workers} workers x {args.threads} threads, production settings, PostgreSQL and Redis; "
              f"{args.seconds} s measured at each number of sellers after ramp-up, the loads one after another on "
              f"the same server; sellers think 5 to 15 s a step; locust runs on the same {os.cpu_count()} cores as "
              f"the server and the databases (the load average, over the last minute of each load, says how busy "
              f"they were).")  # fmt: skip
    return f"{header}\n\n{table(results)}\n\n{knee_sentence(results, args.knee_ms)}\n"


def measure(env: dict, host: str, sellers: int, args, workdir: Path, results: list[dict], started: datetime) -> dict:
    """One load, added to `results`, and the report so far written to --output."""
    results.append(load(env, host, sellers, args.seconds, workdir) | {"load_average": os.getloadavg()[0]})
    print(json.dumps(results[-1]), flush=True)
    Path(args.output).write_text(report(args, started, results))
    return results[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sellers", default="500,1500,2500", help="Sellers at each load: 500,1500 or 500-3000/500.")
    parser.add_argument("--seconds", type=int, default=150, help="Measured seconds at each number, after ramp-up.")
    parser.add_argument("--knee-ms", type=float, default=500, help="The p95 that marks the knee, in ms.")
    parser.add_argument("--keep-going", action="store_true", help="Run every load, past the knee too.")
    parser.add_argument("--refine", type=int, default=0, help="Loads that halve the gap around the knee.")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/helpcenter_bench_sellers",
                        help="A database of its own: dropped and made afresh.")  # fmt: skip
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13", help="A Redis db of its own: flushed.")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results-sellers.md"))
    args = parser.parse_args()
    try:
        plan = planned(args.sellers)
    except ValueError:
        parser.error(f"--sellers {args.sellers!r}: give numbers of sellers, e.g. 500,1500 or 500-3000/500")
    workdir = Path(tempfile.mkdtemp(prefix="bench-sellers-"))
    fresh_postgres(args.pg_url)
    env = environment(args.pg_url, args.redis_url, workdir)
    subprocess.run(["redis-cli", "-n", urllib.parse.urlsplit(args.redis_url).path.lstrip("/"), "flushdb"],
                   capture_output=True)  # fmt: skip
    manage(env, "migrate", "--no-input", "-v0")
    manage(env, "loadcontent", "-v0")
    manage(env, "collectstatic", "--no-input", "-v0")
    server = Gunicorn(env, args.workers, args.threads)
    started, results = datetime.now(UTC), []
    try:
        warm_up(server.base, args.workers)
        for sellers in plan:
            past = measure(env, server.base, sellers, args, workdir, results, started)["p95"] > args.knee_ms
            if past and not args.keep_going:
                break
        for _ in range(args.refine):
            if (sellers := halfway(results, args.knee_ms)) is None:
                break
            measure(env, server.base, sellers, args, workdir, results, started)
    finally:
        server.stop()
    print(report(args, started, results))


if __name__ == "__main__":
    main()
