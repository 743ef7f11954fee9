"""The seller's walk through a published version, as it changes: start a run, answer, answer again, go back, and
hand an escalated run over to support.

A run walks the version it started on to its end: the flow comes from that version's frozen data (see
`versioncache.flow_of`), so nothing an editor does to the draft, or publishes meanwhile, can pull a step from under it.
Where a run stands is read by `positions.py`. The functions take and return plain values and model instances; views
only translate requests into these calls.
"""

import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone

from .graph import AnswerNode, Flow, StepNode
from .models import Answer, Platform, Run
from .positions import (
    NONE_FIT,
    StaleAnswer,
    answers_on,
    ending_of,
    find_answer,
    first_step,
    last_step_on,
    path_with,
    path_without_last,
    platform_answers,
)

FINISH_FIRST = "Finish the check first: here is your step."


def _asked_for_me(flow: Flow, run: Run) -> set[str]:
    """The platform questions of `flow` the walk answers itself on `run` (its platform known): their keys."""
    return {step.key for step in flow.steps if run.platform and step.answer_for(run.platform)}


# The fields an answer or Back changes on a run.
RUN_STATE = [
    "current_step_key",
    "outcome",
    "end_step_key",
    "end_step_title",
    "ended_at",
    "last_activity_at",
    "path",
]


def read_run(run_id: uuid.UUID) -> Run | None:
    """The run with this id, or None."""
    try:
        return Run.objects.get(pk=run_id)
    except Run.DoesNotExist:
        return None


def _answered(run: Run, step: StepNode, answer: AnswerNode, now) -> dict:
    """The run's state (`RUN_STATE`) once `answer` to its open step `step` is logged: at the next step, or ended;
    an answer to a platform question is the seller's platform from then on."""
    ends = answer.ends_run
    return {
        "platform": answer.platform or run.platform,
        "platform_asked": run.platform_asked or bool(answer.platform and not run.platform),
        "current_step_key": "" if ends else answer.next,
        "outcome": ending_of(answer) if ends else Run.Outcome.OPEN,
        "end_step_key": step.key if ends else "",
        "end_step_title": step.title if ends else "",
        "ended_at": now if ends else None,
        "last_activity_at": now,
        "path": path_with(run.path, step.key, answer.index),
    }


def _reopened(run: Run, step_key: str, now) -> dict:
    """The run's state (`RUN_STATE`) once its last answer, to the step `step_key`, is withdrawn."""
    return {
        "current_step_key": step_key,
        "outcome": Run.Outcome.OPEN,
        "end_step_key": "",
        "end_step_title": "",
        "ended_at": None,
        "last_activity_at": now,
        "path": path_without_last(run.path),
    }


def _set(run: Run, state: dict) -> None:
    for name, value in state.items():
        setattr(run, name, value)


def _log(flow: Flow, run: Run, step: StepNode, answer: AnswerNode, before: str, now, note: str) -> None:
    """Log the answer; the run then knows its answers so far (`answers_so_far`) without reading them again."""
    logged = Answer.objects.create(
        run=run,
        step_key=step.key,
        answer_index=answer.index,
        step_title=step.title,
        question=step.question,
        choice_label=answer.label,
        answered_at=now,
        note=note[:300] if answer is NONE_FIT else "",
    )
    run.answers_so_far = [*answers_on(flow, before), logged]


def _advance(flow: Flow, run: Run, step: StepNode, answer: AnswerNode, note: str) -> bool:
    """Move the run on by `answer` to its open step `step` and log the answer, if the run still stands where `run`
    shows it (open at `step`, with `run`'s path: the path changes with every answer and Back). False, with nothing
    written, if it has moved since `run` was read.

    Called inside a transaction: the conditional UPDATE takes the run's row lock, so nothing else moves the run
    between it and the answer's INSERT, and a second request's UPDATE waits for this one and then finds the run moved.
    """
    now, before = timezone.now(), run.path
    state = _answered(run, step, answer, now)
    as_seen = Run.objects.filter(pk=run.pk, outcome=Run.Outcome.OPEN, current_step_key=step.key, path=before)
    if not as_seen.update(**state):
        return False
    _set(run, state)
    _log(flow, run, step, answer, before, now, note)
    return True


