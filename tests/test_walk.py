"""The rules of walking a published version: starting, answering, going back, the flow check, abandonment."""

import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from incidents.banners import active_incident_ids
from support import escalation
from support.models import SupportRequest
from tests.conftest import race
from tests.factories import choice, first_step, last_answer_id, make_checker
from troubleshoot import positions, versioncache, versions, walk
from troubleshoot.graph import Flow
from troubleshoot.models import Answer, Choice, Run, Step

pytestmark = pytest.mark.django_db


def live(checker) -> Flow:
    return versioncache.flow_of(checker.live_version_id)


def start(checker, label="Yes", **kwargs):
    return walk.start_run(live(checker), uuid.uuid4(), first_step(checker), choice(checker, "start", label), **kwargs)


def record(run, step_key, label):
    flow = versioncache.flow_of(run.version_id)
    index = next(a.index for a in flow.by_key[step_key].answers if a.label == label)
    return walk.record_answer(flow, run, step_key, index)


def test_start_run_records_first_answer_and_moves_on(checker):
    run = start(checker, source="email", error_code="XC-001")
    assert run.current_step_key == "second"
    assert run.source == "email" and run.error_code == "XC-001"
    assert run.version == checker.live_version and run.version.number == 1
    answer = run.answers.get()
    assert (answer.step_key, answer.answer_index) == ("start", 0)
    assert (answer.step_title, answer.question, answer.choice_label) == ("First", "Is it on?", "Yes")


def test_unknown_source_is_logged_as_direct(checker):
    assert start(checker, source="forged").source == Run.Source.DIRECT


def test_double_submitted_first_answer_starts_one_run(checker):
    run_id = uuid.uuid4()
    one = walk.start_run(live(checker), run_id, "start", 0)
    two = walk.start_run(live(checker), run_id, "start", 0)
    assert one.pk == two.pk == run_id
    assert Run.objects.count() == 1 and Answer.objects.count() == 1


def test_the_start_page_from_history_answers_its_runs_first_step_again(checker):
    """Without JavaScript, Back from step 2 shows the start page as the browser kept it, with the run's id: another
    answer there is that run's first step answered again (the answers after it withdrawn), not a second run."""
    run_id = uuid.uuid4()
    run = record(walk.start_run(live(checker), run_id, "start", 0), "second", "No")
    again = walk.start_run(live(checker), run_id, "start", 1)
    assert again.pk == run_id and Run.objects.count() == 1
    assert (again.outcome, again.path) == (Run.Outcome.ESCALATED, f"start:{choice(checker, 'start', 'No')}")
    assert [a.choice_label for a in run.answers.live()] == ["No"]
    assert run.answers.filter(withdrawn_at__isnull=False).count() == 2


def test_a_start_id_of_another_version_or_a_run_with_support_starts_a_fresh_run(checker):
    run_id = uuid.uuid4()
    run = walk.start_run(live(checker), run_id, "start", 1)  # escalated at once
    with transaction.atomic():
        walk.hand_over(walk.lock(run))
    again = walk.start_run(live(checker), run_id, "start", 0)
    assert again.pk != run_id and Run.objects.count() == 2
    checker.steps.filter(key="third").update(title="Third, reworded")
    versions.publish(checker, note="v2")
    checker.refresh_from_db()
    other = walk.start_run(live(checker), again.pk, "start", 1)
    assert other.pk not in (run_id, again.pk) and Run.objects.count() == 3


def test_walk_to_resolved_records_end_step(checker):
    run = record(start(checker), "second", "Yes")
    assert run.outcome == Run.Outcome.RESOLVED
    assert run.end_step_key == "second" and run.end_step_title == "Second" and run.ended_at is not None
    assert [a.choice_label for a in run.answers.all()] == ["Yes", "Yes"]


def test_walk_to_escalate(checker):
    run = record(record(start(checker), "second", "No"), "third", "Still broken")
    assert run.outcome == Run.Outcome.ESCALATED
    assert run.end_step_key == "third"


def test_double_submit_records_once(checker):
    run = start(checker)
    record(run, "second", "No")
    run = record(run, "second", "No")
    assert run.current_step_key == "third"
    assert run.answers.count() == 2


