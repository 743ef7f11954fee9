"""The seller's journey over real HTTP: full pages without JavaScript, partials with htmx, and bad input."""

import re
import uuid
from datetime import timedelta
from html import unescape

import pytest
from django.core import mail
from django.test import Client

from support.models import SupportRequest
from tests.conftest import run_tasks, tokenless
from tests.factories import answer, choice, escalated_run, last_answer_id, make_checker, start, start_data
from troubleshoot import versioncache, versions
from troubleshoot.models import Article, Choice, Run, Step

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


# Pages


def test_home_groups_checkers_by_category_with_their_symptom(client, library):
    html = client.get("/").content.decode()
    assert html.index("Connecting to Xero") < html.index("Sending settlements") < html.index("Set-up wizard")
    assert "The screen hangs" in html or "Connect Bookkeeping Account" in html
    assert 'role="search"' in html and 'name="q"' in html


def test_home_hides_unpublished_checkers(client, checker):
    checker.is_published = False
    checker.save()
    assert checker.title not in client.get("/").content.decode()
    assert client.get(f"/troubleshoot/{checker.slug}/").status_code == 404


def test_a_run_of_a_checker_taken_down_is_not_found_at_once(client, checker, django_capture_on_commit_callbacks):
    """Run pages keep their checker in memory, until content changes: taking it down is seen on the next request."""
    run = start(client, checker)
    assert client.get(run.get_absolute_url()).status_code == 200
    checker.is_published = False
    with django_capture_on_commit_callbacks(execute=True):  # as it commits
        checker.save()
    assert client.get(run.get_absolute_url()).status_code == 404
    assert client.get(f"/troubleshoot/other-slug/{run.pk}/").status_code == 404


