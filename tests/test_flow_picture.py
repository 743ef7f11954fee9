"""The flow picture (troubleshoot/flowpicture.py): the DOT built from a flow, the SVG Graphviz's dot draws from it
(links, titles, escaping), the outline beside it, the cache that runs dot once per picture, the pages without dot,
the editor's and the review page's pictures, and in chromium at 1366 px: wide enough, inside its box, and a click
on a step's box goes to that step's card.

The browser test saves flow-picture.png into a temporary folder, or into $SCREENSHOT_DIR when set.
"""

import os
import re
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import Group, User
from django.utils.html import escape
from playwright.sync_api import Page, expect

from review.flowcounts import StepCount
from troubleshoot import flowpicture, versioncache, versions, walk
from troubleshoot.graph import Flow
from troubleshoot.models import Answer, Checker

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
EDGE = re.compile(r"^(\w+) -> (\w+) \[(.*)\];$", re.M)

DEMO = {
    "steps": [
        {
            "key": "start",
            "title": "First",
            "question": "Is it on?",
            "answers": [{"label": "Yes", "next": "second"}, {"label": "No", "outcome": "escalate"}],
        },
        {
            "key": "second",
            "title": "Second",
            "question": "Linked?",
            "answers": [{"label": "Yes", "outcome": "resolved"}, {"label": "No", "next": "third"}],
        },
        {
            "key": "third",
            "title": "Third",
            "question": "Now?",
            "answers": [{"label": "Fixed", "outcome": "resolved"}, {"label": "Still broken", "outcome": "escalate"}],
        },
    ]
}
LINKS = {"start": "#steps-0", "second": "#steps-1", "third": "#steps-2"}


def demo_flow(**changes) -> Flow:
    steps = [dict(step) for step in DEMO["steps"]]
    for key, change in changes.items():
        next(step for step in steps if step["key"] == key).update(change)
    return Flow.from_data({"steps": steps})


def some_counts(flow: Flow) -> dict:
    return {
        step.key: StepCount(
            step.key,
            answers={**{answer.index: 10 + n for n, answer in enumerate(step.answers)}, Answer.NONE_FIT: 2},
            abandoned=3,
            escalated=4,
        )
        for step in flow.steps
    }


def parsed(svg: str) -> ET.Element:
    """The SVG as XML: fails the test unless dot's output (after fitting) is well-formed."""
    return ET.fromstring(str(svg))  # noqa: S314 - our own page's SVG


def nodes(root: ET.Element, kind: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if kind in g.get("class", "").split() and "node" in g.get("class", "")]


def texts(element: ET.Element) -> list[str]:
    return [t.text or "" for t in element.iter(f"{SVG}text")]


# The DOT


def test_dot_has_every_step_answer_ending_and_the_none_fit_note():
    flow = demo_flow()
    source = flowpicture.dot_source(flow, flow.problems(), None, LINKS, "flow")
    assert {(a, b) for a, b, _ in EDGE.findall(source)} == {
        ("s0", "s1"),
        ("s0", "s0a1"),  # No → escalate
        ("s1", "s1a0"),  # Yes → resolved
        ("s1", "s2"),
        ("s2", "s2a0"),
        ("s2", "s2a1"),
    }
    for name, kind in [("s0a1", "escalate"), ("s1a0", "resolved"), ("s2a0", "resolved"), ("s2a1", "escalate")]:
        assert re.search(rf'^{name} \[id="flow-{name}", class="{kind}"', source, re.M)
    for index in range(3):
        assert re.search(rf'^s{index} \[id="flow-s{index}", class="step[^"]*", URL="#steps-{index}"', source, re.M)
    # In the editor every step's "None of these fit" is one shared note, not an arrow per step.
    assert source.count("None of these fit") == 1 and source.count('class="note none-fit"') == 1


