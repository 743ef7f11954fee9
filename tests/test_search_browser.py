"""A seller pastes a message the library has no guide for, in Debian's chromium: the search says so plainly and hands
the message to support in one form, with JavaScript (the home page's search as you type) and without it."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from support.models import SupportRequest

browser_test = pytest.mark.django_db(transaction=True)
REFERENCE = re.compile(r"HC-[A-HJ-NP-Z2-9]{6}")
MESSAGE = "PAYEE_ACCOUNT_RESTRICTED: The merchant account is restricted."
NO_GUIDE = "We don't have a guide for this message yet"


@pytest.fixture
def no_js_page(browser: Browser):
    context = browser.new_context(java_script_enabled=False)
    yield context.new_page()
    context.close()


def send_to_support(page: Page) -> str:
    """Fill in the email, check the message went into the form, send; the reference shown."""
    form = page.locator("form.ask-support")
    expect(form.get_by_label("What happened?")).to_have_value(MESSAGE)
    expect(form.get_by_label("The message you searched for")).to_have_value(MESSAGE)
    form.get_by_label("Your email").fill("seller@shop.test")
    form.get_by_role("button", name="Send to support").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your message is with support")
    return REFERENCE.search(page.get_by_role("status").inner_text())[0]


def assert_sent(reference: str) -> None:
    request = SupportRequest.objects.get()
    assert (request.reference, request.run, request.error_message) == (reference, None, MESSAGE)


@browser_test
def test_seller_pastes_an_uncovered_message_and_sends_it_to_support(live_server, page, library):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/")
    page.get_by_label("Search help or paste an error message").fill(MESSAGE)
    results = page.locator("#search-results")
    expect(results).to_contain_text(NO_GUIDE)
    expect(page).to_have_url(f"{live_server.url}/")  # as you type: in place
    results.get_by_role("link", name="send it to support").click()
    expect(page).to_have_url(re.compile(r"/search/\?q=PAYEE_ACCOUNT_RESTRICTED.*#ask-support$"))
    expect(page.get_by_role("heading", name=NO_GUIDE)).to_be_visible()
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    assert_sent(send_to_support(page))
    assert errors == []


@browser_test
def test_without_javascript_the_search_page_sends_it_to_support(live_server, no_js_page, library):
    page = no_js_page
    page.goto(f"{live_server.url}/")
    page.get_by_label("Search help or paste an error message").fill(MESSAGE)
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_role("heading", name=NO_GUIDE)).to_be_visible()
    form = page.locator("form.ask-support")
    form.get_by_label("Your email").fill("not an email")
    form.get_by_role("button", name="Send to support").click()
    expect(page.get_by_text("Enter a valid email address.")).to_be_visible()  # 422: everything kept
    assert_sent(send_to_support(page))