def test_start_page_shows_first_step_with_answers_as_buttons(client, checker):
    response = client.get(f"/troubleshoot/{checker.slug}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'Step 1 <span class="muted">of up to 3' in html
    assert '<input type="hidden" name="step" value="start">' in html
    assert '<button type="submit" name="answer" value="0">Yes</button>' in html
    assert f'action="/troubleshoot/{checker.slug}/start/"' in html and "hx-post=" in html
    assert "<html" in html  # the full page


def test_start_page_carries_source_and_code_into_the_run(client, checker):
    html = client.get(f"/troubleshoot/{checker.slug}/?source=email&code=XC-001").content.decode()
    assert 'name="source" value="email"' in html and 'name="code" value="XC-001"' in html


def test_article_renders_markdown_and_links_its_checkers(client, checker):
    article = Article.objects.create(slug="guide", title="Guide", body="## Tips\n\n**Log in** first.")
    article.checkers.add(checker)
    versions.publish_article(article)
    html = client.get("/articles/guide/").content.decode()
    assert "<h2>Tips</h2>" in html and "<strong>Log in</strong>" in html
    assert f"/troubleshoot/{checker.slug}/?source=article&amp;article=guide" in html


def test_unlisted_or_unpublished_article_is_not_found(client):
    versions.publish_article(Article.objects.create(slug="draft", title="Draft", body="x", is_published=False))
    Article.objects.create(slug="never", title="Never published", body="x")
    assert client.get("/articles/draft/").status_code == 404
    assert client.get("/articles/never/").status_code == 404
    assert "Never published" not in client.get("/").content.decode()


def test_article_drafts_reach_sellers_only_when_published(client, admin_client, django_capture_on_commit_callbacks):
    article = Article.objects.create(slug="guide", title="Guide", summary="Tips", body="Old **text**.")
    versions.publish_article(article)
    article.title, article.body = "Guide, half-edited", "New text."
    article.save()
    html = client.get("/articles/guide/").content.decode()
    assert "<strong>text</strong>" in html and "half-edited" not in html
    assert "half-edited" not in client.get("/").content.decode()
    url = f"/admin/troubleshoot/article/{article.pk}/publish/"
    with django_capture_on_commit_callbacks(execute=True):  # the publish commits
        response = admin_client.post(url, {"base": "1", "note": "Reworded"})
    assert response.status_code == 302
    assert "New text." in client.get("/articles/guide/").content.decode()
    html = admin_client.get(f"/admin/troubleshoot/article/{article.pk}/versions/").content.decode()
    assert "Reworded" in html and "<ins>+ New text.</ins>" in html
    admin_client.post(f"/admin/troubleshoot/article/{article.pk}/restore/1/")
    article.refresh_from_db()
    assert article.body == "Old **text**." and article.live_version.number == 2  # restored into the draft only


# Walking without JavaScript


def test_walk_to_resolved_without_javascript(client, checker):
    run = start(client, checker, source="home")
    response = client.get(run.get_absolute_url())
    assert "Step 2" in response.content.decode()
    response = answer(client, run, "second", "Yes")
    assert response.status_code == 302 and response.url == f"{run.get_absolute_url()}?at=3"  # the ending, after 2
    html = client.get(run.get_absolute_url()).content.decode()
    assert "Glad it's fixed!" in html
    response = client.post(f"{run.get_absolute_url()}note/", {"fixed_note": "Reconnected from settings."})
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.outcome == Run.Outcome.RESOLVED and run.fixed_note == "Reconnected from settings."
    assert run.source == "home"
    assert "Thanks for telling us" in client.get(run.get_absolute_url()).content.decode()


def test_walk_to_escalate_and_send_a_support_request(client, checker, settings, django_capture_on_commit_callbacks):
    settings.SUPPORT_EMAIL = "inbox@support.test"
    run = escalated_run(client, checker)
    html = client.get(run.get_absolute_url()).content.decode()
    assert "Let's get support on it" in html and "The settlement ID and the exact message." in html
    data = {
        "email": "seller@shop.test",
        "description": "It hangs after I click connect.",
        "settlement_id": "SET-123",
        "error_message": "Token has been kaput",
        "recording_url": "https://www.loom.com/share/abc",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{run.get_absolute_url()}support/", data)
    assert response.status_code == 302
    request = SupportRequest.objects.get(run=run)
    assert re.fullmatch(r"HC-[A-Z2-9]{6}", request.reference)
    assert request.settlement_id == "SET-123"
    html = client.get(run.get_absolute_url()).content.decode()
    assert request.reference in html
    assert len(mail.outbox) == 0 and request.emailed_at is None  # the email is the task worker's job
    run_tasks()
    request.refresh_from_db()
    assert request.emailed_at is not None and request.email_attempts == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["inbox@support.test"] and request.reference in message.subject
    assert "Second: Linked? → No" in message.body and "SET-123" in message.body


def test_support_request_double_submit_keeps_one(client, checker, django_capture_on_commit_callbacks):
    run = escalated_run(client, checker)
    data = {"email": "seller@shop.test", "description": "Help"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{run.get_absolute_url()}support/", data)
        client.post(f"{run.get_absolute_url()}support/", data)
    run_tasks()
    assert SupportRequest.objects.filter(run=run).count() == 1
    assert len(mail.outbox) == 1


def test_back_then_change_answer_without_javascript(client, checker):
    run = start(client, checker)
    assert client.post(f"{run.get_absolute_url()}back/", {"answer": last_answer_id(run)}).status_code == 302
    run.refresh_from_db()
    assert run.current_step_key == "start"
    response = answer(client, run, "start", "No")
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.outcome == Run.Outcome.ESCALATED


# With htmx


def test_htmx_answer_returns_the_next_step_partial_and_pushes_the_url(client, checker):
    response = client.post(
        f"/troubleshoot/{checker.slug}/start/",
        start_data(checker),
        HTTP_HX_CURRENT_URL=f"http://testserver/troubleshoot/{checker.slug}/",
        **HTMX,
    )
    html = response.content.decode()
    run = Run.objects.get()
    assert response.status_code == 200
    assert "<html" not in html and html.lstrip().startswith(
        "<title>Step 2: Second – Demo checker demo · Seller help</title>"
    )
    assert html.split("</title>", 1)[1].lstrip().startswith('<section id="checker"')
    assert "Step 2" in html and "autofocus" in html
    assert response["HX-Push-Url"] == f"{run.get_absolute_url()}?at=2"


def test_htmx_answer_on_the_run_page_pushes_the_next_steps_url(client, checker):
    run = start(client, checker)
    response = answer(
        client, run, "second", "No", HTTP_HX_CURRENT_URL=f"http://testserver{run.get_absolute_url()}", **HTMX
    )
    assert response.status_code == 200 and "Step 3" in response.content.decode()
    assert response["HX-Push-Url"] == f"{run.get_absolute_url()}?at=3"  # each step an entry in the history
    assert "HX-Replace-Url" not in response


def test_htmx_walk_to_escalate_shows_the_support_form_partial(client, checker):
    run = start(client, checker)
    answer(client, run, "second", "No", **HTMX)
    response = answer(client, run, "third", "Still broken", **HTMX)
    html = response.content.decode()
    assert "<html" not in html and "Send to support" in html
    response = client.post(f"{run.get_absolute_url()}support/", {"email": "not-an-email", "description": ""}, **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert "Enter a valid email address." in html and "Please tell us what happened." in html
    assert 'value="not-an-email"' in html  # nothing typed is lost


def test_run_page_full_and_partial_are_the_same_panel(client, checker):
    run = start(client, checker)
    full = client.get(run.get_absolute_url()).content.decode()
    partial = client.get(run.get_absolute_url(), **HTMX).content.decode()

    # The same markup; only the htmx swap moves focus to the new heading, and each render masks its CSRF token anew.
    def same(html):
        return tokenless(html.replace(" autofocus", "")).strip()

    # The partial's <title> goes into the page's head.
    title, _, panel = partial.partition("</title>")
    assert f"{title.strip()}</title>" in full
    assert same(panel) in same(full)


# Bad input


def test_unknown_checker_is_a_404_that_offers_search(client, checker):
    response = client.get("/troubleshoot/no-such-thing/")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'role="search"' in html and checker.title in html


def test_unknown_run_is_a_404(client, checker):
    assert client.get(f"/troubleshoot/{checker.slug}/{uuid.uuid4()}/").status_code == 404
    assert client.get(f"/troubleshoot/{checker.slug}/not-a-uuid/").status_code == 404


def test_run_under_another_checkers_slug_is_a_404(client, checker):
    run = start(client, checker)
    other = make_checker("other")
    assert client.get(f"/troubleshoot/{other.slug}/{run.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"step": "second", "answer": 5}, "one of this step"),
        ({"step": "third", "answer": 0}, "already answered"),
        ({"step": "no-such-step", "answer": 0}, "part of this checker"),
    ],
)
def test_forged_answer_returns_current_step_with_a_message(client, checker, data, message):
    run = start(client, checker)
    response = client.post(f"{run.get_absolute_url()}answer/", data)
    assert response.status_code == 422
    html = response.content.decode()
    assert message in html and "Linked?" in html
    assert run.answers.count() == 1


def test_stale_choice_after_moving_on_returns_current_step(client, checker):
    run = start(client, checker)
    answer(client, run, "second", "No")
    response = answer(client, run, "second", "Yes", **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert "already answered" in html and "Now?" in html


def test_answer_on_finished_run_shows_how_it_ended(client, checker):
    run = start(client, checker, label="No")
    response = answer(client, run, "start", "Yes")
    assert response.status_code == 422
    assert "already finished" in response.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"step": "second", "answer": "abc"},
        {"step": "second", "answer": "-5"},
        {"step": "second", "answer": "99999999999999999999999"},
        {"step": "<script>", "answer": "0"},
        {"step": "x" * 500, "answer": "0"},
    ],
)
def test_garbage_answer_is_refused_not_a_500(client, checker, data):
    run = start(client, checker)
    assert client.post(f"{run.get_absolute_url()}answer/", data).status_code == 422


@pytest.mark.parametrize("run_value", ["", "not-a-uuid", "x" * 5000])
def test_garbage_start_is_refused(client, checker, run_value):
    data = start_data(checker, run=run_value)
    assert client.post(f"/troubleshoot/{checker.slug}/start/", data).status_code == 422
    assert not Run.objects.exists()


def test_start_with_a_step_that_is_not_first_is_refused(client, checker):
    data = start_data(checker, step="second", answer=choice(checker, "second", "Yes"))
    response = client.post(f"/troubleshoot/{checker.slug}/start/", data)
    assert response.status_code == 422 and "the first step of this checker" in response.content.decode()


def test_double_submitted_start_creates_one_run(client, checker):
    data = start_data(checker)
    first = client.post(f"/troubleshoot/{checker.slug}/start/", data)
    second = client.post(f"/troubleshoot/{checker.slug}/start/", data)
    assert first.url == second.url
    assert Run.objects.count() == 1


def test_double_submitted_answer_records_once(client, checker):
    run = start(client, checker)
    assert answer(client, run, "second", "No").status_code == 302
    assert answer(client, run, "second", "No").status_code == 302
    assert run.answers.count() == 2


def test_oversized_support_fields_are_form_errors_and_kept(client, checker):
    run = escalated_run(client, checker)
    long_text = "word " * 1200
    response = client.post(
        f"{run.get_absolute_url()}support/",
        {"email": "seller@shop.test", "description": long_text, "settlement_id": "9" * 300},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Ensure this value has at most 5000 characters" in html
    assert "Ensure this value has at most 100 characters" in html
    assert long_text.strip() in html  # what was typed comes back
    assert not SupportRequest.objects.exists()


def test_support_request_rejects_javascript_recording_link(client, checker):
    run = escalated_run(client, checker)
    response = client.post(
        f"{run.get_absolute_url()}support/",
        {"email": "a@b.test", "description": "x", "recording_url": "javascript:alert(1)"},
    )
    assert response.status_code == 422 and not SupportRequest.objects.exists()


def test_support_form_on_an_open_run_is_refused(client, checker):
    run = start(client, checker)
    response = client.post(f"{run.get_absolute_url()}support/", {"email": "a@b.test", "description": "x"})
    assert response.status_code == 422 and not SupportRequest.objects.exists()


def test_oversized_fixed_note_is_a_form_error(client, checker):
    run = start(client, checker)
    answer(client, run, "second", "Yes")
    response = client.post(f"{run.get_absolute_url()}note/", {"fixed_note": "x" * 2001})
    assert response.status_code == 422 and "at most 2000 characters" in response.content.decode()


def test_get_on_a_post_only_url_is_405(client, checker):
    run = start(client, checker)
    assert client.get(f"{run.get_absolute_url()}answer/").status_code == 405


def test_posts_need_csrf_token(checker):
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/troubleshoot/{checker.slug}/start/", start_data(checker), **HTMX)
    assert response.status_code == 403
    page = client.get(f"/troubleshoot/{checker.slug}/")
    # htmx posts the form's own fields, the CSRF token among them (no page-wide header: pages stay cacheable).
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    data = start_data(checker, csrfmiddlewaretoken=token)
    response = client.post(f"/troubleshoot/{checker.slug}/start/", data, **HTMX)
    assert response.status_code == 200


# Error-code links


def test_error_code_link_is_its_checkers_page_at_once(client, db):
    checker = make_checker(code="XC-001")
    response = client.get("/e/xc-001/")
    html = response.content.decode()
    assert response.status_code == 200  # no redirect: a round trip less where error emails land
    assert f'<link rel="canonical" href="http://testserver/troubleshoot/{checker.slug}/">' in html
    assert '<input type="hidden" name="source" value="email">' in html
    assert '<input type="hidden" name="code" value="XC-001">' in html
    # The run its first answer starts is logged from the email, with its code.
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))
    client.post(f"/troubleshoot/{checker.slug}/start/", {**fields, "answer": choice(checker, "start", "Yes")})
    run = Run.objects.get()
    assert (run.source, run.error_code) == (Run.Source.EMAIL, "XC-001")


