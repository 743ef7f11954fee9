#!/usr/bin/env python
"""Benchmark of search and of the pages that list content, with the demo library and with 5,000 checkers and
5,000 articles generated beside it.

    make bench-search                       # = .venv/bin/python bench/search_bench.py (SQLite)
    .venv/bin/python bench/search_bench.py --database-url postgres://postgres@127.0.0.1:5432/postgres \
        --output bench/search-results-postgresql.md

What it does:

* Builds a throw-away database (a SQLite file in a temporary folder, or a database `--database-name`, by default
  `helpcenter_search_bench`, created on the PostgreSQL server and dropped at the end), migrates it and imports the
  real library.
* Measures the pages that list content (home, 404, unknown error code, a category page, the topics page, the search
  page) and the JSON search with the demo library only.
* Generates `--checkers` checkers (4 steps of 3 answers, two error texts, an error code each) and `--articles`
  articles in 12 more categories, with text mixing the library's own words (15%, so searches have near misses)
  and made-up words (so the vocabulary is large), and 20,000 runs over the last 30 days (for "most used"); then
  rebuilds the search index, timed.
* Measures the same pages again, and `search()` itself for several kinds of query: the held-out seller phrasings
  (tests/heldout.py), two or three generated words, misspelt words, and a 10 KB pasted log with an error text in
  the middle. Reports the median and p95, the CPU time a search takes (this process's, plus the PostgreSQL
  server's), and the held-out score at this size.

Generating and indexing take minutes; timing takes seconds. `--keep` keeps the generated database (SQLite:
`var/search-bench.sqlite3`; PostgreSQL: the database `--database-name`), and `--reuse` only times on it (the 5,000
part, after `migrate`), so code can be re-timed, or the code before and now compared, on the same data:

    flock /tmp/bench.lock .venv/bin/python bench/search_bench.py --keep       # once: minutes
    flock /tmp/bench.lock .venv/bin/python bench/search_bench.py --reuse      # then: under a minute

The first request to each page is the one whose SQL queries are counted (a cold cache); the timed ones after it
find the list pages' overview cached, as most requests do. Times go through `django.test.Client` (every
middleware, the search log write included) or call `search()` directly; no network, no WSGI server. Gzip sizes
use level 6.
"""

import argparse
import gzip
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_NAME = "helpcenter_search_bench"
SQLITE_KEPT = ROOT / "var" / "search-bench.sqlite3"
# Generated text: this share of words from the library's own vocabulary (so every search has near misses), the rest
# made up (so the vocabulary is large). A library of 5,000 checkers about one integration would repeat its domain
# words about this often.
LIBRARY_SHARE = 0.15
SYLLABLES = [consonant + vowel for consonant in "bklmnrt" for vowel in "aeiou"]


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (a database is created there and dropped)")
    parser.add_argument("--database-name", default=DB_NAME, help=f"the database created there (default {DB_NAME})")
    parser.add_argument("--checkers", type=int, default=5000)
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--iterations", type=int, default=5, help="times each query is timed (default 5)")
    parser.add_argument("--output", default=str(ROOT / "bench" / "search-results.md"))
    parser.add_argument(
        "--keep", action="store_true", help=f"keep the database ({SQLITE_KEPT.relative_to(ROOT)} on SQLite) to reuse"
    )
    parser.add_argument("--reuse", action="store_true", help="only time, on the database a run with --keep left")
    parser.add_argument(
        "--generate-only", action="store_true", help="build the database and keep it, time nothing (no lock needed)"
    )
    return parser.parse_args()


def kept_database(url: str | None, name: str = DB_NAME) -> str:
    """The database a run with --keep left."""
    if not url:
        if not SQLITE_KEPT.exists():
            sys.exit(f"{SQLITE_KEPT} is not there: run once with --keep")
        return f"sqlite:///{SQLITE_KEPT}"
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def create_database(url: str | None, name: str = DB_NAME, *, keep: bool = False) -> tuple[str, callable]:
    if not url and keep:
        SQLITE_KEPT.unlink(missing_ok=True)
        return f"sqlite:///{SQLITE_KEPT}", lambda: None
    if not url:
        folder = tempfile.mkdtemp(prefix="helpcenter-search-bench-")
        return f"sqlite:///{folder}/bench.sqlite3", lambda: shutil.rmtree(folder, ignore_errors=True)
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunsplit(parts._replace(path="/" + name)), drop


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]


