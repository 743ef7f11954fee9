"""Admin for support staff: the checker editor (draft, preview, publish, history) and the read-only outcome log.

A checker's change page is its editor: the listing, then every step of the draft with its answers and links inline
(django-nested-admin: add, remove and drag to reorder without leaving the page), the flow picture and a rendered
preview of each step's Markdown. Publish, History, the diff and Restore are pages of their own beside it.

By part: `checkers` (the checker editor, categories), `articles`, `inlines` (steps, answers, links, error codes),
`rows` (inlines that save only the checker's own rows), `summary` (what a save says), `versioned` (publish,
versions, diff, restore).
"""

from . import articles, checkers  # noqa: F401 - registers the admins
from .rows import OwnRowsFormSet, OwnRowsInline

__all__ = ["OwnRowsFormSet", "OwnRowsInline"]