@pytest.mark.parametrize(("query", "source"), [("?source=app", "app"), ("?source=forged", "email"), ("", "email")])
def test_error_code_link_from_the_app(client, db, query, source):
    make_checker(code="XC-001")
    html = client.get(f"/e/XC-001/{query}").content.decode()
    assert f'<input type="hidden" name="source" value="{source}">' in html


def test_unknown_error_code_offers_search(client, checker):
    response = client.get("/e/NOPE-42/")
    assert response.status_code == 404
    assert "NOPE-42" in response.content.decode() and 'role="search"' in response.content.decode()


# Sanitisation


def test_script_typed_into_admin_content_never_reaches_the_page(client, checker):
    step = Step.objects.get(checker=checker, key="start")
    step.body = 'Hi <script>alert(1)</script> [click](javascript:alert(2)) <img src=x onerror="alert(3)">'
    step.save()
    versions.publish(checker)
    html = client.get(f"/troubleshoot/{checker.slug}/").content.decode()
    assert "<script>alert" not in html and "javascript:alert" not in html and "onerror" not in html


# Query counts


def test_step_transition_query_count(client, checker, django_assert_num_queries):
    """The figure in the README: an htmx answer mid-run, from request to rendered next step."""
    run = start(client, checker)
    url = f"{run.get_absolute_url()}answer/"
    data = {"step": "second", "answer": choice(checker, "second", "No")}
    client.get(run.get_absolute_url())  # the checker is read once per process, then kept until content changes
    # 1 the run (with its support request); its version comes from the cache, never re-read, and so does its
    # checker (with its category, kept in memory under the content generation). Then the update of the run where it
    # still stands where the seller saw it (its row lock) and the insert of the answer, in one transaction (a
    # savepoint here, so +2; BEGIN and COMMIT in production). The answers so far come from the run's path and its
    # version: not read again.
    with django_assert_num_queries(5):
        response = client.post(url, data, **HTMX)
    assert response.status_code == 200 and "Step 3" in response.content.decode()


