"""The seller's walk through a published version: start a run, answer, go back; and a preview walk that logs nothing.

A run walks the version it started on to its end: the flow comes from that version's frozen data (see
`versions.flow_of`), so nothing an editor does to the draft, or publishes meanwhile, can pull a step from under it.
The functions take and return plain values and model instances; views only translate requests into these calls.
"""

import uuid
import weakref
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from support.models import SupportRequest
from support.tasks import email_support

from .graph import ESCALATE, RESOLVED, AnswerNode, Flow, StepNode
from .models import Answer, Run

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
    answers = getattr(run, "answers_so_far", None)
    if answers is None:
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
RUN_STATE_FIELDS = [Run._meta.get_field(name) for name in RUN_STATE]
# What a step answer's UPDATE checks: the run is still where the seller saw it.
MOVED_IF = ["id", "outcome", "current_step_key", "path"]


def _move(run: Run, step: StepNode, answer: AnswerNode, now) -> None:
    """Move the run on in memory: to the next step, or to its ending."""
    run.last_activity_at = now
    run.path = path_with(run.path, step.key, answer.index)
    if answer.ends_run:
        run.outcome = Run.Outcome.RESOLVED if answer.outcome == RESOLVED else Run.Outcome.ESCALATED
        run.current_step_key = ""
        run.end_step_key, run.end_step_title, run.ended_at = step.key, step.title, now
    else:
        run.current_step_key = answer.next


def _answer(run: Run, step: StepNode, answer: AnswerNode, now, note: str) -> Answer:
    """The answer's log row, not yet saved."""
    return Answer(
        run=run,
        step_key=step.key,
        answer_index=answer.index,
        step_title=step.title,
        question=step.question,
        choice_label=answer.label,
        answered_at=now,
        note=note[:300] if answer is NONE_FIT else "",
    )


def _log(flow: Flow, run: Run, step: StepNode, answer: AnswerNode, before: str, now, note: str) -> None:
    """Log the answer; the run then knows its answers so far (`answers_so_far`) without reading them again."""
    logged = _answer(run, step, answer, now, note)
    _insert(logged)
    run.answers_so_far = [*answers_on(flow, before), logged]


# A step answer's statements (the run; its conditional UPDATE; the answer's INSERT, one statement with the UPDATE
# on PostgreSQL) in SQL built once from the models' fields: the ORM spent more on building them than the database on
# running them (see the README's figures). Values go through each field's own get_db_prep_* and results through the
# database's own converters, so rows are written and read exactly as the ORM writes and reads them, on SQLite and
# PostgreSQL alike.
RUN_FIELDS = Run._meta.concrete_fields
ANSWER_FIELDS = [field for field in Answer._meta.concrete_fields if not field.primary_key]


@dataclass(frozen=True)
class Statements:
    select: str
    update: str
    insert: str
    # PostgreSQL: the UPDATE and the INSERT in one statement (a data-modifying WITH), the answer inserted only if
    # the run moved: one round trip and no BEGIN or COMMIT. SQLite has no such statement ("").
    update_and_insert: str
    converters: list  # for each of the run's columns: (its column, the converters the ORM would apply)


_statements: "weakref.WeakKeyDictionary[object, Statements]" = weakref.WeakKeyDictionary()


def _sql() -> Statements:
    """The three statements for this thread's database connection (its quoting, its converters)."""
    wrapper = connections[DEFAULT_DB_ALIAS]  # the connection itself, not the proxy `connection`
    found = _statements.get(wrapper)
    if found is None:
        quote, table = connection.ops.quote_name, Run._meta.db_table
        columns = ", ".join(quote(field.column) for field in RUN_FIELDS)
        pk = quote(Run._meta.pk.column)
        sets = ", ".join(f"{quote(field.column)} = %s" for field in RUN_STATE_FIELDS)
        where = " AND ".join(f"{quote(Run._meta.get_field(name).column)} = %s" for name in MOVED_IF)
        answer_columns = ", ".join(quote(field.column) for field in ANSWER_FIELDS)
        values = ", ".join(["%s"] * len(ANSWER_FIELDS))
        converters = []
        for field in RUN_FIELDS:
            column = field.get_col(table)
            converters.append((column, connection.ops.get_db_converters(column) + column.get_db_converters(connection)))
        update = f"UPDATE {quote(table)} SET {sets} WHERE {where}"  # noqa: S608 - names, not values
        answers, answer_pk = quote(Answer._meta.db_table), quote(Answer._meta.pk.column)
        found = _statements[wrapper] = Statements(
            select=f"SELECT {columns} FROM {quote(table)} WHERE {pk} = %s",  # noqa: S608
            update=update,
            insert=f"INSERT INTO {answers} ({answer_columns}) VALUES ({values}) RETURNING {answer_pk}",  # noqa: S608
            update_and_insert=(
                f"WITH moved AS ({update} RETURNING 1) "  # noqa: S608
                f"INSERT INTO {answers} ({answer_columns}) SELECT {values} FROM moved RETURNING {answer_pk}"
                if connection.vendor == "postgresql"
                else ""
            ),
            converters=converters,
        )
    return found


