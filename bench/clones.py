"""Runs cloned from one seed run, so that each timed step answer answers a run of its own (`bench/run.py`'s locust
users and `bench/profile_requests.py`). Imported after Django is set up."""

import copy
import uuid

from troubleshoot.models import Answer, Run


def clone_runs(seed_id: str, count: int) -> list[str]:
    """`count` copies of the run `seed_id` with its answers; their URLs."""
    seed = Run.objects.get(pk=seed_id)
    answers = list(seed.answers.all())
    runs, clones = [], []
    for _ in range(count):
        run = copy.copy(seed)
        run.pk = uuid.uuid4()
        runs.append(run)
        for answer in answers:
            clone = copy.copy(answer)
            clone.pk, clone.run_id = None, run.pk
            clones.append(clone)
    Run.objects.bulk_create(runs, batch_size=2000)
    Answer.objects.bulk_create(clones, batch_size=2000)
    return [run.get_absolute_url() for run in runs]
