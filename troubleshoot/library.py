"""The content library as files: read and check `content/` into plain dicts, with errors naming file, line and key.

The file format is described in `content/README.md`; a checker file read here is the very dict a published version
holds (`CheckerVersion.data`). Every file is read and checked before anything is written (`librarysync.py` imports
what is read here, and writes the live content back out in the same format).
"""

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError

from .models import Article, Category, Checker, Choice, ErrorCode, Platform, Step, StepLink

OUTCOMES = {Choice.Outcome.RESOLVED.value, Choice.Outcome.ESCALATE.value}


class ContentError(Exception):
    def __init__(self, path: Path | str, message: str, line: int | None = None, key: str = ""):
        self.path, self.message, self.line, self.key = str(path), message, line, key
        where = [self.path]
        if line:
            where.append(f"line {line}")
        if key:
            where.append(key)
        super().__init__(f"{', '.join(where)}: {message}")


class Located(dict):
    """A YAML mapping that remembers the line of each key (1-based)."""

    line: int = 0
    key_lines: dict


class LineLoader(yaml.SafeLoader):
    def construct_mapping(self, node, deep=False):
        mapping = Located(super().construct_mapping(node, deep=deep))
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {k.value: k.start_mark.line + 1 for k, _ in node.value}
        return mapping


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, LineLoader.construct_mapping)


class Reader:
    """Reads one file's fields with errors that point at the file, line and key."""

    def __init__(self, path: Path):
        self.path = path

    def error(self, message: str, mapping=None, key: str = "", where: str = "") -> ContentError:
        line = None
        if isinstance(mapping, Located):
            line = mapping.key_lines.get(key, mapping.line)
        return ContentError(self.path, message, line, where + (key if not where else f".{key}"))

    def text(self, mapping, key, where="", *, required=True, field=None, default="") -> str:
        """A text value; with `field` (a model field) it must also pass that field's validators."""
        value = mapping.get(key)
        if value is None or value == "":
            if required:
                raise self.error("is missing", mapping, key, where)
            return default
        if isinstance(value, bool):
            raise self.error('must be text; quote it ("Yes", "No")', mapping, key, where)
        if not isinstance(value, (str, int, float)):
            raise self.error("must be text", mapping, key, where)
        value = str(value).strip()
        if field is not None:
            self.validate(field, value, mapping, key, where)
        return value

    def validate(self, field, value: str, mapping, key: str, where: str = "") -> None:
        """The model field's own rules (length, slug, URL, one line...): the admin and forms apply the same ones."""
        try:
            field.run_validators(value)
        except ValidationError as error:
            raise self.error(" ".join(error.messages), mapping, key, where) from error

    def items(self, mapping, key, where="", *, required=False) -> list:
        value = mapping.get(key)
        if value is None:
            if required:
                raise self.error("is missing", mapping, key, where)
            return []
        if not isinstance(value, list):
            raise self.error("must be a list", mapping, key, where)
        return value

    def mapping(self, value, where: str, parent=None, key="") -> Located:
        if not isinstance(value, dict):
            raise self.error("must be a mapping of keys to values", parent, key, where)
        return value


def rule(model, name: str):
    """The model field whose validators a value from a file must pass."""
    return model._meta.get_field(name)


def parse_yaml(path: Path, text: str):
    try:
        return yaml.load(text, Loader=LineLoader)  # noqa: S506 - LineLoader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ContentError(path, f"bad YAML: {problem}", mark.line + 1 if mark else None) from exc


def read_checker(path: Path) -> dict:
    """Read and check one checker file; return its normalised form (what `dump_checker` returns)."""
    r = Reader(path)
    data = r.mapping(parse_yaml(path, path.read_text(encoding="utf-8")), "")
    slug = r.text(data, "slug", field=rule(Checker, "slug"))
    if slug != path.stem:
        raise r.error(f'slug "{slug}" must match the file name "{path.stem}"', data, "slug")
    steps_in = r.items(data, "steps", required=True)
    if not steps_in:
        raise r.error("needs at least one step", data, "steps")
    keys = _step_keys(r, data, steps_in)
    codes, signatures = _codes_and_signatures(r, data)
    return {
        "slug": slug,
        "title": r.text(data, "title", field=rule(Checker, "title")),
        "category": r.text(data, "category"),
        "platforms": _platforms(r, data),
        "symptom": r.text(data, "symptom", field=rule(Checker, "symptom")),
        "position": _position(r, data),
        "published": _flag(r, data, "published"),
        "error_codes": codes,
        "signatures": signatures,
        "support_hint": r.text(data, "support_hint", required=False),
        "steps": [_read_step(r, step, f"steps[{i}]", keys) for i, step in enumerate(steps_in)],
    }