def test_dot_with_counts_draws_none_fit_from_every_step_with_its_count():
    flow = demo_flow()
    source = flowpicture.dot_source(flow, [], some_counts(flow), LINKS, "v1-flow")
    dashed = [(a, b, attrs) for a, b, attrs in EDGE.findall(source) if "none-fit" in attrs]
    assert [(a, b) for a, b, _ in dashed] == [("s0", "s0n"), ("s1", "s1n"), ("s2", "s2n")]
    assert all("style=dashed" in attrs and "None of these fit · 2" in attrs for _, _, attrs in dashed)
    assert "label=<Yes · 10>" in source and "label=<Still broken · 11>" in source
    assert "reached 26 · left 3 · escalated 4" in source  # 10 + 11 + 2 answered, 3 left there
    assert 'class="note' not in source


def test_long_titles_and_labels_wrap_instead_of_being_cut():
    title = "Check that the bank feed in Xero is connected to the right account"
    flow = demo_flow(start={"title": title})
    source = flowpicture.dot_source(flow, [], None, LINKS, "flow")
    assert "<B>Check that the bank feed</B><BR/><B>in Xero is connected to</B><BR/><B>the right account</B>" in source


def test_a_problem_is_drawn_on_the_step_it_concerns():
    flow = demo_flow(second={"answers": [{"label": "Yes", "next": "gone"}]})
    source = flowpicture.dot_source(flow, flow.problems(), None, LINKS, "flow")
    second = next(line for line in source.splitlines() if line.startswith("s1 ["))
    assert 'class="step problem"' in second and 'color="#ba2121"' in second
    assert "⚠ Answer &quot;Yes&quot; on step" in second
    assert "problem" not in next(line for line in source.splitlines() if line.startswith("s0 ["))


# The SVG


def test_svg_links_each_step_to_its_card_and_shows_its_title():
    root = parsed(flowpicture.picture(demo_flow()).svg)
    steps = nodes(root, "step")
    assert len(steps) == 3 and len(nodes(root, "resolved")) == 2 and len(nodes(root, "escalate")) == 2
    for index, (node, title) in enumerate(zip(steps, ["First", "Second", "Third"], strict=True)):
        link = node.find(f".//{SVG}a")
        assert link.get(f"{XLINK}href") == f"#steps-{index}"
        assert link.find(f"{SVG}title").text == f"Step {index + 1}: {title}"  # hover text, accessible name
        assert title in texts(node)
    assert root.get("width") == "100%" and "max-width" in root.get("style") and root.get("viewBox")
    assert root.find(f"{SVG}title").text.startswith("The steps as boxes")
    assert len(list(root.iter(f"{SVG}title"))) == 1 + 3  # dot's own titles ("s0", "s0->s1") are gone


def test_user_text_is_escaped_in_dot_and_in_the_svg():
    """A title and a label are whatever an editor typed: quotes, backslashes (dot expands \\N), markup, a long word."""
    long_word = "x" * 70
    title = f'Say "hi" \\N <script>alert(1)</script> > C:\\temp\\ {long_word}'
    label = 'Yes"]; evil [label="injected'
    flow = demo_flow(start={"title": title, "answers": [{"label": label, "next": "second"}]})
    picture = flowpicture.picture(flow)
    assert "<script" not in picture.svg and "injected" in picture.svg
    root = parsed(picture.svg)  # well-formed: nothing broke out of a label or an attribute
    start = nodes(root, "step")[0]
    shown = texts(start)[1:]  # the first line is the key
    assert "".join(shown).replace(" ", "") == title.replace(" ", "")  # every character, wrapped, \N not expanded
    assert max(len(line) for line in shown) <= flowpicture.WRAP
    assert start.find(f".//{SVG}a/{SVG}title").text == f"Step 1: {title}"
    first_edge = next(g for g in root.iter(f"{SVG}g") if g.get("id") == "flow-s0e0")
    assert " ".join(texts(first_edge)) == label
    assert {g.get("id") for g in root.iter(f"{SVG}g") if "node" in g.get("class", "")} == {
        *("flow-s0", "flow-s1", "flow-s2", "flow-s1a0", "flow-s2a0", "flow-s2a1", "flow-none-fit")
    }  # nothing injected


