"""Xero and QuickBooks: which platforms a checker is for, "Which do you use?" steps, the seller's platform from the
link or the visit, and browse and search narrowed to it."""

import re
import shutil
import uuid
from pathlib import Path

import pytest
from django.test import Client

from tests.conftest import CONTENT
from troubleshoot import compare, positions, versioncache, versions, walk
from troubleshoot.graph import Flow
from troubleshoot.library import ContentError, read_library
from troubleshoot.librarysync import import_library
from troubleshoot.models import Category, Checker, ErrorCode, Run

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
ASKED = "<legend>Which do you use?</legend>"  # the question on screen (the answers so far may quote it)
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def ask(key: str, xero: str, quickbooks: str) -> dict:
    return {
        "key": key,
        "title": "Where do you keep your books?",
        "question": "Which do you use?",
        "answers": [
            {"label": "Xero", "next": xero, "platform": "xero"},
            {"label": "QuickBooks", "next": quickbooks, "platform": "quickbooks"},
        ],
    }


def step(key: str, title: str, answers: list[dict]) -> dict:
    return {"key": key, "title": title, "question": f"{title}?", "answers": answers}


ENDS = [{"label": "Yes", "outcome": "resolved"}, {"label": "No", "outcome": "escalate"}]
# start ─Yes→ platform ─Xero→ in-xero ──→ ends
#   └No→ escalate      └QuickBooks→ in-quickbooks ──→ ends
SPLIT = [
    step("start", "Is it on", [{"label": "Yes", "next": "platform"}, {"label": "No", "outcome": "escalate"}]),
    ask("platform", "in-xero", "in-quickbooks"),
    step("in-xero", "Fix it in Xero", ENDS),
    step("in-quickbooks", "Fix it in QuickBooks", ENDS),
]
# The same, asking first.
ASKS_FIRST = [ask("platform", "in-xero", "in-quickbooks"), SPLIT[2], SPLIT[3]]


def checker_of(slug: str, steps: list[dict], platforms: str = "both", code: str = "") -> Checker:
    category = Category.objects.get_or_create(slug="connecting", defaults={"name": "Connecting"})[0]
    checker = Checker.objects.create(
        slug=slug,
        title=f"Checker {slug}",
        symptom="Something is broken.",
        category=category,
        platforms=platforms,
        support_hint="The settlement ID.",
    )
    versions.write_draft(checker, steps)
    versions.publish(checker)
    if code:
        ErrorCode.objects.create(code=code, checker=checker)
    return checker


def flow_of(checker: Checker) -> Flow:
    return versioncache.flow_of(checker.live_version_id)


# The flow check


def problems(steps: list[dict], platforms=("xero", "quickbooks")) -> list[str]:
    return [str(p) for p in Flow.from_data({"platforms": list(platforms), "steps": steps}).problems()]


def test_a_flow_with_a_platform_question_for_each_platform_passes():
    assert problems(SPLIT) == [] and problems(ASKS_FIRST) == []


def test_a_platform_question_needs_exactly_one_answer_per_platform():
    missing = [SPLIT[0], {**SPLIT[1], "answers": SPLIT[1]["answers"][:1]}, SPLIT[2]]
    assert problems(missing) == ['Step "platform" needs exactly one answer for each of Xero and QuickBooks.']
    twice = [*SPLIT[:1], {**SPLIT[1], "answers": [SPLIT[1]["answers"][0]] * 2}, SPLIT[2]]
    assert problems(twice) == ['Step "platform" needs exactly one answer for each of Xero and QuickBooks.']


def test_platform_answers_only_on_a_platform_question():
    mixed = [*SPLIT[:1], {**SPLIT[1], "answers": [*SPLIT[1]["answers"], {"label": "Both", "outcome": "escalate"}]}]
    assert problems([*mixed, *SPLIT[2:]]) == [
        'Step "platform" has answers for a platform and answers for none: only a "Which do you use?" step has '
        "platform answers, and all its answers are."
    ]


