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

from troubleshoot.models import Answer, Run

REPEAT = int(os.environ.get("INPROCESS_REPEAT", "15"))
# INPROCESS_CLOCK=cpu times the process's CPU (which a loaded machine disturbs far less) instead of the wall clock.
CLOCK = time.process_time if os.environ.get("INPROCESS_CLOCK") == "cpu" else time.perf_counter
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
    for _ in range(REPEAT):
        response, elapsed, count = send()
        assert response.status_code in (200, 302), (response.status_code, response.content[:300])
        times.append(elapsed)
        queries.append(count)
    return {"p50": statistics.median(times), "max": max(times), "queries": max(queries)}


def answer_sender(client: Client):
    """Each call answers the second step of a fresh run (cloned from one started through HTTP)."""
    page = client.get("/troubleshoot/connection-error/").content.decode()
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    first = re.search(r'name="answer" value="(\d+)"', page).group(1)
    started = client.post("/troubleshoot/connection-error/start/", hidden | {"answer": first}, HTTP_HX_REQUEST="true")
    seed = Run.objects.get(pk=started["HX-Push-Url"].rstrip("/").rsplit("/", 1)[1])
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
