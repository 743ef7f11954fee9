"""The article editor."""

from django.contrib import admin
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from helpcenter.admin import PlainHelpTextsMixin

from .. import compare, versions
from ..models import (
    Article,
    ArticleVersion,
)
from .versioned import VersionedPagesMixin


@admin.register(Article)
class ArticleAdmin(PlainHelpTextsMixin, VersionedPagesMixin, admin.ModelAdmin):
    """An article's title, summary and body are its draft; Publish, Versions and Restore work as for checkers."""

    list_display = ["title", "slug", "category", "is_published", "live", "updated_at"]
    list_filter = ["is_published", "category"]
    search_fields = ["title", "summary", "body"]
    list_per_page = 50  # as the checkers: at 5,000 articles a page of 100 rows took 0.1 s of CPU to draw
    show_full_result_count = False
    prepopulated_fields = {"slug": ["title"]}
    # Checkers are looked up as they are typed: the two-list picker held every checker, 5,000 options (400 KB, 0.4 s
    # a page on SQLite) on each article's page.
    autocomplete_fields = ["checkers"]
    readonly_fields = ["draft_status", "body_preview"]
    fields = [
        *("title", "slug", "summary", "category", "checkers", "is_published"),
        *("draft_status", "body", "body_preview"),
    ]
    change_form_template = "admin/troubleshoot/article/change_form.html"
    draft_of = staticmethod(versions.article_data)
    problems_in = staticmethod(versions.article_problems)
    changes_between = staticmethod(compare.diff_article)
    publish_item = staticmethod(versions.publish_article)
    restore_item = staticmethod(versions.restore_article)
    restored_data = staticmethod(
        lambda draft, version: {**draft, **{name: version[name] for name in versions.ARTICLE_TEXT}}
    )
    restored_message = "Version {number}'s text is back in the draft; publish to go live."

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("category", "live_version")

    @admin.display(description="Live version")
    def live(self, obj):
        return f"Version {obj.live_version.number}" if obj.live_version_id else "Not published yet"

    @admin.display(description="Published")
    def draft_status(self, obj):
        if not obj.pk or not obj.live_version_id:
            return "Not published yet: sellers can't see this article."
        if obj.live_version.data == versions.article_data(obj):
            return f"Version {obj.live_version.number} is live; the draft is the same."
        return format_html(
            'Version {} is live. <strong>The draft has unpublished changes</strong> (<a href="{}">see them</a>).',
            obj.live_version.number,
            reverse("admin:troubleshoot_article_publish", args=[obj.pk]),
        )

    @admin.display(description="Preview")
    def body_preview(self, obj):
        return format_html('<div class="md-preview">{}</div>', mark_safe(obj.body_html))  # noqa: S308

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:object_id>/publish/", wrap(self.publish_view), name="troubleshoot_article_publish"),
            path("<int:object_id>/versions/", wrap(self.versions_view), name="troubleshoot_article_versions"),
            path(
                "<int:object_id>/restore/<int:number>/",
                wrap(self.restore_view),
                name="troubleshoot_article_restore",
            ),
            path(
                "<int:object_id>/bring-back/<int:kept_id>/",
                wrap(self.bring_back_view),
                name="troubleshoot_article_bring_back",
            ),
            *super().get_urls(),
        ]

    def versions_view(self, request, object_id):
        article = self._item(request, object_id, "view_article")
        rows = list(ArticleVersion.objects.filter(article=article).select_related("created_by").order_by("-number"))
        for row in rows:
            row.changes = None  # the first version has nothing before it
        for older, newer in zip(rows[1:], rows, strict=False):
            newer.changes = compare.diff_article(older.data, newer.data)
        return self._page(
            request,
            article,
            "history.html",
            f"Versions of {article.title}",
            versions=rows,
            can_restore=request.user.has_perm("troubleshoot.publish_article"),
        )