def test_a_checker_for_one_platform_asks_no_platform_question():
    assert problems(SPLIT, platforms=["xero"]) == [
        'Step "platform" asks which platform the seller uses, but this checker is for Xero only: leave the question '
        "out, or make the checker for both."
    ]


def test_steps_only_one_platforms_answer_leads_to():
    flow = Flow.from_data({"steps": SPLIT})
    assert flow.only_for("xero") == {"in-xero"} and flow.only_for("quickbooks") == {"in-quickbooks"}
    assert flow.reachable("quickbooks") == {"start", "platform", "in-quickbooks"}


def test_publishing_a_draft_with_a_bad_platform_question_is_refused(db):
    checker = checker_of("split", SPLIT)
    Checker.objects.filter(pk=checker.pk).update(platforms="quickbooks")
    checker.refresh_from_db()
    with pytest.raises(versions.PublishRefused, match="this checker is for QuickBooks only"):
        versions.publish(checker, note="now for QuickBooks only")


def test_a_version_holds_the_platforms_and_the_diff_shows_them(db):
    checker = checker_of("split", SPLIT)
    data = checker.live_version.data
    assert data["platforms"] == ["xero", "quickbooks"]
    assert [a.get("platform") for a in data["steps"][1]["answers"]] == ["xero", "quickbooks"]
    changed = [{**s, "answers": [{k: v for k, v in a.items() if k != "platform"} for a in s["answers"]]} for s in SPLIT]
    changes = compare.diff(data, {**data, "platforms": ["xero"], "steps": changed})
    assert [(c.where, c.before, c.after) for c in changes] == [
        ("Platforms", "xero, quickbooks", "xero"),
        ('Step "platform": answer "Xero": platform', "xero", "none"),
        ('Step "platform": answer "QuickBooks": platform', "quickbooks", "none"),
    ]


# Content files


@pytest.fixture
def content(tmp_path) -> Path:
    return Path(shutil.copytree(CONTENT, tmp_path / "content"))


def test_every_checker_file_says_which_platforms_it_is_for_and_tags_its_platform_questions():
    import yaml

    library = read_library(CONTENT)
    for slug, data in library.checkers.items():
        raw = yaml.safe_load(library.paths[slug].read_text())
        assert raw["platforms"] in (["xero"], ["quickbooks"], ["xero", "quickbooks"]), slug
        for item in data["steps"]:
            if item["question"] == "Which do you use?":
                assert sorted(a.get("platform", "") for a in item["answers"]) == ["quickbooks", "xero"], slug
    platforms = {slug: data["platforms"] for slug, data in library.checkers.items()}
    assert platforms["xero-disconnected"] == platforms["xero-plan-limit"] == ["xero"]
    assert platforms["wrong-xero-organisation"] == platforms["lock-date"] == ["xero"]
    assert platforms["quickbooks-disconnected"] == platforms["quickbooks-closed-period"] == ["quickbooks"]
    assert platforms["sales-channel-disconnected"] == platforms["tax-code-mismatch"] == ["xero", "quickbooks"]


def test_the_platforms_round_trip_through_the_database(library, tmp_path):
    from django.core.management import call_command

    assert Checker.objects.get(slug="quickbooks-disconnected").platforms == "quickbooks"
    assert Checker.objects.get(slug="tax-code-mismatch").platforms == "both"
    call_command("dumpcontent", path=str(tmp_path))
    text = (tmp_path / "checkers" / "currency-not-enabled.yaml").read_text()
    assert "platforms:\n  - xero\n  - quickbooks\n" in text and "        platform: quickbooks\n" in text
    assert read_library(tmp_path).checkers == read_library(CONTENT).checkers


