"""Content as files: the real library loads, reloads idempotently (a version per changed file), dumps canonically,
round-trips losslessly, and bad files are refused."""

import shutil
import uuid
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from tests.conftest import CONTENT
from troubleshoot import versioncache, versions, walk
from troubleshoot.library import ContentError, read_library
from troubleshoot.librarysync import import_library
from troubleshoot.models import (
    Answer,
    Article,
    ArticleVersion,
    Category,
    Checker,
    CheckerVersion,
    Choice,
    ErrorCode,
    Run,
    Step,
)

pytestmark = pytest.mark.django_db

SEED = ["sales-channel-permissions", "stuck-connect-bookkeeping", "connection-error", "settlement-not-permitted"]
LIBRARY = [
    "xero-disconnected",
    "wrong-xero-organisation",
    "channel-setup-stuck",
    "xero-api-temporary-error",
    "xero-plan-limit",
    "account-mapping-error",
    "failed-to-save-accounts",
    "settlement-processing-error",
    "lock-date",
]
# Every checker and article file in content/: the library grows, so counts come from the files.
CHECKER_FILES = sorted(path.stem for path in (CONTENT / "checkers").glob("*.yaml"))
ARTICLE_FILES = sorted(path.stem for path in (CONTENT / "articles").glob("*.md"))
FILES = len(CHECKER_FILES) + len(ARTICLE_FILES)


@pytest.fixture
def content(tmp_path) -> Path:
    """A writable copy of the real library."""
    return Path(shutil.copytree(CONTENT, tmp_path / "content"))


def load(path: Path):
    return import_library(read_library(path))


def test_library_has_every_checker_with_a_branching_flow(library):
    assert set(SEED + LIBRARY) <= set(CHECKER_FILES)  # the first checkers stay: emails and URLs link to them
    assert set(Checker.objects.values_list("slug", flat=True)) == set(CHECKER_FILES)
    for checker in Checker.objects.all():
        current = versioncache.flow_of(checker.live_version_id)
        assert current.problems() == [], checker.slug
        targets = [{(a.outcome, a.next) for a in step.answers} for step in current.steps]
        assert any(len(t) > 1 for t in targets), f"{checker.slug} does not branch"
        outcomes = {a.outcome for step in current.steps for a in step.answers}
        assert {"resolved", "escalate"} <= outcomes, f"{checker.slug} needs both endings"
        assert checker.support_hint, f"{checker.slug} should say what support needs"


def test_library_categories_in_order(library):
    assert list(Category.objects.values_list("name", flat=True)) == [
        "Connecting to Xero",
        "Connecting to QuickBooks",
        "Sending settlements",
        "Accounts, tax and currency",
        "Sales channels and missing settlements",
        "Set-up wizard",
    ]
    assert ErrorCode.objects.get(code="XC-001").checker.slug == "wrong-xero-organisation"
    article = Article.objects.get(slug="troubleshooting-xero-connection")
    assert set(SEED) <= set(article.checkers.values_list("slug", flat=True))


def start_lock_date() -> Run:
    checker = Checker.objects.get(slug="lock-date")
    return walk.start_run(versioncache.flow_of(checker.live_version_id), uuid.uuid4(), "check-dates", 0)


def test_loading_twice_changes_nothing_and_keeps_runs(library):
    run = start_lock_date()
    counts = (Checker.objects.count(), Step.objects.count(), Choice.objects.count(), Answer.objects.count())
    live = dict(Checker.objects.values_list("slug", "live_version"))
    step_ids = list(Step.objects.order_by("pk").values_list("pk", flat=True))

    report = load(CONTENT)

    assert report.created == [] and report.updated == []
    assert len(report.unchanged) == FILES
    assert counts == (Checker.objects.count(), Step.objects.count(), Choice.objects.count(), Answer.objects.count())
    assert live == dict(Checker.objects.values_list("slug", "live_version"))
    assert CheckerVersion.objects.count() == len(CHECKER_FILES)
    assert step_ids == list(Step.objects.order_by("pk").values_list("pk", flat=True))
    run.refresh_from_db()
    assert run.answers.count() == 1 and run.current_step_key == "keep-locked"