def _first_answers(flow: Flow, step_key: str, index: int, platform: str) -> list[tuple[StepNode, AnswerNode]]:
    """The answers that start a run: the platform questions the walk answers first for a seller of `platform`,
    then the seller's answer to the first step they were shown."""
    taken = platform_answers(flow, flow.start, platform)
    shown = first_step(flow, platform)
    if shown is None or step_key != shown.key:
        raise StaleAnswer("That isn't the first step of this checker any more. Here it is.")
    return [*taken, (shown, find_answer(flow, step_key, index))]


def _started_here(flow: Flow, run: Run, shown: StepNode) -> bool:
    """Whether `run` is one this start page began: of this version, with `shown` (the first step its seller was
    shown) on its path, and not with support. Otherwise its id belongs to a run of another version or checker, or
    one whose request is sent: a fresh run starts."""
    keys = [last_step_on(part) for part in run.path.split("/")] if run.path else []
    return run.version_id == flow.version_id and run.handed_over_at is None and shown.key in keys


def _begin(flow: Flow, run_id: uuid.UUID, answers: list, details: dict, note: str) -> Run:
    """The run that `answers` (`_first_answers`) start, stored and logged; `details` are the new run's other fields
    (where the seller came from, their platform). An IntegrityError, with nothing written, if `run_id` is taken."""
    with transaction.atomic():
        run = Run(id=run_id, checker_id=flow.checker_id, version_id=flow.version_id, **details)
        now, befores = timezone.now(), []
        for step, answer in answers:
            befores.append(run.path)
            _set(run, _answered(run, step, answer, now))
        run.save(force_insert=True)
        for (step, answer), before in zip(answers, befores, strict=True):
            _log(flow, run, step, answer, before, now, note)
        _take_platform_questions(flow, run)
    return run


def _begin_again(flow: Flow, run_id: uuid.UUID, answers: list, details: dict, note: str) -> Run:
    """The run `run_id`, already stored, decided under its row lock: a double submit, or the start page again from
    the browser's history (without JavaScript, Back from step 2 shows it as it was, with this run's id), answers
    the step the seller was shown first again. A run of another version or checker, or one with support, is left
    alone: a fresh run starts."""
    with transaction.atomic():
        existing = Run.objects.select_for_update().filter(pk=run_id).first()
        if existing is not None and _started_here(flow, existing, answers[-1][0]):
            return answer_again(flow, existing, answers[-1][0].key, answers[-1][1].index, note)
    return _begin(flow, run_id if existing is None else uuid.uuid4(), answers, details, note)


def start_run(
    flow: Flow,
    run_id: uuid.UUID,
    step_key: str,
    index: int,
    *,
    source: str = Run.Source.DIRECT,
    source_detail: str = "",
    error_code: str = "",
    note: str = "",
    platform: str = "",
) -> Run:
    """Start a run of `flow`'s version with its first answer, for a seller of `platform` ("" if unknown): the
    platform questions it opens with are answered for them first (`first_step` is the step they were shown).

    The run's id is minted when the first step is shown, so a double-submitted first answer finds the run it
    already created instead of starting a second one, and the start page shown again from the browser's history
    answers that run's first step again (`answer_again`: the answers after it withdrawn). An id that belongs to
    another version or checker, or to a run whose request is with support, starts a fresh run.
    """
    answers = _first_answers(flow, step_key, index, platform)
    details = {
        "source": source if source in Run.Source.values else Run.Source.DIRECT,
        "source_detail": source_detail[:200],
        "error_code": error_code[:40],
        "platform": platform if platform in Platform.values else "",
    }
    try:
        return _begin(flow, run_id, answers, details, note)
    except IntegrityError:
        # The id is taken (the run's primary key): this first answer was sent before, or both submits of a double
        # tap inserted it at the same instant and the other one's run is stored now. Nothing was written here.
        return _begin_again(flow, run_id, answers, details, note)


