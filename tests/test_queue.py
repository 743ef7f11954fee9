"""The request queue a team works from (issue 26, item 11): "Saved" after a change, with where a request went when
it left its tab; "Assigned to me"; search by reference or seller's email; the bulk status change; each request's
age; and clear words for staff without the Reviewer role. Exact status codes and query counts."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from support import escalation
from support.models import SupportRequest
from support.readouts import age
from tests.factories import make_checker, review_pages, reviewer, walk_path

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("midday")]


def requests_of(checker, count: int, email: str = "more@shop.test") -> list[SupportRequest]:
    made = []
    for n in range(count):
        run = walk_path(checker, [("start", 1)])
        made.append(escalation.request_support(run, SupportRequest(email=email, description=f"Request {n}")))
    return [SupportRequest.objects.get(run=request.run) for request in made]


def listed(html: str) -> list[str]:
    """The references in the queue's table, in order."""
    return re.findall(r'<th scope="row"><a href="/support/requests/(HC-\w+)/">', html)


def messages_of(html: str) -> str:
    found = re.search(r'<ul class="messages" role="status">(.*?)</ul>', html, re.S)
    return found[1] if found else ""


@pytest.fixture
def queue(known):
    checker, _ = known
    return checker, requests_of(checker, 3)


# "Saved", and where the request went


def test_saving_a_request_says_saved_on_the_page_it_returns_to(client, queue):
    _, made = queue
    user = reviewer(client)
    reference = made[0].reference
    url = f"/support/requests/{reference}/"
    response = client.post(url, {"status": "new", "assignee": user.pk, "internal_note": "Looking"})
    assert response.status_code == 302 and response.url == url
    html = client.get(url).content.decode()
    assert '<li class="success">Saved.</li>' in html
    assert "Saved." not in client.get(url).content.decode()  # said once


def test_a_request_that_leaves_its_tab_says_where_it_went_with_a_link(client, queue):
    _, made = queue
    reviewer(client)
    reference = made[0].reference
    response = client.post(f"/support/requests/{reference}/", {"status": "done", "internal_note": ""}, follow=True)
    assert response.status_code == 200
    assert f'Saved. {reference} moved to <a href="/support/requests/?status=done">Done</a>.' in messages_of(
        response.content.decode()
    )
    assert reference in listed(client.get("/support/requests/?status=done").content.decode())
    assert reference not in listed(client.get("/support/requests/?status=new").content.decode())


def test_a_bad_save_is_refused_with_the_form_and_no_message(client, queue):
    _, made = queue
    reviewer(client)
    response = client.post(f"/support/requests/{made[0].reference}/", {"status": "weird"})
    assert response.status_code == 422 and 'class="messages"' not in response.content.decode()
    assert SupportRequest.objects.get(pk=made[0].pk).status == "new"


# Assigned to me


def test_assigned_to_me_lists_my_requests_in_each_tab(client, queue):
    _, made = queue
    me = reviewer(client)
    other = User.objects.create_user("other", is_staff=True)
    SupportRequest.objects.filter(pk=made[0].pk).update(assignee=me)
    SupportRequest.objects.filter(pk=made[1].pk).update(assignee=me, status="in_progress")
    SupportRequest.objects.filter(pk=made[2].pk).update(assignee=other)
    html = client.get("/support/requests/?status=new&mine=on").content.decode()
    assert listed(html) == [made[0].reference]
    assert "New (1)" in html and "In progress (1)" in html and "Done (0)" in html and "All (2)" in html
    assert '<a href="/support/requests/?status=new&amp;mine=on" aria-current="page">Assigned to me</a>' in html
    assert listed(client.get("/support/requests/?status=in_progress&mine=on").content.decode()) == [made[1].reference]
    everyone = client.get("/support/requests/?status=new").content.decode()
    assert set(listed(everyone)) == {made[0].reference, made[2].reference, known_reference(made)}