def timed(fn, iterations: int) -> list[float]:
    fn()  # warm-up
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def measure_pages(client, category_slug: str, iterations: int) -> list[list]:
    from django.db import connection

    def counted(url: str):
        """The response and the number of SQL statements it ran (counted at the cursor, whatever DEBUG logs)."""
        statements = []

        def count(execute, sql, params, many, context):
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            response = client.get(url)
        return response, len(statements)

    rows = []
    for name, url in [
        ("GET / (home)", "/"),
        ("GET a missing checker (404)", "/troubleshoot/no-such-checker/"),
        ("GET /e/UNKNOWN-1/ (unknown code)", "/e/UNKNOWN-1/"),
        (f"GET /category/{category_slug}/", f"/category/{category_slug}/"),
        ("GET /topics/", "/topics/"),
        ("GET /search/?q=<pasted error>", "/search/?q=Error%3A+Account+Code+Archived+while+sending+settlement+123"),
        ("GET /api/search?q=xero+disconected", "/api/search?q=xero+disconected"),
    ]:
        response, queries = counted(url)
        body = response.content
        times = timed(lambda url=url: client.get(url), iterations * 4)
        rows.append(
            [
                name,
                response.status_code,
                queries,
                f"{statistics.median(times):.1f}",
                f"{p95(times):.1f}",
                f"{len(body):,}",
                f"{len(gzip.compress(body, 6)):,}",
            ]
        )
    return rows


def words_of_library() -> list[str]:
    from search.models import Word

    return list(Word.objects.values_list("word", flat=True))


def generate(n_checkers: int, n_articles: int, rng: random.Random) -> None:
    """Published checkers and articles in bulk: each with a live version whose data is what search indexes (the
    draft rows are left out: sellers and search only ever read the live version)."""
    from django.db import transaction
    from django.utils import timezone

    from troubleshoot.models import Article, ArticleVersion, Category, Checker, CheckerVersion, ErrorCode, Run

    library = words_of_library()
    made_up = list({"".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))) for _ in range(8000)})

    def text(n: int) -> str:
        return " ".join(rng.choice(library) if rng.random() < LIBRARY_SHARE else rng.choice(made_up) for _ in range(n))

    def steps() -> list[dict]:
        keys = [f"s{n}" for n in range(4)]
        return [
            {
                "key": key,
                "title": text(4),
                "body": text(40),
                "question": text(8) + "?",
                "answers": [
                    {"label": text(2), "next": keys[n + 1]}
                    if n < 3 and i < 2
                    else {"label": text(2), "outcome": "resolved"}
                    for i in range(3)
                ],
            }
            for n, key in enumerate(keys)
        ]

    with transaction.atomic():
        categories = Category.objects.bulk_create(
            [Category(slug=f"generated-{i}", name=f"Generated {text(2)}", position=10 + i) for i in range(12)]
        )
        checkers = Checker.objects.bulk_create(
            [
                Checker(
                    slug=f"gen-checker-{i}",
                    title=text(rng.randint(4, 8)).capitalize()[:120],
                    symptom=text(18)[:300],
                    category=rng.choice(categories),
                    signatures=f"{text(5)}\n{text(4)}",
                    position=i,
                )
                for i in range(n_checkers)
            ],
            batch_size=500,
        )
        ErrorCode.objects.bulk_create(
            [ErrorCode(code=f"GEN-{i}", checker=checker) for i, checker in enumerate(checkers)], batch_size=1000
        )
        checker_versions = CheckerVersion.objects.bulk_create(
            [CheckerVersion(checker=c, number=1, data={"slug": c.slug, "steps": steps()}) for c in checkers],
            batch_size=500,
        )
        for checker, version in zip(checkers, checker_versions, strict=True):
            checker.live_version = version
        Checker.objects.bulk_update(checkers, ["live_version"], batch_size=1000)
        articles = Article.objects.bulk_create(
            [
                Article(
                    slug=f"gen-article-{i}",
                    title=text(rng.randint(4, 9)).capitalize()[:200],
                    summary=text(15)[:300],
                    body=text(250),
                    category=rng.choice(categories),
                )
                for i in range(n_articles)
            ],
            batch_size=500,
        )
        article_versions = ArticleVersion.objects.bulk_create(
            [
                ArticleVersion(
                    article=a, number=1, data={"slug": a.slug, "title": a.title, "summary": a.summary, "body": a.body}
                )
                for a in articles
            ],
            batch_size=500,
        )
        for article, version in zip(articles, article_versions, strict=True):
            article.live_version = version
        Article.objects.bulk_update(articles, ["live_version"], batch_size=1000)
        now = timezone.now()
        starts = [
            (checker, now - timedelta(minutes=rng.randint(0, 30 * 24 * 60)))
            for checker in (rng.choice(checkers) for _ in range(20_000))
        ]
        Run.objects.bulk_create(
            [
                # bulk_create skips save(), which fills the day a run started in from its start
                Run(checker=checker, version=checker.live_version, started_at=at, started_on=timezone.localdate(at))
                for checker, at in starts
            ],
            batch_size=2000,
        )


