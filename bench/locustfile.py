"""Load for `make bench` (bench/run.py drives it): one user class per measured page, and sellers walking whole
checkers with double submits and Back.

Requests go over plain HTTP to gunicorn as if through the TLS proxy production has (X-Forwarded-Proto), so the
production settings apply unchanged: secure cookies are carried by hand, as a browser would over HTTPS.
"""

import json
import os
import random
import re
import uuid
from html import unescape

import gevent
from locust import FastHttpUser, between, constant, events, task

from bench.runurl import run_id, run_path

ARTICLE = os.environ.get("BENCH_ARTICLE", "/articles/troubleshooting-xero-connection/")
CHECKER = os.environ.get("BENCH_CHECKER", "connection-error")
WALKS_FILE = os.environ.get("BENCH_WALKS_FILE", "")
HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)"')
CHOICE = re.compile(r'<button type="submit" name="answer" value="(\d+)">([^<]*)</button>')
ENDED = ("Glad it's fixed!", "Let's get support on it", "Your request is with support")


class Seller(FastHttpUser):
    """Talks to the portal like a browser behind HTTPS: cookies carried by hand, CSRF from the page."""

    abstract = True
    wait_time = constant(0)

    def on_start(self):
        self.cookies: dict[str, str] = {}

    def headers(self, htmx: bool = False) -> dict:
        headers = {"X-Forwarded-Proto": "https", "Origin": self.host.replace("http://", "https://"),
                   "Referer": self.host.replace("http://", "https://") + "/",
                   "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}  # fmt: skip
        if htmx:
            headers["HX-Request"] = "true"
        return headers

    def keep_cookies(self, response) -> None:
        for header in response.headers.getlist("Set-Cookie") if response.headers else []:
            name, value = header.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value

    def get(self, path: str, name: str | None = None):
        response = self.client.get(path, headers=self.headers(), name=name or path)
        self.keep_cookies(response)
        return response

    def post(self, path: str, data: dict, name: str, htmx: bool):
        response = self.client.post(path, data=data, headers=self.headers(htmx), name=name, allow_redirects=False)
        self.keep_cookies(response)
        return response


def page_form(html: str) -> tuple[dict, list[tuple[str, str]]]:
    """The hidden fields and the answer buttons (value, label as the seller reads it) of a step's form."""
    return dict(HIDDEN.findall(html)), [(value, unescape(label)) for value, label in CHOICE.findall(html)]


# One class per measured page (bench/run.py runs them one at a time).


class Minimal(Seller):
    @task
    def minimal(self):
        self.get("/bench/minimal/")


class Home(Seller):
    @task
    def home(self):
        self.get("/")


class Article(Seller):
    @task
    def article(self):
        self.get(ARTICLE)


class CheckerStart(Seller):
    @task
    def checker_start(self):
        self.get(f"/troubleshoot/{CHECKER}/?source=email&code=XC-001")


class StepAnswer(Seller):
    """One step answer per request, each on its own run: bench/run.py cloned a run waiting at its second step
    (BENCH_RUNS_FILE lists them), and the form's fields are read once from the first one's page."""

    abstract = True
    htmx = True
    runs: list[str] = []

    def on_start(self):
        super().on_start()
        if not StepAnswer.runs:
            with open(os.environ["BENCH_RUNS_FILE"]) as listing:
                StepAnswer.runs = json.load(listing)
        hidden, choices = page_form(self.get(StepAnswer.runs[0], name="setup: run page").text)
        self.data = {"csrfmiddlewaretoken": hidden["csrfmiddlewaretoken"], "step": hidden["step"],
                     "answer": choices[0][0]}  # fmt: skip

    @task
    def answer(self):
        if not StepAnswer.runs:
            self.environment.runner.quit()
            return
        run_url = StepAnswer.runs.pop()
        name = "step answer (htmx)" if self.htmx else "step answer (no JavaScript)"
        self.post(f"{run_url}answer/", self.data, name, self.htmx)


class StepAnswerHtmx(StepAnswer):
    htmx = True


class StepAnswerNoJs(StepAnswer):
    htmx = False


# Sellers walking whole checkers, with double submits and Back; what each believes it answered is written out so
# bench/run.py can check every answer was recorded exactly once.

walks: list[dict] = []


class WalkingSeller(Seller):
    wait_time = between(0.05, 0.3)

    def think(self) -> None:
        """Before each answer: nothing here; ThinkingSeller reads the step first."""

    @staticmethod
    def swapped(response) -> str | None:
        """The step an htmx answer swapped in, when it is one the seller can read on from."""
        html = (response.text or "") if response.status_code == 200 else ""
        return html if any(ending in html for ending in ENDED) or 'name="step"' in html else None

    @task
    def walk(self):
        slug = random.choice(self.environment.parsed_options.checkers.split(","))  # noqa: S311
        htmx = random.random() < 0.7  # noqa: S311
        html = self.get(f"/troubleshoot/{slug}/?source=email", name="walk: checker page").text
        hidden, choices = page_form(html)
        label_of = dict(choices)
        choice = random.choice(choices)[0]  # noqa: S311
        data = hidden | {"answer": choice, "run": str(uuid.uuid4())}
        self.think()
        response = self.post(f"/troubleshoot/{slug}/start/", data, "walk: start", htmx)
        if random.random() < 0.2:  # noqa: S311 - a double submit of the first answer
            response = self.post(f"/troubleshoot/{slug}/start/", data, "walk: start", htmx)
        run_url = response.headers.get("HX-Push-Url") or response.headers.get("Location", "")
        run_url = run_path(run_url)
        if not run_url:
            return
        path = [label_of[choice]]
        for _ in range(30):
            # With htmx the answer's response is the next step, as in a browser; without, the redirect is followed.
            html = self.swapped(response) if htmx else None
            if html is None:
                html = self.get(run_url, name="walk: run page").text
            if any(ending in html for ending in ENDED):
                break
            hidden, choices = page_form(html)
            self.think()
            if path and "answer" in hidden and random.random() < 0.15:  # noqa: S311 - Back (sometimes twice)
                back = {"csrfmiddlewaretoken": hidden["csrfmiddlewaretoken"], "answer": hidden["answer"]}
                for _ in range(2 if random.random() < 0.3 else 1):  # noqa: S311
                    response = self.post(f"{run_url}back/", back, "walk: back", htmx)
                path.pop()
                continue
            if not choices:
                break
            choice, label = random.choice(choices)  # noqa: S311
            answer = {"csrfmiddlewaretoken": hidden["csrfmiddlewaretoken"], "step": hidden["step"], "answer": choice}
            for _ in range(2 if random.random() < 0.2 else 1):  # noqa: S311 - a double submit
                response = self.post(f"{run_url}answer/", answer, "walk: answer", htmx)
            path.append(label)
        walks.append({"run": run_id(run_url), "path": path})


class ThinkingSeller(WalkingSeller):
    """A seller as they really walk (bench/sellers.py): 5 to 15 s reading each step before answering it."""

    wait_time = between(5, 15)

    def think(self) -> None:
        gevent.sleep(random.uniform(5, 15))  # noqa: S311


@events.init_command_line_parser.add_listener
def _(parser):
    parser.add_argument("--checkers", default=CHECKER, help="Comma-separated checker slugs to walk.")


@events.test_stop.add_listener
def _(environment, **kwargs):
    if WALKS_FILE:
        with open(WALKS_FILE, "w") as out:
            json.dump(walks, out)
