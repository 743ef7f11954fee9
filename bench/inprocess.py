"""Timings and query counts of single requests, in-process (Django's test client through every middleware), for
`make bench --scale` (run by bench/run.py with `manage.py shell`): the same pages before and after the database
grows, so the table shows what size costs. Prints one JSON object."""

import copy
import json
import os
import re
import statistics
import time
import uuid

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.runurl import run_id
from troubleshoot.models import Answer, Run

REPEAT = int(os.environ.get("INPROCESS_REPEAT", "15"))
# INPROCESS_CLOCK=cpu times the process's CPU (which a loaded machine disturbs far less) instead of the wall clock.
# INPROCESS_CLOCK=cpu+db adds the CPU of the database server's processes (PostgreSQL on this machine, read from
# /proc in ticks of 1/100 s, so over all the requests): "p50" is then the mean of the two per request, "app" and
# "db" its parts. SQLite's work is in the process's own CPU.
CLOCK = time.process_time if os.environ.get("INPROCESS_CLOCK", "").startswith("cpu") else time.perf_counter
WITH_DB = os.environ.get("INPROCESS_CLOCK") == "cpu+db"
TICK = os.sysconf("SC_CLK_TCK")


def database_cpu() -> float:
    """CPU seconds of the processes named postgres (none with SQLite): the server's backends and its helpers."""
    total = 0
    if connection.vendor != "postgresql":
        return 0.0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as stat:
                    name, _, rest = stat.read().partition(") ")
            except OSError:
                continue
            if name.endswith("(postgres"):
                fields = rest.split()
                total += int(fields[11]) + int(fields[12])
    return total / TICK


SELLER = [
    ("home page", "/"),
    ("article", "/articles/troubleshooting-xero-connection/"),
    ("search", "/search/?q=settlement+not+permitted"),
    ("checker's first step", "/troubleshoot/connection-error/"),
]
STAFF = [
    ("admin: runs", "/admin/troubleshoot/run/"),
    ("admin: abandoned runs", "/admin/troubleshoot/run/?status=abandoned"),
    ("admin: runs of one checker", "/admin/troubleshoot/run/?q=lock-date"),
    ("admin: support requests", "/admin/support/supportrequest/"),
    ("admin: checkers", "/admin/troubleshoot/checker/"),
] + [(f"review: {name}", url) for name, url in json.loads(os.environ.get("INPROCESS_REVIEW_PAGES", "[]"))]


def measured(send):
    """`send` timed and its SQL queries counted: (response, milliseconds, queries)."""
    with CaptureQueriesContext(connection) as captured:
        began = CLOCK()
        response = send()
        elapsed = (CLOCK() - began) * 1000
    return response, elapsed, len(captured)


def timed(send) -> dict:
    """Median and worst of REPEAT requests, after one to warm up (templates compiled, caches filled)."""
    send()
    times, queries = [], []
    database = database_cpu() if WITH_DB else 0.0
    for _ in range(REPEAT):
        response, elapsed, count = send()
        assert response.status_code in (200, 302), (response.status_code, response.content[:300])
        times.append(elapsed)
        queries.append(count)
    if WITH_DB:
        app, db = statistics.mean(times), (database_cpu() - database) * 1000 / REPEAT
        return {"p50": app + db, "app": app, "db": db, "max": max(times), "queries": max(queries)}
    return {"p50": statistics.median(times), "max": max(times), "queries": max(queries)}


def answer_sender(client: Client):
    """Each call answers the second step of a fresh run (cloned from one started through HTTP)."""
    page = client.get("/troubleshoot/connection-error/").content.decode()
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    first = re.search(r'name="answer" value="(\d+)"', page).group(1)
    started = client.post("/troubleshoot/connection-error/start/", hidden | {"answer": first}, HTTP_HX_REQUEST="true")
    seed = Run.objects.get(pk=run_id(started["HX-Push-Url"]))
    html = started.content.decode()
    data = {"step": re.search(r'name="step" value="([^"]+)"', html).group(1),
            "answer": re.search(r'name="answer" value="(\d+)"', html).group(1)}  # fmt: skip
    seed_answers = list(seed.answers.all())

    def send():
        run = copy.copy(seed)
        run.pk = uuid.uuid4()
        run.save(force_insert=True)
        for answer in seed_answers:
            Answer.objects.create(**{f.attname: getattr(answer, f.attname) for f in Answer._meta.concrete_fields
                                     if f.attname not in ("id", "run_id")}, run_id=run.pk)  # fmt: skip
        url = f"{run.get_absolute_url()}answer/"  # only the answer itself is measured, not making its run
        return measured(lambda: client.post(url, data, HTTP_HX_REQUEST="true"))

    return send


results = {}
seller = Client(HTTP_X_FORWARDED_PROTO="https")  # as through the TLS proxy
for name, url in SELLER:
    results[name] = timed(lambda url=url: measured(lambda: seller.get(url)))
results["step answer (htmx)"] = timed(answer_sender(seller))
staff = Client(HTTP_X_FORWARDED_PROTO="https")
admin_user = get_user_model().objects.filter(
    username="bench-admin"
).first() or get_user_model().objects.create_superuser("bench-admin", "bench@example.com", None)
staff.force_login(admin_user)
for name, url in STAFF:
    results[name] = timed(lambda url=url: measured(lambda: staff.get(url)))
print(json.dumps(results))
