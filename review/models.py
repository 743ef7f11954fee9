"""The review analytics' tables: the day-by-day counts that the scheduled job (`manage.py rollupruns`, see
rollups.py) fills from the outcome log (`troubleshoot.Run`, `troubleshoot.Answer`) and the review pages only read, and
`FillState`, up to when they are filled.

The app's permission, `review.view_pages` (the review pages and the request queue under /support/), is declared on
`FillState`; migration 0002_roles gives it to the Reviewers group.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

# Day-by-day counts (see rollups.py), filled by the scheduled job `manage.py rollupruns` and only read by the review
# pages. Their foreign keys have no index of their own: SQLite would scan one in key order rather than search a day
# range.


class FillState(models.Model):
    """Up to when the Day… tables are filled (after Zulip's analytics `FillState`): the job fills them on from
    `filled_through`, and the review pages read the days up to it from them, the days after it from the runs. One
    row: every Day… table is filled from the same runs in one transaction, so they are always filled through the same
    day."""

    DAY_TABLES = "day tables"

    name = models.CharField(max_length=40, unique=True, help_text="What is filled: the Day… tables.")
    filled_through = models.DateField(help_text="The last day whose runs the Day… tables hold.")
    settled_before = models.DateTimeField(
        help_text="Every run of the filled days had its last activity before this when counted; a run active since "
        "(a seller back on an old run) or with a follow-up answer since has its day counted again by the next fill."
    )
    filled_at = models.DateTimeField(help_text="When the job last filled the tables.")

    class Meta:
        # The app's one permission, on its one-row model (no table of its own for a permission).
        permissions = [("view_pages", "Can read the review pages and the request queue (/support/)")]

    def __str__(self) -> str:
        return f"{self.name} filled through {self.filled_through} (at {self.filled_at:%Y-%m-%d %H:%M})"


class DayOutcome(models.Model):
    """Runs of a settled day by checker, version, source and outcome (resolved, escalated or abandoned: a settled
    day has no run in progress), with their follow-up answers."""

    day = models.DateField()
    checker = models.ForeignKey("troubleshoot.Checker", on_delete=models.CASCADE, related_name="+", db_index=False)
    version = models.ForeignKey(
        "troubleshoot.CheckerVersion", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    source = models.CharField(max_length=10)
    status = models.CharField(max_length=10)
    runs = models.PositiveIntegerField()
    confirmed = models.PositiveIntegerField()
    came_back = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(
                fields=["day", "source", "status", "runs", "confirmed", "came_back"], name="dayoutcome_source"
            ),
            models.Index(
                fields=["day", "checker", "status", "runs", "confirmed", "came_back"], name="dayoutcome_checker"
            ),
            models.Index(fields=["version", "day"], name="dayoutcome_version"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.checker_id} {self.source} {self.status}: {self.runs}"


class DaySource(models.Model):
    """Runs of a settled day by source and outcome: DayOutcome summed over checkers and versions, so that the
    overview's days and sources read a few rows a day (at 5,000 checkers DayOutcome has about 1,500 a day)."""

    day = models.DateField()
    source = models.CharField(max_length=10)
    status = models.CharField(max_length=10)
    runs = models.PositiveIntegerField()
    confirmed = models.PositiveIntegerField()
    came_back = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["day", "source", "status", "runs", "confirmed", "came_back"], name="daysource_day")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.source} {self.status}: {self.runs}"