def test_answer_not_on_the_step_is_refused(checker):
    run = start(checker)
    with pytest.raises(positions.StaleAnswer, match="isn't one of this step's"):
        walk.record_answer(live(checker), run, "second", 7)
    assert run.answers.count() == 1


def test_answer_to_a_step_already_passed_is_refused(checker):
    run = record(start(checker), "second", "No")
    with pytest.raises(positions.StaleAnswer, match="already answered"):
        record(run, "second", "Yes")


def test_answer_to_a_step_not_in_the_version_is_refused(checker):
    run = start(checker)
    with pytest.raises(positions.StaleAnswer, match="isn't part of this checker"):
        walk.record_answer(live(checker), run, "no-such-step", 0)


def test_answer_on_finished_run_is_refused(checker):
    run = start(checker, label="No")
    assert run.outcome == Run.Outcome.ESCALATED
    with pytest.raises(positions.StaleAnswer, match="already finished"):
        record(run, "start", "Yes")


def test_back_withdraws_the_last_answer_and_keeps_it_in_the_log(checker):
    run = record(start(checker), "second", "Yes")
    run = walk.go_back(run, last_answer_id(run))
    assert run.outcome == Run.Outcome.OPEN and run.ended_at is None and run.end_step_title == ""
    assert run.current_step_key == "second"
    assert run.answers.count() == 2 and run.answers.filter(withdrawn_at__isnull=False).count() == 1
    run = record(run, "second", "No")
    assert run.current_step_key == "third"
    assert run.answers.filter(withdrawn_at__isnull=True).count() == 2


def test_back_on_first_step_does_nothing(checker):
    run = start(checker)
    undo = last_answer_id(run)
    run = walk.go_back(walk.go_back(run, undo), undo)
    assert run.current_step_key == "start"
    assert run.answers.filter(withdrawn_at__isnull=True).count() == 0


def test_repeated_back_undoes_one_answer(checker):
    """A double-clicked Back names the same answer twice: the second finds it withdrawn and changes nothing."""
    run = record(start(checker), "second", "No")
    undo = last_answer_id(run)
    run = walk.go_back(walk.go_back(run, undo), undo)
    assert run.current_step_key == "second"
    assert run.answers.filter(withdrawn_at__isnull=True).count() == 1
    assert run.answers.filter(withdrawn_at__isnull=False).count() == 1


def test_back_after_a_support_request_is_refused(checker):
    run = start(checker, label="No")
    escalation.request_support(run, SupportRequest(email="seller@shop.test", description="Help"))
    with pytest.raises(positions.StaleAnswer, match="already sent"):
        walk.go_back(run, last_answer_id(run))
    run.refresh_from_db()
    assert run.outcome == Run.Outcome.ESCALATED


def test_support_request_on_a_reopened_run_is_refused(checker):
    """The check is made under the run's lock, not on the copy the view read before a Back in another tab."""
    run = start(checker, label="No")
    stale_copy = Run.objects.get(pk=run.pk)
    walk.go_back(run, last_answer_id(run))
    with pytest.raises(positions.StaleAnswer, match="Finish the check first"):
        escalation.request_support(stale_copy, SupportRequest(email="seller@shop.test", description="Help"))
    assert not SupportRequest.objects.exists()


def test_database_refuses_two_live_answers_to_one_step(checker):
    run = start(checker)
    with pytest.raises(IntegrityError), transaction.atomic():
        Answer.objects.create(run=run, step_key="start", answer_index=1, step_title="x", question="y", choice_label="z")


def test_database_refuses_next_answer_without_a_step(checker):
    step = Step.objects.get(checker=checker, key="start")
    with pytest.raises(IntegrityError), transaction.atomic():
        Choice.objects.create(step=step, label="Broken", outcome=Choice.Outcome.NEXT)


def test_progress_counts_longest_remaining_path(checker):
    current = live(checker)
    assert (positions.position(current, None).number, positions.position(current, None).up_to) == (1, 3)
    position = positions.position(current, start(checker))
    assert (position.number, position.up_to) == (2, 3)


def test_flow_check_passes_a_good_checker(checker):
    assert versions.draft_flow(checker).problems() == []


