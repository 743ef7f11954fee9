"""Scale data for `make bench --scale` (run by bench/run.py with `manage.py shell`): grows the benchmark database
from the demo library to 5,000 checkers (each with a published version), 200,000 runs and about 1,000,000 answers.

Runs walk their checker's version the way sellers do (random answers from the first step to an ending), over the
last 90 days; some stay open (in progress or abandoned), some answers were withdrawn with Back, and escalated runs
often have a support request. Rows are written with bulk_create in batches, so it takes a minute or two.
"""

import copy
import os
import random
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from troubleshoot.graph import Flow
from troubleshoot.models import Answer, Checker, CheckerVersion, Run, SupportRequest

CHECKERS = int(os.environ.get("SCALE_CHECKERS", "5000"))
RUNS = int(os.environ.get("SCALE_RUNS", "200000"))
BACK = 0.1
# The demo checkers are short (2 to 4 steps), so sellers here also change their mind on the first step a few times
# (answered, then taken back): the log reaches the volume of answers a longer library would have, about 5 a run.
FALSE_STARTS = int(os.environ.get("SCALE_FALSE_STARTS", "6"))
BATCH = 5000
rng = random.Random(14)


def grow_checkers() -> list[tuple[Checker, CheckerVersion, Flow]]:
    base = list(Checker.objects.published().select_related("live_version"))
    new = []
    for i in range(CHECKERS - len(base)):
        source = base[i % len(base)]
        checker = copy.copy(source)
        checker.pk, checker.live_version, checker.live_version_id = None, None, None
        checker.slug, checker.title = f"{source.slug}-{i}", f"{source.title} ({i})"
        new.append(checker)
    Checker.objects.bulk_create(new, batch_size=1000)
    versions = []
    for i, checker in enumerate(new):
        data = {**base[i % len(base)].live_version.data, "slug": checker.slug, "title": checker.title}
        versions.append(CheckerVersion(checker=checker, number=1, data=data))
    CheckerVersion.objects.bulk_create(versions, batch_size=1000)
    for checker, version in zip(new, versions, strict=True):
        checker.live_version = version
    Checker.objects.bulk_update(new, ["live_version"], batch_size=1000)
    everyone = base + new
    return [(c, c.live_version, Flow.from_data(c.live_version.data)) for c in everyone]


def walk(run: Run, flow: Flow, started) -> list[Answer]:
    """Random answers from the first step to an ending; sometimes stopped early, sometimes one taken back."""
    answers, step, at = [], flow.start, started
    for _ in range(rng.randint(0, FALSE_STARTS)):
        at += timedelta(seconds=rng.randint(5, 30))
        answer = rng.choice(step.answers)
        answers.append(Answer(run=run, step_key=step.key, answer_index=answer.index, step_title=step.title,
                              question=step.question, choice_label=answer.label, answered_at=at,
                              withdrawn_at=at + timedelta(seconds=3)))  # fmt: skip
    while step is not None and len(answers) < 30:
        answer = rng.choice(step.answers)
        at += timedelta(seconds=rng.randint(5, 90))
        live = [a for a in answers if a.withdrawn_at is None]
        if rng.random() < BACK and live:  # an answer taken back with Back, kept in the log
            live[-1].withdrawn_at = at
            step = flow.by_key[live[-1].step_key]
            continue
        answers.append(Answer(run=run, step_key=step.key, answer_index=answer.index, step_title=step.title,
                              question=step.question, choice_label=answer.label, answered_at=at))  # fmt: skip
        if rng.random() < 0.08:  # left mid-way: open, or abandoned once old enough
            run.current_step_key = answer.next or step.key
            break
        if answer.ends_run:
            run.outcome = Run.Outcome.RESOLVED if answer.outcome == "resolved" else Run.Outcome.ESCALATED
            run.current_step_key, run.end_step_key, run.end_step_title, run.ended_at = "", step.key, step.title, at
            break
        step = flow.by_key[answer.next]
    run.last_activity_at = at
    return answers


def grow_runs(checkers) -> None:
    now = timezone.now()
    sources = [s for s, _ in Run.Source.choices]
    weights = [1.0 / (rank + 1) for rank in range(len(checkers))]  # a few checkers get most runs, as in life
    made = 0
    while made < RUNS:
        runs, answers, requests = [], [], []
        for _ in range(min(BATCH, RUNS - made)):
            checker, version, flow = rng.choices(checkers, weights)[0]
            started = now - timedelta(seconds=rng.randint(0, 90 * 24 * 3600))
            run = Run(id=uuid.uuid4(), checker=checker, version=version, source=rng.choice(sources),
                      started_at=started, current_step_key=flow.start.key)  # fmt: skip
            answers += walk(run, flow, started)
            runs.append(run)
            if run.outcome == Run.Outcome.ESCALATED and rng.random() < 0.6:
                requests.append(SupportRequest(run=run, reference=f"HC-S{len(requests) + made:07d}",
                                               email="seller@shop.test", description="It still fails.",
                                               created_at=run.ended_at, emailed_at=run.ended_at))  # fmt: skip
        with transaction.atomic():
            Run.objects.bulk_create(runs, batch_size=BATCH)
            Answer.objects.bulk_create(answers, batch_size=BATCH)
            SupportRequest.objects.bulk_create(requests, batch_size=BATCH)
        made += len(runs)


grow_runs(grow_checkers())
print(f"{Checker.objects.count()} checkers, {Run.objects.count()} runs, {Answer.objects.count()} answers")