def read_run(run_id: uuid.UUID) -> Run | None:
    """`Run.objects.filter(pk=run_id).first()`, in one statement built once."""
    statements = _sql()
    with connection.cursor() as cursor:
        cursor.execute(statements.select, [Run._meta.pk.get_db_prep_value(run_id, connection)])
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for value, (column, converters) in zip(row, statements.converters, strict=True):
        for converter in converters:
            value = converter(value, column, connection)
        values.append(value)
    return Run.from_db(connection.alias, None, values)


def _answer_row(answer: Answer) -> list:
    """The answer's values for its INSERT, as the ORM would write them."""
    return [field.get_db_prep_save(getattr(answer, field.attname), connection) for field in ANSWER_FIELDS]


def _saved(answer: Answer, pk: int) -> None:
    """The answer as the ORM leaves a saved one: its id, and no longer being added."""
    answer.pk, answer._state.adding, answer._state.db = pk, False, connection.alias


def _insert(answer: Answer) -> None:
    """Answer.objects.create's INSERT, and the saved answer's id."""
    with connection.cursor() as cursor:
        cursor.execute(_sql().insert, _answer_row(answer))
        _saved(answer, cursor.fetchone()[0])


def _moved(run: Run, step_key: str, seen: str, logged: Answer) -> bool:
    """Save the run's new state (`RUN_STATE`) if it still stands where the seller saw it (open, at `step_key`, with
    the path `seen`), and log the answer `logged` with it, atomically. False, with nothing written, if the run had
    moved meanwhile."""
    state = [field.get_db_prep_save(getattr(run, field.attname), connection) for field in RUN_STATE_FIELDS]
    where = [Run._meta.pk.get_db_prep_value(run.pk, connection), Run.Outcome.OPEN.value, step_key, seen]
    statements = _sql()
    if statements.update_and_insert:
        with connection.cursor() as cursor:
            cursor.execute(statements.update_and_insert, state + where + _answer_row(logged))
            inserted = cursor.fetchone()
        if inserted is None:
            return False
        _saved(logged, inserted[0])
        return True
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statements.update, state + where)  # also the run's row lock
        if cursor.rowcount != 1:
            return False
        _insert(logged)
    return True


def _apply(flow: Flow, run: Run, step: StepNode, answer: AnswerNode, *, insert: bool = False, note: str = "") -> None:
    """Move the run on (to the next step, or to its ending), save it, and log the answer."""
    now, before = timezone.now(), run.path
    _move(run, step, answer, now)
    if insert:
        run.save(force_insert=True)
    else:
        run.save(update_fields=RUN_STATE)
    _log(flow, run, step, answer, before, now, note)


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
        _apply(flow, run, flow.start, answer, insert=True, note=note)
    return run


def _lock(run: Run) -> Run:
    """The run re-read under a row lock, keeping the checker already loaded with it."""
    locked = Run.objects.select_for_update().get(pk=run.pk)
    locked.checker = run.checker
    return locked


def record_answer(flow: Flow, run: Run, step_key: str, index: int, note: str = "") -> Run:
    """Record an answer to the run's current step; a repeat of the last answer is a no-op.

    `note` is the seller's line with "None of these fit" (`Answer.NONE_FIT`); other answers carry none.

    The common case writes once (`_moved`): the run, as the seller saw it (`run`, read by the view), is moved on by
    one UPDATE whose WHERE checks it still stands there, which also takes its row lock, and the answer is logged
    with it (one statement on PostgreSQL, one transaction on SQLite). When the run has moved meanwhile (a double
    submit, Back or an answer in another tab), nothing was written and the answer is decided again under the run's
    row lock, as it stands now.
    """
    step = flow.by_key.get(step_key) if run.is_open and step_key == run.current_step_key else None
    if step is not None:
        answer = find_answer(flow, step_key, index)
        now, seen, state = timezone.now(), run.path, {name: getattr(run, name) for name in RUN_STATE}
        _move(run, step, answer, now)
        logged = _answer(run, step, answer, now, note)
        if _moved(run, step_key, seen, logged):
            run.answers_so_far = [*answers_on(flow, seen), logged]
            return run
        for name, value in state.items():  # the run moved meanwhile: as it was, then read again below
            setattr(run, name, value)
    with transaction.atomic():
        # The row lock (IMMEDIATE transactions on SQLite) serialises answers to one run; the database's
        # one-live-answer-per-step constraint is the last line of defence behind it.
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
        _apply(flow, run, flow.by_key[step_key], find_answer(flow, step_key, index), note=note)
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
        run.path = path_without_last(run.path)
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