def test_flow_check_reports_loop_unreachable_and_dead_end(checker):
    third = checker.steps.get(key="third")
    Choice.objects.filter(step=third, label="Still broken").update(
        outcome=Choice.Outcome.NEXT, next_step=checker.steps.get(key="second")
    )
    Step.objects.create(checker=checker, key="orphan", position=9, title="Orphan", question="?")
    problems = versions.draft_flow(checker).problems()
    text = " ".join(map(str, problems))
    assert "loop: second → third → second" in text
    assert 'Step "orphan" can\'t be reached' in text
    assert 'Step "orphan" has no answers' in text
    assert {p.step for p in problems} == {"orphan", "second"}  # each problem names the step it concerns


def test_flow_check_reports_next_step_in_another_checker(checker):
    other = make_checker("other")
    Choice.objects.filter(step__checker=checker, step__key="third", label="Fixed").update(
        outcome=Choice.Outcome.NEXT, next_step=Step.objects.get(checker=other, key="start")
    )
    assert any("another checker" in str(p) for p in versions.draft_flow(checker).problems())


def test_open_run_without_answers_for_30_minutes_is_abandoned(checker, settings):
    run = start(checker)
    assert run.status == "open"
    Run.objects.filter(pk=run.pk).update(last_activity_at=timezone.now() - timedelta(minutes=31))
    run.refresh_from_db()
    assert run.status == Run.ABANDONED
    assert Run.objects.with_status().get(pk=run.pk).effective_status == Run.ABANDONED
    assert list(Run.objects.abandoned()) == [run]


def test_finished_run_is_never_abandoned(checker):
    run = start(checker, label="No")
    Run.objects.filter(pk=run.pk).update(last_activity_at=timezone.now() - timedelta(days=2))
    assert Run.objects.with_status().get(pk=run.pk).effective_status == "escalated"
    assert not Run.objects.abandoned().exists()


def test_preview_replays_a_path_and_stops_where_it_no_longer_fits(checker):
    flow = versions.draft_flow(checker)
    assert positions.replay(flow, []).step.key == "start"
    position = positions.replay(flow, [0, 1])
    assert position.step.key == "third" and [a.choice_label for a in position.answers] == ["Yes", "No"]
    assert positions.replay(flow, [0, 1, 1]).ending == Run.Outcome.ESCALATED
    assert positions.replay(flow, [0, 9]).step.key == "second"


@pytest.mark.django_db(transaction=True)
def test_simultaneous_answers_to_one_step_are_recorded_once():
    """Requests answering the same step at the same moment (a double tap on a slow phone), each with the run as its
    view read it before any of them wrote."""
    checker = make_checker("race")
    run = start(checker)
    current = live(checker)
    race(*[lambda: walk.record_answer(current, Run.objects.get(pk=run.pk), "second", 1)] * 4)
    assert run.answers.filter(withdrawn_at__isnull=True).count() == 2
    run.refresh_from_db()
    assert run.current_step_key == "third" and run.path == "start:0/second:1"


@pytest.mark.django_db(transaction=True)
def test_simultaneous_different_answers_to_one_step_record_one_and_tell_the_others():
    """Two tabs answering the same step differently at the same moment: one answer is recorded, the other is told."""
    checker = make_checker("race-two")
    run = start(checker)
    current = live(checker)
    seen = Run.objects.get(pk=run.pk)
    outcomes = race(
        lambda: walk.record_answer(current, Run.objects.get(pk=seen.pk), "second", 0),
        lambda: walk.record_answer(current, Run.objects.get(pk=seen.pk), "second", 1),
        told=(positions.StaleAnswer,),
    )
    told = [o for o in outcomes if isinstance(o, positions.StaleAnswer)]
    assert len(told) == 1 and "already" in str(told[0])
    run.refresh_from_db()
    assert run.answers.filter(withdrawn_at__isnull=True).count() == 2
    assert run.path in ["start:0/second:0", "start:0/second:1"]


@pytest.mark.django_db(transaction=True)
def test_a_first_answer_double_submitted_at_the_same_instant_starts_one_run():
    """Both requests carry the run id minted with the first step: neither finds the run yet, both try to start it."""
    checker = make_checker("race-start")
    run_id = uuid.uuid4()
    runs = race(*[lambda: walk.start_run(live(checker), run_id, "start", 0)] * 2)
    assert [run.pk for run in runs] == [run_id, run_id]
    assert Run.objects.count() == 1 and Answer.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(10))