def lock(run: Run) -> Run:
    """The run re-read under a row lock (inside a transaction), keeping the checker already loaded with it."""
    locked = Run.objects.select_for_update().get(pk=run.pk)
    locked.checker = run.checker
    return locked


def _decide_as_it_stands(flow: Flow, run: Run, step_key: str, index: int, note: str) -> Run:
    """Record the answer to the run `run` as it stands now (read under its row lock): a repeat of its last answer
    is a double submit, already recorded; an answer to any step but the one on screen is refused."""
    last = run.answers.live().exclude(step_key__in=_asked_for_me(flow, run)).last()
    if last and (last.step_key, last.answer_index) == (step_key, index):
        return run  # double submit: already recorded
    if not run.is_open:
        raise StaleAnswer("This check has already finished. Here is how it ended.")
    if step_key != run.current_step_key:
        if step_key in flow.by_key:
            raise StaleAnswer("You've already answered that step. Here is the step you're on now.")
        raise StaleAnswer("That step isn't part of this checker. Here is the step you're on.")
    _advance(flow, run, flow.by_key[step_key], find_answer(flow, step_key, index), note)  # under the lock: moves
    return run


def record_answer(flow: Flow, run: Run, step_key: str, index: int, note: str = "") -> Run:
    """Record an answer to the run's current step; a repeat of the last answer is a no-op.

    `note` is the seller's line with "None of these fit" (`Answer.NONE_FIT`); other answers carry none.

    The common case writes at once (`_advance`): the run, as the seller saw it (`run`, read by the view), is moved
    on by one UPDATE whose WHERE checks it still stands there, and the answer is logged with it. When the run has
    moved meanwhile (a double submit, Back or an answer in another tab), nothing was written and the answer is
    decided again under the run's row lock, as it stands now. The row lock (IMMEDIATE transactions on SQLite)
    serialises answers to one run; the database's one-live-answer-per-step constraint is the last line of defence
    behind it.
    """
    seen = flow.by_key.get(step_key) if run.is_open and step_key == run.current_step_key else None
    with transaction.atomic():
        if seen is None or not _advance(flow, run, seen, find_answer(flow, step_key, index), note):
            run = _decide_as_it_stands(flow, lock(run), step_key, index, note)
        _take_platform_questions(flow, run)
    return run


def _take_platform_questions(flow: Flow, run: Run) -> None:
    """Answer the platform questions the run now stands at for its seller, whose platform is known (`run.platform`):
    each logged as an answer, so the seller is shown the step after them. Inside the answer's transaction."""
    if not run.is_open:
        return
    for step, answer in platform_answers(flow, flow.by_key.get(run.current_step_key), run.platform):
        if not _advance(flow, run, step, answer, ""):
            return  # moved meanwhile: the request that moved it took them


def answer_again(flow: Flow, run: Run, step_key: str, index: int, note: str = "") -> Run:
    """Answer a step the run passed earlier, from that step's page in the browser's history (`position_at`): as
    Back would, the answers from that step on are withdrawn (kept in the log) and the step reopened, then the answer
    is recorded. Sent twice, the second finds that answer the last one and changes nothing. The step on screen is
    answered as `record_answer` does; a step not on the run's path is refused."""
    with transaction.atomic():
        run = lock(run)
        if run.handed_over_at is not None:
            raise StaleAnswer("Your support request is already sent.")
        parts = run.path.split("/") if run.path else []
        keys = [last_step_on(part) for part in parts]
        if step_key not in keys:
            return _decide_as_it_stands(flow, run, step_key, index, note)
        at = keys.index(step_key)  # a step is on a path once: flows have no cycles
        if at == len(parts) - 1 and parts[-1] == f"{step_key}:{index}":
            return run  # sent twice: already recorded
        answer = find_answer(flow, step_key, index)
        now = timezone.now()
        run.answers.live().filter(step_key__in=keys[at:]).update(withdrawn_at=now)
        _set(run, {**_reopened(run, step_key, now), "path": "/".join(parts[:at])})
        run.save(update_fields=RUN_STATE)
        _advance(flow, run, flow.by_key[step_key], answer, note)
        _take_platform_questions(flow, run)
    return run


