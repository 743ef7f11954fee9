"""The search log, the unknown-code log, and staff acting on them in the admin."""

import re
import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from helpcenter.roles import EDITORS
from search.log import record_unknown_code, unknown_code_counts
from search.models import Phrasing, SearchLog, UnknownCode, UnknownCodeDay
from search.search import search
from tests.conftest import race

pytestmark = pytest.mark.django_db

HTMX = {"headers": {"HX-Request": "true"}}


@pytest.fixture
def support_client(client, db):
    user = User.objects.create_user("support", password="pw-for-tests-only", is_staff=True)
    user.groups.add(Group.objects.get(name=EDITORS))
    client.force_login(user)
    return client


def search_id_in(html: str) -> str:
    return re.search(r"search=([0-9a-f-]{36})", html).group(1)


def test_a_search_is_logged_with_its_result_count_and_source(client, library):
    client.get("/search/", {"q": "Lock Date!", "from": "home"})
    row = SearchLog.objects.get()
    assert (row.query, row.normalised, row.source) == ("Lock Date!", "lock date", "home")
    assert row.result_count == len(search("Lock Date!")) > 0


def test_as_you_type_requests_of_one_box_are_one_row(client, library):
    box = str(uuid.uuid4())
    for typed in ["xer", "xero dis", "xero disconnected"]:
        client.get("/search/", {"q": typed, "sid": box, "from": "home"}, **HTMX)
    row = SearchLog.objects.get()
    assert str(row.pk) == box and row.query == "xero disconnected"


def test_empty_queries_and_forged_ids_are_harmless(client, library):
    client.get("/search/", {"q": "   "})
    assert not SearchLog.objects.exists()
    client.get("/search/", {"q": "lock", "sid": "not-a-uuid", "from": "<script>"})
    assert SearchLog.objects.get().source == "page"


def test_opening_a_result_is_recorded(client, library):
    html = client.get("/search/", {"q": "lock date"}).content.decode()
    search_id = search_id_in(html)
    link = re.search(r'href="(/troubleshoot/lock-date/\?[^"]+)"', html).group(1).replace("&amp;", "&")
    page = client.get(link)
    assert 'name="source" value="search"' in page.content.decode()
    row = SearchLog.objects.get(pk=search_id)
    assert (row.opened_kind, row.opened_slug) == ("checker", "lock-date") and row.opened_at
    client.get("/troubleshoot/xero-disconnected/", {"source": "search", "search": search_id})
    assert SearchLog.objects.get(pk=search_id).opened_slug == "lock-date"  # the first opened counts


def test_opening_an_article_from_search_is_recorded(client, library):
    log_id = search_id_in(client.get("/search/", {"q": "troubleshooting connection issues"}).content.decode())
    client.get("/articles/troubleshooting-xero-connection/", {"search": log_id})
    assert SearchLog.objects.get(pk=log_id).opened_kind == "article"


def test_api_searches_are_logged(client, library):
    client.get("/api/search", {"q": "lock date"})
    assert SearchLog.objects.get().source == "api"


def test_top_searches_without_results_and_without_clicks(library):
    for query in ["blorp", "blorp", "Blorp!", "lock date", "lock date", "xero plan"]:
        SearchLog.objects.create(
            query=query, normalised=query.lower().strip("!"), result_count=0 if "blorp" in query.lower() else 3
        )
    SearchLog.objects.filter(normalised="xero plan").update(opened_slug="xero-plan-limit")
    assert [(r["normalised"], r["searches"]) for r in SearchLog.objects.top(no_guide=True)] == [("blorp", 3)]
    assert [(r["normalised"], r["searches"]) for r in SearchLog.objects.top(no_click=True)] == [("lock date", 2)]


