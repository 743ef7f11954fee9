"""Builders that more than one test module uses: the demo checker and its answers, runs walked through the walk's
functions or over HTTP, reviewers, a large library of listed checkers, a fortnight of random runs, the POST data of a
rendered form.

Test modules import builders from here and fixtures from conftest, never from each other (the review pages' exact
numbers, the `known` fixture, are built in conftest from `make_checker` and `walk_path`).
"""

import random
import re
import uuid
import zlib
from datetime import timedelta
from html.parser import HTMLParser

from django.contrib.auth.models import Group, User
from django.test import TestCase
from django.utils import timezone

from helpcenter.contentcache import content_changed
from support import escalation
from support.models import SupportRequest
from troubleshoot import versioncache, versions, walk
from troubleshoot.models import Answer, Category, Checker, CheckerVersion, Choice, ErrorCode, Run, Step

# The demo checker and its answers


def make_checker(slug: str = "demo", *, category: Category | None = None, code: str = "") -> Checker:
    """A small branching checker:

    start ─Yes→ second ─Yes→ resolved
      │           └No→ third ─Fixed→ resolved
      └No→ escalate             └Still broken→ escalate
    """
    category = category or Category.objects.get_or_create(slug="connecting", defaults={"name": "Connecting"})[0]
    checker = Checker.objects.create(
        slug=slug,
        title=f"Demo checker {slug}",
        symptom="Something is broken.",
        category=category,
        # Error texts of its own (a second checker with another's can't be published: versions.shared_error_texts),
        # in the same words, as searches for the checker's words must not find it by them.
        signatures="Token has been kaput\nSomething odd happened"
        if slug == "demo"
        else f"Token has been kaput ({zlib.crc32(slug.encode())})",
        support_hint="The settlement ID and the exact message.",
    )
    start = Step.objects.create(checker=checker, key="start", position=0, title="First", question="Is it on?")
    second = Step.objects.create(checker=checker, key="second", position=1, title="Second", question="Linked?")
    third = Step.objects.create(checker=checker, key="third", position=2, title="Third", question="Now?")
    Choice.objects.create(step=start, label="Yes", position=0, next_step=second)
    Choice.objects.create(step=start, label="No", position=1, outcome=Choice.Outcome.ESCALATE)
    Choice.objects.create(step=second, label="Yes", position=0, outcome=Choice.Outcome.RESOLVED)
    Choice.objects.create(step=second, label="No", position=1, next_step=third)
    Choice.objects.create(step=third, label="Fixed", position=0, outcome=Choice.Outcome.RESOLVED)
    Choice.objects.create(step=third, label="Still broken", position=1, outcome=Choice.Outcome.ESCALATE)
    if code:
        ErrorCode.objects.create(code=code, checker=checker)
    versions.publish(checker, note="First version")
    return checker


def first_step(checker: Checker) -> str:
    """The key of the step where every run of `checker`'s live version starts, by the portal's own rule."""
    return versioncache.flow_of(checker.live_version_id).start.key


def choice(checker: Checker, step_key: str, label: str) -> int:
    """The number of the answer `label` on step `step_key` in the checker's live version."""
    step = versioncache.flow_of(checker.live_version_id).by_key[step_key]
    return next(answer.index for answer in step.answers if answer.label == label)


def last_answer_id(run) -> int:
    """The answer a Back on the run's page undoes (what its form names)."""
    return run.answers.filter(withdrawn_at__isnull=True).last().pk


# Runs through the walk's own functions


def walk_path(checker, answers, *, source="direct", note="", back_after=None):
    """A run of the checker's live version through `answers` (step key, answer number); Back after the
    `back_after`-th answer, then on."""
    flow = versioncache.flow_of(checker.live_version_id)
    run = None
    for n, (key, index) in enumerate(answers):
        said = note if index == Answer.NONE_FIT else ""
        if run is None:
            run = walk.start_run(flow, uuid.uuid4(), key, index, source=source, note=said)
        else:
            run = walk.record_answer(flow, run, key, index, note=said)
        if back_after == n:
            run = walk.go_back(run, run.answers.live().last().pk)
    return run


