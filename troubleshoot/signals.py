"""Signals other apps listen to, so content code needn't know about them (search keeps its index with these)."""

from django.dispatch import Signal

# Sent after content is saved by the loader or the admin, with `checkers` and `articles`: lists of primary keys
# whose text, steps or publication may have changed.
content_changed = Signal()
