"""The rules of walking a checker: starting, answering, going back, versions, the flow check, abandonment."""

import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.conftest import choice, first_step, last_answer_id, make_checker
from troubleshoot import flow
from troubleshoot.models import Answer, Choice, Run, Step, SupportRequest

pytestmark = pytest.mark.django_db


def start(checker, label="Yes", **kwargs):
    first = first_step(checker)
    return flow.start_run(flow.load(checker), uuid.uuid4(), first.pk, choice(checker, "start", label).pk, **kwargs)


def record(run, step_id, choice_id):
    return flow.record_answer(flow.load(run.checker), run, step_id, choice_id)


def test_start_run_records_first_answer_and_moves_on(checker):
    run = start(checker, source="email", error_code="XC-001")
    assert run.current_step.key == "second"
    assert run.source == "email" and run.error_code == "XC-001"
    assert run.checker_version == checker.version
    answer = run.answers.get()
    assert (answer.step_title, answer.question, answer.choice_label) == ("First", "Is it on?", "Yes")


def test_unknown_source_is_logged_as_direct(checker):
    assert start(checker, source="forged").source == Run.Source.DIRECT


def test_double_submitted_first_answer_starts_one_run(checker):
    run_id, first = uuid.uuid4(), first_step(checker)
    yes = choice(checker, "start", "Yes")
    one = flow.start_run(flow.load(checker), run_id, first.pk, yes.pk)
    two = flow.start_run(flow.load(checker), run_id, first.pk, yes.pk)
    assert one.pk == two.pk == run_id
    assert Run.objects.count() == 1 and Answer.objects.count() == 1


def test_reused_start_id_with_another_answer_starts_a_fresh_run(checker):
    run_id, first = uuid.uuid4(), first_step(checker)
    flow.start_run(flow.load(checker), run_id, first.pk, choice(checker, "start", "Yes").pk)
    again = flow.start_run(flow.load(checker), run_id, first.pk, choice(checker, "start", "No").pk)
    assert again.pk != run_id
    assert Run.objects.count() == 2


def test_walk_to_resolved_records_end_step(checker):
    run = start(checker)
    run = record(run, run.current_step_id, choice(checker, "second", "Yes").pk)
    assert run.outcome == Run.Outcome.RESOLVED
    assert run.end_step_title == "Second" and run.ended_at is not None
    assert [a.choice_label for a in run.answers.all()] == ["Yes", "Yes"]


def test_walk_to_escalate(checker):
    run = start(checker)
    run = record(run, run.current_step_id, choice(checker, "second", "No").pk)
    run = record(run, run.current_step_id, choice(checker, "third", "Still broken").pk)
    assert run.outcome == Run.Outcome.ESCALATED
    assert run.end_step.key == "third"


def test_double_submit_records_once(checker):
    run = start(checker)
    step_id, no = run.current_step_id, choice(checker, "second", "No").pk
    record(run, step_id, no)
    run = record(run, step_id, no)
    assert run.current_step.key == "third"
    assert run.answers.count() == 2


def test_answer_of_another_step_is_refused(checker):
    run = start(checker)
    with pytest.raises(flow.StaleAnswer, match="different step"):
        record(run, run.current_step_id, choice(checker, "third", "Fixed").pk)
    assert run.answers.count() == 1


def test_answer_to_a_step_already_passed_is_refused(checker):
    run = start(checker)
    record(run, run.current_step_id, choice(checker, "second", "No").pk)
    with pytest.raises(flow.StaleAnswer, match="already answered"):
        record(run, checker.steps.get(key="second").pk, choice(checker, "second", "Yes").pk)


def test_deleted_answer_is_refused(checker):
    run = start(checker)
    with pytest.raises(flow.StaleAnswer, match="no longer exists"):
        record(run, run.current_step_id, 999_999)


def test_answer_on_finished_run_is_refused(checker):
    run = start(checker, label="No")
    assert run.outcome == Run.Outcome.ESCALATED
    with pytest.raises(flow.StaleAnswer, match="already finished"):
        record(run, first_step(checker).pk, choice(checker, "start", "Yes").pk)