def test_a_search_with_no_likely_result_found_no_guide(client, library):
    """Only "might be related": logged with its confidence, and counted with the searches that found nothing, in
    the search log's top searches and the gap inbox; not among those whose results nobody opened."""
    from review import gaps, stats
    from tests.seller_phrasings import UNCOVERED

    client.get("/search/", {"q": UNCOVERED[2]})
    client.get("/search/", {"q": "Error: Account Code Archived"})
    logged = dict(SearchLog.objects.values_list("query", "confidence"))
    assert logged == {UNCOVERED[2]: "none", "Error: Account Code Archived": "certain"}
    assert SearchLog.objects.get(query=UNCOVERED[2]).result_count > 0  # it did show "might be related"
    assert [r["query"] for r in SearchLog.objects.top(no_guide=True)] == [UNCOVERED[2]]
    assert [r["query"] for r in SearchLog.objects.top(no_click=True)] == ["Error: Account Code Archived"]
    found = gaps.searches_without_results(stats.Period.from_params({}))
    assert [(gap.count, gap.title) for gap in found] == [(1, f"“{UNCOVERED[2]}”: found no guide")]


def test_unknown_codes_are_counted(client, library):
    for code in ["nope-42", "NOPE-42", "other"]:
        assert client.get(f"/e/{code}/").status_code == 404
    record_unknown_code("bad\x00code\n")  # not shaped like a code: NUL never reaches the database either
    assert dict(UnknownCode.objects.values_list("code", "count")) == {"NOPE-42": 2, "OTHER": 1}
    client.get("/e/XC-001/")
    assert not UnknownCode.objects.filter(code="XC-001").exists()


def unknown_code_page(response) -> bool:
    """The helpful 404: the code isn't ours, with the search box and the list of problems."""
    html = response.content.decode()
    return response.status_code == 404 and "We don't know the code" in html and 'role="search"' in html


def test_a_made_up_code_shaped_like_ours_is_recorded_once_and_counted_on_repeat(client, library):
    for _ in range(3):
        assert unknown_code_page(client.get("/e/zz-123/"))
    assert list(UnknownCode.objects.values_list("code", "count")) == [("ZZ-123", 3)]
    assert list(UnknownCodeDay.objects.values_list("count", flat=True)) == [3]


@pytest.mark.parametrize(
    "path", ["/e/%3Cscript%3Ealert(1)%3C%5Cscript%3E/", f"/e/{'A' * 200}/", "/e/..%5C..%5Cetc/", "/e/../", "/e/-x/",
             "/e/a%20b/", "/e/caf%C3%A9/", f"/e/{'B' * 41}/"],
)  # fmt: skip
def test_a_code_not_shaped_like_ours_answers_the_page_and_is_not_recorded(client, library, path):
    """200 made-up strings from one client made 200 rows for support leads to read."""
    assert unknown_code_page(client.get(path))
    assert not UnknownCode.objects.exists() and not UnknownCodeDay.objects.exists()


@pytest.mark.parametrize("code", ["<script>", "A" * 200, "../../etc", "x" * 41, " ", "XC 001"])
def test_record_unknown_code_keeps_only_codes_shaped_like_ours(db, code):
    record_unknown_code(code)
    assert not UnknownCode.objects.exists()


def test_past_the_limit_unknown_codes_still_answer_the_page_and_nothing_more_is_recorded(client, library, settings):
    settings.HELPCENTER_RATE_LIMITS = {**settings.HELPCENTER_RATE_LIMITS, "unknown_code": "3/m"}
    for number in range(5):
        assert unknown_code_page(client.get(f"/e/MADE-UP-{number}/"))
    assert unknown_code_page(client.get("/e/MADE-UP-0/"))
    assert dict(UnknownCode.objects.values_list("code", "count")) == {"MADE-UP-0": 1, "MADE-UP-1": 1, "MADE-UP-2": 1}
    assert unknown_code_page(client.get("/e/MADE-UP-0/", REMOTE_ADDR="198.51.100.9"))  # another address counts
    assert UnknownCode.objects.get(code="MADE-UP-0").count == 2


def record_on(day_offset: int, code: str, times: int = 1) -> None:
    """Count `code` as arrived `day_offset` days from now (negative: in the past)."""
    at = timezone.now() + timedelta(days=day_offset)
    with mock.patch("search.log.timezone.now", return_value=at):
        for _ in range(times):
            record_unknown_code(code)


