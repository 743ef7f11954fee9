#!/usr/bin/env python
"""Benchmark of the review pages under /support/ with 200,000 runs and 1,000,000 answers, in two shapes.

    .venv/bin/python bench/review_bench.py                      # a fresh SQLite file in a temporary folder
    .venv/bin/python bench/review_bench.py --database-url postgres://postgres@127.0.0.1:5432/helpcenter
    .venv/bin/python bench/review_bench.py --shape checkers     # 5,000 checkers (bench/scale.py)
    .venv/bin/python bench/review_bench.py --runs 20000 --answers 100000   # a quick look

Generating 200,000 runs takes minutes (about 10 on PostgreSQL), so a generated database can be kept and timed again:

    .venv/bin/python bench/review_bench.py --keep var/review-library.sqlite3 --generate-only
    .venv/bin/python bench/review_bench.py --reuse var/review-library.sqlite3
    .venv/bin/python bench/review_bench.py --database-url postgres://postgres@127.0.0.1:5432/hc \
        --bench-database hc_bench --keep --generate-only
    .venv/bin/python bench/review_bench.py --reuse postgres://postgres@127.0.0.1:5432/hc_bench

It builds a throw-away database (SQLite: a temporary file with the real settings, WAL and all, or the file given to
`--keep`; PostgreSQL: a database named after the URL's with `_bench` added, or `--bench-database`, on that server,
dropped at the end unless `--keep`) and imports the real library. `--shape checkers` then grows it with
bench/scale.py (5,000 checkers, 200,000 runs over 90 days, about 1,000,000 answers); `--shape library` (the default)
generates runs for the library's own checkers with `bulk_create`: each run walks its checker's live flow at random
(answers chosen at random, "None of these fit" now and then), ending resolved or escalated, or left open (abandoned,
a few still in progress), spread over 180 days and 10 sources; withdrawn answers (Back) make up the rest of the
answers; half the escalated runs have a support request, some resolved runs a follow-up answer, and articles get
feedback. Then it fills the day tables as the cron job does (`manage.py rollupruns`, timed), signs in as a
superuser and times every review page, over the last 30 days and over 181 days, with `django.test.Client` (every
middleware; `--iterations` requests after one untimed): median, 95th percentile and the number of SQL queries. The
CSV export of the biggest filter is timed once, with the process's peak memory before and after.

`--reuse` times a kept database again: migrated (a migration that changes the day-by-day counts drops them, and they
are counted again), the library imported again (a no-op when unchanged), the settled days not yet counted counted as
cron would (`--recount` drops every day's counts first and times counting them all, as after a fresh generation).

Markdown goes to stdout (and `--output`); progress to stderr.
"""

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="PostgreSQL server to use (default: a SQLite file)")
    parser.add_argument("--shape", choices=["library", "checkers"], default="library")
    parser.add_argument("--runs", type=int, default=200_000)
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--output", default="")
    parser.add_argument("--no-csv", dest="csv", action="store_false", help="skip timing the CSV export")
    parser.add_argument(
        "--reuse",
        default="",
        metavar="FILE_OR_URL",
        help="time a database kept by an earlier --keep run again (a SQLite file, or a postgres:// URL)",
    )
    parser.add_argument(
        "--recount", action="store_true", help="with --reuse: count every settled day again (timed), as when fresh"
    )
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument(
        "--keep",
        nargs="?",
        const=True,
        default=False,
        metavar="FILE",
        help="keep the generated database (SQLite: at FILE, or in a temporary folder; its address is printed)",
    )
    parser.add_argument("--bench-database", default="", help="PostgreSQL: the database to create (or <name>_bench)")
    parser.add_argument("--generate-only", action="store_true", help="generate, count the settled days; no timing")
    args = parser.parse_args()
    if args.generate_only and not args.keep:
        parser.error("--generate-only needs --keep")
    return args


def set_up_database(url: str, bench_db: str, keep) -> tuple[str, callable]:
    """A new, empty database: its URL and what removes it at the end (nothing when kept)."""
    if not url:
        if isinstance(keep, str):
            path = Path(keep).resolve()
            path.parent.mkdir(parents=True, exist_ok=True)
            for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                stale.unlink(missing_ok=True)
            return f"sqlite:///{path}", lambda: None
        folder = tempfile.mkdtemp(prefix="review-bench-")
        if keep:
            return f"sqlite:///{folder}/bench.sqlite3", lambda: None
        return f"sqlite:///{folder}/bench.sqlite3", lambda: shutil.rmtree(folder, ignore_errors=True)
    import psycopg

    base, name = url.rsplit("/", 1)
    bench_db = bench_db or f"{name or 'helpcenter'}_bench"
    url = f"{base}/postgres"  # the server's maintenance database, to create and drop ours
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {bench_db}")
        conn.execute(f"CREATE DATABASE {bench_db}")

    def drop():
        from django.db import connections

        connections.close_all()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {bench_db} WITH (FORCE)")  # the pool's idle connections

    return f"{base}/{bench_db}", (lambda: None) if keep else drop


