"""Published versions loaded for sellers: a checker version's flow and an article version's page, read once and then
from the cache for good (a version never changes once written, see `versions.py`).
"""

from django.core.cache import cache

from .graph import Flow
from .models import ArticleVersion, CheckerVersion
from .rendering import render_markdown

CACHE_FORMAT = 3  # bump when Flow's shape changes, so a deploy never unpickles an old one
_memo: dict[int, Flow] = {}
MEMO_SIZE = 500


def flow_of(version_id: int) -> Flow:
    """The flow of a published version: from this process's memo, else Django's cache, else one query."""
    flow = _memo.get(version_id)
    if flow is not None:
        return flow
    key = f"troubleshoot:flow:{CACHE_FORMAT}:{version_id}"
    flow = cache.get(key)
    if flow is None:
        version = CheckerVersion.objects.only("data", "checker_id").get(pk=version_id)
        flow = Flow.from_data(version.data, version_id=version.pk, checker_id=version.checker_id)
        flow.longest  # noqa: B018 - computed once, before it is cached and shared
        cache.set(key, flow, timeout=None)
    if len(_memo) >= MEMO_SIZE:
        _memo.clear()
    _memo[version_id] = flow
    return flow


def forget_flows() -> None:
    """Empty this process's memo (tests, where a rolled-back database reuses ids)."""
    _memo.clear()


def article_page(version_id: int) -> dict:
    """What a seller reads of a published article (title, summary, sanitised body HTML); cached like flows."""
    key = f"troubleshoot:article:{CACHE_FORMAT}:{version_id}"
    page = cache.get(key)
    if page is None:
        data = ArticleVersion.objects.values_list("data", flat=True).get(pk=version_id)
        page = {"title": data["title"], "summary": data["summary"], "body_html": render_markdown(data["body"])}
        cache.set(key, page, timeout=None)
    return page