def test_escaping_for_dot():
    assert flowpicture.text('a "b" <c> & \\N') == "a &quot;b&quot; &lt;c&gt; &amp; \\\\N"
    assert flowpicture.url('#x"y\\') == "#x&quot;y%5C"
    assert flowpicture.text("line\nbreak\ttab") == "line break tab"


# The outline


def test_outline_lists_every_answer_and_where_it_goes():
    outline = flowpicture.picture(demo_flow()).outline
    assert [(step.title, step.href) for step in outline] == [
        ("First", "#steps-0"),
        ("Second", "#steps-1"),
        ("Third", "#steps-2"),
    ]
    assert [[(a.label, a.to, a.href) for a in step.answers] for step in outline] == [
        [("Yes", "Second", "#steps-1"), ("No", "Escalate", ""), ("None of these fit", "Escalate", "")],
        [("Yes", "Resolved", ""), ("No", "Third", "#steps-2"), ("None of these fit", "Escalate", "")],
        [("Fixed", "Resolved", ""), ("Still broken", "Escalate", ""), ("None of these fit", "Escalate", "")],
    ]


def test_outline_with_counts_has_each_answers_count():
    flow = demo_flow()
    outline = flowpicture.picture(flow, problems=[], counts=some_counts(flow)).outline
    assert [(a.label, a.count) for a in outline[0].answers] == [("Yes", 10), ("No", 11), ("None of these fit", 2)]
    assert outline[0].counts.reached == 26  # 10 + 11 + 2 answered, 3 left


# dot once per picture, and pages without dot


@pytest.fixture
def dot_calls(monkeypatch):
    calls = []
    real = flowpicture.run_dot

    def counted(source):
        calls.append(source)
        return real(source)

    monkeypatch.setattr(flowpicture, "run_dot", counted)
    return calls


def test_dot_runs_once_per_picture(dot_calls):
    first = flowpicture.picture(demo_flow())
    again = flowpicture.picture(demo_flow())
    assert len(dot_calls) == 1 and again.svg == first.svg
    flowpicture.picture(demo_flow(third={"title": "Third, reworded"}))  # a changed draft is a new picture
    assert len(dot_calls) == 2


def test_a_drawing_dot_could_not_finish_is_not_retried_on_every_page(dot_calls, settings):
    settings.GRAPHVIZ_TIMEOUT = 0.000001
    assert flowpicture.picture(demo_flow()).svg == ""
    again = flowpicture.picture(demo_flow())
    assert again.svg == "" and again.note == flowpicture.NO_DOT_NOTE and len(dot_calls) == 1