def test_unchanged_library_writes_nothing(library):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        load(CONTENT)
    writes = [q["sql"] for q in captured if q["sql"].split()[0] in {"INSERT", "UPDATE", "DELETE"}]
    assert writes == []


@pytest.mark.slow
def test_loadcontent_command_twice(capsys, db):
    call_command("loadcontent")
    call_command("loadcontent")
    assert f"0 created, 0 updated, {FILES} unchanged" in capsys.readouterr().out


def test_changed_file_publishes_a_version_of_that_checker_only(library, content, capsys):
    run = start_lock_date()
    path = content / "checkers" / "lock-date.yaml"
    path.write_text(path.read_text().replace("Compare the dates", "Compare the two dates"))

    call_command("loadcontent", path=str(content))

    out = capsys.readouterr().out
    assert "updated: lock-date (version 2 published)" in out and f"1 updated, {FILES - 1} unchanged" in out
    checker = Checker.objects.select_related("live_version").get(slug="lock-date")
    assert (
        checker.live_version.number == 2 and checker.live_version.note == "Loaded from content/checkers/lock-date.yaml"
    )
    assert checker.live_version.data == read_library(content).checkers["lock-date"]  # one format: the file's dict
    assert CheckerVersion.objects.count() == len(CHECKER_FILES) + 1
    answer = run.answers.get()
    assert answer.step_title == "Compare the dates"  # the log keeps what was seen
    run.refresh_from_db()
    assert run.version.number == 1


def test_dump_then_load_changes_nothing(library, tmp_path):
    call_command("dumpcontent", path=str(tmp_path))
    report = load(tmp_path)
    assert report.created == [] and report.updated == []


@pytest.mark.slow
def test_round_trip_is_lossless(library, tmp_path, django_db_blocker):
    """Files → database → files → fresh database: the same content, field for field."""
    from troubleshoot.librarysync import dump_article, dump_checker

    before = {c.slug: dump_checker(c) for c in Checker.objects.all()}
    articles = {a.slug: dump_article(a) for a in Article.objects.all()}
    call_command("dumpcontent", path=str(tmp_path))
    Article.objects.update(live_version=None)
    ArticleVersion.objects.all().delete()
    Article.objects.all().delete()
    Checker.objects.update(live_version=None)
    CheckerVersion.objects.all().delete()
    Checker.objects.all().delete()
    Category.objects.all().delete()

    load(tmp_path)

    assert {c.slug: dump_checker(c) for c in Checker.objects.all()} == before
    assert {a.slug: dump_article(a) for a in Article.objects.all()} == articles


def test_dumping_an_unchanged_library_rewrites_no_file(library, content, capsys):
    """content/ is canonical: an admin edit later shows up as a small diff, not a rewrite of every file."""
    before = {path: path.read_bytes() for path in content.rglob("*") if path.is_file()}
    call_command("dumpcontent", path=str(content))
    assert "0 files changed" in capsys.readouterr().out
    assert {path: path.read_bytes() for path in content.rglob("*") if path.is_file()} == before


def test_dump_after_a_publish_changes_only_that_file(library, content, capsys):
    checker = Checker.objects.get(slug="lock-date")
    Step.objects.filter(checker=checker, key="keep-locked").update(title="Can the period be reopened?")
    versions.publish(checker)
    call_command("dumpcontent", path=str(content))
    assert "written: checkers/lock-date.yaml\n1 files changed" in capsys.readouterr().out
    assert "title: Can the period be reopened?" in (content / "checkers" / "lock-date.yaml").read_text()


def test_dumped_files_read_like_the_originals(library, tmp_path):
    call_command("dumpcontent", path=str(tmp_path))
    original = read_library(CONTENT)
    dumped = read_library(tmp_path)
    assert dumped.checkers == original.checkers
    assert dumped.articles == original.articles
    assert dumped.categories == original.categories