def known_reference(made) -> str:
    """The known fixture's own request (on run 3), new and unassigned."""
    return SupportRequest.objects.exclude(pk__in=[r.pk for r in made]).get().reference


# Search


@pytest.mark.parametrize("typed", ["{ref}", "{lower}", "  {ref}  ", "{bare}"])
def test_search_finds_a_request_by_its_reference_in_any_tab(client, queue, typed):
    _, made = queue
    SupportRequest.objects.filter(pk=made[1].pk).update(status="done")
    reviewer(client)
    reference = made[1].reference
    q = typed.format(ref=reference, lower=reference.lower(), bare=reference[3:])
    response = client.get("/support/requests/", {"status": "new", "q": q})
    assert response.status_code == 200
    html = response.content.decode()
    assert listed(html) == [reference] and f"Found by reference {reference}, in any tab" in html


def test_search_finds_requests_by_the_sellers_whole_email_whatever_its_case(client, queue):
    checker, made = queue
    theirs = requests_of(checker, 2, email="Ana.Lopez@Shop.test")
    requests_of(checker, 1, email="ana.lopez@shop.test.evil")
    reviewer(client)
    html = client.get("/support/requests/", {"q": "ana.lopez@SHOP.TEST"}).content.decode()
    assert listed(html) == [theirs[1].reference, theirs[0].reference]  # newest first
    assert listed(client.get("/support/requests/", {"q": "ana.lopez@shop.tes"}).content.decode()) == []


def test_search_by_email_is_an_equality_on_the_lower_cased_index(queue):
    """An exact match on an indexed expression, not a LIKE or a scan of the table."""
    with CaptureQueriesContext(connection) as captured:
        list(SupportRequest.objects.from_email("Ana@Shop.test"))
    (sql,) = [q["sql"] for q in captured.captured_queries]
    assert 'LOWER("support_supportrequest"."email") = ' in sql and "LIKE" not in sql.upper()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM support_supportrequest WHERE LOWER(email) = %s", ["ana@shop.test"]
            )
            plan = " ".join(str(row) for row in cursor.fetchall())
        else:
            cursor.execute("SET enable_seqscan = off")
            cursor.execute("EXPLAIN SELECT id FROM support_supportrequest WHERE LOWER(email) = %s", ["ana@shop.test"])
            plan = " ".join(row[0] for row in cursor.fetchall())
            cursor.execute("SET enable_seqscan = on")
    assert "supportrequest_email_lower" in plan, plan


@pytest.mark.parametrize("q", ["hello", "HC-12", "'; DROP TABLE x", "x" * 300, "@", "HC-IIIIII"])
def test_search_with_anything_else_says_what_it_takes(client, queue, q):
    reviewer(client)
    response = client.get("/support/requests/", {"q": q})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Search by a request&#x27;s reference (HC-7K3Q9D) or a seller&#x27;s whole email address." in html or (
        "Ensure this value has at most 254 characters" in html
    )
    assert len(listed(html)) == 4  # the tab as it was: the known fixture's request and three more, all new


# Bulk status change


def test_bulk_change_moves_only_the_chosen_requests_and_says_how_many_and_where(client, queue):
    _, made = queue
    reviewer(client)
    chosen = [made[0].reference, made[2].reference]
    response = client.post(
        "/support/requests/bulk/",
        {"requests": chosen, "status": "done", "back-status": "new", "back-mine": "on"},
    )
    assert response.status_code == 302 and response.url == "/support/requests/?status=new&mine=on"
    statuses = dict(SupportRequest.objects.values_list("reference", "status"))
    assert {ref for ref, status in statuses.items() if status == "done"} == set(chosen)
    assert statuses[made[1].reference] == "new"
    said = messages_of(client.get(response.url).content.decode())
    done = '<a href="/support/requests/?status=done">Done</a>'
    assert said.startswith(f'<li class="success">2 requests moved to {done}: ')
    for reference in chosen:
        assert f'<a href="/support/requests/{reference}/">{reference}</a>' in said


