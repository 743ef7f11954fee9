"""The seller's walk through a published version: start a run, answer, go back; and a preview walk that logs nothing.

A run walks the version it started on to its end: the flow comes from that version's frozen data (see
`versioncache.flow_of`), so nothing an editor does to the draft, or publishes meanwhile, can pull a step from under it.
The functions take and return plain values and model instances; views only translate requests into these calls.
"""

import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from .graph import ESCALATE, RESOLVED, AnswerNode, Flow, StepNode
from .models import Answer, Platform, Run

FINISH_FIRST = "Finish the check first: here is your step."

# "None of these fit", offered on every step: the seller's situation isn't among the answers, so the run escalates
# with their line attached. Logged like an answer (answer number `Answer.NONE_FIT`), so Back undoes it as any other.
NONE_FIT = AnswerNode(Answer.NONE_FIT, Answer.NONE_FIT_LABEL, outcome=ESCALATE)


class StaleAnswer(Exception):
    """The answer can't apply to the run as it stands now (another step's, not in this version, or the run ended)."""


@dataclass
class Said:
    """An answer given so far, as the seller's list of answers shows it."""

    question: str
    choice_label: str
    answer_index: int = 0
    note: str = ""  # the seller's line with "None of these fit"


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


def position(flow: Flow, run: Run | None, platform: str = "") -> Position:
    """Where `run` stands; before a run starts, the first step a seller of `platform` is shown."""
    if run is None:
        return _position(flow, first_step(flow, platform), [], "")
    answers = getattr(run, "answers_so_far", None)
    if answers is None:
        answers = list(run.answers.live())
    ending = "" if run.is_open else run.outcome
    return _position(flow, flow.by_key.get(run.current_step_key) if run.is_open else None, answers, ending)


def number_on(path: str) -> int:
    """The number of the step shown after the answers on `path` (see `Run.path`): 1 for none."""
    return path.count("/") + 2 if path else 1


def position_at(flow: Flow, run: Run, number: int) -> Position | None:
    """Where the run stood at its step `number` (1 first), one it has answered since: the step and the answers
    before it, as the page of that step in the browser's history shows it (see `answer_again`). Read from the run's
    path alone; a platform question the walk answered for the seller is passed (they never saw it: their history
    has the step after it). None if the run hasn't passed that step, or its request is with support (nothing can
    change)."""
    parts = run.path.split("/") if run.path else []
    if run.handed_over_at is not None or not 1 <= number <= len(parts):
        return None
    taken = _taken_for_seller(flow, run, [last_step_on(part) for part in parts])
    while number <= len(parts) and last_step_on(parts[number - 1]) in taken:
        number += 1
    if number > len(parts):
        return None
    before = "/".join(parts[: number - 1])
    return _position(flow, flow.by_key.get(last_step_on(parts[number - 1])), answers_on(flow, before), "")


def _taken_for_seller(flow: Flow, run: Run, keys: list[str]) -> set[str]:
    """The platform questions among the steps `keys` of the run's path that the walk answered for its seller: all
    of them, but the first when the seller answered that one themselves (`Run.platform_asked`)."""
    questions = [key for key in keys if (step := flow.by_key.get(key)) is not None and step.asks_platform]
    return set(questions[1:] if run.platform_asked else questions)


def _ending(answer: AnswerNode) -> str:
    """The outcome of a run that `answer` ends."""
    return Run.Outcome.RESOLVED if answer.outcome == RESOLVED else Run.Outcome.ESCALATED


def replay(flow: Flow, path: list[int], note: str = "") -> Position:
    """Where a preview stands after the answers `path` (answer numbers from the first step on); logs nothing.
    "None of these fit" (`Answer.NONE_FIT`) escalates with `note`, the line the seller would have written.

    A path that doesn't fit the flow (an editor changed the draft meanwhile) stops at the last step it fits.
    """
    step, said = flow.start, []
    for index in path:
        if step is not None and index == Answer.NONE_FIT:
            said.append(Said(step.question, Answer.NONE_FIT_LABEL, Answer.NONE_FIT, note))
            return _position(flow, None, said, Run.Outcome.ESCALATED)
        if step is None or not 0 <= index < len(step.answers):
            break
        answer = step.answers[index]
        said.append(Said(step.question, answer.label, index))
        if answer.ends_run:
            return _position(flow, None, said, _ending(answer))
        step = flow.by_key.get(answer.next)
    return _position(flow, step, said, "")