def refused(content: Path, relative: str, old: str, new: str) -> ContentError:
    path = content / relative
    text = path.read_text()
    assert old in text, f"{old!r} not in {relative}"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ContentError) as caught:
        load(content)
    return caught.value


def test_unknown_step_target_is_refused_with_file_line_and_key(db, content):
    error = refused(content, "checkers/lock-date.yaml", "next: ", "next: nowhere-")
    assert error.path.endswith("lock-date.yaml")
    assert error.line and error.key.endswith(".next")
    assert 'unknown step "nowhere-' in str(error)
    assert not Checker.objects.exists()  # nothing is half-imported


def test_bad_yaml_is_refused_with_its_line(db, content):
    error = refused(content, "checkers/lock-date.yaml", "steps:", "steps: [unclosed")
    assert "bad YAML" in error.message and error.line
    assert not Checker.objects.exists()


def test_missing_field_is_refused(db, content):
    error = refused(content, "checkers/xero-plan-limit.yaml", "symptom:", "symptomz:")
    assert error.key == "symptom" and error.message == "is missing"


def test_duplicate_step_key_is_refused(db, content):
    path = content / "checkers" / "lock-date.yaml"
    keys = [line.split(":", 1)[1].strip() for line in path.read_text().splitlines() if "- key:" in line]
    error = refused(content, "checkers/lock-date.yaml", f"key: {keys[1]}", f"key: {keys[0]}")
    assert "duplicate step key" in error.message


def test_duplicate_slug_is_refused(db, content):
    shutil.copy(content / "checkers" / "lock-date.yaml", content / "checkers" / "lock-date-2.yaml")
    with pytest.raises(ContentError, match='must match the file name "lock-date-2"'):
        load(content)


def test_error_code_used_twice_is_refused(db, content):
    path = content / "checkers" / "lock-date.yaml"
    path.write_text(path.read_text().replace("steps:", "error_codes: [XC-001]\nsteps:", 1))
    with pytest.raises(ContentError, match="XC-001 is also used by"):
        load(content)


def test_unquoted_yes_is_refused_with_advice(db, content):
    error = refused(content, "checkers/lock-date.yaml", 'label: "Yes"', "label: yes")
    assert "quote it" in error.message


def test_loop_is_refused_by_the_flow_check_and_nothing_lands(library, content):
    version = Checker.objects.get(slug="xero-plan-limit").live_version_id
    path = content / "checkers" / "xero-plan-limit.yaml"
    text = path.read_text()
    first_key = text.split("- key:", 1)[1].splitlines()[0].strip()
    # Point the last step's first "outcome" back at the first step.
    head, tail = text.rsplit("- key:", 1)
    tail = tail.replace("outcome: resolved", f"next: {first_key}", 1).replace(
        "outcome: escalate", f"next: {first_key}", 1
    )
    path.write_text(head + "- key:" + tail)
    (content / "categories.yaml").write_text((content / "categories.yaml").read_text().replace("Set-up", "Setup"))
    with pytest.raises(ContentError, match="loop"):
        load(content)
    assert Checker.objects.get(slug="xero-plan-limit").live_version_id == version
    assert Category.objects.filter(name="Set-up wizard").exists()  # the whole import rolled back


def test_unknown_category_is_refused(db, content):
    error = refused(content, "checkers/lock-date.yaml", "category: sending-settlements", "category: nope")
    assert 'unknown category "nope"' in error.message


def test_article_without_front_matter_is_refused(db, content):
    path = content / "articles" / "troubleshooting-xero-connection.md"
    path.write_text("# Just markdown\n")
    with pytest.raises(ContentError, match="front matter"):
        load(content)


def test_loadcontent_command_reports_the_problem(db, content):
    (content / "checkers" / "lock-date.yaml").write_text("slug: lock-date\n")
    with pytest.raises(CommandError, match=r"Nothing imported\. .*lock-date\.yaml.*(title|steps).*is missing"):
        call_command("loadcontent", path=str(content))