def test_back_and_support_request_at_the_same_instant_never_leave_an_open_run_with_a_request(attempt):
    """Outside testing left the run "open" with a support request in 2-15 of 20 tries."""
    checker = make_checker(f"race-{attempt}")
    run = start(checker, label="No")
    undo = last_answer_id(run)
    race(
        lambda: walk.go_back(Run.objects.get(pk=run.pk), undo),
        lambda: escalation.request_support(
            Run.objects.get(pk=run.pk), SupportRequest(email="seller@shop.test", description="Help")
        ),
        told=(positions.StaleAnswer,),  # the loser of the race is told
    )
    run.refresh_from_db()
    has_request = SupportRequest.objects.filter(run=run).exists()
    assert (run.outcome, has_request) in [(Run.Outcome.ESCALATED, True), (Run.Outcome.OPEN, False)]


@pytest.mark.django_db(transaction=True)
def test_double_back_at_the_same_instant_undoes_one_answer():
    checker = make_checker("double-back")
    run = record(start(checker), "second", "No")
    undo = last_answer_id(run)
    race(*[lambda: walk.go_back(Run.objects.get(pk=run.pk), undo)] * 3)
    assert run.answers.filter(withdrawn_at__isnull=True).count() == 1
    assert run.answers.filter(withdrawn_at__isnull=False).count() == 1
    run.refresh_from_db()
    assert (run.current_step_key, run.path) == ("second", "start:0")


def test_editor_answer_rules_in_plain_words(checker):
    from django.core.exceptions import ValidationError

    step = Step.objects.get(checker=checker, key="start")
    ending = Choice(step=step, label="Done", position=5, outcome="resolved", next_step=step)
    ending.full_clean()
    assert ending.next_step is None  # a leftover next step on an ending is dropped
    with pytest.raises(ValidationError, match="Choose the step this answer goes to"):
        Choice(step=step, label="Onwards", position=6, outcome="next").full_clean()


def test_read_run_of_an_unknown_id_is_none(checker):
    assert walk.read_run(uuid.uuid4()) is None


def test_the_answers_so_far_an_answer_returns_are_the_stored_ones(checker):
    """The next panel lists the answers so far from the run's path and the answer just logged, without reading
    them again: they must be what is stored."""
    run = record(start(checker), "second", "No")
    fields = ["step_key", "answer_index", "step_title", "question", "choice_label", "note"]
    stored = list(Answer.objects.filter(run=run).values_list(*fields))
    assert [tuple(getattr(said, name) for name in fields) for said in run.answers_so_far] == stored
    logged = run.answers_so_far[-1]
    assert Answer.objects.get(pk=logged.pk).answered_at == logged.answered_at
    assert Run.objects.get(pk=run.pk).path == run.path == "start:0/second:1"


def test_an_answer_to_a_run_that_moved_meanwhile_writes_nothing(checker):
    seen = start(checker)
    moved = record(Run.objects.get(pk=seen.pk), "second", "No")  # another tab answered first
    answers = Answer.objects.count()
    with pytest.raises(positions.StaleAnswer, match="already answered"):
        walk.record_answer(live(checker), seen, "second", choice(checker, "second", "Yes"))
    assert Run.objects.get(pk=seen.pk).path == moved.path == "start:0/second:1"
    assert Answer.objects.count() == answers


def statements(captured) -> list[str]:
    return [query["sql"].split()[0] for query in captured]


def test_an_answer_is_one_conditional_update_and_one_insert(checker, django_assert_num_queries):
    """The run moves on only where it still stands as the view read it, and the answer is logged with it, in one
    transaction (a savepoint here; in production BEGIN and COMMIT, which are not statements of their own)."""
    run = start(checker)
    with django_assert_num_queries(4) as captured:
        walk.record_answer(live(checker), run, "second", choice(checker, "second", "No"))
    assert statements(captured) == ["SAVEPOINT", "UPDATE", "INSERT", "RELEASE"]


