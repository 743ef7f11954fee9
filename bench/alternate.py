"""Small against large, in alternation: staff pages timed on two databases by one process, a request on one and then
the same request on the other, so that the machine's drift (this one's speed moves by half within minutes) falls on
both alike. Run with `manage.py shell` (DEBUG off, the environment of bench/inprocess.py, no connection pool):

    DATABASE_POOL=false CONN_MAX_AGE=600 DATABASE_URL=<small> ALTERNATE_WITH=<large's name or SQLite file> \\
        .venv/bin/python manage.py shell -c "$(cat bench/alternate.py)"

Both databases must be on one server (PostgreSQL) or be SQLite files. Prints one JSON object: per page, the median
milliseconds of each (wall clock, test client through every middleware), their ratio, and the query counts.
Caches are the process's and REDIS_URL's, shared by the two: leave REDIS_URL unset, or the pages' cached parts (a
version's flow, by id) are those of whichever database filled them first; their cost is the same.
"""

import json
import os
import statistics
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

REPEAT = int(os.environ.get("ALTERNATE_REPEAT", "31"))
FROM_90 = (timezone.localdate() - timedelta(days=89)).isoformat()
PAGES = [
    ("review: overview, 30 days", "/support/"),
    ("review: overview, 90 days", f"/support/?from={FROM_90}"),
    ("review: overview, 90 days, by rate", f"/support/?from={FROM_90}&sort=rate"),
    ("review: gap inbox, 30 days", "/support/gaps/"),
    ("review: gap inbox, 90 days", f"/support/gaps/?from={FROM_90}"),
    ("review: runs", "/support/runs/"),
    ("review: checker page, 90 days", f"/support/checkers/connection-error/?from={FROM_90}"),
    ("admin: runs", "/admin/troubleshoot/run/"),
    ("admin: checkers", "/admin/troubleshoot/checker/"),
]
databases = [connection.settings_dict["NAME"], os.environ["ALTERNATE_WITH"]]


def use(name: str) -> None:
    if connection.settings_dict["NAME"] != name:
        connection.close()
        connection.settings_dict["NAME"] = name
    connection.ensure_connection()


clients = []
for name in databases:
    use(name)
    user = get_user_model().objects.filter(username="bench-admin").first()
    user = user or get_user_model().objects.create_superuser("bench-admin", "bench@example.com", None)
    client = Client(HTTP_X_FORWARDED_PROTO="https")  # as through the TLS proxy
    client.force_login(user)
    clients.append(client)

results = {}
for page, url in PAGES:
    times, queries = ([], []), ([], [])
    for n in range(REPEAT + 1):
        for which in (0, 1) if n % 2 else (1, 0):  # each goes first half the time
            use(databases[which])
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response = clients[which].get(url)
                elapsed = (time.perf_counter() - began) * 1000
            assert response.status_code == 200, (url, response.status_code)
            if n:  # the first of each is a warm-up (templates, caches, a period's total made)
                times[which].append(elapsed)
                queries[which].append(len(captured))
    small, large = (statistics.median(found) for found in times)
    results[page] = {
        "small": round(small, 1),
        "large": round(large, 1),
        "ratio": round(large / small, 2),
        "queries": [max(queries[0]), max(queries[1])],
    }
print(json.dumps(results))
