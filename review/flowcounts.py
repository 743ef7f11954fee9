"""A version's flow with counts, for the checker page: the drop-off through its branches (`StepCount` per step),
how its runs ended, the median time to an ending and the commonest paths to escalate.

The days the job has filled are read from the Day… tables (`rollups`), the days after them from the runs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, QuerySet, Sum

from troubleshoot.models import LIVE_ANSWER, Answer, Run

from . import rollups
from .models import DayAnswer, DayDuration, DayOutcome, DayPath, DayPosition
from .stats import Outcomes, counted_rows, live_rows, tally


@dataclass
class StepCount:
    """What happened at one step of one version: the drop-off through the branches."""

    key: str
    answers: dict[int, int] = field(default_factory=dict)  # answer number → runs whose live path chose it
    withdrawn: int = 0  # answers given here and then undone with Back
    abandoned: int = 0  # open runs idle at this step past the abandon time: left here
    in_progress: int = 0  # open runs on this step now
    escalated: int = 0  # runs that ended here in escalate (an escalate answer or "None of these fit")
    resolved: int = 0

    @property
    def answered(self) -> int:
        return sum(self.answers.values())

    @property
    def reached(self) -> int:
        """Runs whose live path came to this step: they answered it, or are (or were left) on it."""
        return self.answered + self.abandoned + self.in_progress

    @property
    def none_fit(self) -> int:
        return self.answers.get(Answer.NONE_FIT, 0)

    @property
    def drop_off(self) -> float | None:
        return self.abandoned / self.reached if self.reached else None


def _add_answers(steps: dict[str, StepCount], rows) -> None:
    """Rows of (step_key, answer_index, live, withdrawn) added into `steps`."""
    for row in rows:
        step = steps.setdefault(row["step_key"], StepCount(row["step_key"]))
        if row["live"]:
            step.answers[row["answer_index"]] = step.answers.get(row["answer_index"], 0) + row["live"]
        step.withdrawn += row["withdrawn"]


POSITION = {
    Run.ABANDONED: "abandoned",
    Run.Outcome.OPEN: "in_progress",
    Run.Outcome.ESCALATED: "escalated",
    Run.Outcome.RESOLVED: "resolved",
}


def _add_position(steps: dict[str, StepCount], status: str, key: str, runs: int) -> None:
    """`runs` runs of `status` at step `key` (where an open run is, or an ended run ended) added into `steps`."""
    step = steps.setdefault(key, StepCount(key))
    setattr(step, POSITION[status], getattr(step, POSITION[status]) + runs)


def step_counts(runs: QuerySet, steps: dict[str, StepCount] | None = None) -> dict[str, StepCount]:
    """Counts per step for `runs` (one version's runs), added into `steps`: 2 queries, through every branch.

    Only live answers count as "answered": each run is counted once per step on the path it took in the end;
    answers undone with Back are counted apart, as withdrawn.
    """
    steps = {} if steps is None else steps
    # Live and withdrawn answers in one pass over the version's answers (the biggest table there is).
    _add_answers(
        steps,
        Answer.objects.filter(run__in=runs)
        .values("step_key", "answer_index")
        .annotate(live=Count("pk", filter=LIVE_ANSWER), withdrawn=Count("pk", filter=~LIVE_ANSWER))
        .order_by(),
    )
    positions = (
        runs.with_status()
        .values("effective_status", "current_step_key", "end_step_key")
        .annotate(n=Count("*"))
        .order_by()
    )
    for row in positions:
        status = row["effective_status"]
        ended = status in (Run.Outcome.RESOLVED, Run.Outcome.ESCALATED)
        _add_position(steps, status, row["end_step_key"] if ended else row["current_step_key"], row["n"])
    return steps


def median_time_to_end(runs: QuerySet, rolled: Counter | None = None) -> timedelta | None:
    """The median time from start to an ending (resolved or escalated), to the second; `rolled` holds more such
    runs already counted (whole seconds → runs). One query over `runs`."""
    took = Counter(rolled or {})
    took.update(rollups.whole_seconds(t) for t in rollups.ended_runs(runs).values_list("took", flat=True))
    count = sum(took.values())
    if not count:
        return None
    middle = (count - 1) // 2
    for seconds in sorted(took):
        middle -= took[seconds]
        if middle < 0:
            return timedelta(seconds=seconds)
    return None  # not reached


@dataclass
class PathCount:
    steps: list[tuple[str, int]]  # (step key, answer number) in order
    runs: int


def escalation_paths(runs: QuerySet, most: int = 5, rolled: Counter | None = None) -> list[PathCount]:
    """The commonest paths that end in escalate (one query over the runs' stored paths), with `rolled` (path →
    runs) already counted."""
    paths = Counter(rolled or {})
    for row in runs.filter(outcome=Run.Outcome.ESCALATED).values("path").annotate(n=Count("*")).order_by():
        paths[row["path"]] += row["n"]
    found = []
    for path, n in sorted(paths.items(), key=lambda item: (-item[1], item[0]))[:most]:
        steps = []
        for part in path.split("/") if path else []:
            key, _, index = part.rpartition(":")
            steps.append((key, int(index) if index.isdigit() else -1))
        found.append(PathCount(steps, n))
    return found


@dataclass
class VersionNumbers:
    """Everything the checker page counts for one version over a period."""

    outcomes: Outcomes
    steps: dict[str, StepCount]
    median: timedelta | None
    paths: list[PathCount]


def version_numbers(version_id: int, days: rollups.Days) -> VersionNumbers:
    """One version's outcomes, step counts, median time to an ending and escalation paths over `days`: the filled
    days from the Day… tables (5 queries, a few rows a day), the others from their runs (4 queries)."""
    live = days.live_runs().filter(version_id=version_id)

    def counted(table) -> QuerySet:
        return days.rows(table).filter(version_id=version_id)

    found = tally([*live_rows(live), *counted_rows(counted(DayOutcome))], lambda row: None)
    steps: dict[str, StepCount] = {}
    answers = counted(DayAnswer).values("step_key", "answer_index")
    _add_answers(steps, answers.annotate(live=Sum("live"), withdrawn=Sum("withdrawn")).order_by())
    for row in counted(DayPosition).values("status", "step_key").annotate(n=Sum("runs")).order_by():
        _add_position(steps, row["status"], row["step_key"], row["n"])
    step_counts(live, steps)
    durations = counted(DayDuration).values_list("seconds").annotate(n=Sum("runs")).order_by()
    paths = counted(DayPath).values_list("path").annotate(n=Sum("runs")).order_by()
    return VersionNumbers(
        outcomes=found.get(None, Outcomes()),
        steps=steps,
        median=median_time_to_end(live, Counter(dict(durations))),
        paths=escalation_paths(live, rolled=Counter(dict(paths))),
    )
