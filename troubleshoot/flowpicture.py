"""The flow picture: a checker's steps laid out by Graphviz's `dot` and drawn as SVG on the server, with a text
outline of the same flow beside it.

Steps are boxes (wrapped titles, problems of the flow check on the step they concern, counts on the review pages),
answers are labelled arrows to the next step or to a Resolved or Escalate ending, and "None of these fit" is drawn:
a shared note in the editor, a dashed arrow per step with its count on the review pages. dot routes arrows around
boxes, never through them. Each step's box links to its card (editor) or its row (review page).

Every text an editor typed is escaped before it goes into DOT: nodes are named by position (`s0`, `s0a1`), never by
key or title, and labels are HTML-like labels of escaped text. The SVG is cached by a hash of the DOT it comes from,
so `dot` runs once per distinct picture; without `dot` the outline is shown alone, with a note.
"""

import hashlib
import html
import logging
import re
import subprocess
import textwrap
from dataclasses import dataclass, field
from urllib.parse import quote

from django.conf import settings
from django.core.cache import cache
from django.utils.safestring import SafeString, mark_safe

from .graph import Flow, Problem, StepNode
from .models import Answer

logger = logging.getLogger(__name__)

WRAP = 24  # characters a line of a box or an arrow's label
CACHE_FORMAT = 1  # bump when the SVG's post-processing changes, so cached pictures are redrawn
CACHE_SECONDS = 30 * 24 * 3600  # a key names one exact picture: it can only go stale by being unused
FAILURE_SECONDS = 300
FONT = "Helvetica,Arial,sans-serif"
NO_DOT_NOTE = "The picture can't be drawn here (Graphviz's dot didn't run); the outline below has the same flow."

TITLE = "The steps as boxes, the answers as arrows, the endings as Resolved or Escalate"
COUNTED_TITLE = (
    "The steps with how many sellers reached each, left there and escalated there; the answers with how many sellers "
    "chose each"
)
GRAPH_HEAD = f"""digraph flow {{
graph [id="{{prefix}}-graph", rankdir=TB, splines=true, nodesep=0.4, ranksep=0.45, pad=0.15, bgcolor="transparent",
       fontname="{FONT}"];
node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#79aec8", penwidth=1.5, fontname="{FONT}",
      fontsize=13, fontcolor="#222222", margin="0.14,0.07"];
edge [color="#777777", fontname="{FONT}", fontsize=11, fontcolor="#333333", arrowsize=0.7];
"""


@dataclass
class OutlineAnswer:
    label: str
    to: str  # the next step's title, or "Resolved" / "Escalate"
    href: str = ""  # the next step's anchor
    count: int | None = None


@dataclass
class OutlineStep:
    key: str
    title: str
    href: str
    answers: list[OutlineAnswer]
    problems: list[str] = field(default_factory=list)
    counts: object = None


@dataclass
class Picture:
    """What the template `admin/troubleshoot/checker/flow.html` draws."""

    svg: SafeString | str  # "" when dot couldn't run
    outline: list[OutlineStep]
    problems: list[Problem]
    counted: bool
    note: str = ""


def picture(
    flow: Flow,
    problems: list[Problem] | None = None,
    counts: dict | None = None,
    *,
    href: str = "#steps-{index}",
    prefix: str = "flow",
    title: str = "",
) -> Picture:
    """The flow picture of `flow`, with the flow check's `problems` (its own unless given) on their steps.

    With `counts` (step key → `support.stats.StepCount`), each box says how many sellers reached the step, left
    there and escalated there, and each arrow how many chose the answer. `href` is each box's link, formatted with
    the step's `index` (its place in the flow) and `key`; `prefix` keeps ids apart when a page shows two pictures.
    """
    problems = flow.problems() if problems is None else problems
    title = title or (COUNTED_TITLE if counts is not None else TITLE)
    links = {step.key: href.format(index=index, key=quote(step.key)) for index, step in enumerate(flow.steps)}
    svg = drawn(dot_source(flow, problems, counts, links, prefix))
    if svg:
        svg = titled(svg, prefix=prefix, title=title, tooltips=_tooltips(flow, problems, prefix))
    return Picture(
        svg=svg or "",
        outline=outline(flow, problems, counts, links),
        problems=problems,
        counted=counts is not None,
        note="" if svg else NO_DOT_NOTE,
    )


