"""Published versions: publish and refuse, concurrent publishers, runs finishing on their version, restore, diff,
and a version read once then cached."""

import uuid

import pytest

from tests.conftest import race
from tests.factories import make_checker
from troubleshoot import compare, positions, versioncache, versions, walk
from troubleshoot.models import Checker, CheckerVersion, Choice, Run, Step

pytestmark = pytest.mark.django_db


def start(checker, label="Yes") -> Run:
    flow = versioncache.flow_of(checker.live_version_id)
    index = next(a.index for a in flow.start.answers if a.label == label)
    return walk.start_run(flow, uuid.uuid4(), flow.start.key, index)


def answer(run, step_key, label) -> Run:
    flow = versioncache.flow_of(run.version_id)
    index = next(a.index for a in flow.by_key[step_key].answers if a.label == label)
    return walk.record_answer(flow, run, step_key, index)


def test_publish_freezes_the_draft_as_the_content_file_dict(checker, admin_user):
    Step.objects.filter(checker=checker, key="second").update(title="Second, reworded")
    version = versions.publish(checker, user=admin_user, note="Clearer title", base=1)
    assert (version.number, version.note, version.created_by) == (2, "Clearer title", admin_user)
    assert Checker.objects.get(pk=checker.pk).live_version == version
    assert version.data == versions.draft_data(checker)
    assert version.data["slug"] == "demo" and [s["key"] for s in version.data["steps"]] == ["start", "second", "third"]
    assert version.data["steps"][0]["answers"] == [
        {"label": "Yes", "next": "second"},
        {"label": "No", "outcome": "escalate"},
    ]


def test_publish_refuses_a_flow_with_problems_and_keeps_the_draft(checker):
    Step.objects.create(checker=checker, key="orphan", position=9, title="Orphan", question="?")
    with pytest.raises(versions.PublishRefused) as refused:
        versions.publish(checker)
    assert {p.step for p in refused.value.problems} == {"orphan"}
    assert "can't be reached" in str(refused.value)
    checker.refresh_from_db()
    assert checker.live_version.number == 1 and CheckerVersion.objects.count() == 1
    assert Step.objects.filter(checker=checker, key="orphan").exists()  # a draft with problems is saved


def test_publish_refuses_when_nothing_changed(checker):
    with pytest.raises(versions.PublishRefused, match="Nothing to publish"):
        versions.publish(checker)


def test_second_publisher_from_an_older_base_is_told_and_nothing_is_lost(checker):
    # Two editors open the draft at version 1; the first publishes version 2.
    Step.objects.filter(checker=checker, key="start").update(title="First, by editor one")
    versions.publish(checker, base=1)
    Step.objects.filter(checker=checker, key="third").update(title="Third, by editor two")
    with pytest.raises(versions.PublishConflict, match="Version 2 was published since"):
        versions.publish(checker, base=1)
    checker.refresh_from_db()
    assert checker.live_version.number == 2
    assert Step.objects.get(checker=checker, key="third").title == "Third, by editor two"  # still in the draft
    assert versions.publish(checker, base=2).number == 3


def test_run_finishes_on_its_version_through_a_step_the_new_version_deleted(checker):
    run = answer(start(checker), "second", "No")
    assert run.current_step_key == "third"
    # The editor removes "third", renames "second", and publishes version 2.
    Choice.objects.filter(step__checker=checker, next_step__key="third").update(outcome="resolved", next_step=None)
    Step.objects.filter(checker=checker, key="third").delete()
    Step.objects.filter(checker=checker, key="second").update(key="linked")
    versions.publish(checker)
    assert checker.live_version.number == 2

    run = answer(Run.objects.get(pk=run.pk), "third", "Still broken")
    assert run.outcome == Run.Outcome.ESCALATED and run.end_step_key == "third" and run.version.number == 1
    assert [(a.step_key, a.answer_index) for a in run.answers.all()] == [("start", 0), ("second", 1), ("third", 1)]
    fresh = start(checker)
    assert fresh.version.number == 2 and fresh.current_step_key == "linked"


def test_back_on_an_old_version_reopens_its_step(checker):
    run = answer(start(checker), "second", "No")
    Step.objects.filter(checker=checker, key="second").update(key="renamed")
    versions.publish(checker)
    run = walk.go_back(run, run.answers.last().pk)
    assert run.current_step_key == "second"
    assert positions.position(versioncache.flow_of(run.version_id), run).step.title == "Second"


def test_restore_puts_an_old_version_back_in_the_draft(checker):
    run = start(checker)
    Step.objects.filter(checker=checker, key="third").update(title="Third, changed")
    Step.objects.create(checker=checker, key="extra", position=9, title="Extra", question="?")
    versions.restore(checker, 1)
    assert versions.draft_data(checker) == CheckerVersion.objects.get(checker=checker, number=1).data
    assert not Step.objects.filter(checker=checker, key="extra").exists()
    assert Checker.objects.get(pk=checker.pk).live_version.number == 1  # restoring publishes nothing
    assert answer(run, "second", "Yes").outcome == Run.Outcome.RESOLVED


def test_restoring_a_version_whose_steps_are_gone_recreates_them(checker):
    Choice.objects.filter(step__checker=checker, next_step__key="third").update(outcome="resolved", next_step=None)
    Step.objects.filter(checker=checker, key="third").delete()
    versions.publish(checker)
    run = start(checker)  # on version 2
    versions.restore(checker, 1)
    assert Step.objects.filter(checker=checker, key="third").exists()
    assert versions.publish(checker).number == 3
    assert answer(run, "second", "No").outcome == Run.Outcome.RESOLVED  # version 2's "No" still resolves


