"""What the seller's pages tell the apps above them, without knowing them: search keeps its log from these (its
receivers are connected in `search.apps`)."""

from django.dispatch import Signal

# A seller opened a checker or an article: kind ("checker" or "article"), slug, and search_id, the search log row
# of the result they clicked (or None).
page_opened = Signal()

# A seller arrived on /e/<code>/ with a code no checker has: request, code (as it came).
unknown_code = Signal()