def measure_search(iterations: int) -> tuple[list[list], str]:
    """Each kind of query timed `iterations` times after a warm-up, with the CPU those timed searches took. The
    queries are drawn from the index's vocabulary with their own seed: the same on a reused database."""
    from helpcenter import contentcache as pagecache
    from search.models import Word
    from search.search import search
    from tests.heldout import HELD_OUT

    rng = random.Random(14)  # noqa: S311 - made-up queries, the same every run
    vocabulary = list(Word.objects.order_by("word").values_list("word", flat=True))
    long_words = [w for w in vocabulary if len(w) >= 7]

    def typo(word: str) -> str:
        i = rng.randrange(1, len(word) - 1)
        return word[:i] + word[i + 1 :]

    log_text = ("INFO sync ok for settlement 4411\n" * 150) + "ERROR Token has been expired or revoked\n"
    log_text += "DEBUG retry 0xdeadbeef\n" * 190
    kinds = {
        "held-out seller phrasings (31)": [q for q, _ in HELD_OUT],
        "2–3 generated words (30)": [" ".join(rng.sample(vocabulary, rng.randint(2, 3))) for _ in range(30)],
        "misspelt words (30)": [f"{typo(rng.choice(long_words))} {rng.choice(vocabulary)}" for _ in range(30)],
        "10 KB pasted log": [log_text],
        "error code in a sentence (10)": [f"got error GEN-{rng.randrange(5000)} on my settlement" for _ in range(10)],
    }
    from django.db import connection

    def statements(query: str) -> int:
        """SQL statements one search runs (counted at the cursor; the synonyms come from the cache)."""
        ran = []
        with connection.execute_wrapper(lambda execute, sql, *args: ran.append(sql) or execute(sql, *args)):
            search(query)
        return len(ran)

    # Search remembers words (the vocabulary, each misspelling's correction) until content changes: each query's
    # first search is timed apart, and this process's memory is emptied before each kind (the vocabulary is read
    # again at once).
    rows, everything, firsts, most, cpu_total = [], [], [], 0, 0.0
    for name, queries in kinds.items():
        pagecache.forget()
        search("warm up")
        times, first, counts = [], [], []
        with cpu_time() as cpu:
            for query in queries:
                start = time.perf_counter()
                counts.append(statements(query))
                first.append((time.perf_counter() - start) * 1000)
                for _ in range(iterations):
                    start = time.perf_counter()
                    search(query)
                    times.append((time.perf_counter() - start) * 1000)
        most = max(most, *counts)
        everything += times
        firsts += first
        searches = len(queries) * (iterations + 1)  # with the first ones
        cpu_total += cpu.total
        rows.append(
            [
                name,
                len(times),
                f"{statistics.median(times):.1f}",
                f"{p95(times):.1f}",
                f"{max(times):.1f}",
                f"{statistics.median(first):.1f} / {p95(first):.1f}",
                cpu.per_search(searches),
                f"{min(counts)}–{max(counts)}",
            ]
        )
    searches = sum(len(queries) for queries in kinds.values()) * (iterations + 1)
    rows.append(
        [
            "**all**",
            len(everything),
            f"{statistics.median(everything):.1f}",
            f"**{p95(everything):.1f}**",
            f"{max(everything):.1f}",
            f"{statistics.median(firsts):.1f} / {p95(firsts):.1f}",
            f"{cpu_total * 1000 / searches:.1f}",
            f"≤ {most}",
        ]
    )

    first = top3 = 0
    for query, slug in HELD_OUT:
        found = [(r.kind, r.item.slug) for r in search(query)]
        first += found[:1] == [("checker", slug)]
        top3 += ("checker", slug) in found[:3]
    return rows, f"{first}/{len(HELD_OUT)} first, {top3}/{len(HELD_OUT)} in the top three"


