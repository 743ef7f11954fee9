"""The seller's walk through a published version: start a run, answer, go back; and a preview walk that logs nothing.

A run walks the version it started on to its end: the flow comes from that version's frozen data (see
`versions.flow_of`), so nothing an editor does to the draft, or publishes meanwhile, can pull a step from under it.
The functions take and return plain values and model instances; views only translate requests into these calls.
"""

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from .graph import RESOLVED, AnswerNode, Flow, StepNode
from .models import Answer, Run, SupportRequest
from .tasks import email_support

FINISH_FIRST = "Finish the check first: here is your step."


class StaleAnswer(Exception):
    """The answer can't apply to the run as it stands now (another step's, not in this version, or the run ended)."""


@dataclass
class Said:
    """An answer given so far, as the seller's list of answers shows it."""

    question: str
    choice_label: str


@dataclass
class Position:
    """Where a walk stands: the answers so far and the step on screen, or how it ended."""

    step: StepNode | None
    answers: list
    number: int
    up_to: int
    ending: str = ""  # "", Run.Outcome.RESOLVED or Run.Outcome.ESCALATED


def _position(flow: Flow, step: StepNode | None, answers: list, ending: str) -> Position:
    number = len(answers) + 1
    up_to = len(answers) + flow.longest.get(step.key, 1) if step else number
    return Position(step=step, answers=answers, number=number, up_to=up_to, ending=ending)


def position(flow: Flow, run: Run | None) -> Position:
    if run is None:
        return _position(flow, flow.start, [], "")
    answers = list(run.answers.live())
    ending = "" if run.is_open else run.outcome
    return _position(flow, flow.by_key.get(run.current_step_key) if run.is_open else None, answers, ending)


def replay(flow: Flow, path: list[int]) -> Position:
    """Where a preview stands after the answers `path` (answer numbers from the first step on); logs nothing.

    A path that doesn't fit the flow (an editor changed the draft meanwhile) stops at the last step it fits.
    """
    step, said = flow.start, []
    for index in path:
        if step is None or not 0 <= index < len(step.answers):
            break
        answer = step.answers[index]
        said.append(Said(step.question, answer.label))
        if answer.ends_run:
            ending = Run.Outcome.RESOLVED if answer.outcome == RESOLVED else Run.Outcome.ESCALATED
            return _position(flow, None, said, ending)
        step = flow.by_key.get(answer.next)
    return _position(flow, step, said, "")


def find_answer(flow: Flow, step_key: str, index: int) -> AnswerNode:
    step = flow.by_key.get(step_key)
    if step is None:
        raise StaleAnswer("That step isn't part of this checker. Here is the step you're on.")
    if not 0 <= index < len(step.answers):
        raise StaleAnswer("That answer isn't one of this step's. Here is the step you're on.")
    answer = step.answers[index]
    if not answer.ends_run and answer.next not in flow.by_key:
        # Publishing refuses such a flow; this guards data written by other means.
        raise StaleAnswer("That answer can't be followed right now. Please pick another, or contact support.")
    return answer


def _apply(flow: Flow, run: Run, step: StepNode, answer: AnswerNode, *, insert: bool = False) -> None:
    """Move the run on (to the next step, or to its ending), save it, and log the answer."""
    now = timezone.now()
    run.last_activity_at = now
    if answer.ends_run:
        run.outcome = Run.Outcome.RESOLVED if answer.outcome == RESOLVED else Run.Outcome.ESCALATED
        run.current_step_key = ""
        run.end_step_key, run.end_step_title, run.ended_at = step.key, step.title, now
    else:
        run.current_step_key = answer.next
    if insert:
        run.save(force_insert=True)
    else:
        run.save(update_fields=RUN_STATE)
    Answer.objects.create(
        run=run,
        step_key=step.key,
        answer_index=answer.index,
        step_title=step.title,
        question=step.question,
        choice_label=answer.label,
        answered_at=now,
    )


# The fields an answer or Back changes on a run.
RUN_STATE = ["current_step_key", "outcome", "end_step_key", "end_step_title", "ended_at", "last_activity_at"]


def start_run(
    flow: Flow,
    run_id: uuid.UUID,
    step_key: str,
    index: int,
    *,
    source: str = Run.Source.DIRECT,
    source_detail: str = "",
    error_code: str = "",
) -> Run:
    """Start a run of `flow`'s version with its first answer.

    The run's id is minted when the first step is shown, so a double-submitted first answer finds the run it
    already created instead of starting a second one. An id that belongs to another checker or another first
    answer (the seller went back to the start page and chose again) starts a fresh run.
    """
    if flow.start is None or step_key != flow.start.key:
        raise StaleAnswer("That isn't the first step of this checker any more. Here it is.")
    answer = find_answer(flow, step_key, index)
    with transaction.atomic():
        existing = Run.objects.select_for_update().filter(pk=run_id).first()
        if existing is not None:
            first = existing.answers.live().first()
            same = first and (first.step_key, first.answer_index) == (step_key, index)
            if existing.version_id == flow.version_id and same:
                return existing
            run_id = uuid.uuid4()
        run = Run(
            id=run_id,
            checker_id=flow.checker_id,
            version_id=flow.version_id,
            source=source if source in Run.Source.values else Run.Source.DIRECT,
            source_detail=source_detail[:200],
            error_code=error_code[:40],
        )
        _apply(flow, run, flow.start, answer, insert=True)
    return run


def _lock(run: Run) -> Run:
    """The run re-read under a row lock, keeping the checker already loaded with it."""
    locked = Run.objects.select_for_update().get(pk=run.pk)
    locked.checker = run.checker
    return locked


def record_answer(flow: Flow, run: Run, step_key: str, index: int) -> Run:
    """Record an answer to the run's current step; a repeat of the last answer is a no-op."""
    with transaction.atomic():
        run = _lock(run)
        last = run.answers.live().last()
        if last and (last.step_key, last.answer_index) == (step_key, index):
            return run  # double submit: already recorded
        if not run.is_open:
            raise StaleAnswer("This check has already finished. Here is how it ended.")
        if step_key != run.current_step_key:
            if step_key in flow.by_key:
                raise StaleAnswer("You've already answered that step. Here is the step you're on now.")
            raise StaleAnswer("That step isn't part of this checker. Here is the step you're on.")
        # The row lock above (IMMEDIATE transactions on SQLite) serialises answers to one run; the database's
        # one-live-answer-per-step constraint is the last line of defence behind it.
        _apply(flow, run, flow.by_key[step_key], find_answer(flow, step_key, index))
    return run


def go_back(run: Run, answer_id: int) -> Run:
    """Withdraw the run's last live answer (kept in the log, marked withdrawn) and reopen its step.

    The seller names the answer they are undoing, so a double-clicked Back (or Back in two tabs) undoes it once:
    a repeat finds it already withdrawn and changes nothing. The step reopened is the answer's step in the run's
    own version, whatever has been published since.
    """
    with transaction.atomic():
        run = _lock(run)
        if SupportRequest.objects.filter(run=run).exists():
            raise StaleAnswer("Your support request is already sent.")
        last = run.answers.live().last()
        if last is None or last.pk != answer_id:
            return run
        now = timezone.now()
        last.withdrawn_at = now
        last.save(update_fields=["withdrawn_at"])
        run.current_step_key = last.step_key
        run.outcome = Run.Outcome.OPEN
        run.end_step_key, run.end_step_title, run.ended_at = "", "", None
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
