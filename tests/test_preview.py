"""The editor's preview walks the draft to its real ending (issue 26, item 9): "None of these fit?" on every step as
sellers get it, and at an escalation the support form with the checker's support hint, shown disabled: a preview
logs nothing and sends nothing."""

import re

import pytest

from support.models import SupportRequest
from troubleshoot.models import Run

pytestmark = pytest.mark.django_db
URL = "/troubleshoot/demo/preview/"


def support_form(html: str) -> str:
    """The disabled fieldset the preview's escalation shows the support form in."""
    found = re.search(r'<fieldset class="preview-support" disabled>.*?</fieldset>', html, re.S)
    assert found, "no disabled support form"
    return found[0]


def test_an_escalation_shows_the_support_form_with_the_hint_disabled(admin_client, checker):
    html = admin_client.get(f"{URL}?path=1").content.decode()  # First: "No" escalates
    form = support_form(html)
    assert "<strong>Please include:</strong> The settlement ID and the exact message." in form
    assert 'name="email"' in form and "Send to support" in form
    assert "<form" in form  # the seller's form itself, inside the disabled fieldset: none of it can be sent
    assert "The run ends here: escalated." in html


def test_every_step_offers_none_of_these_fit_and_it_ends_at_the_support_form_with_the_line(admin_client, checker):
    for path in ("", "0", "0.1"):
        html = admin_client.get(f"{URL}?path={path}").content.decode()
        assert "<summary>None of these fit?</summary>" in html, path
    response = admin_client.post(URL, {"step": "second", "answer": "999", "path": "0", "note": "My bank  is odd"})
    assert response.status_code == 302
    assert response.url == f"{URL}?path=0.999&note=My+bank+is+odd"
    html = admin_client.get(response.url).content.decode()
    form = support_form(html)
    assert re.search(r"<textarea[^>]*>\s*My bank is odd</textarea>", form)  # the line starts the message
    assert "None of these fit" in html and "My bank is odd" in html  # in the answers so far
    assert not Run.objects.exists() and not SupportRequest.objects.exists()


def test_none_of_these_fit_without_a_line_asks_for_one(admin_client, checker):
    response = admin_client.post(URL, {"step": "start", "answer": "999", "path": ""})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="none-fit-error"' in html and "Tell us in a line" in html
    assert "<summary>None of these fit?</summary>" in html  # still on the first step


def test_with_htmx_none_of_these_fit_swaps_in_the_ending_and_keeps_the_url(admin_client, checker):
    response = admin_client.post(
        URL, {"step": "start", "answer": "999", "path": "", "note": "Other"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "<html" not in response.content.decode()
    assert response["HX-Replace-Url"] == f"{URL}?path=999&note=Other"
    support_form(response.content.decode())