class cpu_time:  # noqa: N801 - used as a context manager, like a function
    """CPU time taken while inside, which other work on the machine changes less than the wall-clock time: this
    process's (SQLite runs inside it), plus on PostgreSQL the server process serving this connection (read from
    /proc, so only when the server runs on this machine; counted in ticks of 10 ms)."""

    def __enter__(self):
        from django.db import connection

        connection.ensure_connection()
        self.postgresql = connection.vendor == "postgresql"
        self.here, self.server = time.process_time(), self._server()
        return self

    def __exit__(self, *exc):
        self.here = time.process_time() - self.here
        self.server = self._server() - self.server if self.postgresql else 0.0

    @property
    def total(self) -> float:
        return self.here + self.server

    def per_search(self, searches: int) -> str:
        here = self.here * 1000 / searches
        if not self.postgresql:
            return f"{here:.1f}"
        server = self.server * 1000 / searches
        return f"{here:.1f} + {server:.1f} = {here + server:.1f}"

    @staticmethod
    def _server() -> float:
        from django.db import connection

        if connection.vendor != "postgresql":
            return 0.0
        try:
            stat = Path(f"/proc/{connection.connection.info.backend_pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (AttributeError, OSError):
            return float("nan")
        return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def table(headers, rows) -> str:
    lines = [
        "| " + " | ".join(headers) + " |",
        "| " + " | ".join("---" if i == 0 else "--:" for i in range(len(headers))) + " |",
    ]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    if args.reuse:
        url, drop = kept_database(args.database_url, args.database_name), lambda: None
    else:
        args.keep = args.keep or args.generate_only
        url, drop = create_database(args.database_url, args.database_name, keep=args.keep)
    os.environ["DJANGO_SETTINGS_MODULE"] = "helpcenter.settings"
    os.environ["DATABASE_URL"] = url
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["RATE_LIMIT_UNKNOWN_CODE"] = "1000000/m"  # one client sends every timed request
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from helpcenter import contentcache as pagecache
    from search.models import Document, Word
    from troubleshoot.library import read_library
    from troubleshoot.librarysync import import_library

    load_start = os.getloadavg()[0]
    rng = random.Random(13)  # noqa: S311 - made-up content, the same every run
    try:
        log("migrate" if args.reuse else "migrate, import the library")
        call_command("migrate", verbosity=0)
        client = Client()
        if args.reuse:
            demo = "(Not re-run: `--reuse` times the kept database only.)"
            built = f"Timed again on the database a run with `--keep` left (`--reuse`): {Document.objects.count():,}"
            built += f" documents, {Word.objects.count():,} words in the vocabulary."
        else:
            import_library(read_library(ROOT / "content"))
            cache.clear()
            pagecache.forget()
            if not args.generate_only:
                pages_demo = measure_pages(client, "sending-settlements", args.iterations)
                search_demo, score_demo = measure_search(args.iterations)
                demo = f"{table(PAGE_HEADERS, pages_demo)}\n\n{table(SEARCH_HEADERS, search_demo)}\n\n"
                demo += f"Held-out seller phrasings: {score_demo}."

            log(f"generate {args.checkers} checkers and {args.articles} articles")
            start = time.perf_counter()
            generate(args.checkers, args.articles, rng)
            generated_s = time.perf_counter() - start
            log("rebuild the index")
            from search.index import rebuild

            start = time.perf_counter()
            documents = rebuild()
            rebuild_s = time.perf_counter() - start
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
            built = f"Generated in {generated_s:.1f} s; index rebuilt in {rebuild_s:.1f} s ({documents:,} documents,"
            built += f" {Word.objects.count():,} words in the vocabulary,"
            built += f" {Document.objects.filter(kind='checker').count():,} checkers)."
            built += " 20,000 runs over the last 30 days."
            if args.generate_only:
                log(built)
                return
        documents = Document.objects.count()
        # The list pages' cached overview and the words search remembers are of the demo library (bulk inserts send
        # no signals): the cache and this process's memory start afresh.
        cache.clear()
        pagecache.forget()
        log("measure")
        pages_large = measure_pages(client, "generated-0", args.iterations)
        search_large, score_large = measure_search(args.iterations)
        version = connection.vendor
        if version == "sqlite":
            import sqlite3

            version = f"SQLite {sqlite3.sqlite_version}"
        else:
            version = f"PostgreSQL {connection.pg_version // 10000}"
        report = f"""## Search benchmark ({version})

{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {os.cpu_count()} CPUs, load average {load_start:.1f} at the start and
{os.getloadavg()[0]:.1f} at the end (other work shares this machine) · `bench/search_bench.py`,
{args.iterations} timings per query after its first search (pages: {args.iterations * 4} requests each). First: each
query's first search, this process's memory of words emptied before each kind. CPU ms: per search, the first ones
included; on PostgreSQL this process + the server's process. SQL: statements of the first search.

### Demo library (13 checkers, 1 article)

{demo}

### With {args.checkers:,} generated checkers and {args.articles:,} generated articles beside it

{built}

{table(PAGE_HEADERS, pages_large)}

`search()` alone:

{table(SEARCH_HEADERS, search_large)}

Held-out seller phrasings among {documents:,} documents: {score_large}.
"""
        print(report)
        Path(args.output).write_text(report, encoding="utf-8")
    finally:
        if args.keep or args.reuse:
            log(f"kept {url}")
        else:
            drop()


PAGE_HEADERS = ["Request", "Status", "SQL queries", "Median ms", "p95 ms", "Bytes", "Gzip bytes"]
SEARCH_HEADERS = ["Queries", "Timed", "Median ms", "p95 ms", "Max ms", "First ms (median / p95)", "CPU ms", "SQL"]


if __name__ == "__main__":
    main()
