"""'Still fixed?': the email's links show the question, and only a POST answers it. Mail security scanners open
every link in an email; when a GET answered, they answered for sellers."""

import re
import time
from datetime import timedelta
from html import unescape
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from support.followup_links import token
from support.models import SupportRequest
from tests.factories import resolved_run
from troubleshoot.models import FollowUp, Run

pytestmark = pytest.mark.django_db


def link(run: Run, answer: str, signed: str | None = None) -> str:
    """A link as the email has it (`answer_urls`, without the portal's address)."""
    return reverse("support:followup", args=[signed or token(run), answer])


def answered(run: Run) -> tuple:
    return Run.objects.values_list("followup_answer", "followup_answered_at").get(pk=run.pk)


def test_opening_either_link_records_nothing_and_asks_to_confirm_with_a_post(
    client, checker, django_assert_num_queries
):
    run = resolved_run(client, checker)
    for answer, button in [("fixed", "Yes, it's still fixed"), ("came-back", "No, it came back")]:
        with django_assert_num_queries(1):  # the run, read; nothing written
            response = client.get(link(run, answer))
        html = unescape(response.content.decode())
        assert response.status_code == 200 and "Is it still fixed?" in html
        # Each answer is a button of a POST form, with a CSRF token.
        form = (
            rf'<form method="post" action="{link(run, answer)}">\s*'
            rf'<input type="hidden" name="csrfmiddlewaretoken"[^>]*>\s*<button type="submit"[^>]*>{button}</button>'
        )
        assert re.search(form, html), html
        assert html.count('method="post"') == 2 and 'method="post" action="/followup/' in html
        assert client.head(link(run, answer)).status_code == 200
    assert answered(run) == ("", None)


def test_confirming_records_the_answer_once(client, checker):
    run = resolved_run(client, checker)
    response = client.post(link(run, "fixed"))
    assert response.status_code == 302 and response.url == link(run, "fixed")
    first = answered(run)
    assert first[0] == FollowUp.FIXED and first[1] is not None
    again = client.post(link(run, "fixed"))  # a double click, a reload of the POST
    # Nothing changed: the answer's time stands, so the day counts' next fill has nothing new to count again.
    assert again.status_code == 302 and answered(run) == first
    page = unescape(client.get(link(run, "fixed")).content.decode())
    assert "thanks for letting us know it's still fixed" in page and "Is it still fixed?" not in page


def test_the_answer_can_be_changed_and_the_last_one_counts(client, checker):
    run = resolved_run(client, checker)
    client.post(link(run, "fixed"))
    assert "You told us: still fixed." in client.get(link(run, "came-back")).content.decode()
    page = client.get(link(run, "fixed")).content.decode()
    switch = re.search(
        r'<form method="post" action="([^"]+)">\s*<input[^>]*>\s*<p>Wrong button\? <button[^>]*>It came back', page
    )
    assert switch.group(1) == link(run, "came-back")
    response = client.post(switch.group(1), follow=True)
    assert answered(run)[0] == FollowUp.CAME_BACK and "Send to support" in response.content.decode()


def test_the_answer_needs_the_pages_csrf_token(checker):
    run = resolved_run(Client(), checker)
    client = Client(enforce_csrf_checks=True)
    assert client.post(link(run, "came-back")).status_code == 403
    assert answered(run) == ("", None)
    page = client.get(link(run, "came-back")).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert client.post(link(run, "came-back"), {"csrfmiddlewaretoken": csrf}).status_code == 302
    assert answered(run)[0] == FollowUp.CAME_BACK


def test_a_bad_or_expired_link_gets_a_clear_page_and_records_nothing(client, checker):
    run = resolved_run(client, checker)
    with mock.patch("django.core.signing.time.time", return_value=time.time() - timedelta(days=31).total_seconds()):
        expired = token(run)
    for url in [
        link(run, "fixed", expired),
        link(run, "fixed", f"{run.pk}:abc:def"),
        link(run, "fixed", token(run) + "x"),
        link(run, "whatever"),
    ]:
        for response in [client.get(url), client.post(url)]:
            html = unescape(response.content.decode())
            assert response.status_code == 404 and "This link has expired or isn't one of ours" in html, url
    support = client.post(f"/followup/{expired}/support/", {"email": "seller@shop.test", "description": "Back"})
    assert support.status_code == 404 and "This link has expired" in support.content.decode()
    assert answered(run) == ("", None) and not SupportRequest.objects.exists()


def test_follow_up_pages_are_never_stored_by_a_cache(client, checker):
    """They show what the seller answered, and after "it came back" the email they wrote to support."""
    run = resolved_run(client, checker)
    for response in [client.get(link(run, "fixed")), client.post(link(run, "fixed"), follow=True)]:
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
