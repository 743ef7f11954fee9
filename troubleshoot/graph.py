"""A checker's steps as a graph, built from plain data: a published version's `data`, or the draft as the same dict.

One shape for everything that reads a flow: the seller's walk, the flow check before publishing, the progress
figure ("Step 2 of up to 4") and the flow picture (flowpicture.py draws it). Nothing here touches the database.
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
