"""Shared fixtures: a small hand-built checker, the real content library, and Debian's chromium for Playwright."""

import os
import re
import threading
import zlib
from datetime import datetime, time
from pathlib import Path
from unittest import mock

# Playwright's sync API runs an event loop in the main thread; Django's ORM must still be usable in browser tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from troubleshoot import versions  # noqa: E402
from troubleshoot.library import import_library, read_library  # noqa: E402
from troubleshoot.models import Category, Checker, Choice, ErrorCode, Step  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/lib/chromium/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CONTENT = Path(settings.BASE_DIR) / "content"
# The day the suite was collected. Tests that count runs by day run at its noon (`midday`): the periods their modules
# compute from it hold however late they run, and no run of theirs falls across midnight or in the half hour after it,
# when yesterday isn't settled yet (HELPCENTER_ABANDON_AFTER_MINUTES). Both once failed CI run at 00:01 UTC.
TODAY = timezone.localdate()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's chromium; Playwright must never download a browser of its own."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
    }


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
    return versions.flow_of(checker.live_version_id).start.key


def choice(checker: Checker, step_key: str, label: str) -> int:
    """The number of the answer `label` on step `step_key` in the checker's live version."""
    step = versions.flow_of(checker.live_version_id).by_key[step_key]
    return next(answer.index for answer in step.answers if answer.label == label)


@pytest.fixture(autouse=True)
def _fresh_version_cache():
    """Versions are cached by id for good; a rolled-back test database hands the same ids out again. Cached pages
    and the content generation are remembered per process too (helpcenter/contentcache.py)."""
    from django.core.cache import cache

    from helpcenter import contentcache as pagecache

    cache.clear()
    versions.forget_flows()
    pagecache.forget()


def run_tasks() -> None:
    """Run every task that is due, as the task worker (`manage.py db_worker`) does, then return.

    The worker closes "old" connections between tasks as a request would, which would close the test's own
    connection in the middle of its transaction; that one call is switched off here.
    """
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)


def last_answer_id(run) -> int:
    """The answer a Back on the run's page undoes (what its form names)."""
    return run.answers.filter(withdrawn_at__isnull=True).last().pk


def tokenless(html: str) -> str:
    """A page as compared with another: each response masks the seller's CSRF token afresh."""
    return re.sub(r'name="csrfmiddlewaretoken" value="\w+"', 'name="csrfmiddlewaretoken"', html)


def race(*actions, told: tuple[type[Exception], ...] = ()) -> list:
    """Run `actions` in threads released at the same instant, each on its own database connection (so the test
    needs `django_db(transaction=True)`); return what each returned, in order, or the exception it raised if that
    is one of `told` (the loser of a race being told is often the point). Any other exception fails the test, once
    every thread has finished."""
    barrier = threading.Barrier(len(actions))
    outcomes: list = [None] * len(actions)
    failures: list[BaseException] = []

    def go(number: int, action) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[number] = action()
        except told as exc:
            outcomes[number] = exc
        except BaseException as exc:  # noqa: BLE001 - raised in the test's own thread below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=go, args=[number, action]) for number, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return outcomes


@pytest.fixture
def midday(time_machine):
    """The clock at noon of TODAY, ticking on from there."""
    time_machine.move_to(timezone.make_aware(datetime.combine(TODAY, time(12))), tick=True)


@pytest.fixture
def checker(db) -> Checker:
    return make_checker()


@pytest.fixture
def library(db):
    """The real content library from content/, imported as `make run` does."""
    return import_library(read_library(CONTENT))


@pytest.fixture(scope="module")
def shared_library(django_db_setup, django_db_blocker):
    """The library imported once for a whole module of read-only tests, rolled back at the end.

    Each test's own `db` transaction nests inside this one as a savepoint.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        import_library(read_library(CONTENT))
        yield
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: rate-limit counts and cached pages don't leak between tests."""
    from django.core.cache import cache

    cache.clear()
    yield
