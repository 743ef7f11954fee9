"""Versions of checkers and articles: the draft, publishing it as a new version, restoring an old version into it,
bringing back a draft a restore replaced, and copying a checker.

A checker's draft is its Step, Choice and StepLink rows; a version's `data` is the content-file dict (the format
`library.py` reads and `librarysync.py` writes), so the draft is turned into that dict to be checked, compared
(`compare.py`) and frozen. A version never changes once written, which is what lets `versioncache.flow_of` cache it
by its id for good.
"""

import itertools

from django.db import transaction
from django.utils import timezone

from helpcenter.contentcache import content_changed

from .graph import Flow, Problem
from .models import (
    Article,
    ArticleVersion,
    Checker,
    CheckerVersion,
    Choice,
    ReplacedDraft,
    Step,
    StepLink,
    cut_at_word,
)

# The listing: how sellers find a checker (home, search, /e/<code>/). Edited in place, part of every version's data.
LISTING = [
    "slug",
    "title",
    "category",
    "platforms",
    "symptom",
    "position",
    "published",
    "error_codes",
    "signatures",
    "support_hint",
]


class PublishRefused(Exception):
    """The draft can't be published; `problems` says why in words an editor can act on."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(" ".join(str(p) for p in problems))


class PublishConflict(Exception):
    """Someone else published this checker since the editor opened the draft."""


def listing(checker: Checker) -> dict:
    return {
        "slug": checker.slug,
        "title": checker.title,
        "category": checker.category.slug,
        "platforms": checker.platform_list,
        "symptom": checker.symptom,
        "position": checker.position,
        "published": checker.is_published,
        "error_codes": sorted(checker.error_codes.values_list("code", flat=True)),
        "signatures": checker.signature_list,
        "support_hint": checker.support_hint,
    }


def draft_steps(checker: Checker) -> list[dict]:
    """The draft's steps in the content-file format (four queries)."""
    steps = list(Step.objects.filter(checker=checker).order_by("position", "pk").prefetch_related("choices", "links"))
    keys = {step.pk: step.key for step in steps}
    # An answer pointed at another checker's step has no key here: the flow check reports it by its empty target.
    return [
        {
            "key": step.key,
            "title": step.title,
            "body": step.body,
            "question": step.question,
            "links": [{"label": link.label, "url": link.url} for link in step.links.all()],
            "answers": [_answer(c, keys) for c in step.choices.all()],
        }
        for step in steps
    ]


def _answer(choice: Choice, keys: dict[int, str]) -> dict:
    """A draft answer in the content-file format: where it goes, and the platform it is for if it is."""
    if choice.outcome == Choice.Outcome.NEXT:
        answer = {"label": choice.label, "next": keys.get(choice.next_step_id, "")}
    else:
        answer = {"label": choice.label, "outcome": choice.outcome}
    return {**answer, "platform": choice.platform} if choice.platform else answer


def draft_data(checker: Checker) -> dict:
    """The checker as it would be published now: its listing and its draft steps, as a content-file dict."""
    return {**listing(checker), "steps": draft_steps(checker)}


def draft_flow(checker: Checker) -> Flow:
    return Flow.from_data({"platforms": checker.platform_list, "steps": draft_steps(checker)}, checker_id=checker.pk)


def write_draft(checker: Checker, steps: list[dict]) -> None:
    """Make the draft's steps say `steps` (content-file format), updating rows in place by key."""
    existing = {step.key: step for step in checker.steps.all()}
    rows = {}
    for position, item in enumerate(steps):
        step = existing.get(item["key"]) or Step(checker=checker, key=item["key"])
        step.position, step.title, step.body = position, item["title"], item.get("body", "")
        step.question = item["question"]
        step.save()
        rows[step.key] = step
    for item in steps:
        step = rows[item["key"]]
        step.choices.all().delete()
        step.links.all().delete()
        Choice.objects.bulk_create(
            Choice(
                step=step,
                position=position,
                label=answer["label"],
                outcome=answer.get("outcome") or Choice.Outcome.NEXT,
                next_step=rows.get(answer.get("next")) if answer.get("next") else None,
                platform=answer.get("platform", ""),
            )
            for position, answer in enumerate(item["answers"])
            if answer.get("outcome") or answer.get("next") in rows
        )
        StepLink.objects.bulk_create(
            StepLink(step=step, position=position, label=link["label"], url=link["url"])
            for position, link in enumerate(item.get("links", []))
        )
    # One delete, so answers among the removed steps pointing at each other don't block it.
    Choice.objects.filter(next_step__in=[s for k, s in existing.items() if k not in rows]).delete()
    checker.steps.exclude(key__in=list(rows)).delete()