@pytest.mark.parametrize("path", [["No", "Fixed"], ["No", "Still broken"], ["No", "back", "Yes"], ["none fit"]])
def test_the_panel_after_an_answer_is_the_runs_own_panel(client, checker, path):
    """The panel an answer returns is built from what the answer knows (the run's path, its version, the answer
    just logged), not read again: it must be the very panel the run's page shows after it."""
    run = start(client, checker)
    step = "second"
    for label in path:
        if label == "back":
            response = client.post(f"{run.get_absolute_url()}back/", {"answer": last_answer_id(run)}, **HTMX)
            step = "second"
        elif label == "none fit":
            data = {"step": step, "answer": 999, "note": "My shop   isn't listed"}
            response = client.post(f"{run.get_absolute_url()}answer/", data, **HTMX)
        else:
            response = answer(client, run, step, label, **HTMX)
            step = "third"
        assert response.status_code == 200
        assert tokenless(response.content.decode()) == tokenless(
            client.get(run.get_absolute_url(), **HTMX).content.decode()
        )
    assert "Your answers so far" in response.content.decode()


def test_an_answer_to_a_run_moved_on_meanwhile_is_decided_as_it_stands(checker):
    """The view read the run before a double submit moved it on: nothing is written twice, the seller gets the
    step they are on (the one-statement update finds the run no longer where it was seen)."""
    from troubleshoot import positions, walk

    client = Client()
    run = start(client, checker)
    seen = Run.objects.get(pk=run.pk)  # as the second request's view read it
    flow = versioncache.flow_of(run.version_id)
    walk.record_answer(flow, Run.objects.get(pk=run.pk), "second", choice(checker, "second", "No"))
    again = walk.record_answer(flow, seen, "second", choice(checker, "second", "No"))
    assert again.current_step_key == "third" and run.answers.count() == 2
    with pytest.raises(positions.StaleAnswer, match="already answered"):
        walk.record_answer(flow, seen, "second", choice(checker, "second", "Yes"))
    assert seen.current_step_key == "second" and run.answers.count() == 2  # the seller's copy left as it was read