def test_back_withdraws_the_last_answer_and_keeps_it_in_the_log(checker):
    run = start(checker)
    run = record(run, run.current_step_id, choice(checker, "second", "Yes").pk)
    run = flow.go_back(run, last_answer_id(run))
    assert run.outcome == Run.Outcome.OPEN and run.ended_at is None and run.end_step_title == ""
    assert run.current_step.key == "second"
    assert run.answers.count() == 2 and run.answers.filter(withdrawn_at__isnull=False).count() == 1
    run = record(run, run.current_step_id, choice(checker, "second", "No").pk)
    assert run.current_step.key == "third"
    assert run.answers.filter(withdrawn_at__isnull=True).count() == 2


def test_back_on_first_step_does_nothing(checker):
    run = start(checker)
    undo = last_answer_id(run)
    run = flow.go_back(flow.go_back(run, undo), undo)
    assert run.current_step.key == "start"
    assert run.answers.filter(withdrawn_at__isnull=True).count() == 0


def test_repeated_back_undoes_one_answer(checker):
    """A double-clicked Back names the same answer twice: the second finds it withdrawn and changes nothing."""
    run = start(checker)
    run = record(run, run.current_step_id, choice(checker, "second", "No").pk)
    undo = last_answer_id(run)
    run = flow.go_back(flow.go_back(run, undo), undo)
    assert run.current_step.key == "second"
    assert run.answers.filter(withdrawn_at__isnull=True).count() == 1
    assert run.answers.filter(withdrawn_at__isnull=False).count() == 1


def test_back_after_a_support_request_is_refused(checker):
    run = start(checker, label="No")
    flow.request_support(run, SupportRequest(email="seller@shop.test", description="Help"))
    with pytest.raises(flow.StaleAnswer, match="already sent"):
        flow.go_back(run, last_answer_id(run))
    run.refresh_from_db()
    assert run.outcome == Run.Outcome.ESCALATED


def test_support_request_on_a_reopened_run_is_refused(checker):
    """The check is made under the run's lock, not on the copy the view read before a Back in another tab."""
    run = start(checker, label="No")
    stale_copy = Run.objects.get(pk=run.pk)
    flow.go_back(run, last_answer_id(run))
    with pytest.raises(flow.StaleAnswer, match="Finish the check first"):
        flow.request_support(stale_copy, SupportRequest(email="seller@shop.test", description="Help"))
    assert not SupportRequest.objects.exists()


def test_database_refuses_two_live_answers_to_one_step(checker):
    run = start(checker)
    first = first_step(checker)
    with pytest.raises(IntegrityError), transaction.atomic():
        Answer.objects.create(run=run, step=first, step_title="x", question="y", choice_label="z")


def test_database_refuses_next_answer_without_a_step(checker):
    with pytest.raises(IntegrityError), transaction.atomic():
        Choice.objects.create(step=first_step(checker), label="Broken", outcome=Choice.Outcome.NEXT)


def test_progress_counts_longest_remaining_path(checker):
    current = flow.load(checker)
    assert (flow.position(current, None).number, flow.position(current, None).up_to) == (1, 3)
    run = start(checker)
    position = flow.position(current, run)
    assert (position.number, position.up_to) == (2, 3)


def test_flow_check_passes_a_good_checker(checker):
    assert flow.load(checker).problems() == []


def test_flow_check_reports_loop_unreachable_and_dead_end(checker):
    third = checker.steps.get(key="third")
    Choice.objects.filter(step=third, label="Still broken").update(
        outcome=Choice.Outcome.NEXT, next_step=checker.steps.get(key="second")
    )
    Step.objects.create(checker=checker, key="orphan", position=9, title="Orphan", question="?")
    problems = " ".join(flow.load(checker).problems())
    assert "loop: second → third → second" in problems
    assert 'Step "orphan" can\'t be reached' in problems
    assert 'Step "orphan" has no answers' in problems


