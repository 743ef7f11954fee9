"""Where a walk stands, read and never written: the step on screen and the answers so far of a run (`position`,
`position_at`) or of a preview that logs nothing (`replay`), the platform questions the walk answers for a seller,
and reading a run's path.

The flow read is the version's frozen data (`versioncache.flow_of`) or, for a preview, the draft's. The state
changes that move a run on (start, answer, back, hand-over) are `walk.py`'s, built on these.
"""

from dataclasses import dataclass

from .graph import ESCALATE, RESOLVED, AnswerNode, Flow, StepNode
from .models import Answer, Run

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


def ending_of(answer: AnswerNode) -> str:
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
            return _position(flow, None, said, ending_of(answer))
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