def test_start_page_query_count(client, checker, django_assert_num_queries):
    # The first seller: the checker (with its category), its live version (then kept by id for good) and the
    # incidents' schedule (kept until an incident or content changes; with none active, no incident is read).
    url = f"/troubleshoot/{checker.slug}/?source=email&code=XERO-401"
    with django_assert_num_queries(3):
        assert client.get(url).status_code == 200
    # Every seller after: nothing (the checker is kept by slug in memory until content changes); the page is
    # rendered for each of them.
    with django_assert_num_queries(0):
        assert client.get(url).status_code == 200
    with django_assert_num_queries(0):
        assert Client().get(url.replace("source=email", "source=search&q=bank+feed")).status_code == 200


def test_start_query_count(client, checker, django_assert_num_queries):
    """A first answer, from request to the rendered second step: the run and its answer inserted in one transaction
    (a savepoint here, so +2; BEGIN and COMMIT in production). Its checker and flow are kept, the run's id is not
    read first (its primary key refuses one taken), and no incident is read while none is active."""
    client.get(checker.get_absolute_url())
    with django_assert_num_queries(4):
        response = client.post(f"/troubleshoot/{checker.slug}/start/", start_data(checker), **HTMX)
    assert response.status_code == 200 and "Step 2" in response.content.decode()


def test_the_panel_focuses_its_heading_and_the_page_does_not_whichever_comes_first(client, checker):
    url = f"/troubleshoot/{checker.slug}/"
    heading = '<h2 id="panel-heading" tabindex="-1" autofocus>First</h2>'
    assert heading in client.get(url, headers={"HX-Request": "true"}).content.decode()
    page = client.get(url).content.decode()
    assert heading not in page and '<h2 id="panel-heading" tabindex="-1">First</h2>' in page
    assert heading in client.get(url, headers={"HX-Request": "true"}).content.decode()


def test_an_unpublished_checker_is_not_found_at_once(client, checker, django_capture_on_commit_callbacks):
    url = f"/troubleshoot/{checker.slug}/"
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        checker.live_version = None
        checker.save()
    assert client.get(url).status_code == 404


def test_three_sellers_get_three_run_ids_their_own_token_and_where_they_came_from(checker):
    """Each seller on a checker's first step gets a run id of their own (two sellers sharing one would share a
    run), their own CSRF token, and where they came from."""
    pages = []
    for source, words in [("search", "xero & <b>bank</b>"), ("email", ""), ("search", "other words")]:
        seller = Client(enforce_csrf_checks=True)
        html = seller.get(f"/troubleshoot/{checker.slug}/", {"source": source, "q": words}).content.decode()
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
        pages.append(fields)
        response = seller.post(
            f"/troubleshoot/{checker.slug}/start/",
            {**{name: unescape(value) for name, value in fields.items()}, "answer": choice(checker, "start", "Yes")},
        )
        assert response.status_code == 302, response.content[:300]
        run = Run.objects.get(pk=fields["run"])
        assert (run.source, run.source_detail) == (source, words)
    assert len({page["run"] for page in pages}) == 3
    assert len({page["csrfmiddlewaretoken"] for page in pages}) == 3
    assert pages[0]["source_detail"] == "xero &amp; &lt;b&gt;bank&lt;/b&gt;"
    assert Run.objects.count() == 3


