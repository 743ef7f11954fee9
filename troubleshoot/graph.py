"""A checker's steps as a graph, built from plain data: a published version's `data`, or the draft as the same dict.

One shape for everything that reads a flow: the seller's walk, the flow check before publishing, the progress
figure ("Step 2 of up to 4") and the flow picture in the editor. Nothing here touches the database.
"""

from dataclasses import dataclass, field
from functools import cached_property

from .rendering import render_markdown

RESOLVED, ESCALATE = "resolved", "escalate"


@dataclass(frozen=True)
class AnswerNode:
    """One answer button: it leads to the step `next`, or ends the run with `outcome`."""

    index: int
    label: str
    next: str = ""
    outcome: str = ""

    @property
    def ends_run(self) -> bool:
        return bool(self.outcome)


@dataclass
class StepNode:
    key: str
    title: str
    question: str
    body: str = ""
    body_html: str = ""
    links: list[dict] = field(default_factory=list)
    answers: list[AnswerNode] = field(default_factory=list)


@dataclass(frozen=True)
class Problem:
    """Something that stops a flow from always ending in resolved or escalate, on the step it concerns."""

    message: str
    step: str = ""

    def __str__(self) -> str:
        return self.message


class Flow:
    """The steps of one checker (first step first), by key."""

    def __init__(self, steps: list[StepNode], *, version_id: int | None = None, checker_id: int | None = None):
        self.steps = steps
        self.by_key = {step.key: step for step in steps}
        self.version_id, self.checker_id = version_id, checker_id

    @classmethod
    def from_data(cls, data: dict, **ids) -> "Flow":
        """A flow from a content-file dict; each step's Markdown is rendered once, here."""
        steps = [
            StepNode(
                key=item["key"],
                title=item["title"],
                question=item["question"],
                body=item.get("body", ""),
                body_html=render_markdown(item.get("body", "")),
                links=[{"label": link["label"], "url": link["url"]} for link in item.get("links", [])],
                answers=[
                    AnswerNode(index, answer["label"], answer.get("next") or "", answer.get("outcome") or "")
                    for index, answer in enumerate(item.get("answers", []))
                ],
            )
            for item in data.get("steps", [])
        ]
        return cls(steps, **ids)

    @property
    def start(self) -> StepNode | None:
        return self.steps[0] if self.steps else None

    def successors(self, step: StepNode) -> list[str]:
        return [answer.next for answer in step.answers if answer.next in self.by_key]

    @cached_property
    def longest(self) -> dict[str, int]:
        """For each step, the most steps a seller may still see from it, itself included.

        Steps inside a loop (which `problems` reports) count as one, so a broken graph still renders.
        """
        memo: dict[str, int] = {}
        visiting: set[str] = set()

        def visit(key: str) -> int:
            if key in memo:
                return memo[key]
            if key in visiting:
                return 0
            visiting.add(key)
            memo[key] = 1 + max((visit(nxt) for nxt in self.successors(self.by_key[key])), default=0)
            visiting.discard(key)
            return memo[key]

        for step in self.steps:
            visit(step.key)
        return memo

    def problems(self) -> list[Problem]:
        """What stops this checker from always ending in resolved or escalate, in words an editor can act on."""
        if not self.steps:
            return [Problem("It has no steps.")]
        found = []
        for step in self.steps:
            if not step.answers:
                found.append(Problem(f'Step "{step.key}" has no answers, so a seller would be stuck there.', step.key))
            for answer in step.answers:
                if not answer.outcome and answer.next not in self.by_key:
                    found.append(
                        Problem(
                            f'Answer "{answer.label}" on step "{step.key}" leads to a step of another checker or '
                            "to none.",
                            step.key,
                        )
                    )
        reachable = self.reachable()
        for step in self.steps:
            if step.key not in reachable:
                found.append(Problem(f'Step "{step.key}" can\'t be reached from the first step.', step.key))
        loop = self.find_loop()
        if loop:
            found.append(Problem("Answers go round in a loop: " + " → ".join(loop) + ".", loop[0]))
        return found

    def reachable(self) -> set[str]:
        seen: set[str] = set()
        todo = [self.start.key] if self.start else []
        while todo:
            key = todo.pop()
            if key not in seen:
                seen.add(key)
                todo.extend(self.successors(self.by_key[key]))
        return seen

    def find_loop(self) -> list[str]:
        state: dict[str, str] = {}
        path: list[str] = []

        def visit(key: str) -> list[str]:
            state[key] = "open"
            path.append(key)
            for nxt in self.successors(self.by_key[key]):
                if state.get(nxt) == "open":
                    return path[path.index(nxt) :] + [nxt]
                if nxt not in state and (loop := visit(nxt)):
                    return loop
            state[key] = "done"
            path.pop()
            return []

        for step in self.steps:
            if step.key not in state and (loop := visit(step.key)):
                return loop
        return []


# The flow picture: steps as boxes in rows by how deep they sit, answers as labelled arrows, endings as pills.

BOX_W, BOX_H, END_W, END_H, GAP_X, GAP_Y, MARGIN = 210, 58, 104, 30, 28, 84, 16


