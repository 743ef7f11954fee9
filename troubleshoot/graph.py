"""A checker's steps as a graph, built from plain data: a published version's `data`, or the draft as the same dict.

One shape for everything that reads a flow: the seller's walk, the flow check before publishing, the progress
figure ("Step 2 of up to 4") and the flow picture (flowpicture.py draws it). Nothing here touches the database.
"""

from dataclasses import dataclass, field
from functools import cached_property

from .rendering import render_markdown

RESOLVED, ESCALATE = "resolved", "escalate"
# The accounting platforms (`models.Platform`'s values, repeated: nothing here touches the models), by name.
PLATFORMS = {"xero": "Xero", "quickbooks": "QuickBooks"}


@dataclass(frozen=True)
class AnswerNode:
    """One answer button: it leads to the step `next`, or ends the run with `outcome`."""

    index: int
    label: str
    next: str = ""
    outcome: str = ""
    platform: str = ""  # on a platform question: the platform this answer is for

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

    @property
    def asks_platform(self) -> bool:
        """A platform question ("Which do you use? Xero / QuickBooks"): every answer is for a platform."""
        return bool(self.answers) and all(answer.platform for answer in self.answers)

    def answer_for(self, platform: str) -> AnswerNode | None:
        """The answer of this platform question that is for `platform`; None if it isn't one, or has none."""
        if not self.asks_platform:
            return None
        return next((answer for answer in self.answers if answer.platform == platform), None)


@dataclass(frozen=True)
class Problem:
    """Something that stops a flow from always ending in resolved or escalate, on the step it concerns."""

    message: str
    step: str = ""

    def __str__(self) -> str:
        return self.message


class Flow:
    """The steps of one checker (first step first), by key."""

    def __init__(
        self,
        steps: list[StepNode],
        *,
        version_id: int | None = None,
        checker_id: int | None = None,
        platforms: tuple[str, ...] = tuple(PLATFORMS),
    ):
        self.steps = steps
        self.by_key = {step.key: step for step in steps}
        self.version_id, self.checker_id = version_id, checker_id
        self.platforms = platforms  # the platforms the checker is for

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
                    AnswerNode(
                        index,
                        answer["label"],
                        answer.get("next") or "",
                        answer.get("outcome") or "",
                        answer.get("platform") or "",
                    )
                    for index, answer in enumerate(item.get("answers", []))
                ],
            )
            for item in data.get("steps", [])
        ]
        return cls(steps, platforms=tuple(data.get("platforms") or PLATFORMS), **ids)

    @cached_property
    def asks_platform(self) -> bool:
        """Whether the steps differ by platform: some step asks "Which do you use?"."""
        return any(step.asks_platform for step in self.steps)

    @property
    def start(self) -> StepNode | None:
        return self.steps[0] if self.steps else None

    def successors(self, step: StepNode, platform: str = "") -> list[str]:
        """The steps `step`'s answers lead to; for `platform`, not along another platform's answers."""
        return [
            answer.next
            for answer in step.answers
            if answer.next in self.by_key and (not platform or answer.platform in ("", platform))
        ]

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
        for step in self.steps:
            found.extend(self.platform_problems(step))
        return found

    def platform_problems(self, step: StepNode) -> list[Problem]:
        """A platform question has one answer for each platform the checker is for, and only such a step has
        answers for a platform: a seller whose platform is known is taken along their platform's answer."""
        tagged = [answer.platform for answer in step.answers if answer.platform]
        if not tagged:
            return []
        if len(tagged) < len(step.answers):
            return [
                Problem(
                    f'Step "{step.key}" has answers for a platform and answers for none: only a "Which do you use?" '
                    "step has platform answers, and all its answers are.",
                    step.key,
                )
            ]
        if len(self.platforms) < 2:
            only = PLATFORMS.get(self.platforms[0], self.platforms[0]) if self.platforms else "one platform"
            return [
                Problem(
                    f'Step "{step.key}" asks which platform the seller uses, but this checker is for {only} only: '
                    "leave the question out, or make the checker for both.",
                    step.key,
                )
            ]
        if sorted(tagged) != sorted(self.platforms):
            names = " and ".join(PLATFORMS.get(p, p) for p in self.platforms)
            return [Problem(f'Step "{step.key}" needs exactly one answer for each of {names}.', step.key)]
        return []

    def reachable(self, platform: str = "") -> set[str]:
        """The steps a seller can reach from the first; for `platform`, only along its own platform answers."""
        seen: set[str] = set()
        todo = [self.start.key] if self.start else []
        while todo:
            key = todo.pop()
            if key not in seen:
                seen.add(key)
                todo.extend(self.successors(self.by_key[key], platform))
        return seen

    def only_for(self, platform: str) -> set[str]:
        """The steps only a seller of `platform` can reach: those of its platform answers' branches."""
        others = set().union(*(self.reachable(other) for other in self.platforms if other != platform))
        return self.reachable(platform) - others

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