def test_unknown_codes_are_counted_per_day_with_their_trend(db):
    record_on(-10, "OLD-1", 2)
    record_on(-10, "GONE-2")
    record_on(-1, "OLD-1", 3)
    record_on(0, "OLD-1")
    record_on(0, "NEW-3")
    today = timezone.localdate()
    assert sorted(UnknownCodeDay.objects.values_list("unknown_code__code", "day", "count")) == [
        ("GONE-2", today - timedelta(days=10), 1),
        ("NEW-3", today, 1),
        ("OLD-1", today - timedelta(days=10), 2),
        ("OLD-1", today - timedelta(days=1), 3),
        ("OLD-1", today, 1),
    ]
    # The running totals keep working beside the days.
    assert dict(UnknownCode.objects.values_list("code", "count")) == {"OLD-1": 6, "GONE-2": 1, "NEW-3": 1}
    last_week = unknown_code_counts(today - timedelta(days=6), today)
    assert last_week == [
        {"code": "OLD-1", "count": 4, "before": 2},
        {"code": "NEW-3", "count": 1, "before": 0},
    ]
    week_before = unknown_code_counts(today - timedelta(days=13), today - timedelta(days=7))
    assert week_before == [
        {"code": "OLD-1", "count": 2, "before": 0},
        {"code": "GONE-2", "count": 1, "before": 0},
    ]
    # One day, and the day before it; the most arrivals first, at most `limit`.
    assert unknown_code_counts(today - timedelta(days=1), today - timedelta(days=1)) == [
        {"code": "OLD-1", "count": 3, "before": 0}
    ]
    assert [row["code"] for row in unknown_code_counts(today, today, limit=1)] == ["NEW-3"]


@pytest.mark.django_db(transaction=True)
def test_unknown_codes_arriving_at_once_are_all_counted():
    """Sellers opening the same new code at the same moment: every arrival counts, in the total and the day."""

    def arrive():
        for _ in range(5):
            record_unknown_code("RACE-1")

    race(*[arrive] * 4)
    assert UnknownCode.objects.get(code="RACE-1").count == 20
    assert UnknownCodeDay.objects.get(unknown_code__code="RACE-1").count == 20


def test_staff_attach_a_missed_query_in_one_click(support_client, library):
    SearchLog.objects.create(query="bank feed kaput", normalised="bank feed kaput", result_count=0)
    page = support_client.get("/admin/search/searchlog/top/")
    html = page.content.decode()
    assert page.status_code == 200 and "bank feed kaput" in html and "Found nothing" in html
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    response = support_client.post(
        "/admin/search/searchlog/attach/",
        {"query": "bank feed kaput", "checker": "xero-disconnected", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert Phrasing.objects.get().checker.slug == "xero-disconnected"
    assert search("bank feed kaput")[0].item.slug == "xero-disconnected"


def test_no_click_rows_offer_their_results_as_one_click_buttons(support_client, library):
    SearchLog.objects.create(query="lock date", normalised="lock date", result_count=2)
    html = support_client.get("/admin/search/searchlog/top/").content.decode()
    assert 'name="checker" value="lock-date"' in html


def test_attach_refuses_unknown_checkers_and_get(support_client, library):
    response = support_client.post("/admin/search/searchlog/attach/", {"query": "x", "checker": "nope"})
    assert response.status_code == 302 and not Phrasing.objects.exists()
    assert support_client.get("/admin/search/searchlog/attach/").status_code == 405


def test_search_admin_is_staff_only(client, library):
    for url in ["/admin/search/searchlog/top/", "/admin/search/searchlog/", "/admin/search/unknowncode/"]:
        assert "/admin/login/" in client.get(url).url
    response = client.post("/admin/search/searchlog/attach/", {"query": "x", "checker": "lock-date"})
    assert response.status_code == 302 and response.url == "/admin/login/?next=/admin/search/searchlog/attach/"
    assert not Phrasing.objects.exists()


def test_staff_without_phrasing_rights_cannot_attach(client, library):
    from django.contrib.auth.models import Permission

    user = User.objects.create_user("reader", password="pw-for-tests-only", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_searchlog"))
    client.force_login(user)
    assert client.get("/admin/search/searchlog/top/").status_code == 200
    assert client.post("/admin/search/searchlog/attach/", {"query": "x", "checker": "lock-date"}).status_code == 403