def test_a_start_writes_the_run_and_its_answer_and_reads_nothing(checker, django_assert_num_queries):
    """Not whether its id is taken (the primary key says so: `_begin_again` then), nor the run's checker (read to
    link the run to an incident only while one is active)."""
    flow, step_key, index = live(checker), first_step(checker), choice(checker, "start", "Yes")
    active_incident_ids()  # the incidents' schedule, kept until content or an incident changes
    with django_assert_num_queries(4) as captured:
        walk.start_run(flow, uuid.uuid4(), step_key, index)
    assert statements(captured) == ["SAVEPOINT", "INSERT", "INSERT", "RELEASE"]


def test_an_answer_to_a_run_moved_meanwhile_is_decided_under_its_row_lock(checker, django_assert_num_queries):
    seen = start(checker)
    record(Run.objects.get(pk=seen.pk), "second", "No")  # another tab
    seen.checker = checker  # as the view's run comes
    with django_assert_num_queries(5) as captured:
        walk.record_answer(live(checker), seen, "second", choice(checker, "second", "No"))  # the same: a repeat
    # The update finds the run moved; the run under its lock, its last answer: already recorded.
    assert statements(captured) == ["SAVEPOINT", "UPDATE", "SELECT", "SELECT", "RELEASE"]


def test_a_back_is_decided_under_the_runs_row_lock_in_a_few_statements(checker, django_assert_num_queries):
    run = record(start(checker), "second", "No")
    undo = last_answer_id(run)
    run = Run.objects.get(pk=run.pk)
    run.checker = checker  # as the view's run comes
    with django_assert_num_queries(5) as captured:
        run = walk.go_back(run, undo)
    # The run under its lock (whether it was handed over to support is on its row), the named answer withdrawn only
    # if it is the last live one, the run reopened.
    assert statements(captured) == ["SAVEPOINT", "SELECT", "UPDATE", "UPDATE", "RELEASE"]
    assert (run.current_step_key, run.path) == ("second", "start:0")


def test_back_naming_an_earlier_answer_changes_nothing(checker):
    run = record(start(checker), "second", "No")
    first = run.answers.get(step_key="start").pk
    run = walk.go_back(Run.objects.get(pk=run.pk), first)
    assert (run.current_step_key, run.path) == ("third", "start:0/second:1")
    assert not run.answers.filter(withdrawn_at__isnull=False).exists()


# Answering again from an earlier step's page (the browser's Back to it)


def test_position_at_an_earlier_step_shows_it_with_the_answers_before_it(checker):
    run = record(start(checker), "second", "No")  # First: Yes, Second: No, now at Third
    at_second = positions.position_at(live(checker), run, 2)
    assert at_second.step.key == "second" and (at_second.number, at_second.up_to) == (2, 3)
    assert [a.choice_label for a in at_second.answers] == ["Yes"]
    assert positions.position_at(live(checker), run, 1).step.key == "start"
    assert positions.position_at(live(checker), run, 3) is None  # the step on screen: the run's own position
    assert positions.position_at(live(checker), run, 0) is None


def test_answer_again_from_an_earlier_step_withdraws_the_later_answers_once(checker):
    run = record(start(checker), "second", "No")
    flow = live(checker)
    again = walk.answer_again(flow, run, "second", choice(checker, "second", "Yes"))
    assert again.outcome == Run.Outcome.RESOLVED and again.path == "start:0/second:0"
    assert [a.choice_label for a in again.answers.live()] == ["Yes", "Yes"]
    assert again.answers.filter(withdrawn_at__isnull=False).count() == 1
    # Sent twice: the second changes nothing.
    walk.answer_again(flow, again, "second", choice(checker, "second", "Yes"))
    assert Answer.objects.count() == 3 and again.answers.live().count() == 2


def test_answer_again_to_the_step_on_screen_is_an_answer(checker):
    run = walk.answer_again(live(checker), start(checker), "second", choice(checker, "second", "No"))
    assert run.current_step_key == "third" and run.answers.live().count() == 2


def test_answer_again_after_a_support_request_is_refused(checker):
    run = start(checker, label="No")
    escalation.request_support(run, SupportRequest(email="a@example.com", description="Broken"))
    with pytest.raises(positions.StaleAnswer):
        walk.answer_again(live(checker), run, "start", 0)
    assert positions.position_at(live(checker), Run.objects.get(), 1) is None