def test_home_query_count_does_not_grow_with_checkers(client, library, django_assert_num_queries):
    # A cold page: the incidents' schedule (none active: no incident is read), categories with counts, their first
    # checkers, the most used checkers, the latest guides. Then all but the latest guides come from the cache.
    with django_assert_num_queries(5):
        client.get("/")
    with django_assert_num_queries(1):
        client.get("/")


def test_unknown_checker_shows_the_portal_404_page_with_debug_on(client, checker, settings):
    settings.DEBUG = True
    response = client.get("/troubleshoot/no-such-thing/")
    assert response.status_code == 404
    assert 'role="search"' in response.content.decode() and checker.title in response.content.decode()


def test_refused_first_answer_keeps_where_the_seller_came_from(client, checker):
    data = start_data(checker, answer=99, source="email", code="XC-001")
    response = client.post(f"/troubleshoot/{checker.slug}/start/", data)
    html = response.content.decode()
    assert response.status_code == 422
    assert 'name="source" value="email"' in html and 'name="code" value="XC-001"' in html
    assert f'name="run" value="{data["run"]}"' not in html  # a fresh id for the next try


def test_draft_edits_never_reach_sellers_until_published(client, checker):
    Choice.objects.filter(step__checker=checker, step__key="start").delete()
    Step.objects.filter(checker=checker, key="start").update(title="Half-edited")
    html = client.get(f"/troubleshoot/{checker.slug}/").content.decode()
    assert "Half-edited" not in html and '<button type="submit" name="answer" value="0">Yes</button>' in html


def test_checker_never_published_is_not_found(client, checker):
    never = make_checker("never")
    never.live_version = None
    never.save()
    assert client.get("/troubleshoot/never/").status_code == 404
    assert "never" not in client.get("/").content.decode().lower().split("<main")[1]


# Hardening: what outside testing broke, each with the test that would have caught it.


@pytest.mark.parametrize("current_url", ["http://[", "::::", "http://[::1", "\u2603://x", "x" * 5000])
def test_malformed_hx_current_url_is_ignored_on_every_htmx_post(client, checker, current_url):
    """A malformed HX-Current-URL gave a 500 on every htmx POST, after the change was committed."""
    headers = {**HTMX, "HTTP_HX_CURRENT_URL": current_url}
    response = client.post(f"/troubleshoot/{checker.slug}/start/", start_data(checker), **headers)
    run = Run.objects.get()
    assert response.status_code == 200 and response["HX-Push-Url"] == f"{run.get_absolute_url()}?at=2"
    response = answer(client, run, "second", "No", **headers)
    assert response.status_code == 200 and response["HX-Push-Url"] == f"{run.get_absolute_url()}?at=3"
    assert client.post(f"{run.get_absolute_url()}back/", {"answer": last_answer_id(run)}, **headers).status_code == 200
    answer(client, run, "second", "No", **headers)
    response = answer(client, run, "third", "Fixed", **headers)
    assert response.status_code == 200 and "Glad it's fixed!" in response.content.decode()
    response = client.post(f"{run.get_absolute_url()}note/", {"fixed_note": "Reconnected."}, **headers)
    assert response.status_code == 200
    escalated = escalated_run(client, checker)
    data = {"email": "seller@shop.test", "description": "Help"}
    response = client.post(f"{escalated.get_absolute_url()}support/", data, **headers)
    assert response.status_code == 200 and SupportRequest.objects.get().reference in response.content.decode()


@pytest.mark.parametrize("path", ["/e/%00/", "/e/XC-001%00/", "/troubleshoot/%00/", "/articles/a%00b/"])
def test_nul_in_the_path_is_not_found(client, checker, path):
    """On PostgreSQL `/e/%00/` answered 500: text there can't hold NUL."""
    response = client.get(path)
    assert response.status_code == 404 and "couldn't find that page" in response.content.decode()


def test_nul_in_the_query_string_is_dropped(client, checker):
    assert "demo" in client.get("/search/?q=kaput%00").content.decode()
    response = client.get(f"/troubleshoot/{checker.slug}/?source=email%00&q=%00hi&code=X%00C")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="source" value="email"' in html and 'name="code" value="XC"' in html