@pytest.mark.parametrize("setting", [{"GRAPHVIZ_DOT": "/nonexistent/dot"}, {"GRAPHVIZ_TIMEOUT": 0.000001}])
def test_without_dot_the_editor_shows_the_outline_and_a_note(admin_client, checker, settings, setting):
    for name, value in setting.items():
        setattr(settings, name, value)
    response = admin_client.get(f"/admin/troubleshoot/checker/{checker.pk}/change/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="flow-svg"' not in html and escape(flowpicture.NO_DOT_NOTE) in html
    assert '<details class="flow-outline" open>' in html
    assert "Still broken → Escalate" in html


# The pages


def test_editor_page_draws_the_picture_with_links_to_the_step_cards(admin_client, checker, django_assert_num_queries):
    url = f"/admin/troubleshoot/checker/{checker.pk}/change/"
    admin_client.get(url)  # the first request fills per-process caches (content types), whatever page it is
    with django_assert_num_queries(26):  # the editor reads its steps once; the picture no query of its own
        response = admin_client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    for index in range(3):
        assert f'xlink:href="#steps-{index}"' in html and f'id="steps-{index}"' in html  # link and its card
    assert html.count('class="node step') == 3 and "Every step also offers" in html
    assert '<details class="flow-outline">' in html and '<a href="#steps-2">Third</a>' in html
    assert "Every path ends in resolved or escalate." in html


def reviewer(client):
    user = User.objects.create_user("reviewer", password="pw-for-tests-only", is_staff=True)
    user.groups.add(Group.objects.get(name="Reviewers"))
    client.force_login(user)


def test_review_page_draws_the_picture_with_counts_and_links_to_the_rows(client, checker, django_assert_num_queries):
    flow = versioncache.flow_of(checker.live_version_id)
    run = walk.start_run(flow, uuid.uuid4(), "start", 0)
    walk.record_answer(flow, run, "second", Answer.NONE_FIT)
    reviewer(client)
    client.get("/support/checkers/demo/")  # fills per-process caches; the picture's dot runs here, once
    with django_assert_num_queries(12):  # no day filled yet: the picture reads no more than the table beside it
        response = client.get("/support/checkers/demo/")
    html = response.content.decode()
    assert response.status_code == 200
    root = parsed(re.search(r"<svg.*?</svg>", html, re.S).group(0))
    links = [a.get(f"{XLINK}href") for a in root.iter(f"{SVG}a")]
    assert links == ["#v1-step-start", "#v1-step-second", "#v1-step-third"]
    for key in ["start", "second", "third"]:
        assert f'<tr id="v1-step-{key}">' in html
    none_fit = [g for g in root.iter(f"{SVG}g") if "none-fit" in g.get("class", "")]
    assert [" ".join(texts(g)) for g in none_fit] == [
        "None of these fit · 0",
        "None of these fit · 1",
        "None of these fit · 0",
    ]
    assert "reached 1 · left 0 · escalated 1" in html  # second
    assert "None of these fit → Escalate: 1" in html  # the outline


def test_step_keys_cannot_reach_dot_unescaped():
    """Keys are slugs in the database, but a flow is plain data: a key never names a node, and its link is quoted."""
    flow = Flow.from_data({"steps": [{"key": 'a"b <c>\\N', "title": "T", "question": "?", "answers": []}]})
    picture = flowpicture.picture(flow, href="#step-{key}")
    node = nodes(parsed(picture.svg), "step")[0]
    assert node.find(f".//{SVG}a").get(f"{XLINK}href") == "#step-a%22b%20%3Cc%3E%5CN"
    assert texts(node)[0] == 'Start · a"b <c>\\N'


# In chromium


@pytest.mark.django_db(transaction=True)
def test_editor_picture_fits_the_page_and_a_click_goes_to_the_step(
    live_server, page: Page, library, admin_user, tmp_path
):
    checker = Checker.objects.get(slug="connection-error")  # five steps, long answers
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/admin/troubleshoot/checker/{checker.pk}/change/")
    picture = page.locator(".flow-picture")
    svg = picture.locator("svg.flow-svg")
    expect(svg.locator(".node.step")).to_have_count(checker.steps.count())
    assert 380 < svg.bounding_box()["width"] <= picture.bounding_box()["width"]

    page.get_by_text("Outline", exact=True).click()  # the outline opens, and reads as the picture does
    expect(picture.locator(".flow-outline")).to_contain_text("Yes → Log in to both, in two tabs")
    audit = Axe().run(page, context=".flow-picture")
    assert audit.violations_count == 0, audit.generate_report()
    page.get_by_text("Outline", exact=True).click()

    svg.scroll_into_view_if_needed()
    shots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    picture.screenshot(path=shots / "flow-picture.png")

    third = versions.draft_flow(checker).steps[2]
    svg.locator("#flow-s2 a").click()
    expect(page).to_have_url(re.compile(r"#steps-2$"))
    expect(page.locator("#steps-2")).to_be_in_viewport()
    expect(page.locator('input[name="steps-2-key"]')).to_have_value(third.key)