def test_a_file_without_platforms_is_for_both(db, content):
    path = content / "checkers" / "lock-date.yaml"
    path.write_text(path.read_text().replace("platforms:\n  - xero\n", ""))
    assert read_library(content).checkers["lock-date"]["platforms"] == ["xero", "quickbooks"]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("platforms:\n  - xero\n", "platforms:\n  - sage\n", 'unknown platform "sage"'),
        ("platforms:\n  - xero\n", "platforms:\n  - xero\n  - xero\n", "lists a platform twice"),
    ],
)
def test_an_unknown_platform_on_a_checker_is_refused(db, content, old, new, message):
    path = content / "checkers" / "lock-date.yaml"
    path.write_text(path.read_text().replace(old, new))
    with pytest.raises(ContentError, match=message) as caught:
        read_library(content)
    assert caught.value.line == 4


def test_an_unknown_platform_on_an_answer_is_refused(db, content):
    path = content / "checkers" / "tax-code-mismatch.yaml"
    path.write_text(path.read_text().replace("platform: quickbooks", "platform: QBO"))
    with pytest.raises(ContentError, match='unknown platform "QBO": use xero or quickbooks'):
        read_library(content)


def test_a_platform_question_on_a_single_platform_file_is_refused_by_the_flow_check(db, content):
    path = content / "checkers" / "tax-code-mismatch.yaml"
    path.write_text(path.read_text().replace("platforms:\n  - xero\n  - quickbooks\n", "platforms:\n  - xero\n"))
    with pytest.raises(ContentError, match="this checker is for Xero only"):
        import_library(read_library(content))


# The walk


def test_a_known_platform_answers_the_platform_question_and_is_logged(db):
    checker = checker_of("split", SPLIT)
    run = walk.start_run(flow_of(checker), uuid.uuid4(), "start", 0, platform="quickbooks")
    assert (run.current_step_key, run.path, run.platform, run.platform_asked) == (
        "in-quickbooks",
        "start:0/platform:1",
        "quickbooks",
        False,
    )
    assert list(run.answers.values_list("step_key", "choice_label")) == [("start", "Yes"), ("platform", "QuickBooks")]


def test_an_unknown_platform_is_asked_and_the_answer_is_the_runs_platform(db):
    checker = checker_of("split", SPLIT)
    flow = flow_of(checker)
    run = walk.start_run(flow, uuid.uuid4(), "start", 0)
    assert (run.current_step_key, run.platform) == ("platform", "")
    run = walk.record_answer(flow, run, "platform", 0)
    assert (run.current_step_key, run.platform, run.platform_asked) == ("in-xero", "xero", True)


def test_back_returns_past_a_platform_question_answered_for_the_seller(db):
    checker = checker_of("split", SPLIT)
    flow = flow_of(checker)
    run = walk.start_run(flow, uuid.uuid4(), "start", 0, platform="xero")
    run = walk.go_back(run, run.answers.live().last().pk, flow)
    run.refresh_from_db()
    assert (run.current_step_key, run.path, run.platform) == ("start", "", "xero")
    assert run.answers.live().count() == 0 and run.answers.count() == 2


def test_back_to_a_platform_question_the_seller_answered_asks_it_again(db):
    checker = checker_of("split", SPLIT)
    flow = flow_of(checker)
    run = walk.record_answer(flow, walk.start_run(flow, uuid.uuid4(), "start", 0), "platform", 1)
    run = walk.go_back(run, run.answers.live().last().pk, flow)
    run.refresh_from_db()
    assert (run.current_step_key, run.path, run.platform, run.platform_asked) == ("platform", "start:0", "", False)
    run = walk.record_answer(flow, run, "platform", 0)  # and they may choose the other one
    assert (run.current_step_key, run.platform) == ("in-xero", "xero")


def test_a_double_submitted_answer_before_a_platform_question_is_recorded_once(db):
    checker = checker_of("split", SPLIT)
    flow = flow_of(checker)
    run = walk.start_run(flow, uuid.uuid4(), "start", 0, platform="xero")
    first = walk.record_answer(flow, run, "in-xero", 0)
    again = walk.record_answer(flow, Run.objects.get(pk=run.pk), "in-xero", 0)
    assert again.outcome == first.outcome == Run.Outcome.RESOLVED and again.answers.live().count() == 3