def _tooltips(flow: Flow, problems: list[Problem], prefix: str) -> dict[str, str]:
    """Each box's hover text, by its SVG id: the step's title and its problems."""
    tips = {}
    for index, step in enumerate(flow.steps):
        lines = [f"Step {index + 1}: {step.title}"] + [f"⚠ {p.message}" for p in problems if p.step == step.key]
        tips[f"{prefix}-s{index}"] = "\n".join(lines)
    return tips


# The DOT text.


def dot_source(flow: Flow, problems: list[Problem], counts: dict | None, links: dict[str, str], prefix: str) -> str:
    """The flow as a DOT graph; user text only ever inside escaped labels (`text`) and links (`url`)."""
    drawing = _Drawing(flow, problems, counts, links, prefix)
    lines = [GRAPH_HEAD.replace("{prefix}", prefix)]
    for index, step in enumerate(flow.steps):
        lines.append(drawing.step_node(index, step))
        lines.extend(drawing.answer_edges(index, step))
        if counts is not None:
            lines.extend(drawing.none_fit(index, step))
    if counts is None and flow.steps:
        lines.append(drawing.none_fit_note())
    lines.append("}")
    return "\n".join(lines)


class _Drawing:
    """What each node and edge of one picture needs to know: names by position, problems by step, counts, links."""

    def __init__(self, flow: Flow, problems: list[Problem], counts: dict | None, links: dict[str, str], prefix: str):
        self.flow, self.counts, self.links, self.prefix = flow, counts, links, prefix
        self.names = {step.key: f"s{index}" for index, step in enumerate(flow.steps)}
        self.trouble: dict[str, list[str]] = {}
        for problem in problems:
            self.trouble.setdefault(problem.step, []).append(problem.message)

    def found(self, step: StepNode):
        return None if self.counts is None else self.counts.get(step.key)

    def step_node(self, index: int, step: StepNode) -> str:
        problems = self.trouble.get(step.key, [])
        first = step is self.flow.start
        rows = [_font(text(("Start · " if first else "") + step.key), size=10, color="#666666")]
        rows += [f"<B>{line}</B>" for line in _wrapped(step.title)]
        if self.counts is not None:
            found = self.found(step)
            rows.append(_font(_step_counts(found), size=10, color="#205067"))
        for message in problems:
            rows += [_font(line, size=10, color="#ba2121") for line in _wrapped("⚠ " + message, WRAP + 8)]
        classes = "step" + (" first" if first else "") + (" problem" if problems else "")
        style = ', color="#ba2121", fillcolor="#fdecea", penwidth=2.5' if problems else ""
        style += ', color="#205067", penwidth=2.5' if first and not problems else ""
        link = url(self.links[step.key])
        return (
            f'{self.names[step.key]} [id="{self.prefix}-s{index}", class="{classes}", URL="{link}", '
            f'tooltip="Step {index + 1}", label=<{"<BR/>".join(rows)}>{style}];'
        )

    def answer_edges(self, index: int, step: StepNode) -> list[str]:
        found, lines = self.found(step), []
        name = self.names[step.key]
        for answer in step.answers:
            if answer.ends_run:
                target = f"{name}a{answer.index}"
                lines.append(_ending(target, answer.outcome, f"{self.prefix}-s{index}a{answer.index}"))
            elif answer.next in self.names:
                target = self.names[answer.next]
            else:
                continue  # leads nowhere: the step carries the problem
            label = answer.label
            if self.counts is not None:
                label += f" · {found.answers.get(answer.index, 0) if found else 0}"
            lines.append(
                f'{name} -> {target} [id="{self.prefix}-s{index}e{answer.index}", label=<{_label_lines(label)}>];'
            )
        return lines

    def none_fit(self, index: int, step: StepNode) -> list[str]:
        """The review pages' "None of these fit": a dashed arrow per step to an Escalate ending, with its count."""
        name, found = self.names[step.key], self.found(step)
        count = found.none_fit if found else 0
        return [
            _ending(f"{name}n", "escalate", f"{self.prefix}-s{index}n", dashed=True),
            f'{name} -> {name}n [id="{self.prefix}-s{index}en", class="none-fit", style=dashed, '
            f"label=<{_label_lines(f'{Answer.NONE_FIT_LABEL} · {count}')}>];",
        ]

    def none_fit_note(self) -> str:
        """The editor's "None of these fit": every step has it, so one note says so instead of an arrow per step."""
        note = f"Every step also offers<BR/>“{text(Answer.NONE_FIT_LABEL)}” → Escalate"
        return (
            f'none_fit [id="{self.prefix}-none-fit", class="note none-fit", shape=note, style="dashed,filled", '
            f'fillcolor="#fff4e5", color="#b26a00", fontsize=11, label=<{note}>];'
        )