def _freeze(item, version_model, owner: str, data_of, problems_of, *, user, note: str, base: int | None):
    """The one publish rule for checkers and articles. Under the item's row lock: refuse if someone published
    since the editor's `base` (PublishConflict: nothing changes), if the draft has problems or is the same as the
    live version (PublishRefused); else add the next numbered version and point the item at it."""
    model = type(item)
    with transaction.atomic():
        locked = model.objects.select_for_update(of=("self",)).select_related("category").get(pk=item.pk)
        live = version_model.objects.filter(pk=locked.live_version_id).first()
        live_number = live.number if live else 0
        if base is not None and base != live_number:
            raise PublishConflict(
                f"Version {live_number} was published since you opened this draft. Nothing was published: look "
                "at what changed in the history, then publish again."
            )
        data = data_of(locked)
        problems = problems_of(data)
        if problems:
            raise PublishRefused(problems)
        if live is not None and live.data == data:
            raise PublishRefused([Problem(f"Nothing to publish: the draft is the same as version {live.number}.")])
        last = version_model.objects.filter(**{owner: locked}).order_by("-number").first()
        version = version_model.objects.create(
            **{owner: locked},
            number=(last.number if last else 0) + 1,
            data=data,
            note=note[:200],
            created_by=user if user is not None and user.is_authenticated else None,
        )
        model.objects.filter(pk=locked.pk).update(live_version=version)  # no signal: hence the call below
        content_changed()  # after the commit: sellers' cached pages are filed afresh from the new version
    item.live_version = version
    return version


def flow_problems(data: dict) -> list[Problem]:
    """The flow check's problems: a path that doesn't end in resolved or escalate."""
    return Flow.from_data(data).problems()


def shared_error_texts(data: dict) -> list[Problem]:
    """Error texts of this checker that a checker sellers can find already has: the sellers who paste one, and
    its statistics, would split between the two."""
    others = Checker.objects.published().exclude(slug=data.get("slug", ""))
    return [
        Problem(
            f'The error text "{text}" is already "{other.title}"\'s ({other.slug}): a seller who pastes it would '
            "find both. Keep it on one checker (remove it here or there), then publish."
        )
        for other, text in others.sharing_error_texts(data.get("signatures", []))
    ]


def checker_problems(data: dict) -> list[Problem]:
    """What refuses a checker's publish: the flow check's problems, and error texts another checker has."""
    return flow_problems(data) + shared_error_texts(data)


def publish(checker: Checker, *, user=None, note: str = "", base: int | None = None) -> CheckerVersion:
    """Freeze the draft into a new live version, or refuse with the flow check's problems.

    `base` is the live version number the editor saw when they opened the draft: if someone published since, the
    publish is refused with `PublishConflict` and nothing changes (their version and this draft both stay).
    """
    return _freeze(
        checker,
        CheckerVersion,
        "checker",
        draft_data,
        checker_problems,
        user=user,
        note=note,
        base=base,
    )


def _set_aside(owner: dict, current: dict, incoming: dict, published: list[dict], replaced_by: str, user):
    """Keep `current` (a draft about to become `incoming`) unless nothing would be lost: it is `incoming` already,
    or some version holds it (`published`, each in the same shape)."""
    if current == incoming or current in published:
        return None
    return ReplacedDraft.objects.create(
        **owner,
        data=current,
        replaced_by=replaced_by,
        created_by=user if user is not None and user.is_authenticated else None,
    )


def _replace_steps(checker: Checker, steps: list[dict], replaced_by: str, user) -> ReplacedDraft | None:
    """Make the draft's steps `steps`, keeping the steps they replace if no version has them. Under the checker's
    row lock, so two restores at once can't both read the same draft and lose the second's."""
    with transaction.atomic():
        Checker.objects.select_for_update(of=("self",)).get(pk=checker.pk)
        published = [
            data["steps"] for data in CheckerVersion.objects.filter(checker=checker).values_list("data", flat=True)
        ]
        kept = _set_aside(
            {"checker": checker},
            {"steps": draft_steps(checker)},
            {"steps": steps},
            [{"steps": s} for s in published],
            replaced_by,
            user,
        )
        write_draft(checker, steps)
    return kept


def restore(checker: Checker, number: int, *, user=None) -> ReplacedDraft | None:
    """Put an old version's steps back into the draft (listing and live version untouched; publish to go live).

    Steps the draft held that no version has are kept first (a `ReplacedDraft`, returned) so `bring_back` can
    return them; nothing is kept when nothing would be lost."""
    version = CheckerVersion.objects.get(checker=checker, number=number)
    return _replace_steps(checker, version.data["steps"], f"restoring version {number}", user)


