"""The content library between the files and the database: import what `library.py` read, and dump what is live.

The import runs in one transaction, and each changed checker is published through the same flow check the editor
uses, so a mistake anywhere refuses the whole import with the file, the line and what is wrong. Dumps are canonical:
writing out an unchanged library rewrites no file.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.db import transaction

from . import versions
from .library import ContentError, Library
from .models import Article, Category, Checker, ErrorCode, platforms_value


def dump_checker(checker: Checker) -> dict | None:
    """A checker as sellers get it, in the file format: its listing and its live version's steps (None if unpublished).

    Normalised, so it compares equal to what `read_checker` returns for the same file.
    """
    if checker.live_version_id is None:
        return None
    return {**versions.listing(checker), "steps": [_in_order(step) for step in checker.live_version.data["steps"]]}


STEP_KEYS = ["key", "title", "body", "question", "links", "answers"]


def _in_order(step: dict) -> dict:
    """A step's keys in the file's order: PostgreSQL's jsonb keeps a version's keys in an order of its own."""
    return {
        **{key: step[key] for key in STEP_KEYS if key in step},
        "links": [{"label": link["label"], "url": link["url"]} for link in step.get("links", [])],
        "answers": [
            {
                "label": a["label"],
                **({"next": a["next"]} if a.get("next") else {"outcome": a.get("outcome")}),
                **({"platform": a["platform"]} if a.get("platform") else {}),
            }
            for a in step.get("answers", [])
        ],
    }


def dump_article(article: Article) -> dict | None:
    """An article as sellers get it, in the file format: its listing and live version's text (None if unpublished)."""
    if article.live_version_id is None:
        return None
    live = article.live_version.data
    return {
        **versions.article_data(article),
        "title": live["title"],
        "summary": live["summary"],
        "body": live["body"],
    }


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _sync_checker(data: dict, categories: dict[str, Category], path: Path) -> tuple[str, int]:
    """Bring one checker in line with its file: update its listing, and publish a version when anything changed."""
    checker = Checker.objects.select_related("category", "live_version").filter(slug=data["slug"]).first()
    if checker is not None and dump_checker(checker) == data:
        return "unchanged", checker.live_version.number
    created = checker is None
    checker = checker or Checker(slug=data["slug"])
    checker.title, checker.symptom = data["title"], data["symptom"]
    checker.category = categories[data["category"]]
    checker.platforms = platforms_value(data["platforms"])
    checker.position, checker.is_published = data["position"], data["published"]
    checker.signatures = "\n".join(data["signatures"])
    checker.support_hint = data["support_hint"]
    checker.save()

    taken = ErrorCode.objects.filter(code__in=data["error_codes"]).exclude(checker=checker)
    if clash := taken.select_related("checker").first():
        raise ContentError(path, f'error code {clash.code} belongs to "{clash.checker.slug}"')
    checker.error_codes.exclude(code__in=data["error_codes"]).delete()
    for code in data["error_codes"]:
        ErrorCode.objects.get_or_create(code=code, checker=checker)

    # The file wins over the draft: an editor's unpublished changes to this checker are replaced by the file's.
    versions.write_draft(checker, data["steps"])
    try:
        version = versions.publish(checker, note=f"Loaded from content/checkers/{path.name}")
    except versions.PublishRefused as refused:
        raise ContentError(path, str(refused), key="steps") from refused
    return "created" if created else "updated", version.number


def _sync_article(data: dict, categories: dict[str, Category], path: Path) -> str:
    """Bring one article in line with its file, publishing a version when anything changed."""
    article = Article.objects.select_related("category", "live_version").filter(slug=data["slug"]).first()
    if article is not None and dump_article(article) == data:
        return "unchanged"
    checkers = list(Checker.objects.filter(slug__in=data["checkers"]))
    missing = set(data["checkers"]) - {c.slug for c in checkers}
    if missing:
        raise ContentError(path, f"unknown checkers: {', '.join(sorted(missing))}", key="checkers")
    created = article is None
    article = article or Article(slug=data["slug"])
    article.title, article.summary, article.body = data["title"], data["summary"], data["body"]
    article.category = categories.get(data["category"])
    article.is_published = data["published"]
    article.save()
    article.checkers.set(checkers)
    versions.publish_article(article, note=f"Loaded from content/articles/{path.name}")
    return "created" if created else "updated"