def _step_keys(r: Reader, data, steps_in: list) -> set[str]:
    """Every step's key, each checked and unique, so answers can be checked against all of them."""
    keys: set[str] = set()
    for i, raw in enumerate(steps_in):
        step = r.mapping(raw, f"steps[{i}]", data, "steps")
        key = r.text(step, "key", f"steps[{i}]", field=rule(Step, "key"))
        if key in keys:
            raise r.error(f'duplicate step key "{key}"', step, "key", f"steps[{i}]")
        keys.add(key)
    return keys


def _read_step(r: Reader, step, where: str, keys: set[str]) -> dict:
    links = [_read_link(r, step, raw, f"{where}.links[{j}]") for j, raw in enumerate(r.items(step, "links", where))]
    answers = [
        _read_answer(r, step, raw, f"{where}.answers[{j}]", keys)
        for j, raw in enumerate(r.items(step, "answers", where, required=True))
    ]
    if not answers:
        raise r.error("needs at least one answer", step, "answers", where)
    return {
        "key": step["key"],
        "title": r.text(step, "title", where, field=rule(Step, "title")),
        "body": r.text(step, "body", where, required=False),
        "question": r.text(step, "question", where, field=rule(Step, "question")),
        "links": links,
        "answers": answers,
    }


def _read_link(r: Reader, step, raw, at: str) -> dict:
    link = r.mapping(raw, at, step, "links")
    url = r.text(link, "url", at, field=rule(StepLink, "url"))
    return {"label": r.text(link, "label", at, field=rule(StepLink, "label")), "url": url}


def _read_answer(r: Reader, step, raw, at: str, keys: set[str]) -> dict:
    """One answer: its label, exactly one of the step it leads to or the outcome that ends the run, and on a
    platform question the platform it is for."""
    answer = r.mapping(raw, at, step, "answers")
    label = r.text(answer, "label", at, field=rule(Choice, "label"))
    has_next, has_outcome = "next" in answer, "outcome" in answer
    if has_next == has_outcome:
        raise r.error("needs exactly one of `next` or `outcome`", answer, "label", at)
    if has_next:
        target = r.text(answer, "next", at)
        if target not in keys:
            raise r.error(f'unknown step "{target}"', answer, "next", at)
        read = {"label": label, "next": target}
    else:
        outcome = r.text(answer, "outcome", at)
        if outcome not in OUTCOMES:
            raise r.error(f'unknown outcome "{outcome}": use resolved or escalate', answer, "outcome", at)
        read = {"label": label, "outcome": outcome}
    platform = r.text(answer, "platform", at, required=False)
    if platform and platform not in Platform.values:
        raise r.error(f'unknown platform "{platform}": use {" or ".join(Platform.values)}', answer, "platform", at)
    return {**read, "platform": platform} if platform else read


def _platforms(r: Reader, data) -> list[str]:
    """The platforms the checker is for, in the usual order (both when the file doesn't say)."""
    listed = [str(item).strip() for item in r.items(data, "platforms")] or list(Platform.values)
    unknown = [item for item in listed if item not in Platform.values]
    if unknown:
        raise r.error(f'unknown platform "{unknown[0]}": use {" and/or ".join(Platform.values)}', data, "platforms")
    if len(set(listed)) != len(listed):
        raise r.error("lists a platform twice", data, "platforms")
    return [platform for platform in Platform.values if platform in listed]