def test_nul_in_posted_fields_is_refused_not_a_500(client, checker):
    run = escalated_run(client, checker)
    data = {"email": "seller@shop.test", "description": "Help\x00", "settlement_id": "S\x00"}
    response = client.post(f"{run.get_absolute_url()}support/", data)
    assert response.status_code == 422 and "Null characters are not allowed." in response.content.decode()
    assert not SupportRequest.objects.exists()


def test_head_answers_like_get_on_seller_pages(client, checker, library):
    """HEAD answered 405, which broke uptime monitors and link previews."""
    run = start(client, checker)
    for url in ["/", "/search/?q=xero", "/articles/troubleshooting-xero-connection/", f"/troubleshoot/{checker.slug}/",
                run.get_absolute_url()]:  # fmt: skip
        get, head = client.get(url), client.head(url)
        assert head.status_code == get.status_code == 200, url
        assert head["Content-Type"] == get["Content-Type"]
    assert client.head("/e/nope/").status_code == 404
    assert client.head(f"/troubleshoot/{checker.slug}/start/").status_code == 405  # POST only


def test_repeated_back_without_javascript_undoes_one_answer(client, checker):
    """A double click on Back (no JavaScript) sent two POSTs and withdrew two answers."""
    run = start(client, checker)
    answer(client, run, "second", "No")
    undo = last_answer_id(run)
    for _ in range(2):
        assert client.post(f"{run.get_absolute_url()}back/", {"answer": undo}).status_code == 302
    run.refresh_from_db()
    assert run.current_step_key == "second"
    assert list(run.answers.filter(withdrawn_at=None).values_list("choice_label", flat=True)) == ["Yes"]


@pytest.mark.parametrize(
    ("value", "status"),
    # Not an answer number: refused. A number that names no live answer of the run: a repeated Back, done already.
    [("", 422), ("abc", 422), ("-1", 422), ("0", 422), (str(2**70), 302)],
)
def test_back_with_a_forged_answer_changes_nothing(client, checker, value, status):
    run = start(client, checker)
    response = client.post(f"{run.get_absolute_url()}back/", {"answer": value})
    assert response.status_code == status
    run.refresh_from_db()
    assert run.current_step_key == "second" and run.answers.filter(withdrawn_at=None).count() == 1


def test_back_after_the_support_request_is_refused(client, checker):
    run = escalated_run(client, checker)
    client.post(f"{run.get_absolute_url()}support/", {"email": "seller@shop.test", "description": "Help"})
    response = client.post(f"{run.get_absolute_url()}back/", {"answer": last_answer_id(run)})
    assert response.status_code == 422 and "already sent" in response.content.decode()
    run.refresh_from_db()
    assert run.outcome == Run.Outcome.ESCALATED


def test_server_error_page_is_the_portals_and_says_answers_are_saved(checker, monkeypatch):
    """With DEBUG off an error showed Django's bare "Server Error (500)"."""

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("troubleshoot.views.browse.categories_overview", broken)
    response = Client(raise_request_exception=False).get("/")
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in html and "Your answers so far are saved" in html
    assert 'class="site"' in html and 'role="search"' in html  # the portal's header with search


def test_error_code_of_a_checker_never_published_is_unknown(client, db):
    checker = make_checker(code="XC-009")
    checker.live_version = None
    checker.save()
    assert client.get("/e/XC-009/").status_code == 404


def test_a_runs_urls_are_its_reversed_urls(client, checker):
    """`Run.urls` composes the run's action URLs from its page's (one reversal an answer): each is the URL named so
    (the walk's own in troubleshoot/urls.py, its endings' in support/urls.py), and every URL under a run is among
    them."""
    from django.urls import reverse

    from support import urls as support_urls
    from troubleshoot import urls
    from troubleshoot.models import RUN_ACTIONS

    run = start(client, checker)
    assert run.urls["page"] == run.get_absolute_url() == reverse("troubleshoot:run", args=[checker.slug, run.pk])
    names = {"support": "support:run_support", "followup": "support:run_followup"}
    for action in RUN_ACTIONS:
        name = names.get(action, f"troubleshoot:{action}")
        assert run.urls[action] == reverse(name, args=[checker.slug, run.pk])
    under_a_run = {
        f"{app.app_name}:{pattern.name}"
        for app in (urls, support_urls)
        for pattern in app.urlpatterns
        if "run_id" in str(pattern.pattern)
    }
    assert under_a_run == {"troubleshoot:run", *(names.get(a, f"troubleshoot:{a}") for a in RUN_ACTIONS)}


# Each step of a run its own address (?at=<number>), for the phone's Back and Forward


