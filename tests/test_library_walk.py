"""Every path of every checker in the content library, walked as a seller with htmx walks it: every answer of every
reachable step, then Back, with the client's CSRF checks on. Each step answers with its own form, each ending with
the page a seller sees there (at an escalation, the support form with the checker's support hint), and Back returns
to the step it left.

And once for each platform, as a seller whose platform is known walks it: a QuickBooks seller is never shown a step
only the Xero answer of a "Which do you use?" step leads to, nor asked that question, and the reverse; a checker
for the other platform only says so."""

import re
import uuid
from html import unescape

import pytest
from django.test import Client

from troubleshoot import positions, versioncache
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


def explore(client, checker: Checker, run_url: str, html: str, seen: list | None = None) -> int:
    """Every answer of the step in `html` and what follows it; how many steps were stood at (each step's key
    added to `seen`)."""
    step = STEP.search(html)
    if step is None:
        assert_ending(checker, html)
        return 0
    if seen is not None:
        seen.append(step.group(1))
    assert unescape(client.get(run_url).content.decode()).count(step.group(1)) >= 1  # the full page, same step
    stood = 1
    for index in map(int, ANSWERS.findall(html)):
        after = post(client, f"{run_url}answer/", {"step": step.group(1), "answer": index}, html)
        stood += explore(client, checker, run_url, after, seen)
        back = post(client, f"{run_url}back/", {"answer": UNDO.search(after).group(1)}, after)
        assert STEP.search(back).group(1) == step.group(1), f"{checker.slug}: Back from {step.group(1)}"
    return stood


def walk_every_path(client, checker: Checker, seen: list | None = None) -> int:
    start = client.get(checker.get_absolute_url(), **HTMX).content.decode()
    platform = client.cookies.get("platform")
    if seen is not None:
        seen.append(STEP.search(start).group(1))
    stood = 0
    for index in map(int, ANSWERS.findall(start)):
        if platform is None:
            client.cookies.pop("platform", None)  # each run begins with the platform unknown, as the first did
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
        stood += explore(client, checker, response["HX-Push-Url"].partition("?")[0], response.content.decode(), seen)
    return stood


def paths_to_steps(flow, step, platform: str = "") -> int:
    """How many ways a seller can stand at a step after `step`, the first one shown. Once their platform is known
    (`platform`, or told by their answer to a "Which do you use?" step) the walk answers those steps for them: only
    their own platform's answer is followed there, and the step is never stood at."""
    total = 0
    for answer in step.answers:
        if answer.ends_run or (platform and step.asks_platform and answer.platform != platform):
            continue
        after, known = flow.by_key[answer.next], platform or answer.platform
        total += (0 if after.asks_platform and known else 1) + paths_to_steps(flow, after, known)
    return total


@pytest.mark.slow
def test_every_path_of_every_checker_in_the_library_walks_to_its_ending(library, settings):
    # One client starts a run for every first answer of every checker: more than a seller's limit a minute.
    settings.HELPCENTER_RATE_LIMITS = {**settings.HELPCENTER_RATE_LIMITS, "start": "10000/m"}
    checkers = list(Checker.objects.published())
    assert len(checkers) == len(list((settings.BASE_DIR / "content" / "checkers").glob("*.yaml")))
    for checker in checkers:
        # A fresh visit for each: a seller's answer to "Which do you use?" is remembered for the rest of the visit.
        client = Client(enforce_csrf_checks=True)
        flow = versioncache.flow_of(checker.live_version_id)
        assert walk_every_path(client, checker) == paths_to_steps(flow, flow.start), checker.slug


@pytest.mark.parametrize("platform", ["xero", "quickbooks"])
def test_a_seller_of_one_platform_never_sees_the_other_platforms_steps(library, settings, platform):
    settings.HELPCENTER_RATE_LIMITS = {**settings.HELPCENTER_RATE_LIMITS, "start": "10000/m"}
    other = {"xero": "quickbooks", "quickbooks": "xero"}[platform]
    differs = 0
    for checker in Checker.objects.published():
        flow = versioncache.flow_of(checker.live_version_id)
        client = Client(enforce_csrf_checks=True)
        page = unescape(client.get(f"{checker.get_absolute_url()}?platform={platform}").content.decode())
        if not checker.applies_to(platform):
            assert f"This guide is for {PLATFORM_NAMES[other]}, and you use {PLATFORM_NAMES[platform]}." in page
            continue
        assert "This guide is for" not in page or checker.platforms == platform, checker.slug
        seen: list[str] = []
        stood = walk_every_path(client, checker, seen)
        assert stood == paths_to_steps(flow, positions.first_step(flow, platform), platform), checker.slug
        assert set(seen) <= flow.reachable(platform), f"{checker.slug}: a step for {other} shown to {platform}"
        assert not set(seen) & flow.only_for(other), checker.slug
        assert not any(flow.by_key[key].asks_platform for key in seen), f"{checker.slug}: asked the platform"
        assert set(seen) == {key for key in flow.reachable(platform) if not flow.by_key[key].asks_platform}
        differs += flow.asks_platform
    assert differs >= 4  # the library's checkers whose fix differs: currency, tax rate, sending, set-up wizard


PLATFORM_NAMES = {"xero": "Xero", "quickbooks": "QuickBooks"}