# The seller's platform: a platform question ("Which do you use?") is answered by the walk itself when the seller's
# platform is known, logged like any answer (the review pages count it), and the seller is shown the step after it.


def platform_answers(flow: Flow, step: StepNode | None, platform: str) -> list[tuple[StepNode, AnswerNode]]:
    """The platform questions from `step` on that the walk answers for a seller of `platform`, with their answers:
    none when the platform is unknown ("") or `step` asks something else."""
    taken: list[tuple[StepNode, AnswerNode]] = []
    while step is not None and (answer := step.answer_for(platform)) is not None and len(taken) < len(flow.steps):
        taken.append((step, answer))
        step = None if answer.ends_run else flow.by_key.get(answer.next)
    return taken


def first_step(flow: Flow, platform: str) -> StepNode | None:
    """The step a seller of `platform` starts at: the first, or past the platform questions it opens with (None
    if one of them ends the run: the flow check allows it, though no library checker does that)."""
    taken = platform_answers(flow, flow.start, platform)
    if not taken:
        return flow.start
    step, answer = taken[-1]
    return None if answer.ends_run else flow.by_key.get(answer.next)


def _asked_for_me(flow: Flow, run: Run) -> set[str]:
    """The platform questions of `flow` the walk answers itself on `run` (its platform known): their keys."""
    return {step.key for step in flow.steps if run.platform and step.answer_for(run.platform)}


def find_answer(flow: Flow, step_key: str, index: int) -> AnswerNode:
    step = flow.by_key.get(step_key)
    if step is None:
        raise StaleAnswer("That step isn't part of this checker. Here is the step you're on.")
    if index == Answer.NONE_FIT:
        return NONE_FIT
    if not 0 <= index < len(step.answers):
        raise StaleAnswer("That answer isn't one of this step's. Here is the step you're on.")
    answer = step.answers[index]
    if not answer.ends_run and answer.next not in flow.by_key:
        # Publishing refuses such a flow; this guards data written by other means.
        raise StaleAnswer("That answer can't be followed right now. Please pick another, or contact support.")
    return answer


def path_with(path: str, step_key: str, index: int) -> str:
    """The run's path (see `Run.path`) with one more answer."""
    return f"{path}/{step_key}:{index}" if path else f"{step_key}:{index}"


def path_without_last(path: str) -> str:
    return path.rpartition("/")[0]


def last_step_on(path: str) -> str:
    """The step of the last answer on the run's path (see `Run.path`); "" if it has none."""
    return path.rpartition("/")[2].rpartition(":")[0]


def answers_on(flow: Flow, path: str) -> list[Answer]:
    """The live answers of a run whose path (see `Run.path`) is `path`, as they were logged, without reading them:
    a run walks one version, so its steps' texts are the version's. Unsaved (no id); only a "None of these fit"
    answer carries a note, and it always ends the run, so none of these has one."""
    said = []
    for part in path.split("/") if path else []:
        key, _, number = part.rpartition(":")
        step, index = flow.by_key[key], int(number)
        label = Answer.NONE_FIT_LABEL if index == Answer.NONE_FIT else step.answers[index].label
        said.append(Answer(step_key=key, answer_index=index, step_title=step.title, question=step.question,
                           choice_label=label))  # fmt: skip
    return said


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
        "outcome": _ending(answer) if ends else Run.Outcome.OPEN,
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
    """The run that `answers` (`_first_answers`) start (or started already: a double submit), stored and logged;
    `details` are the new run's other fields (where the seller came from, their platform)."""
    with transaction.atomic():
        existing = Run.objects.select_for_update().filter(pk=run_id).first()
        if existing is not None and _started_here(flow, existing, answers[-1][0]):
            # A double submit, or the start page again from the browser's history (without JavaScript, Back from
            # step 2 shows it as it was, with this run's id): the step the seller was shown first, answered again.
            return answer_again(flow, existing, answers[-1][0].key, answers[-1][1].index, note)
        run_id = run_id if existing is None else uuid.uuid4()
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
        # Both submits of a double tap at the same instant found no run with this id (no row lock can be taken on
        # a row not there yet) and both inserted it: the first one's run is stored now, and this one finds it.
        return _begin(flow, run_id, answers, details, note)


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