def test_flow_check_reports_next_step_in_another_checker(checker):
    other = make_checker("other")
    Choice.objects.filter(step__checker=checker, step__key="third", label="Fixed").update(
        outcome=Choice.Outcome.NEXT, next_step=first_step(other)
    )
    assert any("another checker" in p for p in flow.load(checker).problems())


def test_version_goes_up_only_when_steps_change(checker):
    version = checker.version
    flow.refresh_version(checker)
    assert checker.version == version
    Step.objects.filter(checker=checker, key="second").update(question="Is it linked now?")
    flow.refresh_version(checker)
    assert checker.version == version + 1


def test_run_keeps_the_version_it_saw(checker):
    run = start(checker)
    Step.objects.filter(checker=checker, key="second").update(title="Second, reworded")
    flow.refresh_version(checker)
    run.refresh_from_db()
    assert run.checker_version == checker.version - 1


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


def test_deleting_a_step_keeps_the_logged_run(checker):
    run = start(checker)
    run = record(run, run.current_step_id, choice(checker, "second", "No").pk)
    third = checker.steps.get(key="third")
    third.choices.all().delete()
    Choice.objects.filter(next_step=third).update(outcome=Choice.Outcome.RESOLVED, next_step=None)
    third.delete()
    run.refresh_from_db()
    assert run.current_step is None
    assert [a.step_title for a in run.answers.all()] == ["First", "Second"]


@pytest.mark.django_db(transaction=True)
def test_simultaneous_answers_to_one_step_are_recorded_once():
    """Two requests answering the same step at the same moment (a double tap on a slow phone)."""
    import threading

    from django.db import connection

    checker = make_checker("race")
    run = start(checker)
    step_id, no = run.current_step_id, choice(checker, "second", "No").pk
    current = flow.load(checker)
    barrier, errors = threading.Barrier(4), []

    def answer():
        try:
            barrier.wait()
            flow.record_answer(current, run, step_id, no)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=answer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert run.answers.filter(withdrawn_at__isnull=True).count() == 2
    run.refresh_from_db()
    assert run.current_step.key == "third"


def race(*actions) -> list[Exception]:
    """Run `actions` in threads released at the same instant; return what they raised besides StaleAnswer."""
    import threading

    from django.db import connection

    barrier, errors = threading.Barrier(len(actions)), []

    def go(action):
        try:
            barrier.wait()
            action()
        except flow.StaleAnswer:
            pass  # the loser of the race is told; that's the point
        except Exception as exc:  # noqa: BLE001 - collected and asserted by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=go, args=[action]) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(10))
def test_back_and_support_request_at_the_same_instant_never_leave_an_open_run_with_a_request(attempt):
    """Outside testing left the run "open" with a support request in 2-15 of 20 tries."""
    checker = make_checker(f"race-{attempt}")
    run = start(checker, label="No")
    undo = last_answer_id(run)
    errors = race(
        lambda: flow.go_back(Run.objects.get(pk=run.pk), undo),
        lambda: flow.request_support(
            Run.objects.get(pk=run.pk), SupportRequest(email="seller@shop.test", description="Help")
        ),
    )
    assert errors == []
    run.refresh_from_db()
    has_request = SupportRequest.objects.filter(run=run).exists()
    assert (run.outcome, has_request) in [(Run.Outcome.ESCALATED, True), (Run.Outcome.OPEN, False)]


@pytest.mark.django_db(transaction=True)
def test_double_back_at_the_same_instant_undoes_one_answer():
    checker = make_checker("double-back")
    run = start(checker)
    run = record(run, run.current_step_id, choice(checker, "second", "No").pk)
    undo = last_answer_id(run)
    assert race(*[lambda: flow.go_back(Run.objects.get(pk=run.pk), undo)] * 3) == []
    assert run.answers.filter(withdrawn_at__isnull=True).count() == 1
    assert run.answers.filter(withdrawn_at__isnull=False).count() == 1