def test_diff_says_what_changed_in_words(checker):
    old = versions.draft_data(checker)
    Step.objects.filter(checker=checker, key="second").update(title="Linked up?", body="Open the app.\nLook.")
    Choice.objects.filter(step__checker=checker, step__key="start", label="No").update(
        outcome="next", next_step=Step.objects.get(checker=checker, key="third")
    )
    new_step = Step.objects.create(checker=checker, key="fourth", position=3, title="Fourth", question="Really?")
    Choice.objects.create(step=new_step, label="Yes", outcome="resolved")
    Choice.objects.filter(step__checker=checker, step__key="third", label="Fixed").delete()
    checker.title = "Renamed checker"
    checker.save()
    changes = {(c.kind, c.where): c for c in compare.diff(old, versions.draft_data(checker))}
    assert changes[("changed", "Title")].after == "Renamed checker"
    assert changes[("changed", 'Step "second": title')].before == "Second"
    assert ("+", "Open the app.") in changes[("changed", 'Step "second": text')].lines
    assert changes[("re-pointed", 'Step "start": answer "No"')].after == 'step "third"'
    assert changes[("added", 'Step "fourth"')].after == "Fourth: Really? (Yes → resolved)"
    assert changes[("removed", 'Step "third": answer "Fixed"')].before == "resolved"


def test_a_version_is_read_once_then_cached(checker, django_assert_num_queries):
    versioncache.forget_flows()
    with django_assert_num_queries(1):
        versioncache.flow_of(checker.live_version_id)
    with django_assert_num_queries(0):
        versioncache.flow_of(checker.live_version_id)
    versioncache.forget_flows()  # another process: Django's cache has it
    with django_assert_num_queries(0):
        assert versioncache.flow_of(checker.live_version_id).start.key == "start"


def test_versions_are_numbered_per_checker(checker):
    other = make_checker("other")
    assert other.live_version.number == 1 and checker.live_version.number == 1


@pytest.mark.django_db(transaction=True)
def test_two_editors_publishing_at_the_same_instant_make_one_version_and_the_other_is_told():
    checker = make_checker("race-publish")
    Step.objects.filter(checker=checker, key="third").update(title="Third, edited")

    def publish():
        return versions.publish(Checker.objects.get(pk=checker.pk), base=1).number

    outcomes = race(publish, publish, told=(versions.PublishConflict, versions.PublishRefused))
    assert sorted(str(o) if isinstance(o, int) else type(o).__name__ for o in outcomes) == ["2", "PublishConflict"]
    assert CheckerVersion.objects.filter(checker=checker).count() == 2


def test_restore_keeps_a_draft_no_version_has_and_bring_back_returns_it(checker, admin_user):
    Step.objects.filter(checker=checker, key="third").update(title="Third, unpublished work")
    work = versions.draft_steps(checker)
    kept = versions.restore(checker, 1, user=admin_user)
    assert kept.data == {"steps": work} and kept.replaced_by == "restoring version 1" and kept.created_by == admin_user
    assert versions.draft_steps(checker) == CheckerVersion.objects.get(checker=checker, number=1).data["steps"]
    assert versions.replaced_draft(Checker.objects.get(pk=checker.pk)) == kept

    assert versions.bring_back(kept) is None  # what it replaces is version 1: nothing would be lost
    assert versions.draft_steps(checker) == work
    assert versions.replaced_draft(Checker.objects.get(pk=checker.pk)) is None  # brought back once


def test_restore_keeps_nothing_when_a_version_holds_the_draft(checker):
    Step.objects.filter(checker=checker, key="third").update(title="Third, version 2")
    versions.publish(checker)
    assert versions.restore(checker, 1) is None  # the draft was version 2
    assert versions.restore(checker, 2) is None  # and now version 1
    assert not checker.replaced_drafts.exists()


def test_bringing_back_keeps_the_draft_it_replaces_when_that_is_new_work_too(checker):
    Step.objects.filter(checker=checker, key="third").update(title="Third, first try")
    first = versions.restore(checker, 1)
    Step.objects.filter(checker=checker, key="third").update(title="Third, second try")  # edited after the restore
    second = versions.bring_back(first)
    assert Step.objects.get(checker=checker, key="third").title == "Third, first try"
    assert second.data["steps"][2]["title"] == "Third, second try" and second.replaced_by.startswith("bringing back")


def test_a_publish_after_a_restore_retires_the_replaced_draft(checker):
    Step.objects.filter(checker=checker, key="third").update(title="Third, unpublished work")
    versions.restore(checker, 1)
    Step.objects.filter(checker=checker, key="third").update(title="Third, after all")
    versions.publish(checker)
    assert versions.replaced_draft(Checker.objects.get(pk=checker.pk)) is None


def test_article_restore_keeps_its_unpublished_text(db):
    from troubleshoot.models import Article

    article = Article.objects.create(slug="guide", title="A guide", body="Do this.")
    versions.publish_article(article)
    Article.objects.filter(pk=article.pk).update(body="Do that, unpublished.")
    kept = versions.restore_article(Article.objects.get(pk=article.pk), 1)
    assert Article.objects.get(pk=article.pk).body == "Do this."
    assert kept.data == {"title": "A guide", "summary": "", "body": "Do that, unpublished."}
    versions.bring_back(kept)
    assert Article.objects.get(pk=article.pk).body == "Do that, unpublished."
