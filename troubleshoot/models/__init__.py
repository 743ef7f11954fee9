"""Content (categories, articles, checkers with their published versions and draft steps) and the outcome log.

A checker's steps, answers and links (Step, Choice, StepLink) are its **draft**: editors change them freely and no
seller ever sees them. Publishing freezes the draft into a `CheckerVersion`, rows that are only ever added, and
points `Checker.live_version` at it. Sellers walk versions: a run keeps the version it started on (`PROTECT`) and
each answer names the step key and answer number in that version, plus the texts the seller read.

The models are in three modules by what they hold (`content`, `articles`, `runs`); everything is imported from here.
"""

from .articles import Article, ArticleQuerySet, ArticleVersion, ReplacedDraft
from .content import (
    Category,
    Checker,
    CheckerQuerySet,
    CheckerVersion,
    Choice,
    ErrorCode,
    Platform,
    Step,
    StepLink,
    cut_at_word,
    error_text_key,
    for_platform,
    key_from_title,
    platform_list,
    platforms_value,
    published,
)
from .runs import LIVE_ANSWER, RUN_ACTIONS, Answer, AnswerQuerySet, FollowUp, Run, RunQuerySet, run_urls

__all__ = [
    "LIVE_ANSWER",
    "RUN_ACTIONS",
    "Answer",
    "AnswerQuerySet",
    "Article",
    "ArticleQuerySet",
    "ArticleVersion",
    "Category",
    "Checker",
    "CheckerQuerySet",
    "CheckerVersion",
    "Choice",
    "ErrorCode",
    "FollowUp",
    "Platform",
    "ReplacedDraft",
    "Run",
    "RunQuerySet",
    "Step",
    "StepLink",
    "cut_at_word",
    "error_text_key",
    "for_platform",
    "key_from_title",
    "platform_list",
    "platforms_value",
    "published",
    "run_urls",
]