def some_runs(count: int = 80, seed: int = 7, slug: str = "wrong-xero-organisation") -> None:
    """Runs of the library's checkers over the last two weeks, walked at random through the real flows: every fifth
    of the first published checker, the rest of `slug`'s."""
    rng = random.Random(seed)  # noqa: S311 - test data
    checkers = list(Checker.objects.published())
    now = timezone.now()
    for n in range(count):
        checker = checkers[0] if n % 5 == 0 else next(c for c in checkers if c.slug == slug)
        flow = versioncache.flow_of(checker.live_version_id)
        step, run = flow.start, None
        while step is not None and step.answers:
            if run is not None and rng.random() < 0.12:
                break  # the seller leaves
            none_fit = rng.random() < 0.05
            index = Answer.NONE_FIT if none_fit else rng.randrange(len(step.answers))
            note = "I have two organisations on one login" if none_fit else ""
            if run is None:
                source = rng.choice(["email", "search", "home", "app", "direct"])
                run = walk.start_run(flow, uuid.uuid4(), step.key, index, source=source, note=note)
            else:
                run = walk.record_answer(flow, run, step.key, index, note=note)
            if none_fit or step.answers[index].ends_run:
                break
            step = flow.by_key[step.answers[index].next]
        started = now - timedelta(days=rng.randrange(14), minutes=rng.randrange(600) + 60)
        Run.objects.filter(pk=run.pk).update(
            started_at=started,
            started_on=timezone.localdate(started),
            last_activity_at=started + timedelta(minutes=3),
            ended_at=started + timedelta(minutes=3) if run.outcome != Run.Outcome.OPEN else None,
        )
        if run.outcome == Run.Outcome.ESCALATED and n % 2:
            escalation.request_support(run, SupportRequest(email="seller@shop.test", description="Still wrong org"))


def took(run, seconds: int) -> None:
    """The run ended `seconds` after it started."""
    Run.objects.filter(pk=run.pk).update(ended_at=run.started_at + timedelta(seconds=seconds))


# Runs over HTTP, as a seller's browser without JavaScript walks them (the demo checker of `make_checker`)


def start_data(checker, label="Yes", **extra) -> dict:
    """The start form's POST data: a new run id, the first step, the answer `label`."""
    return {
        "run": str(uuid.uuid4()),
        "step": first_step(checker),
        "answer": choice(checker, "start", label),
        **extra,
    }


def start(client, checker, label="Yes", **extra) -> Run:
    response = client.post(f"/troubleshoot/{checker.slug}/start/", start_data(checker, label, **extra))
    assert response.status_code == 302
    return Run.objects.get(pk=response.url.partition("?")[0].rstrip("/").rsplit("/", 1)[1])


def answer(client, run, step_key, label, **headers):
    checker = run.checker
    return client.post(
        f"/troubleshoot/{checker.slug}/{run.pk}/answer/",
        {"step": step_key, "answer": choice(checker, step_key, label)},
        **headers,
    )


def escalated_run(client, checker) -> Run:
    run = start(client, checker)
    answer(client, run, "second", "No")
    answer(client, run, "third", "Still broken")
    run.refresh_from_db()
    assert run.outcome == Run.Outcome.ESCALATED
    return run


def resolved_run(client, checker) -> Run:
    """A run started from the checker's page (its own run id) and answered to "resolved" on the second step."""
    page = client.get(f"/troubleshoot/{checker.slug}/").content.decode()
    run_id = re.search(r'name="run" value="([^"]+)"', page).group(1)
    data = {"run": run_id, "step": "start", "answer": 0, "source": "", "source_detail": "", "code": ""}
    assert client.post(f"/troubleshoot/{checker.slug}/start/", data).status_code == 302
    assert (
        client.post(f"/troubleshoot/{checker.slug}/{run_id}/answer/", {"step": "second", "answer": 0}).status_code
        == 302
    )
    run = Run.objects.get(pk=run_id)
    assert run.outcome == Run.Outcome.RESOLVED
    return run


# Staff


def reviewer(client, name="reviewer") -> User:
    """A staff member with the Reviewer role, signed in on `client`."""
    user = User.objects.create_user(name, password="pw-for-tests-only", is_staff=True)
    user.groups.add(Group.objects.get(name="Reviewers"))
    client.force_login(user)
    return user


def review_pages(known) -> list[str]:
    """Every review page and export, with the runs and the request of the `known` fixture."""
    checker, r = known
    reference = r[3].support_request.reference
    return [
        "/support/",
        "/support/checkers/demo/",
        "/support/runs/",
        "/support/runs.csv",
        f"/support/runs/{r[1].pk}/",
        "/support/requests/",
        "/support/requests.csv",
        f"/support/requests/{reference}/",
        "/support/gaps/",
        "/support/checker-options/",
    ]