class DayChecker(models.Model):
    """Runs of a settled day by checker, their outcomes side by side (a settled day has no run in progress), with
    their follow-up answers: DayOutcome summed over versions and sources, so that the overview ranks checkers from
    one row per checker and day (at 5,000 checkers DayOutcome has nearly two)."""

    day = models.DateField()
    checker = models.ForeignKey("troubleshoot.Checker", on_delete=models.CASCADE, related_name="+", db_index=False)
    resolved = models.PositiveIntegerField()
    escalated = models.PositiveIntegerField()
    abandoned = models.PositiveIntegerField()
    confirmed = models.PositiveIntegerField()
    came_back = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(
                fields=["day", "checker", "resolved", "escalated", "abandoned", "confirmed", "came_back"],
                name="daychecker_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.checker_id}: {self.resolved}/{self.escalated}/{self.abandoned}"


class DayAnswer(models.Model):
    """Answers given in the runs of a settled day, by version, step and answer: live, and withdrawn with Back."""

    day = models.DateField()
    version = models.ForeignKey(
        "troubleshoot.CheckerVersion", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    step_key = models.CharField(max_length=60)
    # The step's title in that version (what the gap inbox's "None of these fit" rows are titled by).
    step_title = models.CharField(max_length=120, default="", db_default="")
    answer_index = models.PositiveSmallIntegerField()
    live = models.PositiveIntegerField()
    withdrawn = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(
                fields=["version", "day", "step_key", "answer_index", "live", "withdrawn"], name="dayanswer_version"
            ),
            # The gap inbox's "None of these fit" (answer 999) over a range of days, without the other answers.
            models.Index(fields=["answer_index", "day", "version", "step_key", "live"], name="dayanswer_index_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.version_id} {self.step_key}:{self.answer_index}"


class DayPosition(models.Model):
    """Runs of a settled day by where they stand: the step they ended at (resolved, escalated, with its title as it
    read then) or were left at (abandoned)."""

    day = models.DateField()
    checker = models.ForeignKey("troubleshoot.Checker", on_delete=models.CASCADE, related_name="+", db_index=False)
    version = models.ForeignKey(
        "troubleshoot.CheckerVersion", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    status = models.CharField(max_length=10)
    step_key = models.CharField(max_length=60)
    step_title = models.CharField(max_length=120)
    runs = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["version", "day", "status", "step_key", "runs"], name="dayposition_version"),
            # The gap inbox's escalations and abandons per version of a checker, read from the index alone.
            models.Index(
                fields=["status", "day", "checker", "version", "step_key", "step_title", "runs"],
                name="dayposition_status_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.version_id} {self.status} at {self.step_key}: {self.runs}"


class DayPath(models.Model):
    """Escalated runs of a settled day by version and path (their live answers in order)."""

    day = models.DateField()
    version = models.ForeignKey(
        "troubleshoot.CheckerVersion", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    path = models.TextField()
    runs = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["version", "day"], name="daypath_version")]

    def __str__(self) -> str:
        return f"{self.day} {self.version_id} {self.path}: {self.runs}"


class DayDuration(models.Model):
    """Runs of a settled day that ended (resolved or escalated), by version and whole seconds from start to end: the
    median time to an ending is read from these counts."""

    day = models.DateField()
    version = models.ForeignKey(
        "troubleshoot.CheckerVersion", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    seconds = models.PositiveIntegerField()
    runs = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["version", "day", "seconds", "runs"], name="dayduration_version")]

    def __str__(self) -> str:
        return f"{self.day} {self.version_id} {self.seconds} s: {self.runs}"


class GapItem(models.Model):
    """One gap of the inbox as the team handles it: who has it, a note, and whether it is handled.

    A gap is known by its source, its subject and, for the checker sources, the published version sellers walked:
    the step key within that version; the article, the normalised search or the error code otherwise. So fixing a
    step in version 2 leaves version 1's row as it was, and a handled gap comes back when sellers hit it again after
    `handled_at` (`review/gapitems.py`)."""

    class Source(models.TextChoices):
        NONE_FIT = "none_fit", "None of these fit"
        ESCALATED = "escalated", "Escalations"
        ABANDONED = "abandoned", "Abandoned"
        ARTICLE = "article", "Unhelpful article"
        NO_RESULTS = "no_results", "Search: nothing found"
        NO_CLICK = "no_click", "Search: no click"
        UNKNOWN_CODE = "unknown_code", "Unknown error code"

    CHECKER_SOURCES = (Source.NONE_FIT, Source.ESCALATED, Source.ABANDONED)

    source = models.CharField(max_length=20, choices=Source.choices, help_text="Which signal of the inbox it is.")
    version = models.ForeignKey(
        "troubleshoot.CheckerVersion",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="For a checker's step: the published version sellers walked (a row per version).",
    )
    key = models.CharField(
        max_length=500,
        help_text="The step's key, the article's id, the normalised search or the error code.",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The reviewer looking into it.",
    )
    note = models.TextField(max_length=2000, blank=True, help_text="For the team: what was done, or is planned.")
    handled_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was marked handled; empty while it is open."
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who marked it handled.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "version", "key"], condition=Q(version__isnull=False), name="gapitem_once_a_version"
            ),
            models.UniqueConstraint(fields=["source", "key"], condition=Q(version__isnull=True), name="gapitem_once"),
            models.CheckConstraint(
                condition=Q(version__isnull=False, source__in=["none_fit", "escalated", "abandoned"])
                | (Q(version__isnull=True) & ~Q(source__in=["none_fit", "escalated", "abandoned"])),
                name="gapitem_version_iff_checker_source",
            ),
        ]
        indexes = [models.Index(fields=["version", "key"], name="gapitem_version_key")]

    def __str__(self) -> str:
        where = f" (version id {self.version_id})" if self.version_id else ""
        return f"{self.get_source_display()}: {self.key}{where}"
