"""Search and paste-your-error: every error text sellers meet finds its checker first."""

import pytest

from search.search import search

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(shared_library, db):
    """Search only reads: one import serves the whole module."""


# Each error text from the content library issue, with the checker it must find.
ERROR_TEXTS = {
    "invalid_grant": "xero-disconnected",
    "Token has been expired or revoked": "xero-disconnected",
    "Refresh OAuth 2 Access token with Refresh Token failed": "xero-disconnected",
    "XC-001": "wrong-xero-organisation",
    "API Rate Limit": "xero-api-temporary-error",
    "Method Lock": "xero-api-temporary-error",
    "Token Refresh In Progress": "xero-api-temporary-error",
    "cURL Error": "xero-api-temporary-error",
    "An unhandled error with the Xero API": "xero-api-temporary-error",
    "The API returned a non-successful status code that is not recognised": "xero-api-temporary-error",
    "Account Code Archived": "account-mapping-error",
    "Account Code Invalid": "account-mapping-error",
    "Missing Accounting Codes": "account-mapping-error",
    "Deleted Account Reference": "account-mapping-error",
    "Failed to save accounts": "failed-to-save-accounts",
    "Page Data No Longer Valid": "settlement-processing-error",
    "Debit Credit Balance Error": "settlement-processing-error",
    "Document Total Too Small": "settlement-processing-error",
    "Settlement Incorrect Status": "settlement-processing-error",
    "This settlement is not ready to be sent": "settlement-processing-error",
    "The document date cannot be before the end of year lock date": "lock-date",
    "The document date cannot be before the period lock date": "lock-date",
    "You are not permitted to access this resource": "settlement-not-permitted",
}

# How sellers paste: the bare text, inside a longer message, in other case, across lines.
PASTES = [
    "{}",
    "Error: {}.",
    "Settlement 1234567 failed to send to Xero - {} (status 400). Please try again",
    "{upper}",
    "Xero said:\n  {}\n\nwhat do I do??",
]


@pytest.mark.parametrize("text,slug", ERROR_TEXTS.items())
@pytest.mark.parametrize("paste", PASTES)
def test_pasted_error_finds_its_checker_first(library, text, slug, paste):
    query = paste.format(text, upper=text.upper())
    results = search(query)
    assert results, query
    assert results[0].item.slug == slug, (query, [r.item.slug for r in results[:3]])
    assert results[0].matched


@pytest.mark.parametrize("text,slug", ERROR_TEXTS.items())
def test_pasted_error_through_the_search_page(client, library, text, slug):
    html = client.get("/search/", {"q": f"Error: {text}"}).content.decode()
    first = html.index('<ol class="results">')
    assert f"/troubleshoot/{slug}/?source=search" in html[first : first + 600]


def test_plain_words_find_the_right_checker(library):
    assert search("stuck on connect bookkeeping account screen")[0].item.slug in {
        "stuck-connect-bookkeeping",
        "channel-setup-stuck",
    }
    assert search("lock date")[0].item.slug == "lock-date"


def test_search_result_link_logs_the_search_as_source(client, library):
    response = client.get("/troubleshoot/lock-date/", {"source": "search", "q": "lock date"})
    html = response.content.decode()
    assert 'name="source" value="search"' in html and 'name="source_detail" value="lock date"' in html


def test_nothing_found_offers_a_way_on(client, library):
    html = client.get("/search/", {"q": "zzqx"}).content.decode()
    assert "Nothing matched" in html and "See all problems" in html


@pytest.mark.parametrize("query", ["", "   ", "<script>alert(1)</script>", "x" * 100_000, "%00", "(((("])
def test_odd_queries_never_fail(client, library, query):
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.content.decode()


def test_unpublished_checkers_are_not_found(library):
    from troubleshoot.models import Checker

    Checker.objects.filter(slug="lock-date").update(is_published=False)
    assert all(
        r.item.slug != "lock-date" for r in search("The document date cannot be before the end of year lock date")
    )