def _withdraw(run: Run, answer_id: int) -> None:
    """Withdraw the answer `answer_id` if it is the run's last live answer (the one on the last step of its path:
    a step has one live answer), and reopen its step; otherwise change nothing. Called under the run's row lock."""
    step_key = last_step_on(run.path)
    if not step_key:
        return
    now = timezone.now()
    if not run.answers.live().filter(pk=answer_id, step_key=step_key).update(withdrawn_at=now):
        return  # already withdrawn (a repeated Back), or not the last answer
    _set(run, _reopened(run, step_key, now))
    run.save(update_fields=RUN_STATE)


def _back_past_platform_questions(flow: Flow, run: Run) -> None:
    """After Back reopened a platform question: if the seller answered it themselves, their platform is unknown
    again (it came from that answer) and they are asked again; if the walk answered it for them, the answer before
    it is withdrawn too, so Back returns to the step they saw (one that opens the checker stays open: it can be
    answered for the other platform). Under the run's row lock."""
    questions = {step.key for step in flow.steps if step.asks_platform}
    if run.current_step_key in questions and _asked_here(run, questions):
        run.platform, run.platform_asked = "", False
        run.save(update_fields=["platform", "platform_asked"])
        return
    while run.current_step_key in questions and run.path and run.platform:
        step_key = last_step_on(run.path)
        now = timezone.now()
        if not run.answers.live().filter(step_key=step_key).update(withdrawn_at=now):
            return
        _set(run, _reopened(run, step_key, now))
        run.save(update_fields=RUN_STATE)


def _asked_here(run: Run, platform_questions: set[str]) -> bool:
    """Whether the seller answered the platform question the run stands at themselves: the run's platform came
    from an answer (`Run.platform_asked`), and no platform question comes before this one on its path."""
    before = [part.rpartition(":")[0] for part in run.path.split("/")] if run.path else []
    return run.platform_asked and not platform_questions & set(before)


def go_back(run: Run, answer_id: int, flow: Flow | None = None) -> Run:
    """Withdraw the run's last live answer (kept in the log, marked withdrawn) and reopen its step.

    The seller names the answer they are undoing, so a double-clicked Back (or Back in two tabs) undoes it once:
    a repeat finds it already withdrawn and changes nothing. The step reopened is the answer's step in the run's
    own version, whatever has been published since. Decided under the run's row lock, so a support request sent
    at the same instant (`hand_over`, under the same lock) either comes first and the run stays escalated, or finds
    the run reopened.
    """
    with transaction.atomic():
        run = lock(run)
        if run.handed_over_at is not None:
            raise StaleAnswer("Your support request is already sent.")
        _withdraw(run, answer_id)
        if flow is not None:
            _back_past_platform_questions(flow, run)
    return run


def hand_over(run: Run) -> None:
    """The escalated run is with support now: it stays escalated. Called under the run's row lock (`lock`) by
    whoever takes the hand-over (support's `escalation.request_support`), in the same transaction."""
    if run.outcome != Run.Outcome.ESCALATED:
        raise StaleAnswer(FINISH_FIRST)
    run.handed_over_at = timezone.now()
    Run.objects.filter(pk=run.pk).update(handed_over_at=run.handed_over_at)