def generate(runs_wanted: int, answers_wanted: int, seed: int) -> dict:
    from django.utils import timezone

    from support.models import ArticleFeedback, SupportRequest
    from troubleshoot import versioncache, versions
    from troubleshoot.models import Answer, Article, Checker, FollowUp, Run

    rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
    checkers = list(Checker.objects.published())
    weights = [rng.randint(1, 20) for _ in checkers]
    busiest = max(zip(weights, checkers, strict=True), key=lambda pair: pair[0])[1]
    # The busiest checker gets a second version (a reworded step): its runs are split between the two.
    step = busiest.steps.order_by("position").first()
    step.title = step.title[:100] + " (reworded)"
    step.save()
    versions.publish(busiest, note="Reworded the first step")
    flows = [
        (checker, [versioncache.flow_of(v) for v in checker.versions.values_list("id", flat=True)])
        for checker in Checker.objects.published().filter(pk__in=[c.pk for c in checkers]).order_by("pk")
    ]
    weights = [dict(zip([c.pk for c in checkers], weights, strict=True))[checker.pk] for checker, _ in flows]
    sources = [value for value, _ in Run.Source.choices]
    now = timezone.now()
    runs, answers, requests = [], [], []
    live_paths = []
    for n in range(runs_wanted):
        checker, choices = rng.choices(flows, weights)[0]
        flow = rng.choice(choices)
        started = now - timedelta(seconds=rng.randint(0, 180 * 86400))
        at = started
        step, path, said = flow.start, [], []
        outcome, end_key, end_title, current = Run.Outcome.OPEN, "", "", ""
        while step is not None:
            if rng.random() < 0.06:  # the seller leaves here
                current = step.key
                break
            at += timedelta(seconds=rng.randint(5, 120))
            if rng.random() < 0.02:
                index, label, answer_outcome, nxt = Answer.NONE_FIT, Answer.NONE_FIT_LABEL, "escalate", ""
            else:
                choice = rng.choice(step.answers)
                index, label, answer_outcome, nxt = choice.index, choice.label, choice.outcome, choice.next
            said.append((step, index, label, at))
            path.append(f"{step.key}:{index}")
            if answer_outcome:
                outcome = Run.Outcome.RESOLVED if answer_outcome == "resolved" else Run.Outcome.ESCALATED
                end_key, end_title = step.key, step.title
                break
            step = flow.by_key.get(nxt)
        run_id = uuid.uuid4()
        open_recent = outcome == Run.Outcome.OPEN and n % 50 == 0
        if open_recent:
            started = at = now - timedelta(minutes=5)
        runs.append(
            Run(
                id=run_id,
                checker=checker,
                version_id=flow.version_id,
                source=rng.choice(sources),
                current_step_key=current,
                outcome=outcome,
                end_step_key=end_key,
                end_step_title=end_title,
                path="/".join(path),
                started_at=started,
                started_on=timezone.localdate(started),
                last_activity_at=at,
                ended_at=at if outcome != Run.Outcome.OPEN else None,
                followup_answer=rng.choice([FollowUp.FIXED, FollowUp.CAME_BACK, ""])
                if outcome == Run.Outcome.RESOLVED and rng.random() < 0.1
                else "",
            )
        )
        for step_node, index, label, when in said:
            answers.append(
                Answer(
                    run_id=run_id,
                    step_key=step_node.key,
                    answer_index=index,
                    step_title=step_node.title,
                    question=step_node.question,
                    choice_label=label,
                    answered_at=when,
                    note="Something else entirely" if index == Answer.NONE_FIT else "",
                )
            )
        if said:
            live_paths.append((run_id, said))
        if outcome == Run.Outcome.ESCALATED and rng.random() < 0.5:
            requests.append(
                SupportRequest(
                    run_id=run_id,
                    # Unique by construction: 61,000 random six-character references would collide.
                    reference=f"HC-B{len(requests):07d}",
                    email="seller@shop.test",
                    description="It still fails",
                    created_at=at,
                )
            )
    while len(answers) < answers_wanted:  # withdrawn answers (Back) make up the rest
        run_id, said = rng.choice(live_paths)
        step_node, index, label, when = rng.choice(said)
        answers.append(
            Answer(
                run_id=run_id,
                step_key=step_node.key,
                answer_index=0,
                step_title=step_node.title,
                question=step_node.question,
                choice_label=step_node.answers[0].label if step_node.answers else "?",
                answered_at=when,
                withdrawn_at=when,
            )
        )
    log(f"  {len(runs)} runs, {len(answers)} answers, {len(requests)} support requests")
    Run.objects.bulk_create(runs, batch_size=5000)
    log("  runs stored")
    Answer.objects.bulk_create(answers, batch_size=5000)
    log("  answers stored")
    SupportRequest.objects.bulk_create(requests, batch_size=5000)
    articles = list(Article.objects.published())
    ArticleFeedback.objects.bulk_create(
        [
            ArticleFeedback(
                article=rng.choice(articles),
                helpful=rng.random() < 0.6,
                comment="Missing a step" if rng.random() < 0.3 else "",
                created_at=now - timedelta(seconds=rng.randint(0, 180 * 86400)),
            )
            for _ in range(5000)
        ],
        batch_size=5000,
    )
    busiest.refresh_from_db()
    return {
        "runs": len(runs),
        "answers": len(answers),
        "busiest": busiest,
        "run": runs[len(runs) // 2],
        "request": requests[0] if requests else None,
    }


def grow_checkers() -> dict:
    """The 5,000-checker shape: bench/scale.py run as `make bench --scale` runs it."""
    exec(compile((ROOT / "bench" / "scale.py").read_text(), "bench/scale.py", "exec"), {"__name__": "scale"})  # noqa: S102
    return found()


def found() -> dict:
    """What the pages are timed on, read back from the generated data: the busiest checker (of those with the most
    versions), a run, a support request."""
    from django.db.models import Count

    from support.models import SupportRequest
    from troubleshoot.models import Answer, Checker, Run

    busiest = (
        Checker.objects.annotate(n=Count("runs"), v=Count("versions", distinct=True))
        .order_by("-v", "-n")
        .select_related("live_version")
        .first()
    )
    total = Run.objects.count()
    return {
        "checkers": Checker.objects.count(),
        "runs": total,
        "answers": Answer.objects.count(),
        "busiest": busiest,
        "run": Run.objects.order_by("started_at")[total // 2],
        "request": SupportRequest.objects.order_by("pk").first(),
    }


def measure(client, url: str, iterations: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get():
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
        assert response.status_code == 200, (url, response.status_code)

    get()
    times, cpu = [], []
    for _ in range(iterations):
        start, start_cpu = time.perf_counter(), time.process_time()
        get()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    with CaptureQueriesContext(connection) as captured:
        get()
    times.sort()
    return {
        "median": statistics.median(times),
        "p95": times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)],
        # This process's own CPU time: on a loaded machine the wall clock counts the wait for a core too. On SQLite
        # it includes the queries (the database runs in this process); on PostgreSQL they run in the server.
        "cpu": statistics.median(cpu),
        "queries": len(captured),
    }


def main() -> None:
    args = parse()
    if args.reuse:
        url = args.reuse if "://" in args.reuse else f"sqlite:///{Path(args.reuse).resolve()}"
        drop = lambda: None  # noqa: E731
    else:
        url, drop = set_up_database(args.database_url, args.bench_database, args.keep)
        if args.keep:
            log(f"keeping {url} (time it again with --reuse {url if args.database_url else url[len('sqlite:///') :]})")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpcenter.settings")
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("BENCHMARK", "true")  # /bench/minimal/: the machine's speed beside the pages
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from review.models import FillState

    settings.ALLOWED_HOSTS = ["*"]
    try:
        log(f"database: {connection.vendor}")
        call_command("migrate", verbosity=0)
        call_command("loadcontent", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
        started = time.perf_counter()
        if args.reuse:
            if args.recount:
                FillState.objects.all().delete()  # filled anew from the first run, as after a fresh generation
            data = found()
            # The kept data's shape, whatever --shape says (it named the library's when the data had 5,000 checkers).
            args.shape = "checkers" if data["checkers"] > 1000 else "library"
        else:
            data = generate(args.runs, args.answers, args.seed) if args.shape == "library" else grow_checkers()
        generated = time.perf_counter() - started
        log(f"  generated in {generated:.0f} s")
        with connection.cursor() as cursor:
            # Fresh statistics (and on PostgreSQL the visibility map index-only scans need), as autovacuum gives.
            cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
        started = time.perf_counter()
        call_command("rollupruns", stdout=open(os.devnull, "w"))  # noqa: SIM115 - the cron job, before anyone reads
        rolled = time.perf_counter() - started
        log(f"  settled days counted in {rolled:.0f} s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        if args.generate_only:
            return
        client = Client()
        client.force_login(
            User.objects.filter(username="bench").first()
            or User.objects.create_superuser("bench", password="bench-only-password")  # noqa: S106
        )
        slug = data["busiest"].slug
        live = data["busiest"].live_version.number
        every = "from=" + (timezone.localdate() - timedelta(days=180)).isoformat()
        pages = [
            ("Overview, last 30 days", "/support/"),
            ("Overview, 181 days (every run)", f"/support/?{every}"),
            ("Overview sorted by self-service rate, 30 days", "/support/?sort=rate&dir=asc"),
            ("Overview sorted by self-service rate, 181 days", f"/support/?{every}&sort=rate&dir=asc"),
            ("Checker page (busiest checker), 30 days", f"/support/checkers/{slug}/"),
            ("Checker page (busiest checker), 181 days", f"/support/checkers/{slug}/?{every}"),
            (
                "Checker page, 30 days, two versions side by side",
                f"/support/checkers/{slug}/?version={live}&compare={live - 1}" if live > 1 else "",
            ),
            (
                "Checker page, 181 days, two versions side by side",
                f"/support/checkers/{slug}/?{every}&version={live}&compare={live - 1}" if live > 1 else "",
            ),
            ("Runs, first page", "/support/runs/"),
            (
                "Runs, 181 days, filtered: checker + abandoned",
                f"/support/runs/?from=2000-01-01&checker={slug}&outcome=abandoned",
            ),
            (
                "Runs, 181 days, filtered: source + escalated",
                "/support/runs/?from=2000-01-01&source=email&outcome=escalated",
            ),
            ("A run's timeline", f"/support/runs/{data['run'].pk}/"),
            ("Support requests (new)", "/support/requests/"),
            ("Support requests (all)", "/support/requests/?status=all"),
            ("A support request", f"/support/requests/{data['request'].reference}/" if data["request"] else ""),
            ("Gap inbox, last 30 days", "/support/gaps/"),
            ("Gap inbox, 181 days", f"/support/gaps/?{every}"),
        ]
        rows = []
        for name, page in pages:
            if not page:
                continue
            timed = measure(client, page, args.iterations)
            rows.append((name, page, timed))
            log(
                f"  {name}: {timed['median']:.0f} ms (p95 {timed['p95']:.0f} ms, CPU {timed['cpu']:.0f} ms), "
                f"{timed['queries']} queries"
            )
        shape = (
            "the demo library's checkers (the busiest with two versions), runs over 181 days"
            if args.shape == "library"
            else "5,000 checkers (bench/scale.py), runs over 90 days"
        )
        origin = (
            "generated by an earlier run (--keep, then --reuse)" if args.reuse else f"generated in {generated:.0f} s"
        )
        counted = (
            f"the settled days counted by `manage.py rollupruns` (as cron would, before anyone reads) in {rolled:.0f} s"
            if rolled > 1 or not args.reuse
            else "the settled days counted by an earlier run's `manage.py rollupruns` (as cron keeps them)"
        )
        out = [
            f"### Review pages on {connection.vendor}: {shape} ({data['runs']:,} runs, {data['answers']:,} answers)",
            "",
            f"{args.iterations} requests a row after one untimed, Django's test client, DEBUG on, signed in as a "
            f"superuser; data {origin}; {counted}; load average {os.getloadavg()[0]:.1f} at the "
            "end (2 cores, shared).",
            "",
            "| Page | SQL queries | Median | p95 | CPU (median) |",
            "| --- | --: | --: | --: | --: |",
        ]
        for name, _page, timed in rows:
            out.append(
                f"| {name} | {timed['queries']} | {timed['median']:.0f} ms | {timed['p95']:.0f} ms | "
                f"{timed['cpu']:.0f} ms |"
            )
        # This machine's speed drifts by up to two to one over an hour: the smallest Django view through the same
        # client and middleware, timed right after the pages, says how fast it was while they were timed.
        minimal = measure(client, "/bench/minimal/", max(args.iterations, 50))
        out += [
            "",
            f"The minimal Django view (`/bench/minimal/`) through the same client, just after: median "
            f"{minimal['median']:.2f} ms, CPU {minimal['cpu']:.2f} ms, of {max(args.iterations, 50)} requests (this "
            "machine's speed at the time, to compare tables taken at different times).",
            "",
        ]
        if args.csv:
            # The export of about 100,000 runs (the last 90 days), with Python's allocations traced while it streams.
            half = "from=" + (timezone.localdate() - timedelta(days=89)).isoformat()
            tracemalloc.start()
            start = time.perf_counter()
            response = client.get(f"/support/runs.csv?{half}")
            lines = sum(chunk.count(b"\n") for chunk in response.streaming_content) - 1
            csv_seconds = time.perf_counter() - start
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            out += [
                f"`/support/runs.csv` of the last 90 days ({lines:,} rows, streamed): {csv_seconds:.1f} s with "
                f"Python's memory tracing on; the most memory allocated at once while streaming it: "
                f"{peak / 1e6:.1f} MB.",
                "",
            ]
        text = "\n".join(out)
        print(text)
        if args.output:
            Path(args.output).write_text(text + "\n")
    finally:
        drop()


if __name__ == "__main__":
    main()