def test_loadcontent_check_writes_nothing(db, capsys):
    call_command("loadcontent", path=str(CONTENT), check=True)
    assert "no problems found" in capsys.readouterr().out
    assert not Checker.objects.exists()


def test_run_on_a_checker_survives_removing_its_steps_from_files(library, content):
    run = start_lock_date()
    path = content / "checkers" / "lock-date.yaml"
    data = yaml.safe_load(path.read_text())
    # Keep only the first step, ending both ways.
    data["steps"] = data["steps"][:1]
    data["steps"][0]["answers"] = [{"label": "Yes", "outcome": "resolved"}, {"label": "No", "outcome": "escalate"}]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    load(content)
    assert Run.objects.filter(pk=run.pk).exists()
    assert run.answers.count() == 1
    assert Checker.objects.get(slug="lock-date").steps.count() == 1
    run = walk.record_answer(versioncache.flow_of(run.version_id), run, "keep-locked", 1)  # on its own version still
    assert run.current_step_key == "open-period"


# Field rules have one source, the model's validators: files, the admin and forms all apply them.


@pytest.mark.parametrize("slug", ["lock.date", "Über", "has space"])
def test_slug_that_is_not_url_safe_is_refused(db, content, slug):
    """Such a slug used to import, then every page that links to the checker answered 500 (NoReverseMatch)."""
    path = content / "checkers" / "lock-date.yaml"
    renamed = path.with_name(f"{slug}.yaml")
    renamed.write_text(path.read_text().replace("slug: lock-date", f'slug: "{slug}"', 1))
    path.unlink()
    with pytest.raises(ContentError) as caught:
        load(content)
    assert caught.value.key == "slug" and "letters, numbers, underscores or hyphens" in caught.value.message
    assert not Checker.objects.exists()


def test_step_key_that_is_not_a_slug_is_refused(db, content):
    path = content / "checkers" / "lock-date.yaml"
    first_key = next(line.split(":", 1)[1].strip() for line in path.read_text().splitlines() if "- key:" in line)
    error = refused(content, "checkers/lock-date.yaml", f"key: {first_key}", "key: check dates")
    assert error.key.endswith(".key") and "letters, numbers, underscores or hyphens" in error.message


def test_error_code_with_a_dot_loads_as_the_admin_accepts_it(db, content, tmp_path):
    """The admin accepted XC.42 and the loader refused it, so a dump then load failed."""
    path = content / "checkers" / "lock-date.yaml"
    path.write_text(path.read_text().replace("steps:", "error_codes: [xc.42]\nsteps:", 1))
    load(content)
    assert ErrorCode.objects.get(code="XC.42").checker.slug == "lock-date"
    call_command("dumpcontent", path=str(tmp_path / "dumped"))
    assert "XC.42" in read_library(tmp_path / "dumped").checkers["lock-date"]["error_codes"]


@pytest.mark.parametrize("code", ["XC 1", "XC/1", "-XC"])
def test_error_code_outside_the_format_is_refused(db, content, code):
    path = content / "checkers" / "lock-date.yaml"
    path.write_text(path.read_text().replace("steps:", f'error_codes: ["{code}"]\nsteps:', 1))
    with pytest.raises(ContentError, match="Letters, digits, dots, dashes and underscores only"):
        load(content)


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("title: Xero lock dates block a settlement", 'title: "Xero lock dates\\r\\nBcc: x@evil.test"', "title"),
        ("title: Compare the dates", 'title: "Compare\\tthe dates"', "steps[0].title"),
        ('label: "Yes"', 'label: "Yes\\u2028please"', "steps[0].answers[0].label"),
        (
            "- The document date cannot be before the period lock date",
            '- "The document date\\x1bcannot be before"',
            "signatures",
        ),
    ],
)
def test_control_characters_in_one_line_fields_are_refused(db, content, old, new, key):
    error = refused(content, "checkers/lock-date.yaml", old, new)
    assert error.key == key and "one line" in error.message