# The seller's pages


def start_page(client, url: str) -> str:
    response = client.get(url, **HTMX)
    assert response.status_code == 200
    return response.content.decode()


def answer_first(client, checker: Checker, page: str, index: int):
    step = page.split('name="step" value="')[1].split('"')[0]
    return client.post(
        f"{checker.get_absolute_url()}start/",
        {"csrfmiddlewaretoken": TOKEN.search(page).group(1), "run": str(uuid.uuid4()), "step": step, "answer": index},
        **HTMX,
    )


def test_the_apps_link_gives_the_platform_and_the_visit_remembers_it(db):
    checker = checker_of("split", ASKS_FIRST, code="QB-1")
    client = Client(enforce_csrf_checks=True)
    response = client.get("/e/QB-1/?platform=quickbooks")
    assert response.status_code == 200 and response.cookies["platform"].value == "quickbooks"
    assert "Fix it in QuickBooks" in response.content.decode() and ASKED not in response.content.decode()
    page = start_page(client, checker.get_absolute_url())
    assert "Fix it in QuickBooks" in page and "Fix it in Xero" not in page and ASKED not in page
    assert "Showing the steps for QuickBooks." in page and "?platform=xero" in page
    response = answer_first(client, checker, page, 0)
    assert response.status_code == 200 and "Glad it's fixed!" in response.content.decode()
    run = Run.objects.get()
    assert (run.path, run.platform, run.outcome) == ("platform:1/in-quickbooks:0", "quickbooks", "resolved")


@pytest.mark.parametrize("given", ["sage", "XERO", "<script>", "", "xero-ish", "quickbooks " * 300])
def test_a_platform_the_link_gives_that_is_not_one_is_ignored(db, given):
    checker = checker_of("split", ASKS_FIRST, code="QB-1")
    client = Client()
    for url in [f"{checker.get_absolute_url()}?platform={given}", f"/e/QB-1/?platform={given}", f"/?platform={given}"]:
        response = client.get(url)
        assert response.status_code == 200 and "platform" not in response.cookies, url
    assert ASKED in client.get(checker.get_absolute_url()).content.decode()


def test_a_platform_answered_on_one_checker_is_used_by_the_next(db):
    one, two = checker_of("one", ASKS_FIRST), checker_of("two", SPLIT)
    client = Client(enforce_csrf_checks=True)
    page = start_page(client, one.get_absolute_url())
    assert ASKED in page
    response = answer_first(client, one, page, 0)
    assert response.status_code == 200 and response.cookies["platform"].value == "xero"
    assert "Fix it in Xero" in response.content.decode()
    response = answer_first(client, two, start_page(client, two.get_absolute_url()), 0)
    assert "Fix it in Xero" in response.content.decode() and ASKED not in response.content.decode()
    assert Run.objects.get(checker=two).path == "start:0/platform:0"
    client.get("/?platform=all")  # "Show all" forgets it
    assert ASKED in start_page(client, one.get_absolute_url())


def test_a_checker_for_the_other_platform_says_so(db):
    checker = checker_of("xero-only", [step("start", "Check Xero", ENDS)], platforms="xero")
    client = Client()
    page = client.get(f"{checker.get_absolute_url()}?platform=quickbooks").content.decode()
    assert "This guide is for Xero, and you use QuickBooks." in page and "/?platform=quickbooks" in page
    page = client.get(f"{checker.get_absolute_url()}?platform=xero").content.decode()
    assert "This guide is for Xero." in page and "you use" not in page


def test_the_start_page_with_a_platform_reads_no_more_than_without(db, django_assert_num_queries):
    checker = checker_of("split", ASKS_FIRST)
    client = Client()
    client.get(checker.get_absolute_url())  # the flow cached, the checker kept
    with django_assert_num_queries(0):
        client.get(checker.get_absolute_url())
    with django_assert_num_queries(0):
        client.get(f"{checker.get_absolute_url()}?platform=quickbooks")