def _ending(name: str, outcome: str, node_id: str, *, dashed: bool = False) -> str:
    resolved = outcome == "resolved"
    text = "✓ Resolved" if resolved else "↗ Escalate"
    colours = 'fillcolor="#e6f4ea", color="#2e7d32"' if resolved else 'fillcolor="#fff4e5", color="#b26a00"'
    style = '"rounded,filled,dashed"' if dashed else '"rounded,filled"'
    return f'{name} [id="{node_id}", class="{outcome}", style={style}, {colours}, fontsize=12, label=<{text}>];'


def _step_counts(found) -> str:
    if found is None:
        return "reached 0 · left 0 · escalated 0"
    return f"reached {found.reached} · left {found.abandoned} · escalated {found.escalated}"


# Escaping: DOT's quoted strings end at `"`, its HTML-like labels at an unbalanced `>`, and both expand `\N`, `\G`
# and the like; in a label a doubled backslash is one backslash. Tooltips expand twice in dot 2.43, so none carries
# user text: each box's hover text is a <title> added to the SVG afterwards (`titled`).

CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def text(value: str) -> str:
    """User text for inside an HTML-like label: markup escaped, backslashes doubled, control characters spaces."""
    return html.escape(CONTROL.sub(" ", value), quote=True).replace("\\", "\\\\")


def url(value: str) -> str:
    """A link for inside a quoted DOT attribute: no raw quote or backslash survives (the key in it is %-quoted)."""
    return html.escape(value, quote=True).replace("\\", "%5C")


def _wrapped(value: str, width: int = WRAP) -> list[str]:
    """`value` in lines of at most `width` characters (long words broken), each escaped."""
    return [text(line) for line in textwrap.wrap(CONTROL.sub(" ", value), width)] or [""]


def _label_lines(value: str, width: int = WRAP) -> str:
    return "<BR/>".join(_wrapped(value, width))


def _font(escaped: str, *, size: int, color: str) -> str:
    return f'<FONT POINT-SIZE="{size}" COLOR="{color}">{escaped}</FONT>'


# Running dot, once per picture.

