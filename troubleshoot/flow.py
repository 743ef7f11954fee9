"""Walking and checking a checker's steps.

The same functions serve the seller's views, the admin (flow check on save) and `loadcontent`. They take and
return plain values and model instances; views only translate requests into these calls.
"""

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from functools import cached_property

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from .models import Answer, Checker, Choice, Run, Step, StepLink, SupportRequest
from .tasks import email_support

FINISH_FIRST = "Finish the check first: here is your step."


class StaleAnswer(Exception):
    """The answer can't apply to the run as it stands now (another step's, deleted, or the run ended)."""


@dataclass
class Flow:
    """A checker's steps as a graph, loaded in three queries."""

    checker: Checker
    steps: list[Step]
    by_id: dict[int, Step] = field(init=False)

    def __post_init__(self):
        self.by_id = {step.pk: step for step in self.steps}

    @property
    def start(self) -> Step | None:
        return self.steps[0] if self.steps else None

    @cached_property
    def longest(self) -> dict[int, int]:
        """For each step, the most steps a seller may still see from it, itself included.

        Steps inside a loop (which `problems` reports) count as one, so a broken graph still renders.
        """
        memo: dict[int, int] = {}
        visiting: set[int] = set()

        def visit(step_id: int) -> int:
            if step_id in memo:
                return memo[step_id]
            if step_id in visiting or step_id not in self.by_id:
                return 0
            visiting.add(step_id)
            after = [visit(choice.next_step_id) for choice in self.by_id[step_id].choices.all() if choice.next_step_id]
            visiting.discard(step_id)
            memo[step_id] = 1 + max(after, default=0)
            return memo[step_id]

        for step in self.steps:
            visit(step.pk)
        return memo

    def problems(self) -> list[str]:
        """What stops this checker from always ending in resolved or escalate, in words an editor can act on."""
        if not self.steps:
            return ["It has no steps."]
        found = []
        for step in self.steps:
            choices = step.choices.all()
            if not choices:
                found.append(f'Step "{step.key}" has no answers, so a seller would be stuck there.')
            for choice in choices:
                if choice.outcome == Choice.Outcome.NEXT and choice.next_step_id not in self.by_id:
                    found.append(
                        f'Answer "{choice.label}" on step "{step.key}" leads to a step of another checker or to none.'
                    )
        reachable = self._reachable()
        for step in self.steps:
            if step.pk not in reachable:
                found.append(f'Step "{step.key}" can\'t be reached from the first step.')
        loop = self._find_loop()
        if loop:
            found.append("Answers go round in a loop: " + " → ".join(loop) + ".")
        return found

    def _reachable(self) -> set[int]:
        seen: set[int] = set()
        todo = [self.start.pk]
        while todo:
            step_id = todo.pop()
            if step_id in seen or step_id not in self.by_id:
                continue
            seen.add(step_id)
            todo.extend(c.next_step_id for c in self.by_id[step_id].choices.all() if c.next_step_id)
        return seen

    def _find_loop(self) -> list[str]:
        state: dict[int, str] = {}
        path: list[int] = []

        def visit(step_id: int) -> list[int]:
            state[step_id] = "open"
            path.append(step_id)
            for choice in self.by_id[step_id].choices.all():
                nxt = choice.next_step_id
                if nxt not in self.by_id:
                    continue
                if state.get(nxt) == "open":
                    return path[path.index(nxt) :] + [nxt]
                if nxt not in state and (loop := visit(nxt)):
                    return loop
            state[step_id] = "done"
            path.pop()
            return []

        for step in self.steps:
            if step.pk not in state and (loop := visit(step.pk)):
                return [self.by_id[step_id].key for step_id in loop]
        return []

    def fingerprint(self) -> str:
        """A hash of everything a seller sees while walking the checker; it changes iff the walk changes."""
        shape = [
            [
                step.key,
                step.title,
                step.body,
                step.question,
                [[link.label, link.url] for link in step.links.all()],
                [
                    [
                        c.label,
                        c.outcome,
                        self.by_id[c.next_step_id].key if c.next_step_id in self.by_id else None,
                    ]
                    for c in step.choices.all()
                ],
            ]
            for step in self.steps
        ]
        return hashlib.sha256(json.dumps(shape).encode()).hexdigest()