def import_library(library: Library) -> ImportReport:
    """Import everything in one transaction: all of it lands, or (on a ContentError) none of it."""
    report = ImportReport()
    with transaction.atomic():
        categories = {c.slug: c for c in Category.objects.all()}
        for position, item in enumerate(library.categories):
            category = categories.get(item["slug"]) or Category(slug=item["slug"])
            wanted = {"name": item["name"], "summary": item["summary"], "position": position}
            if category.pk is None or any(getattr(category, k) != v for k, v in wanted.items()):
                for key, value in wanted.items():
                    setattr(category, key, value)
                category.save()
                categories[category.slug] = category
        for slug, data in library.checkers.items():
            result, number = _sync_checker(data, categories, library.paths[slug])
            getattr(report, result).append(slug if result == "unchanged" else f"{slug} (version {number} published)")
        for slug, data in library.articles.items():
            path = library.paths["article:" + slug]
            result = _sync_article(data, categories, path)
            getattr(report, result).append(f"article {slug}")
    return report


class BlockDumper(yaml.SafeDumper):
    """Writes multi-line text as YAML block scalars and indents lists, so dumped files read like hand-written ones."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def _represent_str(dumper, value: str):
    style = "|" if "\n" in value else None
    if style is None and dumper.resolve(yaml.ScalarNode, value, (True, False)) != "tag:yaml.org,2002:str":
        style = '"'  # text YAML would read as something else ("Yes", "No", "1.0"): quoted as people do
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


BlockDumper.add_representer(str, _represent_str)


def to_yaml(data) -> str:
    return yaml.dump(data, Dumper=BlockDumper, sort_keys=False, allow_unicode=True, width=110)


def checker_yaml(data: dict) -> str:
    """A checker file's canonical text: the dumper's style, with a blank line between steps for the reader."""
    return re.sub(r"(?<!steps:)\n  - key: ", "\n\n  - key: ", to_yaml(_checker_file(data)))


def article_text(data: dict) -> str:
    data = dict(data)
    body = data.pop("body")
    meta = {k: v for k, v in data.items() if v not in ("", [], None) and v is not True}
    return f"---\n{to_yaml(meta)}---\n{body}\n"


def _checker_file(data: dict) -> dict:
    """Leave out what is empty or default, as a person writing the file would."""
    out = {k: v for k, v in data.items() if v not in ("", [], None)}
    if out.get("position") == 0:
        del out["position"]
    if out.get("published") is True:
        del out["published"]
    out["steps"] = [{k: v for k, v in step.items() if not (k in ("links", "body") and not v)} for step in out["steps"]]
    return out


def _write(path: Path, text: str) -> int:
    """Write `text` unless the file already says it; 1 if written, else 0."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return 0
    path.write_text(text, encoding="utf-8")
    return 1


def dump_library(root: Path) -> list[str]:
    """Write every category, live checker and article to `root`; return the files that changed (none if none did)."""
    (root / "checkers").mkdir(parents=True, exist_ok=True)
    (root / "articles").mkdir(parents=True, exist_ok=True)
    written = []
    categories = [{"slug": c.slug, "name": c.name, "summary": c.summary} for c in Category.objects.all()]
    if _write(root / "categories.yaml", to_yaml(categories)):
        written.append("categories.yaml")
    for checker in Checker.objects.select_related("category", "live_version"):
        data = dump_checker(checker)
        if data is not None and _write(root / "checkers" / f"{checker.slug}.yaml", checker_yaml(data)):
            written.append(f"checkers/{checker.slug}.yaml")
    for article in Article.objects.select_related("category", "live_version"):
        data = dump_article(article)
        if data is not None and _write(root / "articles" / f"{article.slug}.md", article_text(data)):
            written.append(f"articles/{article.slug}.md")
    return written