def test_bulk_change_counts_only_the_requests_that_moved(client, queue):
    _, made = queue
    SupportRequest.objects.filter(pk=made[0].pk).update(status="done")
    reviewer(client)
    client.post("/support/requests/bulk/", {"requests": [made[0].reference, made[1].reference], "status": "done"})
    said = messages_of(client.get("/support/requests/").content.decode())
    assert "1 request moved to" in said and made[1].reference in said and made[0].reference not in said
    client.post("/support/requests/bulk/", {"requests": [made[0].reference], "status": "done"})
    said = messages_of(client.get("/support/requests/").content.decode())
    assert said == '<li class="info">Nothing changed: the chosen requests were already Done.</li>'


@pytest.mark.parametrize(
    "data, said",
    [
        ({"status": "done"}, "Choose the requests to change first."),
        ({"requests": ["HC-ZZZZZZ"], "status": "done"}, "Select a valid choice."),
        ({"requests": ["x"], "status": "weird"}, "Select a valid choice."),
    ],
)
def test_bulk_change_with_nothing_chosen_or_bad_input_changes_nothing(client, queue, data, said):
    reviewer(client)
    response = client.post("/support/requests/bulk/", data)
    assert response.status_code == 302 and response.url == "/support/requests/?status=new"
    assert said in messages_of(client.get(response.url).content.decode())
    assert set(SupportRequest.objects.values_list("status", flat=True)) == {"new"}