def test_an_earlier_steps_address_shows_that_step_and_answering_it_answers_again(client, checker):
    run = start(client, checker)
    answer(client, run, "second", "No")
    html = client.get(f"{run.get_absolute_url()}?at=2").content.decode()
    assert ">Second</h2>" in html and 'name="again" value="1"' in html
    assert f'href="{run.get_absolute_url()}?at=1"' in html  # its Back is the step before's address
    response = client.post(
        f"{run.get_absolute_url()}answer/", {"step": "second", "answer": choice(checker, "second", "Yes"), "again": "1"}
    )
    assert response.status_code == 302 and response.url == f"{run.get_absolute_url()}?at=3"
    run.refresh_from_db()
    assert run.outcome == Run.Outcome.RESOLVED and run.answers.live().count() == 2


@pytest.mark.parametrize("at", ["3", "9", "0", "x", "²", "9" * 5000])
def test_the_current_or_a_made_up_step_number_shows_the_step_on_screen(client, checker, at):
    run = start(client, checker)
    answer(client, run, "second", "No")
    response = client.get(f"{run.get_absolute_url()}?at={at}")
    html = response.content.decode()
    assert response.status_code == 200 and ">Third</h2>" in html and 'name="again"' not in html
    assert "no-store" in response["Cache-Control"]  # Back fetches the step again


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_the_title_names_the_step_or_the_ending(client, checker, htmx):
    headers = HTMX if htmx else {}
    title = re.compile(r"<title>(.*?)</title>")
    assert title.search(client.get(f"/troubleshoot/{checker.slug}/").content.decode())[1] == (
        "Demo checker demo · Seller help"  # the checker's own page, as search engines list it
    )
    run = start(client, checker)
    steps = [("second", "No", "Step 3: Third – Demo checker demo"), ("third", "Fixed", "Fixed – Demo checker demo")]
    assert title.search(client.get(run.get_absolute_url(), **headers).content.decode())[1] == (
        "Step 2: Second – Demo checker demo · Seller help"
    )
    for step, label, named in steps:
        assert (
            title.search(
                answer(client, run, step, label, **headers).content.decode()
                if htmx
                else client.get(answer(client, run, step, label).url).content.decode()
            )[1]
            == f"{named} · Seller help"
        )
    escalated = start(client, checker, label="No")
    assert title.search(client.get(escalated.get_absolute_url(), **headers).content.decode())[1] == (
        "Contact support – Demo checker demo · Seller help"
    )


# htmx only where a page uses it


def test_htmx_ships_only_with_the_pages_that_use_it(client, checker):
    from django.template.loader import render_to_string

    htmx = "django_htmx/htmx-2"
    with_htmx = ["/", f"/troubleshoot/{checker.slug}/", "/search/?q=token"]
    without = [f"/category/{checker.category.slug}/", "/topics/", "/no-such-page/"]
    for url in with_htmx:
        html = client.get(url).content.decode()
        assert htmx in html and "js/portal" in html, url
    for url in without:
        html = client.get(url).content.decode()
        assert htmx not in html and "js/portal" not in html and "htmx-config" not in html, url
    assert htmx not in render_to_string("500.html")


def test_the_stylesheet_stays_small():
    """The one render-blocking file of every seller page: under 2.5 KB gzipped (2.3 KB now)."""
    import gzip
    from pathlib import Path

    from django.conf import settings

    css = (Path(settings.BASE_DIR) / "static" / "css" / "portal.css").read_bytes()
    assert len(gzip.compress(css, 9)) < 2500


def test_the_start_page_carries_the_run_this_browser_started_until_start_over(client, checker, midday, time_machine):
    """Without JavaScript, Back from step 2 fetches the start page again: it carries the run's id (a cookie of the
    checker's pages, for 30 minutes, while the run is open), so an answer there stays in that run. "Start over" and
    anything else: a new id."""
    run = start(client, checker)
    assert client.cookies["run"]["path"] == "/troubleshoot/demo/" and client.cookies["run"].value == str(run.pk)
    page = client.get("/troubleshoot/demo/").content.decode()
    assert f'name="run" value="{run.pk}"' in page
    assert f'value="{run.pk}"' not in client.get("/troubleshoot/demo/?new").content.decode()
    Run.objects.filter(pk=run.pk).update(outcome=Run.Outcome.RESOLVED)
    assert f'value="{run.pk}"' not in client.get("/troubleshoot/demo/").content.decode()  # ended: a new run
    Run.objects.filter(pk=run.pk).update(outcome=Run.Outcome.OPEN)
    client.cookies["run"] = "not-a-uuid"
    assert client.get("/troubleshoot/demo/").status_code == 200
    client.cookies["run"] = str(run.pk)
    time_machine.shift(timedelta(minutes=31))
    assert f'value="{run.pk}"' not in client.get("/troubleshoot/demo/").content.decode()
