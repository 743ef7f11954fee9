"""The seller's panel at a step comes filled in from the one rendered for its version (`troubleshoot/panel.py`): it
must be exactly the panel the template renders for that run, on every step of every checker in the library."""

import re
import uuid
from unittest import mock

import pytest
from django.test import Client

from tests.conftest import tokenless
from troubleshoot import panel, versions
from troubleshoot.models import Checker, Run
from troubleshoot.views import REFUSED

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
STEP = re.compile(r'name="step" value="([^"]+)"')
UNDO = re.compile(r'<input type="hidden" name="answer" value="(\d+)">')
ANSWERS = re.compile(r'<button type="submit" name="answer" value="(\d+)">')


def rendered(client, url: str, **headers) -> str:
    """The run's page (or panel) as the template renders it, without the panel kept for its version."""
    with mock.patch.object(panel, "open_step", return_value=None):
        return client.get(url, **headers).content.decode()


def assert_filled_as_rendered(client, run_url: str, filled: str):
    """`filled`, the panel just served for the run, is the template's panel for it; so are its page's, both ways."""
    assert panel.CSRF[0] not in filled
    assert tokenless(filled) == tokenless(rendered(client, run_url, **HTMX))
    assert tokenless(client.get(run_url, **HTMX).content.decode()) == tokenless(filled)
    page = client.get(run_url).content.decode()
    assert tokenless(page) == tokenless(rendered(client, run_url))
    assert 'id="checker"' in page and "</html>" in page


def post(client, url: str, data: dict, html: str) -> str:
    """Post a form of the panel `html`, with its CSRF token, as htmx does; the new panel."""
    response = client.post(url, {"csrfmiddlewaretoken": TOKEN.search(html).group(1), **data}, **HTMX)
    assert response.status_code == 200, response.content[:300]
    return response.content.decode()


def walk_every_path(client, checker: Checker) -> int:
    """Answer every answer of every step reachable in the checker, going Back after each (depth first), checking
    every panel at a step on the way. How many were checked."""
    start = client.get(checker.get_absolute_url(), **HTMX).content.decode()
    checked = 0
    for index in map(int, ANSWERS.findall(start)):
        response = client.post(
            f"{checker.get_absolute_url()}start/",
            {
                "csrfmiddlewaretoken": TOKEN.search(start).group(1),
                "run": str(uuid.uuid4()),
                "step": STEP.search(start).group(1),
                "answer": index,
            },  # fmt: skip
            **HTMX,
        )
        assert response.status_code == 200
        checked += explore(client, response["HX-Push-Url"], response.content.decode())
    return checked


def explore(client, run_url: str, html: str) -> int:
    step = STEP.search(html)
    if step is None:  # an ending: rendered every time
        return 0
    assert_filled_as_rendered(client, run_url, html)
    checked = 1
    for index in map(int, ANSWERS.findall(html)):
        after = post(client, f"{run_url}answer/", {"step": step.group(1), "answer": index}, html)
        checked += explore(client, run_url, after)
        back = post(client, f"{run_url}back/", {"answer": UNDO.search(after).group(1)}, after)
        assert STEP.search(back).group(1) == step.group(1)
        assert_filled_as_rendered(client, run_url, back)
    return checked


def paths_to_steps(flow, step) -> int:
    """How many ways a seller can stand at a step after the first one, from `step` on."""
    nexts = [flow.by_key[answer.next] for answer in step.answers if not answer.ends_run]
    return sum(1 + paths_to_steps(flow, after) for after in nexts)


def test_every_step_of_the_library_is_filled_in_as_the_template_renders_it(library, settings):
    """Every way of standing at a step of every checker, reached by answering and by Back, with the client's CSRF
    checks on (the filled-in tokens are accepted)."""
    # One client starts a run for every first answer of every checker: more than a seller's limit a minute.
    settings.HELPCENTER_RATE_LIMITS = {**settings.HELPCENTER_RATE_LIMITS, "start": "10000/m"}
    client = Client(enforce_csrf_checks=True)
    checkers = list(Checker.objects.published())
    assert len(checkers) >= 13
    for checker in checkers:
        flow = versions.flow_of(checker.live_version_id)
        assert walk_every_path(client, checker) == paths_to_steps(flow, flow.start) > 0, checker.slug


def test_two_runs_at_one_step_each_get_their_own_urls_and_back(library):
    """The panel is rendered once for both runs; each is filled in with its own run's URLs and answer to undo."""
    checker = Checker.objects.published().get(slug="connection-error")
    pages = []
    for _ in range(2):
        client = Client(enforce_csrf_checks=True)
        start = client.get(checker.get_absolute_url(), **HTMX).content.decode()
        flow = versions.flow_of(checker.live_version_id)
        response = client.post(
            f"{checker.get_absolute_url()}start/",
            {
                "csrfmiddlewaretoken": TOKEN.search(start).group(1),
                "run": str(uuid.uuid4()),
                "step": flow.start.key,
                "answer": 0,
            },  # fmt: skip
            **HTMX,
        )
        pages.append((response["HX-Push-Url"], response.content.decode()))
    (one_url, one), (two_url, two) = pages
    kept = [key for key in versions.flow_of(checker.live_version_id).rendered if len(key) == 4]
    assert len(kept) == 1  # one panel for both runs' step
    one_run, two_run = (Run.objects.get(pk=url.rstrip("/").rsplit("/", 1)[1]) for url in (one_url, two_url))
    assert f'action="{one_url}answer/"' in one and f'action="{one_url}back/"' in one and two_url not in one
    assert f'action="{two_url}answer/"' in two and f'action="{two_url}back/"' in two and one_url not in two
    assert UNDO.search(one).group(1) == str(one_run.answers.get().pk)
    assert UNDO.search(two).group(1) == str(two_run.answers.get().pk)
    assert TOKEN.search(one).group(1) != TOKEN.search(two).group(1)


def test_a_refused_answer_is_rendered_with_its_message(library):
    """A panel with a message (or the seller's "None of these fit" line) is one of a kind: rendered, not kept."""
    client = Client()
    checker = Checker.objects.published().get(slug="connection-error")
    flow = versions.flow_of(checker.live_version_id)
    response = client.post(
        f"{checker.get_absolute_url()}start/",
        {"run": str(uuid.uuid4()), "step": flow.start.key, "answer": 0},
        **HTMX,
    )
    run_url, html = response["HX-Push-Url"], response.content.decode()
    kept = len(flow.rendered)
    refused = client.post(f"{run_url}answer/", {"step": STEP.search(html).group(1), "answer": 99}, **HTMX)
    assert refused.status_code == REFUSED
    assert "That answer isn&#x27;t one of this step&#x27;s" in refused.content.decode()
    assert len(flow.rendered) == kept