def test_bulk_change_needs_csrf(queue):
    from django.test import Client

    _, made = queue
    csrf_client = Client(enforce_csrf_checks=True)
    reviewer(csrf_client)
    response = csrf_client.post("/support/requests/bulk/", {"requests": [made[0].reference], "status": "done"})
    assert response.status_code == 403
    assert SupportRequest.objects.get(pk=made[0].pk).status == "new"
    page = csrf_client.get("/support/requests/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="(\w+)"', page)[1]
    response = csrf_client.post(
        "/support/requests/bulk/", {"requests": [made[0].reference], "status": "done", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302 and SupportRequest.objects.get(pk=made[0].pk).status == "done"


def test_bulk_change_needs_the_permission_to_change_requests(client, queue):
    """A reader of the review pages without `support.change_supportrequest` sees no checkboxes and no form, and a
    forged POST is refused with a page that says why."""
    _, made = queue
    user = User.objects.create_user("reader", is_staff=True)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="review", codename="view_pages"))
    client.force_login(user)
    html = client.get("/support/requests/").content.decode()
    assert 'type="checkbox"' not in html and "/support/requests/bulk/" not in html
    response = client.post("/support/requests/bulk/", {"requests": [made[0].reference], "status": "done"})
    assert response.status_code == 403 and b"needs the permission to change them" in response.content
    response = client.post(f"/support/requests/{made[0].reference}/", {"status": "done"})
    assert response.status_code == 403
    assert SupportRequest.objects.get(pk=made[0].pk).status == "new"
    detail = client.get(f"/support/requests/{made[0].reference}/")
    assert detail.status_code == 200 and b'<form method="post"' not in detail.content


def test_bulk_change_is_post_only(client, queue):
    reviewer(client)
    assert client.get("/support/requests/bulk/").status_code == 405


# Age


@pytest.mark.parametrize(
    "ago, shown",
    [
        (timedelta(seconds=20), "0 min"),
        (timedelta(minutes=59), "59 min"),
        (timedelta(hours=3, minutes=10), "3 h"),
        (timedelta(hours=47), "47 h"),
        (timedelta(days=2, hours=5), "2 days"),
        (timedelta(days=30), "30 days"),
    ],
)
def test_age_since_sent(ago, shown):
    now = timezone.now()
    assert age(now - ago, now) == shown


def test_the_queue_shows_each_requests_age(client, queue):
    _, made = queue
    SupportRequest.objects.filter(pk=made[0].pk).update(created_at=timezone.now() - timedelta(hours=3, minutes=5))
    SupportRequest.objects.filter(pk=made[1].pk).update(created_at=timezone.now() - timedelta(days=2, hours=1))
    reviewer(client)
    html = client.get("/support/requests/").content.decode()
    assert '<th scope="col">Age</th>' in html
    assert re.search(rf"{made[0].reference}</a></th><td>3 h</td>", html)
    assert re.search(rf"{made[1].reference}</a></th><td>2 days</td>", html)


# Query counts: the same for 3 and 30 requests


@pytest.mark.parametrize("size", [3, 30])
@pytest.mark.parametrize(
    "query, queries",
    [
        # Session, user, permissions (user's and groups'), the three tab counts, the page.
        ({}, 8),
        ({"status": "all"}, 8),
        ({"status": "done", "mine": "on"}, 8),
        ({"q": "more@shop.test"}, 8),
        ({"q": "HC-7K3Q9D"}, 8),
        ({"q": "nonsense"}, 8),
    ],
)
def test_the_queue_reads_the_same_exact_number_of_queries_for_3_and_30_requests(
    client, db, size, query, queries, django_assert_num_queries
):
    checker = make_checker()
    made = requests_of(checker, size)
    user = reviewer(client)
    SupportRequest.objects.filter(pk__in=[r.pk for r in made[::2]]).update(assignee=user, status="done")
    with django_assert_num_queries(queries):
        assert client.get("/support/requests/", query).status_code == 200


@pytest.mark.parametrize("size", [3, 30])
def test_a_bulk_change_reads_the_same_exact_number_of_queries_for_3_and_30_requests(
    client, db, size, django_assert_num_queries
):
    checker = make_checker()
    made = requests_of(checker, size)
    reviewer(client)
    # Session, user, permissions (user's and groups'), the chosen requests, the update (the message goes in a
    # cookie).
    with django_assert_num_queries(6):
        response = client.post("/support/requests/bulk/", {"requests": [r.reference for r in made], "status": "done"})
    assert response.status_code == 302
    assert SupportRequest.objects.filter(status="done").count() == size


# The wrong role


def editor(client) -> User:
    user = User.objects.create_user("edna", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    client.force_login(user)
    return user


def test_an_editor_on_any_review_page_is_told_they_are_for_reviewers(client, known):
    editor(client)
    for url in review_pages(known):
        response = client.get(url)
        assert response.status_code == 403, url
        html = response.content.decode()
        assert "The review pages are for Reviewers. Ask an admin to add you to the Reviewers group." in html, url
        assert '<a href="/admin/">Back to the admin</a>' in html, url
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"], url
    response = client.post("/support/requests/bulk/", {"status": "done"})
    assert response.status_code == 403 and b"for Reviewers" in response.content


def test_anonymous_visitors_still_go_to_the_login_with_the_page_to_come_back_to(client, known):
    for url in review_pages(known):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith("/admin/login/?next=/support/"), url
        assert "no-store" in response["Cache-Control"], url


def test_a_reviewer_sees_no_preview_draft_button_and_a_bare_preview_says_why(client, known):
    checker, _ = known
    reviewer(client)
    page = client.get(f"/admin/troubleshoot/checker/{checker.pk}/change/")
    assert page.status_code == 200 and b"Preview draft" not in page.content
    response = client.get(f"/troubleshoot/{checker.slug}/preview/")
    assert response.status_code == 403
    assert b"You don't have permission for this page" in response.content
    assert b"Editors for drafts and previews" in response.content


def test_an_editor_still_sees_the_preview_draft_button(client, known):
    checker, _ = known
    editor(client)
    page = client.get(f"/admin/troubleshoot/checker/{checker.pk}/change/")
    assert page.status_code == 200 and b"Preview draft" in page.content