# Browse and search narrowed


def test_browse_narrowed_to_a_platform(library):
    client = Client()
    page = client.get("/?platform=quickbooks").content.decode()
    assert "Showing guides for QuickBooks" in page and '<a href="?platform=all">Show all</a>' in page
    category = client.get("/category/connecting-to-xero/").content.decode()  # remembered
    assert "Showing guides for QuickBooks" in category
    assert "Xero shows as disconnected" not in category and "Unknown Company" in category
    topics = client.get("/topics/").content.decode()
    assert "Connecting to Xero" in topics and "Connecting to QuickBooks" in topics
    everything = client.get("/category/connecting-to-xero/?platform=all").content.decode()
    assert "Xero shows as disconnected" in everything and "Show guides for:" in everything


def test_browse_narrowed_reads_as_many_rows_as_browse(library, django_assert_num_queries):
    client = Client()
    client.get("/")
    client.get("/?platform=xero")  # both overviews cached, each under its platform
    for url in ["/", "/?platform=xero", "/?platform=quickbooks"]:
        with django_assert_num_queries(1 if "quickbooks" not in url else 3):  # the articles; QuickBooks's overview
            client.get(url)
    # The category, the two counts of its pages, a page of its checkers and one of its articles.
    for url in ["/category/connecting-to-xero/", "/category/connecting-to-xero/?platform=xero"]:
        with django_assert_num_queries(5):
            client.get(url)


def test_search_narrowed_to_a_platform(library):
    message = "Refresh OAuth 2 Access token with Refresh Token failed"
    assert Client().get("/api/search", {"q": message}).json()["results"][0]["slug"] == "quickbooks-disconnected"
    data = Client().get("/api/search", {"q": message, "platform": "xero"}).json()
    assert data["platform"] == "xero" and "quickbooks-disconnected" not in [r["slug"] for r in data["results"]]
    client = Client()
    page = client.get("/search/", {"q": "Xero API Error", "platform": "quickbooks"}).content.decode()
    assert "Showing guides for QuickBooks" in page and "xero-api-temporary-error" not in page
    page = client.get("/search/", {"q": "Xero API Error", "platform": "all"}).content.decode()
    assert "/troubleshoot/xero-api-temporary-error/" in page


def test_a_steps_page_in_the_history_passes_the_platform_question_the_walk_answered(db):
    """The start page's history entry becomes step 1 of the run (portal.js): for a seller whose platform the link
    gave, that is the step they saw, not the "Which do you use?" the walk answered for them."""
    checker = checker_of("split", ASKS_FIRST)
    flow = versioncache.flow_of(checker.live_version_id)
    run = walk.start_run(flow, uuid.uuid4(), "in-quickbooks", 1, platform="quickbooks")
    assert run.path == "platform:1/in-quickbooks:1"
    assert [positions.position_at(flow, run, number).step.key for number in (1, 2)] == ["in-quickbooks"] * 2
    asked = walk.start_run(flow, uuid.uuid4(), "platform", 1)  # the seller answered it themselves
    asked = walk.record_answer(flow, asked, "in-quickbooks", 1)
    assert asked.platform_asked and positions.position_at(flow, asked, 1).step.key == "platform"


def test_answering_an_earlier_step_again_takes_the_platform_question_after_it(db):
    checker = checker_of("split", SPLIT)
    flow = versioncache.flow_of(checker.live_version_id)
    run = walk.start_run(flow, uuid.uuid4(), "start", 0, platform="xero")
    run = walk.record_answer(flow, run, "in-xero", 1)
    assert (run.path, run.outcome) == ("start:0/platform:0/in-xero:1", Run.Outcome.ESCALATED)
    run = walk.answer_again(flow, run, "start", 0)
    assert (run.path, run.current_step_key, run.outcome) == ("start:0/platform:0", "in-xero", Run.Outcome.OPEN)
