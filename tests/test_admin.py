"""Support staff in the admin: the checker editor (draft, flow picture, preview, publish, history, diff, restore),
the two roles, and the read-only outcome log."""

import re
import uuid

import pytest
from django.contrib.admin import site
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.db import connection

from support import escalation
from support.models import ArticleFeedback, SupportRequest
from tests.conftest import run_tasks
from tests.factories import add_step, editor_page_form, last_answer_id, make_checker, member, targets
from troubleshoot import versioncache, versions, walk
from troubleshoot.library import read_library
from troubleshoot.models import Article, CheckerVersion, Choice, Run, Step

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, db):
    user = User.objects.create_user("support", password="pw-for-tests-only", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    client.force_login(user)
    return client


def walked_run(checker, last: str = "Yes") -> Run:
    """A run through First (Yes) and Second (`last`): resolved by default, or on to Third and its answer `last`."""
    flow = versioncache.flow_of(checker.live_version_id)
    run = walk.start_run(flow, uuid.uuid4(), "start", 0)
    if last == "Yes":
        return walk.record_answer(flow, run, "second", 0)
    run = walk.record_answer(flow, run, "second", 1)
    return walk.record_answer(flow, run, "third", ["Fixed", "Still broken"].index(last))


def test_review_pages_are_staff_only(client, checker):
    run = walked_run(checker)
    for url in ["/admin/troubleshoot/run/", f"/admin/troubleshoot/run/{run.pk}/change/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response.url
    client.force_login(User.objects.create_user("seller", password="pw-for-tests-only"))
    assert client.get("/admin/troubleshoot/run/").status_code == 302


def test_run_appears_with_its_path(staff_client, checker):
    run = walked_run(checker)
    html = staff_client.get("/admin/troubleshoot/run/").content.decode()
    assert checker.title in html and "Resolved" in html
    html = staff_client.get(f"/admin/troubleshoot/run/{run.pk}/change/").content.decode()
    assert "Is it on?" in html and "Linked?" in html
    assert html.index("Is it on?") < html.index("Linked?")
    assert 'name="_save"' not in html  # read-only


def test_run_list_filters_abandoned(staff_client, checker, settings):
    run = walked_run(checker)
    walk.go_back(run, last_answer_id(run))
    long_ago = run.started_at.replace(year=2000)  # started, and last answered, long ago
    Run.objects.filter(pk=run.pk).update(started_at=long_ago, last_activity_at=long_ago)
    html = staff_client.get("/admin/troubleshoot/run/?status=abandoned").content.decode()
    assert "Abandoned" in html and "1 run" in html
    html = staff_client.get("/admin/troubleshoot/run/?status=resolved").content.decode()
    assert "0 runs" in html


def test_run_list_query_count_is_flat(staff_client, checker, django_assert_num_queries):
    for _ in range(3):
        walked_run(checker)
    with django_assert_num_queries(9) as captured:
        staff_client.get("/admin/troubleshoot/run/")
    # The page of runs is read by date alone; its checkers come apart (`RunChangeList`). Joined to the checkers,
    # SQLite read every checker's runs and sorted them all: 0.4 s at 5,000 checkers and 200,000 runs.
    (page,) = [query["sql"] for query in captured.captured_queries if 'FROM "troubleshoot_run"' in query["sql"]][-1:]
    assert "ORDER BY" in page and '"troubleshoot_checker"' not in page
    for _ in range(20):
        walked_run(checker)
    with django_assert_num_queries(9):
        html = staff_client.get("/admin/troubleshoot/run/").content.decode()
    assert html.count(checker.title) >= 23  # every run's checker, from the query apart


def test_runs_cannot_be_deleted_or_edited(admin_client, checker):
    run = walked_run(checker)
    assert admin_client.post(f"/admin/troubleshoot/run/{run.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Run.objects.filter(pk=run.pk).exists()


def test_editor_page_shows_steps_answers_flow_picture_and_markdown_preview(admin_client, checker):
    Step.objects.filter(checker=checker, key="second").update(body="Look <script>alert(1)</script> **here**")
    Step.objects.get(checker=checker, key="second").save()  # renders body_html
    html = admin_client.get(f"/admin/troubleshoot/checker/{checker.pk}/change/").content.decode()
    assert 'name="steps-1-key"' in html and 'name="steps-1-choices-0-label"' in html  # answers inline
    assert "<svg" in html and "Every path ends in resolved or escalate." in html
    assert html.count('class="node step') == 3 and html.count('class="node resolved') == 2
    assert "<strong>here</strong>" in html and "<script>alert(1)" not in html
    assert "Preview draft" in html and "Publish…" in html and "Versions" in html


def test_flow_picture_marks_the_step_with_a_problem(admin_client, checker):
    Step.objects.create(checker=checker, key="orphan", position=9, title="Orphan", question="?")
    html = admin_client.get(f"/admin/troubleshoot/checker/{checker.pk}/change/").content.decode()
    assert 'class="node step problem"' in html and "Can't be published yet" in html
    assert "<code>orphan</code>" in html


def test_next_step_choices_are_the_steps_of_the_same_checker_by_key(admin_client, checker):
    make_checker("other")
    Step.objects.filter(checker__slug="other", key="third").update(key="only-in-other")
    html = admin_client.get(f"/admin/troubleshoot/checker/{checker.pk}/change/").content.decode()
    select = re.search(r'<select name="steps-0-choices-0-next_step".*?</select>', html, re.S).group()
    assert re.findall(r'<option value="([^"]*)"', select) == ["", "start", "second", "third"]
    assert '<option value="second" selected>2. Second</option>' in select


def test_publish_page_shows_changes_and_publishes_with_a_note(admin_client, checker):
    Step.objects.filter(checker=checker, key="third").update(question="Working now?")
    url = f"/admin/troubleshoot/checker/{checker.pk}/publish/"
    html = admin_client.get(url).content.decode()
    assert "Working now?" in html and 'name="base" value="1"' in html and "Publish version 2" in html
    response = admin_client.post(url, {"base": "1", "note": "Plainer question"}, follow=True)
    assert "Version 2 of Demo checker demo is live" in response.content.decode()
    version = CheckerVersion.objects.get(checker=checker, number=2)
    assert version.note == "Plainer question" and version.created_by.username == "admin"


def test_publish_refused_lists_the_problems_in_plain_words(admin_client, checker):
    Choice.objects.filter(step__checker=checker, step__key="third").delete()
    response = admin_client.post(f"/admin/troubleshoot/checker/{checker.pk}/publish/", {"base": "1"})
    html = response.content.decode()
    assert response.status_code == 200 and "This draft can't be published" in html
    assert "has no answers, so a seller would be stuck there" in html
    assert CheckerVersion.objects.filter(checker=checker).count() == 1


def test_publish_from_a_stale_page_is_refused_and_sent_to_the_history(admin_client, checker):
    Step.objects.filter(checker=checker, key="third").update(question="Working now?")
    versions.publish(checker)  # someone else, meanwhile
    Step.objects.filter(checker=checker, key="third").update(question="Working again?")
    response = admin_client.post(f"/admin/troubleshoot/checker/{checker.pk}/publish/", {"base": "1"}, follow=True)
    assert "Version 2 was published since you opened this draft" in response.content.decode()
    assert CheckerVersion.objects.filter(checker=checker).count() == 2


def test_history_diff_and_restore(admin_client, checker):
    Step.objects.filter(checker=checker, key="second").update(title="Second, reworded")
    versions.publish(checker, note="Reworded")
    walked_run(checker)
    html = admin_client.get(f"/admin/troubleshoot/checker/{checker.pk}/versions/").content.decode()
    assert "Reworded" in html and "First version" in html and "Restore into draft" in html
    html = admin_client.get(f"/admin/troubleshoot/checker/{checker.pk}/diff/?old=1&new=2").content.decode()
    assert "<del>Second</del>" in html and "<ins>Second, reworded</ins>" in html
    response = admin_client.post(f"/admin/troubleshoot/checker/{checker.pk}/restore/1/", follow=True)
    assert "steps are back in the draft" in response.content.decode()
    assert Step.objects.get(checker=checker, key="second").title == "Second"


def test_preview_walks_the_draft_and_logs_nothing(admin_client, checker):
    Step.objects.filter(checker=checker, key="second").update(title="Second, in the draft")
    url = "/troubleshoot/demo/preview/"
    html = admin_client.get(url).content.decode()
    assert "Preview of the draft" in html and '<button type="submit" name="answer" value="0">Yes</button>' in html
    response = admin_client.post(url, {"step": "start", "answer": "0", "path": ""})
    assert response.status_code == 302 and response.url == f"{url}?path=0"
    assert "Second, in the draft" in admin_client.get(response.url).content.decode()
    response = admin_client.post(
        url,
        {"step": "second", "answer": "1", "path": "0"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver{url}",
    )
    assert response.status_code == 200 and "<html" not in response.content.decode()
    assert "Third" in response.content.decode() and response["HX-Replace-Url"] == f"{url}?path=0.1"
    html = admin_client.get(f"{url}?path=0.1.1").content.decode()
    assert "Let's get support on it" in html and '<fieldset class="preview-support" disabled>' in html
    assert admin_client.post(url, {"step": "third", "answer": "0", "path": ""}).status_code == 422
    assert not Run.objects.exists()


def test_preview_is_for_editors_only(client, checker):
    url = "/troubleshoot/demo/preview/"
    assert "/admin/login/" in client.get(url).url
    assert member(client, "Reviewers").get(url).status_code == 403


def test_editors_edit_preview_publish_and_restore_but_do_not_read_the_log(client, checker):
    run = walked_run(checker)
    member(client, "Editors")
    assert 'name="_save"' in client.get(f"/admin/troubleshoot/checker/{checker.pk}/change/").content.decode()
    assert client.get("/troubleshoot/demo/preview/").status_code == 200
    assert client.get(f"/admin/troubleshoot/checker/{checker.pk}/publish/").status_code == 200
    assert client.post(f"/admin/troubleshoot/checker/{checker.pk}/restore/1/").status_code == 302
    assert client.get(f"/admin/troubleshoot/run/{run.pk}/change/").status_code == 403
    assert client.get("/admin/auth/user/").status_code == 403


def test_reviewers_read_the_log_and_history_but_change_no_content(client, checker):
    run = walked_run(checker)
    member(client, "Reviewers")
    html = client.get(f"/admin/troubleshoot/run/{run.pk}/change/").content.decode()
    assert "Is it on?" in html and 'name="_save"' not in html
    html = client.get(f"/admin/troubleshoot/checker/{checker.pk}/change/").content.decode()
    assert 'name="_save"' not in html and "Publish…" not in html
    assert client.get(f"/admin/troubleshoot/checker/{checker.pk}/versions/").status_code == 200
    assert client.get(f"/admin/troubleshoot/checker/{checker.pk}/publish/").status_code == 403
    assert client.post(f"/admin/troubleshoot/checker/{checker.pk}/publish/", {"base": "1"}).status_code == 403
    assert client.post(f"/admin/troubleshoot/checker/{checker.pk}/restore/1/").status_code == 403
    assert client.post(f"/admin/troubleshoot/checker/{checker.pk}/change/", {}).status_code == 403


def test_admin_changelists_load(admin_client, library):
    for model in ["category", "checker", "article", "run"]:
        assert admin_client.get(f"/admin/troubleshoot/{model}/").status_code == 200, model


def checker_form(checker, **changes) -> dict:
    """The checker's admin form as posted, with its error-code inline, and `changes` applied."""
    data = {
        "slug": checker.slug,
        "title": checker.title,
        "symptom": checker.symptom,
        "category": checker.category_id,
        "platforms": checker.platforms,
        "signatures": checker.signatures,
        "support_hint": checker.support_hint,
        "is_published": "on",
        "position": checker.position,
        "error_codes-TOTAL_FORMS": 1,
        "error_codes-INITIAL_FORMS": 0,
        "error_codes-MIN_NUM_FORMS": 0,
        "error_codes-MAX_NUM_FORMS": 1000,
        "error_codes-0-code": "",
        "steps-TOTAL_FORMS": 0,
        "steps-INITIAL_FORMS": 0,
        "steps-MIN_NUM_FORMS": 0,
        "steps-MAX_NUM_FORMS": 1000,
    }
    return data | changes


def test_admin_form_is_the_one_the_tests_post(admin_client, checker):
    html = admin_client.get(f"/admin/troubleshoot/checker/{checker.pk}/change/").content.decode()
    for name in ["error_codes-TOTAL_FORMS", "steps-TOTAL_FORMS", 'name="symptom"', 'name="signatures"']:
        assert name in html


@pytest.mark.parametrize("title", ["Broken\r\nBcc: someone@evil.test", "Tab\there", "Line\u2028separator"])
def test_admin_refuses_control_characters_in_a_title(admin_client, checker, title):
    """A title with CR/LF was accepted and then silently stopped every support email for the checker."""
    response = admin_client.post(
        f"/admin/troubleshoot/checker/{checker.pk}/change/", checker_form(checker, title=title)
    )
    assert response.status_code == 200 and "Keep this to one line" in response.content.decode()
    checker.refresh_from_db()
    assert checker.title == "Demo checker demo"


def test_admin_and_files_agree_on_error_codes(admin_client, checker, tmp_path):
    """What the admin accepts, `dumpcontent` writes and `loadcontent` reads back."""
    response = admin_client.post(
        f"/admin/troubleshoot/checker/{checker.pk}/change/", checker_form(checker, **{"error_codes-0-code": "xc.42"})
    )
    assert response.status_code == 302
    assert checker.error_codes.get().code == "XC.42"
    call_command("dumpcontent", path=str(tmp_path))
    assert read_library(tmp_path).checkers["demo"]["error_codes"] == ["XC.42"]
    response = admin_client.post(
        f"/admin/troubleshoot/checker/{checker.pk}/change/", checker_form(checker, **{"error_codes-0-code": "XC 42"})
    )
    assert "Letters, digits, dots, dashes and underscores only" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("source=%00", 200),
        ("status=%00", 200),
        ("checker__id__exact=%00", 302),  # an empty id: the admin's own "invalid filter" redirect
        ("q=%00", 200),
        ("source=email%00", 200),
    ],
)
def test_admin_filter_with_a_nul_byte_is_not_a_500(admin_client, checker, query, status):
    """On PostgreSQL a NUL in a filter value raised DataError; it is dropped before any view sees it."""
    walked_run(checker)
    response = admin_client.get(f"/admin/troubleshoot/run/?{query}")
    assert response.status_code == status
    if status == 302:
        assert response.url == "/admin/troubleshoot/run/?e=1"


def test_support_requests_show_whether_support_was_emailed(admin_client, checker):
    run = walked_run(checker, last="Still broken")
    request = escalation.request_support(run, SupportRequest(email="seller@shop.test", description="Help"))
    SupportRequest.objects.filter(pk=request.pk).update(email_attempts=2, email_error="TimeoutError: timed out")
    html = admin_client.get("/admin/support/supportrequest/?email=failing").content.decode()
    assert request.reference in html and "Not sent: failed 2 time(s)" in html
    html = admin_client.get(f"/admin/support/supportrequest/{request.pk}/change/").content.decode()
    assert "TimeoutError: timed out" in html
    response = admin_client.post(
        "/admin/support/supportrequest/",
        {"action": "email_again", "_selected_action": [request.pk]},
        follow=True,
    )
    assert "Queued 1 email(s)" in response.content.decode()
    run_tasks()
    request.refresh_from_db()
    assert request.emailed_at is not None and request.email_attempts == 3 and request.email_error == ""


# Sign-in throttling


def sign_in(client, password: str, username: str = "support", address: str = "203.0.113.5"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


@pytest.mark.slow
def test_admin_sign_in_locks_out_after_repeated_wrong_passwords(client, db, settings):
    User.objects.create_user("support", password="the-right-one-for-tests", is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wrong").status_code == 200  # the form again, with its error
    assert sign_in(client, "wrong").status_code == 429  # the last allowed failure locks
    locked = sign_in(client, "the-right-one-for-tests")
    assert locked.status_code == 429 and "Too many sign-in attempts" in locked.content.decode()
    # The username stays locked from another address too, and the address for another username.
    assert sign_in(client, "the-right-one-for-tests", address="198.51.100.7").status_code == 429
    User.objects.create_user("other", password="another-right-one-for-tests", is_staff=True)
    assert sign_in(client, "another-right-one-for-tests", username="other").status_code == 429


@pytest.mark.slow
def test_admin_sign_in_works_after_a_few_mistakes(client, db, settings):
    User.objects.create_user("support", password="the-right-one-for-tests", is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "wrong")
    response = sign_in(client, "the-right-one-for-tests")
    assert response.status_code == 302 and response.url == "/admin/"


def test_publish_page_opened_from_a_stale_editor_says_what_was_published_meanwhile(admin_client, checker):
    html = admin_client.get(f"/admin/troubleshoot/checker/{checker.pk}/change/").content.decode()
    assert f"/admin/troubleshoot/checker/{checker.pk}/publish/?base=1" in html  # the editor opened at version 1
    Step.objects.filter(checker=checker, key="third").update(question="Working now?")
    versions.publish(checker)  # someone else publishes version 2 meanwhile
    html = admin_client.get(f"/admin/troubleshoot/checker/{checker.pk}/publish/?base=1").content.decode()
    assert "Version 2 was published since you opened this draft" in html and 'name="note"' not in html
    assert "diff/?old=1&amp;new=2" in html
    Step.objects.filter(checker=checker, key="third").update(question="Working again?")
    assert 'name="note"' in admin_client.get(f"/admin/troubleshoot/checker/{checker.pk}/publish/").content.decode()


def test_checker_list_query_count_does_not_grow_with_checkers(admin_client, checker, django_assert_num_queries):
    with django_assert_num_queries(7):
        assert "Version 1" in admin_client.get("/admin/troubleshoot/checker/").content.decode()
    for n in range(5):
        make_checker(f"more-{n}")
    with django_assert_num_queries(7):
        assert admin_client.get("/admin/troubleshoot/checker/").content.decode().count("Version 1") == 6


def test_live_markdown_preview_is_sanitised_and_for_editors_only(client, checker):
    url = "/admin/troubleshoot/checker/markdown-preview/"
    body = {"body": "**Bold** <script>alert(1)</script> [x](javascript:alert(2))"}
    html = member(client, "Editors").post(url, body).content.decode()
    assert "<strong>Bold</strong>" in html and "<script>" not in html and "javascript:" not in html
    assert member(client, "Reviewers", name="reviewer").post(url, body).status_code == 403


def test_editor_page_query_count_does_not_grow_with_answers(admin_client, checker, django_assert_num_queries):
    """The checker's steps, the next step's choices, are read once a page, not once per answer."""
    url = f"/admin/troubleshoot/checker/{checker.pk}/change/"
    admin_client.get(url)  # the first page of a session reads a little more
    with django_assert_num_queries(26):
        admin_client.get(url)
    start = Step.objects.get(checker=checker, key="start")
    for n in range(5):
        Choice.objects.create(step=start, label=f"More {n}", position=2 + n, outcome=Choice.Outcome.RESOLVED)
    with django_assert_num_queries(26):
        assert "More 4" in admin_client.get(url).content.decode()


# Staff lists at scale: what they read does not grow with the log (bench/inprocess.py times them at 200,000 runs).


@pytest.mark.parametrize(
    ("url", "queries"),
    [
        ("/admin/troubleshoot/run/", 7),
        ("/admin/troubleshoot/run/?status=abandoned", 4),
        ("/admin/troubleshoot/run/?status=open", 4),
        ("/admin/troubleshoot/run/?q=demo", 8),
        ("/admin/support/supportrequest/", 4),
        ("/admin/troubleshoot/checker/", 7),
    ],
)
def test_staff_lists_run_as_many_queries_however_many_runs(
    admin_client, checker, url, queries, django_assert_num_queries
):
    def grow(count):
        for _ in range(count):
            run = walked_run(checker, last="Still broken")
            SupportRequest.objects.create(run=run, email="seller@shop.test", description="Help")
        Run.objects.update(
            started_at=Run.objects.first().started_at.replace(year=2000),
            last_activity_at=Run.objects.first().started_at.replace(year=2000),
        )

    grow(2)
    with django_assert_num_queries(queries):
        assert admin_client.get(url).status_code == 200
    grow(30)
    make_checker("other")
    with django_assert_num_queries(queries):
        assert admin_client.get(url).status_code == 200


def test_runs_of_one_checker_are_found_by_its_slug_alone(staff_client, checker):
    """Searching a checker's slug lists its runs (by its key, from an index), not those of every checker whose
    slug contains it; a run's id and a support reference find theirs; other words search as before."""
    mine, other = walked_run(checker), walked_run(make_checker("demo-more"), last="Still broken")
    request = SupportRequest.objects.create(run=other, email="seller@shop.test", description="Help")

    def found(query):
        html = staff_client.get("/admin/troubleshoot/run/", {"q": query}).content.decode()
        return {run.pk for run in (mine, other) if f"/admin/troubleshoot/run/{run.pk}/change/" in html}

    assert found("demo") == {mine.pk}
    assert found("DEMO-MORE") == {other.pk}
    assert found(str(mine.pk)) == {mine.pk}
    assert found(request.reference.lower()) == {other.pk}
    assert found("shop.test") == {other.pk}  # a seller's email, by the admin's own search
    assert found("emo") == {mine.pk, other.pk}


def test_run_list_tells_in_progress_from_abandoned(staff_client, checker):
    active = walk.start_run(versioncache.flow_of(checker.live_version_id), uuid.uuid4(), "start", 0)  # open, just now
    left = walk.start_run(versioncache.flow_of(checker.live_version_id), uuid.uuid4(), "start", 0)
    long_ago = left.started_at.replace(year=2000)
    Run.objects.filter(pk=left.pk).update(started_at=long_ago, last_activity_at=long_ago)

    def shown(status):
        html = staff_client.get("/admin/troubleshoot/run/", {"status": status}).content.decode()
        return {run.pk for run in (active, left) if f"/admin/troubleshoot/run/{run.pk}/change/" in html}

    assert shown("open") == {active.pk}
    assert shown("abandoned") == {left.pk}


def test_checker_list_counts_steps_and_runs_of_the_checkers_shown(admin_client, checker):
    walked_run(checker)
    walked_run(checker)
    make_checker("quiet")
    html = admin_client.get("/admin/troubleshoot/checker/").content.decode()
    counts = re.findall(
        r'<td class="field-step_count">(\d+)</td><td class="field-run_count"><a href="[^"]+">(\d+)</a>', html
    )
    assert sorted(counts) == [("3", "0"), ("3", "2")]


def test_article_publish_follows_the_same_rules_as_a_checker(admin_client, db):
    article = Article.objects.create(slug="guide", title="A guide", body="Do this.")
    versions.publish_article(article)
    html = admin_client.get(f"/admin/troubleshoot/article/{article.pk}/change/").content.decode()
    assert f"/admin/troubleshoot/article/{article.pk}/publish/?base=1" in html  # the editor opened at version 1
    Article.objects.filter(pk=article.pk).update(body="Do that.")
    versions.publish_article(Article.objects.get(pk=article.pk))  # someone else publishes version 2 meanwhile
    html = admin_client.get(f"/admin/troubleshoot/article/{article.pk}/publish/?base=1").content.decode()
    assert "Version 2 was published since you opened this draft" in html and 'name="note"' not in html
    assert f"/admin/troubleshoot/article/{article.pk}/versions/" in html  # articles show their changes there
    Article.objects.filter(pk=article.pk).update(body="Do both.")
    url = f"/admin/troubleshoot/article/{article.pk}/publish/"
    html = admin_client.get(url).content.decode()
    assert '› <a href="/admin/troubleshoot/article/">Articles</a>' in html and 'name="base" value="2"' in html
    response = admin_client.post(url, {"base": "2", "note": "Both"}, follow=True)
    assert "Version 3 of A guide is live." in response.content.decode()
    assert Article.objects.get(pk=article.pk).live_version.number == 3
    restore = f"/admin/troubleshoot/article/{article.pk}/restore/1/"
    response = admin_client.post(restore, follow=True)
    assert "Version 1&#x27;s text is back in the draft" in response.content.decode()
    assert Article.objects.get(pk=article.pk).body == "Do this."


# The editor's one save (issue 26, items 1-4): answers name steps by key, re-point then delete, save then go on,
# restore keeps the draft it replaces.


def test_a_new_checkers_answers_point_at_its_steps_in_the_first_save(admin_client, db):
    from troubleshoot.models import Category, Checker

    category = Category.objects.create(slug="connecting", name="Connecting")
    data = editor_page_form(admin_client, "/admin/troubleshoot/checker/add/") | {
        "title": "Nothing syncs",
        "slug": "nothing-syncs",
        "category": str(category.pk),
        "symptom": "Orders stopped arriving.",
    }
    # The first step's answer goes to the second, typed below it on the same page: neither has an id yet.
    data = add_step(data, 0, "connected", "Connected", [("Yes", "next", "token"), ("No", "escalate", "")])
    data = add_step(data, 1, "token", "Token", [("Fixed", "resolved", ""), ("Still broken", "escalate", "")])
    response = admin_client.post("/admin/troubleshoot/checker/add/", data)
    assert response.status_code == 302
    checker = Checker.objects.get(slug="nothing-syncs")
    assert targets(checker) == {
        ("connected", "Yes"): "token",
        ("connected", "No"): "escalate",
        ("token", "Fixed"): "resolved",
        ("token", "Still broken"): "escalate",
    }
    assert versions.flow_problems(versions.draft_data(checker)) == []


def test_an_answer_follows_a_step_renamed_in_the_same_save_by_either_key(admin_client, checker):
    url = f"/admin/troubleshoot/checker/{checker.pk}/change/"
    data = editor_page_form(admin_client, url)
    assert data["steps-1-key"] == "second" and data["steps-0-choices-0-next_step"] == "second"
    # The page's script renames the answer's choice with the step: the key typed on the page.
    data |= {"steps-1-key": "linked", "steps-0-choices-0-next_step": "linked"}
    assert admin_client.post(url, data).status_code == 302
    assert targets(checker)[("start", "Yes")] == "linked"
    # Without it, the choice still names the key the step was saved with.
    data = editor_page_form(admin_client, url) | {"steps-1-key": "linked-up"}
    assert data["steps-0-choices-0-next_step"] == "linked"
    assert admin_client.post(url, data).status_code == 302
    assert targets(checker)[("start", "Yes")] == "linked-up"


def test_an_answer_to_no_step_on_the_page_is_refused_beside_it_and_at_the_top_keeping_every_edit(admin_client, checker):
    url = f"/admin/troubleshoot/checker/{checker.pk}/change/"
    before = targets(checker)
    data = editor_page_form(admin_client, url) | {
        "steps-0-title": "First, edited",
        "steps-0-choices-0-next_step": "nowhere",
    }
    response = admin_client.post(url, data)
    html = response.content.decode()
    assert response.status_code == 200
    message = "There is no step &quot;nowhere&quot; on this page"
    assert html.count(message) == 2  # beside the answer, and in the summary at the top
    assert html.index('class="error-summary"') < html.index('id="steps-group"')
    where = "Step &quot;First, edited&quot;, answer &quot;Yes&quot;, next step"
    assert f'<a href="#id_steps-0-choices-0-next_step">{where}</a>' in html
    assert 'value="First, edited"' in html and '<option value="nowhere" selected>nowhere</option>' in html
    assert targets(checker) == before and Step.objects.get(checker=checker, key="start").title == "First"


def test_one_save_re_points_an_answer_and_deletes_the_step_it_went_to(admin_client, checker):
    """The v2 change of issue 26: edit a text, re-point an answer, delete a step, in one POST."""
    url = f"/admin/troubleshoot/checker/{checker.pk}/change/"
    data = editor_page_form(admin_client, url)
    assert data["steps-2-key"] == "third" and data["steps-1-choices-1-next_step"] == "third"
    data |= {
        "steps-0-question": "Is the app switched on?",
        "steps-1-choices-1-outcome": "escalate",  # "No" on the second step went to the third
        "steps-2-DELETE": "on",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302
    assert list(Step.objects.filter(checker=checker).values_list("key", flat=True)) == ["start", "second"]
    assert targets(checker) == {
        ("start", "Yes"): "second",
        ("start", "No"): "escalate",
        ("second", "Yes"): "resolved",
        ("second", "No"): "escalate",
    }
    assert Step.objects.get(checker=checker, key="start").question == "Is the app switched on?"


def test_deleting_a_step_an_answer_still_goes_to_is_refused_beside_that_answer_and_nothing_is_saved(
    admin_client, checker
):
    url = f"/admin/troubleshoot/checker/{checker.pk}/change/"
    data = editor_page_form(admin_client, url) | {"steps-0-question": "Edited?", "steps-2-DELETE": "on"}
    response = admin_client.post(url, data)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("Step &quot;Third&quot; is deleted in this save: point this answer at another step") == 2
    assert '<a href="#id_steps-1-choices-1-next_step">Step &quot;Second&quot;, answer &quot;No&quot;' in html
    assert "protected related objects" not in html
    assert 'value="Edited?"' in html and 'name="steps-2-DELETE" id="id_steps-2-DELETE" checked' in html
    assert Step.objects.filter(checker=checker).count() == 3
    assert Step.objects.get(checker=checker, key="start").question == "Is it on?"


def test_a_step_an_answer_off_the_page_goes_to_is_not_deleted(admin_client, checker):
    """An answer added since the page was opened (so not on it) would be left pointing at nothing."""
    url = f"/admin/troubleshoot/checker/{checker.pk}/change/"
    data = editor_page_form(admin_client, url) | {"steps-1-choices-1-outcome": "escalate", "steps-2-DELETE": "on"}
    Choice.objects.create(step=Step.objects.get(checker=checker, key="start"), label="Late", position=5,
                          next_step=Step.objects.get(checker=checker, key="third"))  # fmt: skip
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "an answer that is not on this page goes to it" in response.content.decode()
    assert Step.objects.filter(checker=checker, key="third").exists()


def test_the_answers_of_a_deleted_step_go_with_it_whatever_they_say(admin_client, checker):
    url = f"/admin/troubleshoot/checker/{checker.pk}/change/"
    data = editor_page_form(admin_client, url) | {
        "steps-0-choices-0-next_step": "third",  # "Yes" skips the second step now
        "steps-1-DELETE": "on",
        "steps-1-choices-1-next_step": "nowhere",  # in the deleted step: no matter
    }
    assert admin_client.post(url, data).status_code == 302
    assert targets(checker)[("start", "Yes")] == "third"
    assert not Step.objects.filter(checker=checker, key="second").exists()


@pytest.mark.parametrize(
    ("target", "lands"),
    [
        ("/admin/troubleshoot/checker/{pk}/publish/?base=1", "/admin/troubleshoot/checker/{pk}/publish/?base=1"),
        ("/troubleshoot/demo/preview/", "/troubleshoot/demo/preview/"),
        ("https://elsewhere.test/", "/admin/troubleshoot/checker/{pk}/change/"),
        ("//elsewhere.test/", "/admin/troubleshoot/checker/{pk}/change/"),
    ],
    ids=["publish", "preview", "another-site", "scheme-relative"],
)
def test_save_then_go_on_to_the_editors_own_pages_only(admin_client, checker, target, lands):
    url = f"/admin/troubleshoot/checker/{checker.pk}/change/"
    data = editor_page_form(admin_client, url) | {
        "steps-0-title": "Saved first",
        "_continue_to": target.format(pk=checker.pk),
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302 and response.url == lands.format(pk=checker.pk)
    assert Step.objects.get(checker=checker, key="start").title == "Saved first"


def test_a_refused_save_does_not_go_on(admin_client, checker):
    url = f"/admin/troubleshoot/checker/{checker.pk}/change/"
    data = editor_page_form(admin_client, url) | {"steps-0-title": "", "_continue_to": "/troubleshoot/demo/preview/"}
    response = admin_client.post(url, data)
    assert response.status_code == 200 and "This field is required." in response.content.decode()


def test_publish_page_with_no_differences_offers_no_publish_button(admin_client, checker):
    html = admin_client.get(f"/admin/troubleshoot/checker/{checker.pk}/publish/?base=1").content.decode()
    assert "Nothing to publish: the draft is the same as version 1, which is live." in html
    assert "Publish version" not in html and 'name="note"' not in html and "No differences" not in html


def test_restore_over_unpublished_work_asks_first_keeps_the_draft_and_can_bring_it_back(admin_client, checker):
    from troubleshoot.models import ReplacedDraft

    Step.objects.filter(checker=checker, key="third").update(title="Third, unpublished work")
    restore = f"/admin/troubleshoot/checker/{checker.pk}/restore/1/"
    page = admin_client.post(restore)  # the button on the versions page
    html = page.content.decode()
    assert page.status_code == 200 and "The draft has changes that aren't published" in html
    assert "<del>Third, unpublished work</del>" in html and 'name="confirm" value="yes"' in html
    assert Step.objects.get(checker=checker, key="third").title == "Third, unpublished work"  # not yet

    response = admin_client.post(restore, {"confirm": "yes"}, follow=True)
    html = response.content.decode()
    assert "The draft it replaced is kept" in html and "Bring back the draft you replaced" in html
    assert Step.objects.get(checker=checker, key="third").title == "Third"
    kept = ReplacedDraft.objects.get()
    assert kept.replaced_by == "restoring version 1" and kept.created_by.username == "admin"

    response = admin_client.post(f"/admin/troubleshoot/checker/{checker.pk}/bring-back/{kept.pk}/", follow=True)
    html = response.content.decode()
    assert "is back. Publish to go live." in html and "Bring back the draft you replaced" not in html
    assert Step.objects.get(checker=checker, key="third").title == "Third, unpublished work"
    assert ReplacedDraft.objects.count() == 1  # what it replaced was version 1: nothing to keep


def test_restore_of_a_draft_equal_to_the_live_version_needs_no_confirmation(admin_client, checker):
    from troubleshoot.models import ReplacedDraft

    Step.objects.filter(checker=checker, key="third").update(title="Third, version 2")
    versions.publish(checker)
    response = admin_client.post(f"/admin/troubleshoot/checker/{checker.pk}/restore/1/")
    assert response.status_code == 302 and Step.objects.get(checker=checker, key="third").title == "Third"
    assert not ReplacedDraft.objects.exists()  # version 2 holds what it replaced


def test_bringing_back_needs_a_post_and_the_latest_replaced_draft(admin_client, checker):
    Step.objects.filter(checker=checker, key="third").update(title="Third, unpublished work")
    versions.restore(checker, 1)
    kept = checker.replaced_drafts.get()
    url = f"/admin/troubleshoot/checker/{checker.pk}/bring-back/{kept.pk}/"
    assert admin_client.get(url).status_code == 302
    assert admin_client.post(f"/admin/troubleshoot/checker/{checker.pk}/bring-back/{kept.pk + 1}/").status_code == 302
    assert Step.objects.get(checker=checker, key="third").title == "Third"
    assert admin_client.post(url).status_code == 302
    assert Step.objects.get(checker=checker, key="third").title == "Third, unpublished work"


def test_reviewers_cannot_bring_a_draft_back(client, checker):
    Step.objects.filter(checker=checker, key="third").update(title="Third, unpublished work")
    versions.restore(checker, 1)
    kept = checker.replaced_drafts.get()
    member(client, "Reviewers")
    assert client.post(f"/admin/troubleshoot/checker/{checker.pk}/bring-back/{kept.pk}/").status_code == 403


def test_article_editor_looks_checkers_up_instead_of_listing_them_all(admin_client, checker, django_assert_num_queries):
    """An article's checkers are chosen by typing (the admin's autocomplete): its page holds the article's own
    checkers only, and reads as much at 5,000 checkers as at one. The two-list picker held every checker."""
    article = Article.objects.create(slug="guide", title="A guide", body="Do this.")
    article.checkers.add(checker)
    url = f"/admin/troubleshoot/article/{article.pk}/change/"
    admin_client.get(url)  # the first page of a session reads a little more
    with django_assert_num_queries(7):
        html = admin_client.get(url).content.decode()
    assert f'<option value="{checker.pk}" selected>Demo checker demo</option>' in html
    other = make_checker("other")
    with django_assert_num_queries(7):
        assert "Demo checker other" not in admin_client.get(url).content.decode()
    found = admin_client.get(
        "/admin/autocomplete/",
        {"app_label": "troubleshoot", "model_name": "article", "field_name": "checkers", "term": "other"},
    ).json()
    assert found["results"] == [{"id": str(other.pk), "text": "Demo checker other"}]


def test_article_feedback_filters_by_the_articles_that_have_feedback(admin_client, db):
    """The feedback list's article filter names the articles with feedback, not every article (5,000 links)."""
    rated, also_rated, unrated = (
        Article.objects.create(slug=slug, title=slug.title(), body="Text.") for slug in ("rated", "also", "unrated")
    )
    for article in (rated, also_rated):
        ArticleFeedback.objects.create(article=article, helpful=False, comment="Missing a step")
    html = admin_client.get("/admin/support/articlefeedback/").content.decode()
    assert f"?article__id__exact={rated.pk}" in html and f"?article__id__exact={also_rated.pk}" in html
    assert f"?article__id__exact={unrated.pk}" not in html


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's trigram indexes")
def test_article_search_in_the_admin_can_read_the_trigram_indexes(admin_client, db):
    """The admin's article search (title, summary, body containing the words) matches the trigram indexes'
    expressions, so PostgreSQL can answer it without reading every article (migration 0011)."""
    Article.objects.create(slug="guide", title="A guide", summary="Xero", body="Reconnect Xero.")
    admin = site._registry[Article]
    found, _ = admin.get_search_results(None, Article.objects.all(), "xero")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a table this small would be read whole anyway
        plan = found.explain()
    assert all(f"article_{field}_trigram" in plan for field in ("title", "summary", "body")), plan
    assert [article.slug for article in found] == ["guide"]


def test_article_list_query_count_does_not_grow_with_articles(admin_client, db, django_assert_num_queries):
    Article.objects.create(slug="guide-0", title="Guide 0", body="Text.")
    with django_assert_num_queries(5):
        assert admin_client.get("/admin/troubleshoot/article/").status_code == 200
    Article.objects.bulk_create(Article(slug=f"guide-{n}", title=f"Guide {n}", body="Text.") for n in range(1, 60))
    with django_assert_num_queries(5):
        html = admin_client.get("/admin/troubleshoot/article/?q=guide").content.decode()
    assert html.count('class="action-select"') == 50  # a page of 50, as the checkers