def replaced_draft(item: Checker | Article) -> ReplacedDraft | None:
    """The draft the last restore of `item` replaced, while it can still be brought back: not brought back yet,
    and nothing published since (a publish says the draft that replaced it was wanted)."""
    kept = item.replaced_drafts.filter(brought_back_at__isnull=True).first()
    live = item.live_version
    if kept is None or (live is not None and live.created_at > kept.created_at):
        return None
    return kept


def bring_back(kept: ReplacedDraft, *, user=None) -> ReplacedDraft | None:
    """Put a replaced draft back, keeping the draft it replaces in turn if no version has that one."""
    when = timezone.localtime(kept.created_at).strftime("%d %b %Y %H:%M")
    if kept.checker_id:
        again = _replace_steps(kept.checker, kept.data["steps"], f"bringing back the draft of {when}", user)
    else:
        again = _replace_article_text(kept.article, kept.data, f"bringing back the draft of {when}", user)
    ReplacedDraft.objects.filter(pk=kept.pk).update(brought_back_at=timezone.now())
    return again


def _copy_slug(slug: str) -> str:
    """`<slug>-copy`, or `-copy-2`, `-copy-3`… if taken, cut at a word to fit the slug's length."""
    length = Checker._meta.get_field("slug").max_length
    for suffix in itertools.chain(["-copy"], (f"-copy-{n}" for n in itertools.count(2))):
        wanted = f"{cut_at_word(slug, length - len(suffix))}{suffix}"
        if not Checker.objects.filter(slug=wanted).exists():
            return wanted
    raise AssertionError("unreachable")  # pragma: no cover - the count above never ends


def copy_checker(checker: Checker) -> Checker:
    """A new checker to start from: the same draft steps, answers and links, listing, support hint and platforms,
    unlisted and never published. Its slug is `<slug>-copy` (then `-copy-2`…), cut at a word to fit; its error codes
    and error texts are not copied, as each leads sellers to one checker (`shared_error_texts`)."""
    with transaction.atomic():
        copy = Checker.objects.create(
            slug=_copy_slug(checker.slug),
            title=f"{checker.title} (copy)"[: Checker._meta.get_field("title").max_length],
            symptom=checker.symptom,
            category=checker.category,
            support_hint=checker.support_hint,
            platforms=checker.platforms,
            position=checker.position,
            is_published=False,
        )
        write_draft(copy, draft_steps(checker))
    return copy


def has_unpublished_changes(checker: Checker) -> bool:
    live = CheckerVersion.objects.filter(pk=checker.live_version_id).only("data").first()
    return live is None or live.data != draft_data(checker)


# Articles: the same idea. The row's title, summary and body are the draft; a version holds the article's file dict.


def article_data(article: Article) -> dict:
    """The article as it would be published now, as its content file's dict (the same as `read_article`)."""
    return {
        "slug": article.slug,
        "title": article.title,
        "summary": article.summary,
        "category": article.category.slug if article.category else "",
        "checkers": sorted(article.checkers.values_list("slug", flat=True)),
        "published": article.is_published,
        "body": article.body.strip(),
    }


def article_problems(data: dict) -> list[Problem]:
    """Nothing refuses an article's publish but an unchanged draft (checked by `_freeze`)."""
    return []


def publish_article(article: Article, *, user=None, note: str = "", base: int | None = None) -> ArticleVersion:
    """Freeze the article's draft into a new live version (same rules as `publish`: a row lock, the base check)."""
    return _freeze(article, ArticleVersion, "article", article_data, article_problems, user=user, note=note, base=base)


ARTICLE_TEXT = ["title", "summary", "body"]  # what an article's restore puts back; the rest of its draft stays


def _replace_article_text(article: Article, text: dict, replaced_by: str, user) -> ReplacedDraft | None:
    with transaction.atomic():
        locked = Article.objects.select_for_update(of=("self",)).get(pk=article.pk)
        current = {"title": locked.title, "summary": locked.summary, "body": locked.body.strip()}  # as versions hold it
        published = [
            {name: data.get(name) for name in ARTICLE_TEXT}
            for data in ArticleVersion.objects.filter(article=article).values_list("data", flat=True)
        ]
        incoming = {name: text[name] for name in ARTICLE_TEXT}
        kept = _set_aside({"article": article}, current, incoming, published, replaced_by, user)
        for name in ARTICLE_TEXT:
            setattr(article, name, incoming[name])
        article.save()
    return kept


def restore_article(article: Article, number: int, *, user=None) -> ReplacedDraft | None:
    """Put an old version's title, summary and body back into the draft (publish to make it live), keeping the
    text it replaces if no version has it (as `restore` does)."""
    version = ArticleVersion.objects.get(article=article, number=number)
    return _replace_article_text(article, version.data, f"restoring version {number}", user)