def load(checker: Checker) -> Flow:
    steps = Step.objects.filter(checker=checker).prefetch_related(
        Prefetch("choices", queryset=Choice.objects.order_by("position", "pk")),
        Prefetch("links", queryset=StepLink.objects.order_by("position", "pk")),
    )
    return Flow(checker=checker, steps=list(steps.order_by("position", "pk")))


def refresh_version(checker: Checker) -> Flow:
    """Bump the checker's version if its steps changed since the last call; return the fresh flow."""
    flow = load(checker)
    fingerprint = flow.fingerprint()
    if fingerprint != checker.fingerprint:
        version = checker.version + 1 if checker.fingerprint else checker.version
        Checker.objects.filter(pk=checker.pk).update(version=version, fingerprint=fingerprint)
        checker.version, checker.fingerprint = version, fingerprint
    return flow


@dataclass
class Position:
    """Where a run stands: the live answers so far and the step on screen."""

    step: Step | None
    answers: list[Answer]
    number: int
    up_to: int


def position(flow: Flow, run: Run | None) -> Position:
    answers = list(run.answers.filter(withdrawn_at__isnull=True)) if run else []
    step = flow.start if run is None else flow.by_id.get(run.current_step_id)
    number = len(answers) + 1
    up_to = len(answers) + flow.longest.get(step.pk, 1) if step else number
    return Position(step=step, answers=answers, number=number, up_to=up_to)


def _find_choice(current: Flow, step_id: int, choice_id: int) -> Choice:
    step = current.by_id.get(step_id)
    choice = next((c for c in step.choices.all() if c.pk == choice_id), None) if step else None
    if choice is None:
        if any(c.pk == choice_id for s in current.steps for c in s.choices.all()):
            raise StaleAnswer("That answer belongs to a different step. Here is the step you're on.")
        raise StaleAnswer("That answer no longer exists: the checker was updated. Here is your step.")
    if choice.outcome == Choice.Outcome.NEXT and choice.next_step_id not in current.by_id:
        # The flow check warned the editor; the seller gets a clear answer, not an error page.
        raise StaleAnswer("That answer is being updated right now. Please pick another, or try again shortly.")
    return choice


def _apply(current: Flow, run: Run, choice: Choice, *, insert: bool = False) -> None:
    """Move the run on (to the next step, or to its ending), save it, and log the answer."""
    now = timezone.now()
    step = current.by_id[choice.step_id]
    run.last_activity_at = now
    if choice.outcome == Choice.Outcome.NEXT:
        run.current_step = current.by_id[choice.next_step_id]
    else:
        run.outcome = Run.Outcome.RESOLVED if choice.outcome == Choice.Outcome.RESOLVED else Run.Outcome.ESCALATED
        run.end_step, run.end_step_title, run.ended_at = step, step.title, now
    if insert:
        run.save(force_insert=True)
    else:
        run.save(update_fields=RUN_STATE)
    Answer.objects.create(
        run=run,
        step=step,
        choice=choice,
        step_title=step.title,
        question=step.question,
        choice_label=choice.label,
        answered_at=now,
    )


# The fields an answer or Back changes on a run.
RUN_STATE = ["current_step", "outcome", "end_step", "end_step_title", "ended_at", "last_activity_at"]


