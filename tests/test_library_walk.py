"""Every path of every checker in the content library, walked as a seller with htmx walks it: every answer of every
reachable step, then Back, with the client's CSRF checks on. Each step answers with its own form, each ending with
the page a seller sees there (at an escalation, the support form with the checker's support hint), and Back returns
to the step it left."""

import re
import uuid
from html import unescape

import pytest
from django.test import Client

from troubleshoot import versions
from troubleshoot.models import Checker

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
STEP = re.compile(r'name="step" value="([^"]+)"')
UNDO = re.compile(r'<input type="hidden" name="answer" value="(\d+)">')
ANSWERS = re.compile(r'<button type="submit" name="answer" value="(\d+)">')
RESOLVED = "Glad it's fixed!"


def post(client, url: str, data: dict, html: str) -> str:
    """Post a form of the panel `html` with its CSRF token, as htmx does; the new panel."""
    response = client.post(url, {"csrfmiddlewaretoken": TOKEN.search(html).group(1), **data}, **HTMX)
    assert response.status_code == 200, response.content[:300]
    return response.content.decode()


def assert_ending(checker: Checker, html: str) -> None:
    text = unescape(html)
    if RESOLVED in text:
        return
    assert 'name="email"' in text, f"{checker.slug}: an ending that is neither resolved nor the support form"
    assert " ".join(checker.support_hint.split()) in " ".join(text.split()), f"{checker.slug}: no support hint"


def explore(client, checker: Checker, run_url: str, html: str) -> int:
    """Every answer of the step in `html` and what follows it; how many steps were stood at."""
    step = STEP.search(html)
    if step is None:
        assert_ending(checker, html)
        return 0
    assert unescape(client.get(run_url).content.decode()).count(step.group(1)) >= 1  # the full page, same step
    stood = 1
    for index in map(int, ANSWERS.findall(html)):
        after = post(client, f"{run_url}answer/", {"step": step.group(1), "answer": index}, html)
        stood += explore(client, checker, run_url, after)
        back = post(client, f"{run_url}back/", {"answer": UNDO.search(after).group(1)}, after)
        assert STEP.search(back).group(1) == step.group(1), f"{checker.slug}: Back from {step.group(1)}"
    return stood


def walk_every_path(client, checker: Checker) -> int:
    start = client.get(checker.get_absolute_url(), **HTMX).content.decode()
    stood = 0
    for index in map(int, ANSWERS.findall(start)):
        data = {"run": str(uuid.uuid4()), "step": STEP.search(start).group(1), "answer": index}
        response = client.post(
            f"{checker.get_absolute_url()}start/",
            {"csrfmiddlewaretoken": TOKEN.search(start).group(1), **data},
            **HTMX,
        )
        assert response.status_code == 200, checker.slug
        if "HX-Push-Url" not in response:  # the first answer ended the run
            assert_ending(checker, response.content.decode())
            continue
        stood += explore(client, checker, response["HX-Push-Url"].partition("?")[0], response.content.decode())
    return stood


def paths_to_steps(flow, step) -> int:
    """How many ways a seller can stand at a step after the first one, from `step` on."""
    nexts = [flow.by_key[answer.next] for answer in step.answers if not answer.ends_run]
    return sum(1 + paths_to_steps(flow, after) for after in nexts)


def test_every_path_of_every_checker_in_the_library_walks_to_its_ending(library, settings):
    # One client starts a run for every first answer of every checker: more than a seller's limit a minute.
    settings.HELPCENTER_RATE_LIMITS = {**settings.HELPCENTER_RATE_LIMITS, "start": "10000/m"}
    client = Client(enforce_csrf_checks=True)
    checkers = list(Checker.objects.published())
    assert len(checkers) == len(list((settings.BASE_DIR / "content" / "checkers").glob("*.yaml")))
    for checker in checkers:
        flow = versions.flow_of(checker.live_version_id)
        assert walk_every_path(client, checker) == paths_to_steps(flow, flow.start), checker.slug
