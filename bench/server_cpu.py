"""CPU time the server spends on one request of each kind: gunicorn started as `make bench` starts it (production
settings from the environment), driven over HTTP, and the CPU its worker processes used (and, on PostgreSQL, the
database server's backends) read from /proc before and after. Unlike requests a second, this does not depend on
what else the machine is doing, so two versions of the code can be compared on a busy machine.

    .venv/bin/python bench/server_cpu.py --port 8410 minimal article answer-htmx answer-nojs -n 2000

Run it with the environment bench/profile_requests.py documents, on a database with the content library loaded.
"""

import argparse
import os
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pids: list[int]) -> float:
    """User + system CPU seconds of these processes."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return found


def postgres_backends() -> list[int]:
    """The PostgreSQL server's backends serving this benchmark's database (when on the same machine)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return []
    import psycopg

    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [pid for (pid,) in rows]


def main():
    sys.path.insert(0, str(ROOT / "bench"))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kinds", nargs="+", choices=["minimal", "article", "answer-htmx", "answer-nojs"])
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    base = f"http://127.0.0.1:{args.port}"
    from run import Gunicorn  # the servers `make bench` starts, started and awaited the same way

    server = Gunicorn(dict(os.environ), args.workers, args.threads, args.port)
    try:
        workers = children(server.process.pid)
        secure = f"https://127.0.0.1:{args.port}"
        headers = {"X-Forwarded-Proto": "https", "Origin": secure, "Referer": f"{secure}/",
                   "Accept-Encoding": "gzip"}  # fmt: skip
        # A seller: their CSRF cookie and a run started through HTTP, cloned for the step answers.
        from profile_requests import seller  # Django is set up by that import

        from bench.clones import clone_runs

        for kind in args.kinds:
            if kind.startswith("answer"):
                cookies, data, seed = seller()
                urls = clone_runs(seed, args.n + 50)
                body = urlencode(data)
                cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
                extra = {"HX-Request": "true"} if kind == "answer-htmx" else {}
                requests = [("POST", f"{url}answer/", body, {**headers, **extra, "Cookie": cookie,
                             "Content-Type": "application/x-www-form-urlencoded"}) for url in urls]  # fmt: skip
            else:
                path = "/bench/minimal/" if kind == "minimal" else "/articles/troubleshooting-xero-connection/"
                page = urllib.request.urlopen(urllib.request.Request(base + path, headers=headers))
                cookie = page.headers.get("Set-Cookie", "").split(";", 1)[0]
                requests = [("GET", path, None, {**headers, "Cookie": cookie})] * (args.n + 50)

            def send(batch):
                connection = HTTPConnection("127.0.0.1", args.port)
                statuses = []
                for method, path, body, request_headers in batch:
                    connection.request(method, path, body=body, headers=request_headers)
                    response = connection.getresponse()
                    response.read()
                    statuses.append(response.status)
                connection.close()
                return statuses

            def run(batch_list):
                with ThreadPoolExecutor(args.clients) as pool:
                    return [status for statuses in pool.map(send, batch_list) for status in statuses]

            warm, measured = requests[:50], requests[50:]
            run([warm[i :: args.clients] for i in range(args.clients)])
            backends = postgres_backends()
            before, before_db = cpu_of(workers), cpu_of(backends)
            statuses = run([measured[i :: args.clients] for i in range(args.clients)])
            app = (cpu_of(workers) - before) * 1000 / len(measured)
            db = (cpu_of(backends) - before_db) * 1000 / len(measured)
            print(f"{kind}: {app:.2f} ms app-server CPU a request, {db:.2f} ms database server CPU; "
                  f"statuses {sorted(set(statuses))}", flush=True)  # fmt: skip
    finally:
        server.stop()


if __name__ == "__main__":
    main()
