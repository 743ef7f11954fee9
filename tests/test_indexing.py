"""What search engines may index: the help pages, yes; a seller's run and anything else holding a seller's data, no
(a run page shows the seller's email and invites sharing its link)."""

import pytest
from django.urls import reverse

from support.followup_links import token
from support.models import SupportRequest
from tests.factories import answer, escalated_run, start
from troubleshoot.models import FollowUp, Run

pytestmark = pytest.mark.django_db

NOINDEX = '<meta name="robots" content="noindex">'


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_a_run_page_is_not_indexed_at_any_stage(client, checker):
    run = start(client, checker)
    assert NOINDEX in page(client, run.get_absolute_url())  # in progress
    resolved = start(client, checker)
    answer(client, resolved, "second", "Yes")
    assert Run.objects.get(pk=resolved.pk).outcome == Run.Outcome.RESOLVED
    assert NOINDEX in page(client, resolved.get_absolute_url())
    escalated = escalated_run(client, checker)
    client.post(f"{escalated.get_absolute_url()}support/", {"email": "seller@shop.test", "description": "Help"})
    assert SupportRequest.objects.filter(run=escalated).exists()
    html = page(client, escalated.get_absolute_url())  # support sent: the seller's email is on the page
    assert "We'll reply to seller@shop.test" in html.replace("&#x27;", "'") and NOINDEX in html


def test_follow_up_pages_are_not_indexed(client, checker):
    run = start(client, checker)
    answer(client, run, "second", "Yes")
    url = reverse("support:followup", args=[token(run), "came-back"])
    assert NOINDEX in page(client, url)  # the question
    client.post(url)
    assert Run.objects.get(pk=run.pk).followup_answer == FollowUp.CAME_BACK
    assert NOINDEX in page(client, url)  # the answer, with the support form


def test_the_draft_preview_is_not_indexed(admin_client, checker):
    assert NOINDEX in page(admin_client, f"/troubleshoot/{checker.slug}/preview/")


def test_help_pages_are_indexed(client, library):
    for url in [
        "/",
        "/topics/",
        "/category/connecting-to-xero/",
        "/articles/troubleshooting-xero-connection/",
        "/troubleshoot/connection-error/",
        "/troubleshoot/connection-error/?source=email&code=XC-001",
    ]:
        assert 'name="robots"' not in page(client, url), url


def test_robots_txt_keeps_crawlers_out_of_staff_pages_and_follow_up_links(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *"
    assert {"Disallow: /admin/", "Disallow: /support/", "Disallow: /followup/"} <= set(lines)
    # Run pages are left to their noindex: a crawler kept out by robots.txt never reads it.
    assert not [line for line in lines if line.startswith("Disallow: /troubleshoot") or line == "Disallow: /"]
    assert client.head("/robots.txt").status_code == 200
    assert client.post("/robots.txt").status_code == 405