def _codes_and_signatures(r: Reader, data) -> tuple[list[str], list[str]]:
    codes = [str(code).strip().upper() for code in r.items(data, "error_codes")]
    for code in codes:
        r.validate(rule(ErrorCode, "code"), code, data, "error_codes")
    signatures = [str(s).strip() for s in r.items(data, "signatures") if str(s).strip()]
    r.validate(rule(Checker, "signatures"), "\n".join(signatures), data, "signatures")
    if len(set(codes)) != len(codes):
        raise r.error("lists an error code twice", data, "error_codes")
    return sorted(codes), signatures


def _flag(r: Reader, data, key: str) -> bool:
    value = data.get(key, True)
    if not isinstance(value, bool):
        raise r.error("must be true or false", data, key)
    return value


def _position(r: Reader, data) -> int:
    position = data.get("position", 0)
    if not isinstance(position, int) or position < 0:
        raise r.error("must be a whole number, 0 or more", data, "position")
    return position


def read_article(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        raise ContentError(path, "must start with a front matter block between --- lines", 1)
    end = text.find("\n---\n", 4)
    if end == -1:
        raise ContentError(path, "the front matter block has no closing --- line", 1)
    r = Reader(path)
    meta = r.mapping(parse_yaml(path, text[4:end]) or {}, "")
    # Front matter lines start at file line 2.
    if isinstance(meta, Located):
        meta.line += 1
        meta.key_lines = {k: v + 1 for k, v in meta.key_lines.items()}
    slug = r.text(meta, "slug", field=rule(Article, "slug"))
    if slug != path.stem:
        raise r.error(f'slug "{slug}" must match the file name "{path.stem}"', meta, "slug")
    published = meta.get("published", True)
    if not isinstance(published, bool):
        raise r.error("must be true or false", meta, "published")
    return {
        "slug": slug,
        "title": r.text(meta, "title", field=rule(Article, "title")),
        "summary": r.text(meta, "summary", required=False, field=rule(Article, "summary")),
        "category": r.text(meta, "category", required=False),
        "checkers": sorted(str(s) for s in r.items(meta, "checkers")),
        "published": published,
        "body": text[end + 5 :].strip(),
    }


def read_categories(path: Path) -> list[dict]:
    r = Reader(path)
    data = parse_yaml(path, path.read_text(encoding="utf-8")) or []
    if not isinstance(data, list):
        raise ContentError(path, "must be a list of categories", 1)
    categories = []
    for i, raw in enumerate(data):
        item = r.mapping(raw, f"[{i}]")
        categories.append(
            {
                "slug": r.text(item, "slug", f"[{i}]", field=rule(Category, "slug")),
                "name": r.text(item, "name", f"[{i}]", field=rule(Category, "name")),
                "summary": r.text(item, "summary", f"[{i}]", required=False, field=rule(Category, "summary")),
            }
        )
    return categories


@dataclass
class Library:
    root: Path
    categories: list[dict] = field(default_factory=list)
    checkers: dict[str, dict] = field(default_factory=dict)
    articles: dict[str, dict] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)


def read_library(root: Path) -> Library:
    """Read and check every file under `root`; raise ContentError on the first problem."""
    library = Library(root=root)
    categories_file = root / "categories.yaml"
    if categories_file.exists():
        library.categories = read_categories(categories_file)
        seen = set()
        for category in library.categories:
            if category["slug"] in seen:
                raise ContentError(categories_file, f'duplicate category "{category["slug"]}"')
            seen.add(category["slug"])
    known_categories = {c["slug"] for c in library.categories} | set(Category.objects.values_list("slug", flat=True))
    codes: dict[str, str] = {}
    for path in sorted((root / "checkers").glob("*.yaml")):
        checker = read_checker(path)
        if checker["category"] not in known_categories:
            raise ContentError(path, f'unknown category "{checker["category"]}"', key="category")
        for code in checker["error_codes"]:
            if code in codes:
                raise ContentError(path, f'error code {code} is also used by "{codes[code]}"')
            codes[code] = checker["slug"]
        library.checkers[checker["slug"]] = checker
        library.paths[checker["slug"]] = path
    for path in sorted((root / "articles").glob("*.md")):
        article = read_article(path)
        if article["category"] and article["category"] not in known_categories:
            raise ContentError(path, f'unknown category "{article["category"]}"', key="category")
        library.articles[article["slug"]] = article
        library.paths["article:" + article["slug"]] = path
    return library
