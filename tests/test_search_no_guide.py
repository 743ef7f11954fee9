"""When search has no guide for a message: the page says so, shows what might be related, and hands the message to
support straight away (a support request without a run), so the seller loses nothing."""

import re

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core import mail
from django.test import Client
from django_tasks_db.models import DBTaskResult

from support.models import SupportRequest
from tests.conftest import run_tasks
from tests.seller_phrasings import UNCOVERED

pytestmark = pytest.mark.django_db

MESSAGE = "Your PayPal account has been limited until we hear from you."
NO_GUIDE = "We don't have a guide for this message yet"


@pytest.fixture
def library(shared_library, db):
    """The library imported once for the module; what a test writes is rolled back after it."""


def related(html: str) -> list[str]:
    """The results shown as "Might be related" (their links)."""
    if "Might be related" not in html:
        return []
    listed = html.split('<ul class="results related">', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'<a href="([^"?]+)', listed)


def ask(client, **changes):
    data = {"email": "seller@shop.test", "description": f"Searched: {MESSAGE}", "error_message": MESSAGE, **changes}
    return client.post("/support/ask/", data)


def test_an_uncovered_message_says_there_is_no_guide_and_offers_support(client, library):
    response = client.get("/search/", {"q": MESSAGE})
    html = response.content.decode()
    assert response.status_code == 200 and NO_GUIDE in html
    assert 1 <= len(related(html)) <= 3
    form = html.split('<form class="ask-support"', 1)[1].split("</form>", 1)[0]
    assert 'method="post" action="/support/ask/"' in form and 'name="csrfmiddlewaretoken"' in form
    assert f"{MESSAGE}</textarea>" in form  # what happened, and the message, filled in
    assert form.count(MESSAGE) == 2 and 'name="email"' in form


def test_a_likely_match_is_no_such_page(client, library):
    html = client.get("/search/", {"q": "debit and credit don't balance"}).content.decode()
    assert NO_GUIDE not in html and "ask-support" not in html
    assert "/troubleshoot/settlement-processing-error/?source=search" in html


def test_nothing_at_all_found_is_the_same_page_without_related(client, library):
    html = client.get("/search/", {"q": "zzqx"}).content.decode()
    assert NO_GUIDE in html and related(html) == [] and 'action="/support/ask/"' in html


def test_as_you_type_the_partial_says_so_and_links_to_the_form(client, library):
    response = client.get("/search/", {"q": MESSAGE, "from": "home"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html and NO_GUIDE in html and 1 <= len(related(html)) <= 3
    assert "<form" not in html
    link = "/search/?q=Your%20PayPal%20account%20has%20been%20limited%20until%20we%20hear%20from%20you.#ask-support"
    assert f'<a href="{link}">send it to support</a>' in html


def test_sending_it_stores_a_request_without_a_run_and_queues_the_email(client, library):
    response = ask(client)
    request = SupportRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/support/ask/{request.reference}/"
    assert (request.run, request.email, request.error_message) == (None, "seller@shop.test", MESSAGE)
    assert request.description == f"Searched: {MESSAGE}"
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    page = client.get(response["Location"])
    assert page.status_code == 200 and request.reference in page.content.decode()
    run_tasks()
    (email,) = mail.outbox
    assert email.to == [settings.SUPPORT_EMAIL] and email.subject == f"[{request.reference}] No guide for: {MESSAGE}"
    assert MESSAGE in email.body and "no checker was walked" in email.body
    assert f"/support/requests/{request.reference}/" in email.body


def test_a_reference_of_a_run_is_not_shown_there(client, library):
    assert client.get("/support/ask/HC-NOPE99/").status_code == 404


@pytest.mark.parametrize(
    "changes,error",
    [
        ({"email": ""}, "Please give the email support should reply to."),
        ({"email": "not an email"}, "Enter a valid email address."),
        ({"description": "   "}, "Please tell us what happened."),
        ({"error_message": "x" * 2001}, "Ensure this value has at most 2000 characters"),
    ],
)
def test_bad_input_is_refused_with_everything_kept(client, library, changes, error):
    response = ask(client, **changes)
    html = response.content.decode()
    assert response.status_code == 422 and error in html
    assert not SupportRequest.objects.exists()
    kept = {"email": "seller@shop.test", "description": f"Searched: {MESSAGE}", "error_message": MESSAGE, **changes}
    for name, value in kept.items():
        if value.strip() and len(value) < 100:
            assert value.replace("'", "&#x27;") in html, name


def test_the_form_is_rate_limited(client, library):
    for _ in range(5):  # RATE_LIMIT_SUPPORT: 5 a minute
        assert ask(client).status_code == 302
    response = ask(client)
    assert response.status_code == 429 and "Please wait a minute" in response.content.decode()
    assert MESSAGE in response.content.decode()  # kept
    assert SupportRequest.objects.count() == 5


def test_the_form_needs_its_csrf_token(library):
    assert ask(Client(enforce_csrf_checks=True)).status_code == 403
    assert not SupportRequest.objects.exists()


def test_the_form_on_its_own_page_is_filled_from_the_search(client, library):
    html = client.get("/support/ask/", {"q": UNCOVERED[0]}).content.decode()
    assert 'action="/support/ask/"' in html and html.count(UNCOVERED[0].replace("'", "&#x27;")) == 2


def test_support_sees_a_request_without_a_run_in_the_queue(client, library):
    ask(client)
    request = SupportRequest.objects.get()
    user = User.objects.create_user("rita", password="pw-for-tests-only", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="Reviewers")[0])
    client.force_login(user)
    queue = client.get("/support/requests/")
    assert queue.status_code == 200 and "(from a search: no guide)" in queue.content.decode()
    page = client.get(f"/support/requests/{request.reference}/")
    assert page.status_code == 200 and "from a search that found no guide" in page.content.decode()
    assert MESSAGE in page.content.decode()
    csv = b"".join(client.get("/support/requests.csv").streaming_content).decode()
    assert request.reference in csv and "(from a search: no guide)" in csv
    updated = client.post(f"/support/requests/{request.reference}/", {"status": "in_progress", "internal_note": ""})
    assert updated.status_code == 302
    request.refresh_from_db()
    assert request.status == "in_progress"