SVG_SIZE = re.compile(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"')
DROPPED = re.compile(r"<!--.*?-->\n?|<title>[^<]*</title>\n?| xlink:title=\"[^\"]*\"", re.S)
SVG_OPEN = re.compile(r"<svg([^>]*)>")
LINKED = re.compile(r'(<g id="a_([^"]+)"><a [^>]*>)')


def drawn(source: str) -> str | None:
    """The SVG `dot` draws for `source`, fitted to the page's width; from the cache when drawn before (the key is
    the DOT's hash: a published version's picture is drawn once, a draft's again only when its content changed).

    None when dot is missing, fails or takes longer than `GRAPHVIZ_TIMEOUT` seconds: the page shows the outline.
    """
    key = f"troubleshoot:flowpicture:{CACHE_FORMAT}:{hashlib.sha256(source.encode()).hexdigest()}"
    svg = cache.get(key)
    if svg is None:
        svg = run_dot(source)
        # A failure is remembered for a few minutes, so a flow dot chokes on costs one timeout, not one a page.
        svg = fitted(svg) if svg else ""
        cache.set(key, svg, timeout=CACHE_SECONDS if svg else FAILURE_SECONDS)
    return svg or None


def titled(svg: str, *, prefix: str, title: str, tooltips: dict[str, str]) -> SafeString:
    """The SVG with its title, and each box's link with its hover text (its accessible name): escaped here, as dot
    would expand a `\\N` in them."""

    def add(match: re.Match) -> str:
        tip = tooltips.get(html.unescape(match.group(2)))
        return match.group(1) + (f"<title>{html.escape(tip)}</title>" if tip else "")

    svg = LINKED.sub(add, svg)
    heading = f'<title id="{prefix}-title">{html.escape(title)}</title>'
    svg = SVG_OPEN.sub(lambda m: f'<svg aria-labelledby="{prefix}-title"{m.group(1)}>{heading}', svg, count=1)
    return mark_safe(svg)  # noqa: S308 - dot's output, and our own text escaped


def run_dot(source: str) -> str | None:
    """`dot -Tsvg` on `source` (setting GRAPHVIZ_DOT: the command; GRAPHVIZ_TIMEOUT: seconds)."""
    try:
        done = subprocess.run(  # noqa: S603 - a fixed command from settings, the DOT text on stdin
            [settings.GRAPHVIZ_DOT, "-Tsvg"],
            input=source.encode(),
            capture_output=True,
            timeout=settings.GRAPHVIZ_TIMEOUT,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as error:
        logger.warning("flow picture not drawn: %s", error)
        return None
    return done.stdout.decode()


def fitted(svg: str) -> str:
    """dot's SVG as an inline element that scales to its container (viewBox kept, width 100%), never wider than
    drawn; its XML prologue, comments and per-node <title>s (node names like "s3") dropped."""
    svg = DROPPED.sub("", svg[svg.index("<svg") :])
    size = SVG_SIZE.search(svg)
    natural = round(float(size.group(1)) * 4 / 3) if size else 0
    return SVG_SIZE.sub(f'<svg class="flow-svg" width="100%" style="max-width: {natural}px"', svg, count=1)


# The outline: the same flow as a nested list, for screen readers and for anyone who prefers text.


def outline(flow: Flow, problems: list[Problem], counts: dict | None, links: dict[str, str]) -> list[OutlineStep]:
    titles = {step.key: step.title for step in flow.steps}
    rows = []
    for step in flow.steps:
        found = None if counts is None else counts.get(step.key)
        answers = [_outline_answer(answer, titles, links, found, counts is not None) for answer in step.answers]
        none_fit = found.none_fit if found else 0
        answers.append(OutlineAnswer(Answer.NONE_FIT_LABEL, "Escalate", count=none_fit if counts is not None else None))
        rows.append(
            OutlineStep(
                key=step.key,
                title=step.title,
                href=links[step.key],
                answers=answers,
                problems=[problem.message for problem in problems if problem.step == step.key],
                counts=found,
            )
        )
    return rows


def _outline_answer(answer, titles: dict[str, str], links: dict[str, str], found, counted: bool) -> OutlineAnswer:
    count = (found.answers.get(answer.index, 0) if found else 0) if counted else None
    if answer.ends_run:
        return OutlineAnswer(answer.label, "Resolved" if answer.outcome == "resolved" else "Escalate", count=count)
    if answer.next in titles:
        return OutlineAnswer(answer.label, titles[answer.next], links[answer.next], count)
    return OutlineAnswer(answer.label, "nowhere (a step of another checker or none)", count=count)