def sign_in(page, url: str, username: str, password: str) -> None:
    """Sign in on the admin's login page in the browser `page`, to land on the review pages."""
    page.goto(f"{url}/admin/login/?next=/support/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


# A large library

ONE_STEP = [
    {"key": "only", "title": "Only", "question": "Fixed?", "answers": [{"label": "Yes", "outcome": "resolved"}]}
]


def listed_checkers(category: Category, numbers) -> None:
    """Published checkers in bulk (a minimal live version each), as a large library has them."""
    checkers = Checker.objects.bulk_create(
        Checker(slug=f"many-{n:02}", title=f"Many checker {n:02}", symptom="Same.", category=category, position=n)
        for n in numbers
    )
    found = CheckerVersion.objects.bulk_create(
        CheckerVersion(checker=checker, number=1, data={"slug": checker.slug, "steps": ONE_STEP})
        for checker in checkers
    )
    for checker, version in zip(checkers, found, strict=True):
        checker.live_version = version
    Checker.objects.bulk_update(checkers, ["live_version"])
    # Bulk writes send no signals. The generation moves on as the change commits (the test's own transaction never
    # does, so its commit is played here).
    with TestCase.captureOnCommitCallbacks(execute=True):
        content_changed()


def categories_with_checkers(first: int, count: int, per_category: int) -> None:
    """`count` categories numbered from `first`, each with `per_category` listed checkers."""
    for n in range(first, first + count):
        category = Category.objects.create(slug=f"topic-{n:03}", name=f"Topic {n:03}", position=n)
        listed_checkers(category, range(n * 100, n * 100 + per_category))


# Forms as a browser posts them


class FormFields(HTMLParser):
    """The name/value pairs a browser posts from the page's form with id `form_id` (its submit buttons left out)."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.fields = form_id, False, []
        self.select = self.textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside or not attrs.get("name") and tag != "option" or "disabled" in attrs:
            return
        if tag == "input":
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" in attrs:
                self.fields.append((attrs["name"], attrs.get("value", "on")))
            elif kind not in ("checkbox", "radio", "submit", "button", "image", "reset", "file"):
                self.fields.append((attrs["name"], attrs.get("value", "")))
        elif tag == "textarea":
            self.textarea = [attrs["name"], ""]
        elif tag == "select":
            self.select = {"name": attrs["name"], "options": [], "chosen": []}
        elif tag == "option" and self.select is not None:
            self.select["options"].append(attrs.get("value", ""))
            if "selected" in attrs:
                self.select["chosen"].append(attrs.get("value", ""))

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self.textarea is not None:
            name, text = self.textarea
            self.fields.append((name, text.removeprefix("\n")))  # a browser drops the newline after <textarea>
            self.textarea = None
        elif tag == "select" and self.select is not None:
            chosen = self.select["chosen"] or self.select["options"][:1]
            self.fields.extend((self.select["name"], value) for value in chosen)
            self.select = None


def member(client, *groups: str, name="agent"):
    user = User.objects.create_user(name, password="pw-for-tests-only", is_staff=True)
    user.groups.set(Group.objects.filter(name__in=groups))
    client.force_login(user)
    return client


def editor_page_form(client, url: str) -> dict[str, str]:
    """The editor's form at `url` as its page sends it on "Save and continue editing"."""
    parser = FormFields("checker_form")
    parser.feed(client.get(url).content.decode())
    return dict(parser.fields) | {"_continue": "Save and continue editing"}


def add_step(data: dict, index: int, key: str, title: str, answers: list[tuple[str, str, str]]) -> dict:
    """`data` with a new step (no id yet) and its answers, each (label, outcome, next step's key)."""
    prefix = f"steps-{index}"
    data = data | {
        "steps-TOTAL_FORMS": str(index + 1),
        f"{prefix}-id": "",
        f"{prefix}-position": str(index),
        f"{prefix}-key": key,
        f"{prefix}-title": title,
        f"{prefix}-question": f"{title}?",
        f"{prefix}-body": "",
    }
    for kind, rows in (("choices", answers), ("links", [])):
        data |= {
            f"{prefix}-{kind}-TOTAL_FORMS": str(len(rows)),
            f"{prefix}-{kind}-INITIAL_FORMS": "0",
            f"{prefix}-{kind}-MIN_NUM_FORMS": "0",
            f"{prefix}-{kind}-MAX_NUM_FORMS": "1000",
        }
    for n, (label, outcome, next_key) in enumerate(answers):
        row = f"{prefix}-choices-{n}"
        data |= {
            f"{row}-id": "",
            f"{row}-position": str(n),
            f"{row}-label": label,
            f"{row}-outcome": outcome,
            f"{row}-next_step": next_key,
        }
    return data


def targets(checker) -> dict[tuple[str, str], str]:
    """Each answer of the checker's draft, (step key, label), and where it goes: a step's key or an ending."""
    rows = Choice.objects.filter(step__checker=checker).values_list("step__key", "label", "outcome", "next_step__key")
    return {(step, label): next_key or outcome for step, label, outcome, next_key in rows}