def _depths(flow: Flow) -> dict[str, int]:
    """Each step's row: the longest way down to it from the first step, so arrows point down (loops aside)."""
    depth = {flow.start.key: 0} if flow.start else {}
    for _ in range(len(flow.steps)):  # relax at most n times, so a loop can't run forever
        changed = False
        for step in flow.steps:
            if step.key not in depth:
                continue
            for nxt in flow.successors(step):
                if depth.get(nxt, -1) < depth[step.key] + 1 <= len(flow.steps):
                    depth[nxt], changed = depth[step.key] + 1, True
        if not changed:
            break
    bottom = max(depth.values(), default=-1) + 1
    return {step.key: depth.get(step.key, bottom) for step in flow.steps}


def _short(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def picture(flow: Flow, problems: list[Problem] | None = None, counts: dict | None = None) -> dict:
    """Coordinates for the SVG flow picture (rendered by a template; no JavaScript).

    With `counts` (step key → an object with `reached`, `abandoned`, `escalated` and `answers`, answer number →
    runs, as the review pages' `support.stats.step_counts` gives), each box says how many sellers reached it, left
    there and escalated there, and each arrow and ending how many took it.
    """
    problems = flow.problems() if problems is None else problems
    box_h = BOX_H + 18 if counts is not None else BOX_H
    trouble: dict[str, list[str]] = {}
    for problem in problems:
        trouble.setdefault(problem.step, []).append(problem.message)
    depths = _depths(flow)
    rows: dict[int, list[dict]] = {}
    nodes: dict[str, dict] = {}
    for step in flow.steps:
        node = {
            "id": step.key,
            "kind": "step",
            "key": step.key,
            "title": _short(step.title, 30),
            "problems": trouble.get(step.key, []),
            "first": step is flow.start,
            "w": BOX_W,
            "h": box_h,
            "counts": None if counts is None else counts.get(step.key),
            "counted": counts is not None,
        }
        nodes[step.key] = node
        rows.setdefault(depths[step.key], []).append(node)
        for answer in step.answers:
            if answer.ends_run:
                end = {"id": f"{step.key}:{answer.index}", "kind": answer.outcome, "w": END_W, "h": END_H}
                if counts is not None:
                    found = counts.get(step.key)
                    end["count"] = found.answers.get(answer.index, 0) if found else 0
                nodes[end["id"]] = end
                rows.setdefault(depths[step.key] + 1, []).append(end)
    # Where each node's arrows come from: (source step, the answer's slot on the source box's bottom edge).
    incoming: dict[str, list[tuple[str, float]]] = {}
    for step in flow.steps:
        for answer in step.answers:
            target = f"{step.key}:{answer.index}" if answer.ends_run else answer.next
            incoming.setdefault(target, []).append((step.key, (answer.index + 1) / (len(step.answers) + 1)))
    width = max((sum(n["w"] + GAP_X for n in row) - GAP_X for row in rows.values()), default=BOX_W) + 2 * MARGIN
    for depth in sorted(rows):
        row = rows[depth]

        def pull(node: dict, row=row) -> float:
            """Mean x of the arrows arriving from rows above, so a row is ordered like its parents (fewer crossings)."""
            xs = [
                nodes[key]["x"] + nodes[key]["w"] * slot
                for key, slot in incoming.get(node["id"], [])
                if "x" in nodes[key] and nodes[key] not in row
            ]
            return sum(xs) / len(xs) if xs else float("inf")

        row.sort(key=pull)  # stable: nodes nothing points at keep the steps' order
        x = MARGIN + (width - 2 * MARGIN - (sum(n["w"] + GAP_X for n in row) - GAP_X)) / 2
        for node in row:
            node["x"], node["y"] = x, MARGIN + depth * (box_h + GAP_Y)
            x += node["w"] + GAP_X
    edges = []
    for step in flow.steps:
        source = nodes[step.key]
        count = len(step.answers)
        for answer in step.answers:
            target = nodes.get(f"{step.key}:{answer.index}" if answer.ends_run else answer.next)
            if target is None:
                continue  # leads nowhere: the step carries the problem
            x1 = source["x"] + source["w"] * (answer.index + 1) / (count + 1)
            y1 = source["y"] + source["h"]
            x2, y2 = target["x"] + target["w"] / 2, target["y"]
            bend = max(40.0, (y2 - y1) / 2) if y2 > y1 else 120.0
            label = _short(answer.label, 22)
            if counts is not None:
                found = counts.get(step.key)
                label += f" · {found.answers.get(answer.index, 0) if found else 0}"
            edges.append(
                {
                    "d": f"M{x1:.0f},{y1:.0f} C{x1:.0f},{y1 + bend:.0f} {x2:.0f},{y2 - bend:.0f} {x2:.0f},{y2 - 4:.0f}",
                    "label": label,
                    # Near the arrow's start, staggered, so the labels of one step's answers don't overlap.
                    "lx": x1 + (x2 - x1) * 0.25,
                    "ly": y1 + 20 + 19 * (answer.index % 2),
                    "lw": 7 * len(label) + 10,
                }
            )
    height = max((n["y"] + n["h"] for n in nodes.values()), default=box_h) + MARGIN
    return {"nodes": list(nodes.values()), "edges": edges, "width": width, "height": height, "problems": problems}
