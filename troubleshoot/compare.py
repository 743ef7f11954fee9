"""Comparing two versions (content-file dicts) of a checker or an article: what changed, in an editor's words."""

import difflib
from dataclasses import dataclass, field

from .versions import LISTING


@dataclass
class Change:
    """One difference between two versions, in an editor's words."""

    kind: str  # added, removed, changed, re-pointed, reordered
    where: str
    before: str = ""
    after: str = ""
    lines: list[tuple[str, str]] = field(default_factory=list)  # a text's lines: (" " | "-" | "+", line)


LISTING_NAMES = {
    "slug": "Slug",
    "title": "Title",
    "category": "Category",
    "platforms": "Platforms",
    "symptom": "Symptom",
    "position": "Position",
    "published": "Listed",
    "error_codes": "Error codes",
    "signatures": "Error texts",
    "support_hint": "Support hint",
}


def _target(answer: dict) -> str:
    return f'step "{answer["next"]}"' if answer.get("next") else answer.get("outcome", "")


def _text_lines(before: str, after: str) -> list[tuple[str, str]]:
    lines = difflib.ndiff(before.splitlines(), after.splitlines())
    return [(line[0], line[2:]) for line in lines if line[0] in " -+"]


def _show(value) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def diff(old: dict, new: dict) -> list[Change]:
    """What changed from `old` to `new` (content-file dicts): texts, steps and answers added, removed, re-pointed."""
    changes = [
        Change("changed", LISTING_NAMES[name], _show(old.get(name, "")), _show(new.get(name, "")))
        for name in LISTING
        if old.get(name) != new.get(name)
    ]
    old_steps = {s["key"]: s for s in old.get("steps", [])}
    new_steps = {s["key"]: s for s in new.get("steps", [])}
    for key, step in new_steps.items():
        if key not in old_steps:
            answers = "; ".join(f"{a['label']} → {_target(a)}" for a in step["answers"])
            changes.append(Change("added", f'Step "{key}"', after=f"{step['title']}: {step['question']} ({answers})"))
    for key, step in old_steps.items():
        if key not in new_steps:
            changes.append(Change("removed", f'Step "{key}"', before=f"{step['title']}: {step['question']}"))
    common_old = [k for k in old_steps if k in new_steps]
    common_new = [k for k in new_steps if k in old_steps]
    if common_old != common_new:
        changes.append(Change("reordered", "Steps", " → ".join(common_old), " → ".join(common_new)))
    for key in common_new:
        changes.extend(_step_changes(key, old_steps[key], new_steps[key]))
    return changes


def _step_changes(key: str, old: dict, new: dict) -> list[Change]:
    where = f'Step "{key}"'
    changes = []
    for name in ("title", "question"):
        if old.get(name) != new.get(name):
            changes.append(Change("changed", f"{where}: {name}", old.get(name, ""), new.get(name, "")))
    if old.get("body", "") != new.get("body", ""):
        changes.append(Change("changed", f"{where}: text", lines=_text_lines(old.get("body", ""), new.get("body", ""))))
    if old.get("links", []) != new.get("links", []):
        show = lambda links: "; ".join(f"{link['label']} ({link['url']})" for link in links) or "none"  # noqa: E731
        changes.append(Change("changed", f"{where}: links", show(old.get("links", [])), show(new.get("links", []))))
    old_answers = {a["label"]: a for a in old["answers"]}
    new_answers = {a["label"]: a for a in new["answers"]}
    for label, answer in new_answers.items():
        if label not in old_answers:
            changes.append(Change("added", f'{where}: answer "{label}"', after=_target(answer)))
        elif _target(old_answers[label]) != _target(answer):
            changes.append(
                Change("re-pointed", f'{where}: answer "{label}"', _target(old_answers[label]), _target(answer))
            )
        if label in old_answers and old_answers[label].get("platform", "") != answer.get("platform", ""):
            before, after = (a.get("platform", "") or "none" for a in (old_answers[label], answer))
            changes.append(Change("changed", f'{where}: answer "{label}": platform', before, after))
    for label, answer in old_answers.items():
        if label not in new_answers:
            changes.append(Change("removed", f'{where}: answer "{label}"', before=_target(answer)))
    old_order = [a for a in old_answers if a in new_answers]
    new_order = [a for a in new_answers if a in old_answers]
    if old_order != new_order:
        changes.append(Change("reordered", f"{where}: answers", ", ".join(old_order), ", ".join(new_order)))
    return changes


def diff_article(old: dict, new: dict) -> list[Change]:
    names = {"title": "Title", "summary": "Summary", "category": "Category", "checkers": "Checkers"}
    names["published"] = "Listed"
    changes = [
        Change("changed", label, _show(old.get(name, "")), _show(new.get(name, "")))
        for name, label in names.items()
        if old.get(name) != new.get(name)
    ]
    if old.get("body", "") != new.get("body", ""):
        changes.append(Change("changed", "Text", lines=_text_lines(old.get("body", ""), new.get("body", ""))))
    return changes
