"""Shared fixtures: a small hand-built checker, the real content library, the review pages' known runs, the clock,
the task worker, a race of threads, and Debian's chromium for Playwright. Builders are in tests/factories.py."""

import os
import re
import threading
from datetime import datetime, time, timedelta
from pathlib import Path
from unittest import mock

# Playwright's sync API runs an event loop in the main thread; Django's ORM must still be usable in browser tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from support import escalation  # noqa: E402
from support.models import SupportRequest  # noqa: E402
from tests.factories import make_checker, took, walk_path  # noqa: E402
from troubleshoot import versioncache, versions  # noqa: E402
from troubleshoot.library import read_library  # noqa: E402
from troubleshoot.librarysync import import_library  # noqa: E402
from troubleshoot.models import Answer, Checker, FollowUp, Run  # noqa: E402

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


BROWSER_FIXTURES = {"page", "live_server", "browser", "context"}


def pytest_collection_modifyitems(items):
    """Every test that drives the browser or serves the portal to it is a `browser` test (`make test-browser`)."""
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's chromium; Playwright must never download a browser of its own."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
    }


@pytest.fixture(autouse=True)
def _fresh_version_cache():
    """Versions are cached by id for good; a rolled-back test database hands the same ids out again. Cached pages
    and the content generation are remembered per process too (helpcenter/contentcache.py)."""
    from django.core.cache import cache

    from helpcenter import contentcache as pagecache

    cache.clear()
    versioncache.forget_flows()
    pagecache.forget()


def run_tasks() -> None:
    """Run every task that is due, as the task worker (`manage.py db_worker`) does, then return.

    The worker closes "old" connections between tasks as a request would, which would close the test's own
    connection in the middle of its transaction; that one call is switched off here.
    """
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)


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


@pytest.fixture
def known(db):
    """Nine runs of the demo checker: seven on version 1, two on version 2; the review pages' exact numbers.

    start ─Yes(0)→ second ─Yes(0)→ resolved
      └No(1)→ escalate   └No(1)→ third ─Fixed(0)→ resolved
                                          └Still broken(1)→ escalate
    """
    checker = make_checker()
    r = {}
    r[1] = walk_path(checker, [("start", 0), ("second", 0)])
    r[2] = walk_path(checker, [("start", 1)], source="email")
    r[3] = walk_path(checker, [("start", 0), ("second", 1), ("third", 1)])
    r[4] = walk_path(checker, [("start", 0), ("second", 1), ("third", 0)])
    # Back once (the first answer is withdrawn), then on to third, where the seller leaves.
    r[5] = walk_path(checker, [("start", 0), ("start", 0), ("second", 1)], back_after=0)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Run.objects.filter(pk=r[5].pk).update(last_activity_at=an_hour_ago)
    r[6] = walk_path(checker, [("start", 0)])  # still on second, just now
    r[7] = walk_path(checker, [("start", 0), ("second", Answer.NONE_FIT)], note="My bank feed is different")
    for run, seconds in [(r[1], 60), (r[2], 120), (r[3], 180), (r[4], 240), (r[7], 300)]:
        took(run, seconds)
    Run.objects.filter(pk=r[1].pk).update(followup_answer=FollowUp.FIXED)
    Run.objects.filter(pk=r[4].pk).update(followup_answer=FollowUp.CAME_BACK)
    step = checker.steps.get(key="second")
    step.title = "Second, reworded"
    step.save()
    versions.publish(checker, note="Reworded")
    r[8] = walk_path(checker, [("start", 0), ("second", 0)], source="search")
    r[9] = walk_path(checker, [("start", 1)])
    escalation.request_support(r[3], SupportRequest(email="seller@shop.test", description="Still broken after all"))
    return checker, r