def start_run(
    current: Flow,
    run_id: uuid.UUID,
    step_id: int,
    choice_id: int,
    *,
    source: str = Run.Source.DIRECT,
    source_detail: str = "",
    error_code: str = "",
) -> Run:
    """Start a run of `current`'s checker with its first answer.

    The run's id is minted when the first step is shown, so a double-submitted first answer finds the run it
    already created instead of starting a second one. An id that belongs to another checker or another first
    answer (the seller went back to the start page and chose again) starts a fresh run.
    """
    checker = current.checker
    if current.start is None or step_id != current.start.pk:
        raise StaleAnswer("That isn't the first step of this checker any more. Here it is.")
    choice = _find_choice(current, step_id, choice_id)
    with transaction.atomic():
        existing = Run.objects.select_for_update().filter(pk=run_id).first()
        if existing is not None:
            first_answer = existing.answers.filter(withdrawn_at__isnull=True).first()
            same = first_answer and (first_answer.step_id, first_answer.choice_id) == (step_id, choice_id)
            if existing.checker_id == checker.pk and same:
                return existing
            run_id = uuid.uuid4()
        run = Run(
            id=run_id,
            checker=checker,
            checker_version=checker.version,
            source=source if source in Run.Source.values else Run.Source.DIRECT,
            source_detail=source_detail[:200],
            error_code=error_code[:40],
        )
        _apply(current, run, choice, insert=True)
    return run


def _lock(run: Run) -> Run:
    """The run re-read under a row lock, keeping the checker already loaded with it."""
    locked = Run.objects.select_for_update().get(pk=run.pk)
    locked.checker = run.checker
    return locked


def record_answer(current: Flow, run: Run, step_id: int, choice_id: int) -> Run:
    """Record an answer to the run's current step; a repeat of the last answer is a no-op."""
    with transaction.atomic():
        run = _lock(run)
        last = run.answers.filter(withdrawn_at__isnull=True).last()
        if last and (last.step_id, last.choice_id) == (step_id, choice_id):
            return run  # double submit: already recorded
        if not run.is_open:
            raise StaleAnswer("This check has already finished. Here is how it ended.")
        if run.current_step_id not in current.by_id:
            raise StaleAnswer("This checker changed since you started. Please start over.")
        if step_id != run.current_step_id:
            raise StaleAnswer("You've already answered that step. Here is the step you're on now.")
        # The row lock above (IMMEDIATE transactions on SQLite) serialises answers to one run; the database's
        # one-live-answer-per-step constraint is the last line of defence behind it.
        _apply(current, run, _find_choice(current, step_id, choice_id))
    return run


def go_back(run: Run, answer_id: int) -> Run:
    """Withdraw the run's last live answer (kept in the log, marked withdrawn) and reopen its step.

    The seller names the answer they are undoing, so a double-clicked Back (or Back in two tabs) undoes it once:
    a repeat finds it already withdrawn and changes nothing.
    """
    with transaction.atomic():
        run = _lock(run)
        if SupportRequest.objects.filter(run=run).exists():
            raise StaleAnswer("Your support request is already sent.")
        last = run.answers.filter(withdrawn_at__isnull=True).last()
        if last is None or last.pk != answer_id or last.step_id is None:
            return run
        now = timezone.now()
        last.withdrawn_at = now
        last.save(update_fields=["withdrawn_at"])
        run.current_step_id = last.step_id
        run.outcome = Run.Outcome.OPEN
        run.end_step, run.end_step_title, run.ended_at = None, "", None
        run.last_activity_at = now
        run.save(update_fields=RUN_STATE)
    return run


def request_support(run: Run, support_request: SupportRequest) -> SupportRequest:
    """Attach the seller's support request to their escalated run and queue the email to the support inbox.

    Checked under the run's lock, so a Back in another tab can't reopen the run as the request is stored. A double
    submit gets the request already stored.
    """
    with transaction.atomic():
        run = _lock(run)
        existing = SupportRequest.objects.filter(run=run).first()
        if existing is not None:
            return existing
        if run.outcome != Run.Outcome.ESCALATED:
            raise StaleAnswer(FINISH_FIRST)
        support_request.run = run
        support_request.save()
        # The task queue lives in this database, so the email is queued in the same transaction as the request:
        # both are stored, or neither.
        email_support.enqueue(support_request.pk)
    return support_request
