"""Admin for support staff: the checker editor (draft, preview, publish, history) and the read-only outcome log.

A checker's change page is its editor: the listing, then every step of the draft with its answers and links inline
(django-nested-admin: add, remove and drag to reorder without leaving the page), the flow picture and a rendered
preview of each step's Markdown. Publish, History, the diff and Restore are pages of their own beside it.
"""

import nested_admin
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F, Model, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from helpcenter import params

from . import flowpicture, versions
from .models import (
    Article,
    ArticleVersion,
    Category,
    Checker,
    CheckerVersion,
    Choice,
    ErrorCode,
    Run,
    Step,
    StepLink,
)
from .rendering import render_markdown


def count_per_row(related: QuerySet, link: str) -> Coalesce:
    """How many `related` rows point (through `link`) at each row listed: a subquery evaluated for the page's rows
    only, where a Count() annotation would GROUP BY the whole table (8.8 s a page at 200,000 runs)."""
    per_row = related.filter(**{link: OuterRef("pk")}).order_by().values(link).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(per_row), 0)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}


class OwnRowsFormSet(nested_admin.NestedInlineFormSet):
    """A formset of the editor that reads and saves the rows of the object being saved only.

    Each row's form names its row by a hidden id. To let an answer be dragged to another step, nested-admin looks
    the posted ids up in the whole table (and saves whichever row an id names, moving or deleting it): another
    checker's answer, link, step or error code named in this checker's form was taken from it. Here the ids are
    looked up among the rows of the object at the top of the page (the checker), through every level in between
    (an answer's step's checker), so a row may still move between this checker's steps; an id that names anything
    else leaves its form without a row and refuses the whole save."""

    row_names = ("row", "rows")  # the inline's verbose names, for the message (set by OwnRowsInline)

    def owner(self) -> tuple[str, Model]:
        """The object being saved, at the top of the page, and the lookup from this formset's rows to it:
        `checker` for steps and error codes, `step__checker` for answers and links."""
        formset, lookup = self, []
        while True:
            lookup.append(formset.fk.name)
            parent_form = getattr(formset, "parent_form", None)  # nested-admin's: the form this formset is under
            if parent_form is None:
                return "__".join(lookup), formset.instance
            formset = parent_form.parent_formset

    def get_queryset(self):
        if not self.is_bound:  # a page shown: Django's own rows of the parent
            return super().get_queryset()
        lookup, owner = self.owner()
        if owner.pk is None:  # a checker being added owns no rows yet
            return self.model._default_manager.none()
        return super().get_queryset().filter(**{lookup: owner})

    def clean(self):
        super().clean()
        pk_name = self.model._meta.pk.name
        for form in self.initial_forms:  # deleted ones too: a DELETE of another's row is refused as well
            if form.instance.pk is None:  # the id posted isn't one of the owner's rows (see get_queryset)
                _, owner = self.owner()
                name, names = self.row_names
                raise ValidationError(
                    "Nothing was saved: %(name)s %(id)s is not one of the %(names)s of this %(owner)s. "
                    "Reload the page and make the change again.",
                    code="not_owned",
                    params={
                        "name": name,
                        "names": names,
                        "owner": owner._meta.verbose_name,
                        "id": form[pk_name].data or "(none)",
                    },
                )


class OwnRowsInline:
    """Every inline of the editor, at every level: its formset saves the edited object's own rows only."""

    formset = OwnRowsFormSet

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)  # a class made for this call
        formset.row_names = (self.verbose_name, self.verbose_name_plural)
        return formset


class ErrorCodeInline(OwnRowsInline, nested_admin.NestedTabularInline):
    model = ErrorCode
    extra = 0


class ChoiceInline(OwnRowsInline, nested_admin.NestedTabularInline):
    model = Choice
    fk_name = "step"
    fields = ["position", "label", "outcome", "next_step"]
    sortable_field_name = "position"
    extra = 0
    verbose_name = "answer"
    verbose_name_plural = "answers"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "next_step":
            # Only this checker's steps make sense as a next step (steps added on this page: after saving).
            checker_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = (
                Step.objects.filter(checker_id=checker_id).select_related("checker").order_by("position", "pk")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class StepLinkInline(OwnRowsInline, nested_admin.NestedTabularInline):
    model = StepLink
    fields = ["position", "label", "url"]
    sortable_field_name = "position"
    extra = 0
    verbose_name = "action link"


class StepInline(OwnRowsInline, nested_admin.NestedStackedInline):
    model = Step
    fields = ["position", ("key", "title"), "question", ("body", "body_preview")]
    readonly_fields = ["body_preview"]
    sortable_field_name = "position"
    inlines = [ChoiceInline, StepLinkInline]
    extra = 0
    classes = ["steps"]

    @admin.display(description="Preview")
    def body_preview(self, obj):
        # Rendered and sanitised on save (rendering.py), exactly as sellers will see it.
        return format_html('<div class="md-preview">{}</div>', mark_safe(obj.body_html))  # noqa: S308


def flow_problems(request, checker: Checker) -> None:
    for problem in versions.draft_flow(checker).problems():
        messages.warning(request, f"{checker.title}: {problem} The draft is saved; it can't be published like this.")


class VersionedPagesMixin:
    """The publish, history and restore pages a checker's and an article's admin both have.

    Each admin names what differs: how its draft is read, checked, compared, published and restored."""

    draft_of = None  # item → its content-file dict
    problems_in = None  # content-file dict → problems that refuse a publish
    changes_between = None  # (old dict, new dict) → [Change]
    publish_item = None  # versions.publish or versions.publish_article
    restore_item = None  # versions.restore or versions.restore_article
    published_note = ""  # said after "Version N of … is live."
    restored_message = "Version {number} is back in the draft; publish to go live."

    def _item(self, request, object_id, permission: str):
        """The checker or article, with its live version, for a user who holds `permission`."""
        if not request.user.has_perm(f"troubleshoot.{permission}"):
            raise PermissionDenied
        return get_object_or_404(self.model.objects.select_related("category", "live_version"), pk=object_id)

    def _page(self, request, item, template, title, **context):
        name = self.model._meta.model_name  # "checker" or "article": the templates' folder and variable
        return TemplateResponse(
            request,
            [f"admin/troubleshoot/{name}/{template}", f"admin/troubleshoot/{template}"],
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "original": item,
                name: item,
                "title": title,
                **context,
            },
        )

    def publish_view(self, request, object_id):
        """Check the draft, show what would change, and publish it with a note (under the item's row lock)."""
        name = self.model._meta.model_name
        item = self._item(request, object_id, f"publish_{name}")
        live = item.live_version
        live_number = live.number if live else 0
        # The editor's page says which version was live when they opened the draft; if another was published since,
        # they see it here before anything happens, and publishing from this page would be refused anyway.
        opened = params.optional_number(request.GET, "base", highest=live_number)
        base = live_number if opened is None else opened
        problems, error = [], ""
        if request.method == "POST" and (posted_base := params.number(request.POST.get("base"))) is None:
            error = "This form didn't say which version it was opened on. Nothing was published: reload the page."
        elif request.method == "POST":
            try:
                version = self.publish_item(
                    item, user=request.user, note=request.POST.get("note", "").strip(), base=posted_base
                )
            except versions.PublishConflict as conflict:
                messages.error(request, str(conflict))
                return redirect(f"admin:troubleshoot_{name}_versions", item.pk)
            except versions.PublishRefused as refused:
                problems = refused.problems
            else:
                messages.success(request, f"Version {version.number} of {item.title} is live.{self.published_note}")
                return redirect(f"admin:troubleshoot_{name}_change", item.pk)
        draft = self.draft_of(item)
        problems = problems or self.problems_in(draft)
        return self._page(
            request,
            item,
            "publish.html",
            f"Publish {item.title}",
            live=live,
            base=base,
            published_since=base != live_number,
            problems=problems,
            error=error,
            changes=self.changes_between(live.data if live else {}, draft),
        )

    def restore_view(self, request, object_id, number):
        name = self.model._meta.model_name
        item = self._item(request, object_id, f"publish_{name}")
        if not item.versions.filter(number=number).exists():
            raise Http404(f"This {name} has no version {number}.")
        if request.method != "POST":
            return redirect(f"admin:troubleshoot_{name}_versions", item.pk)
        self.restore_item(item, number)
        messages.success(request, self.restored_message.format(number=number))
        return redirect(f"admin:troubleshoot_{name}_change", item.pk)


class CheckerChangeList(ChangeList):
    """The checker list counts steps and runs for the page shown only, in one grouped query each. As annotations
    (sortable columns) the database counted them for every checker before sorting: 5,000 subqueries, a quarter of a
    second a page at 200,000 runs. Sellers' use of checkers, sorted, is on the review pages."""

    def get_results(self, request):
        super().get_results(request)
        shown = list(self.result_list)
        ids = [checker.pk for checker in shown]
        steps = dict(Step.objects.filter(checker__in=ids).values_list("checker").annotate(n=Count("pk")).order_by())
        # COUNT(*): a run's key (a UUID) isn't in the (checker, started_at) index, so COUNT(id) read every run's row.
        runs = dict(Run.objects.filter(checker__in=ids).values_list("checker").annotate(n=Count("*")).order_by())
        for checker in shown:
            checker.step_total, checker.run_total = steps.get(checker.pk, 0), runs.get(checker.pk, 0)
        self.result_list = shown


@admin.register(Checker)
class CheckerAdmin(VersionedPagesMixin, nested_admin.NestedModelAdmin):
    list_display = ["title", "slug", "category", "is_published", "live", "step_count", "run_count"]
    list_filter = ["category", "is_published"]
    search_fields = ["title", "slug", "symptom", "signatures", "error_codes__code"]
    list_per_page = 50  # as the review pages: the admin's own rendering of a row is what costs here
    show_full_result_count = False
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["live", "draft_status", "flow_picture", "view_on_site_link"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "category", "symptom", "is_published", "position", "view_on_site_link"]}),
        ("Search and support", {"fields": ["signatures", "support_hint"], "classes": ["collapse"]}),
        ("The draft's flow", {"fields": ["draft_status", "flow_picture"]}),
    ]
    inlines = [ErrorCodeInline, StepInline]
    change_form_template = "admin/troubleshoot/checker/change_form.html"
    draft_of = staticmethod(versions.draft_data)
    problems_in = staticmethod(versions.flow_problems)
    changes_between = staticmethod(versions.diff)
    publish_item = staticmethod(versions.publish)
    restore_item = staticmethod(versions.restore)
    published_note = " New runs walk it."
    restored_message = (
        "Version {number}'s steps are back in the draft. Runs in progress are unaffected; publish to go live."
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("category").annotate(live_number=F("live_version__number"))

    def get_changelist(self, request, **kwargs):
        return CheckerChangeList

    @admin.display(description="Live version", ordering="live_number")
    def live(self, obj):
        return f"Version {obj.live_number}" if obj.live_number else "Not published yet"

    @admin.display(description="Published")
    def draft_status(self, obj):
        if not obj.pk or not obj.live_version_id:
            return "Not published yet: sellers can't see this checker."
        number = obj.live_version.number
        if not versions.has_unpublished_changes(obj):
            return f"Version {number} is live; the draft below is the same."
        url = reverse("admin:troubleshoot_checker_diff", args=[obj.pk]) + f"?old={number}"
        return format_html(
            'Version {} is live. <strong>The draft below has unpublished changes</strong> (<a href="{}">see them</a>).',
            number,
            url,
        )

    @admin.display(description="Steps")
    def step_count(self, obj):
        return obj.step_total

    @admin.display(description="Runs")
    def run_count(self, obj):
        url = reverse("admin:troubleshoot_run_changelist") + f"?checker__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.run_total)

    @admin.display(description="Seller's page")
    def view_on_site_link(self, obj):
        if not obj.pk:
            return "-"
        return format_html('<a href="{}" target="_blank">{}</a>', obj.get_absolute_url(), obj.slug)

    @admin.display(description="Flow picture")
    def flow_picture(self, obj):
        if not obj.pk:
            return "Save the checker to see its flow."
        return render_to_string(
            "admin/troubleshoot/checker/flow.html", {"picture": flowpicture.picture(versions.draft_flow(obj))}
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        flow_problems(request, form.instance)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("markdown-preview/", wrap(self.markdown_preview), name="troubleshoot_markdown_preview"),
            path("<int:object_id>/publish/", wrap(self.publish_view), name="troubleshoot_checker_publish"),
            path("<int:object_id>/history/", wrap(self.versions_view), name="troubleshoot_checker_versions"),
            path("<int:object_id>/diff/", wrap(self.diff_view), name="troubleshoot_checker_diff"),
            path(
                "<int:object_id>/restore/<int:number>/",
                wrap(self.restore_view),
                name="troubleshoot_checker_restore",
            ),
            *super().get_urls(),
        ]

    def markdown_preview(self, request):
        """The editor's live preview: Markdown typed in a step, rendered and sanitised exactly as sellers get it."""
        may_edit = request.user.has_perm("troubleshoot.change_checker") or request.user.has_perm(
            "troubleshoot.change_article"
        )
        if request.method != "POST" or not may_edit:
            raise PermissionDenied
        return HttpResponse(render_markdown(request.POST.get("body", "")[:20000]))

    def versions_view(self, request, object_id):
        checker = self._item(request, object_id, "view_checker")
        rows = (
            CheckerVersion.objects.filter(checker=checker)
            .select_related("created_by")
            .annotate(run_total=Count("runs"))
            .defer("data")
            .order_by("-number")
        )
        return self._page(
            request,
            checker,
            "history.html",
            f"History of {checker.title}",
            versions=rows,
            can_restore=request.user.has_perm("troubleshoot.publish_checker"),
        )

    def diff_view(self, request, object_id):
        checker = self._item(request, object_id, "view_checker")
        numbers = [params.optional_number(request.GET, name, lowest=1) for name in ("old", "new")]
        asked = {n for n in numbers if n is not None}
        found = {v.number: v for v in CheckerVersion.objects.filter(checker=checker, number__in=asked)}
        if asked - found.keys():
            raise Http404(f"{checker.title} has no version {min(asked - found.keys())}.")
        old, new = (found.get(n) for n in numbers)
        new_data = new.data if new else versions.draft_data(checker)  # no "new": compare with the draft
        return self._page(
            request,
            checker,
            "diff.html",
            f"Changes in {checker.title}",
            old=old,
            new=new,
            changes=versions.diff(old.data if old else {}, new_data),
        )


@admin.register(Article)
class ArticleAdmin(VersionedPagesMixin, admin.ModelAdmin):
    """An article's title, summary and body are its draft; Publish, Versions and Restore work as for checkers."""

    list_display = ["title", "slug", "category", "is_published", "live", "updated_at"]
    list_filter = ["is_published", "category"]
    search_fields = ["title", "summary", "body"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["checkers"]
    readonly_fields = ["draft_status", "body_preview"]
    fields = [
        *("title", "slug", "summary", "category", "checkers", "is_published"),
        *("draft_status", "body", "body_preview"),
    ]
    change_form_template = "admin/troubleshoot/article/change_form.html"
    draft_of = staticmethod(versions.article_data)
    problems_in = staticmethod(versions.article_problems)
    changes_between = staticmethod(versions.diff_article)
    publish_item = staticmethod(versions.publish_article)
    restore_item = staticmethod(versions.restore_article)
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
            path("<int:object_id>/history/", wrap(self.versions_view), name="troubleshoot_article_versions"),
            path(
                "<int:object_id>/restore/<int:number>/",
                wrap(self.restore_view),
                name="troubleshoot_article_restore",
            ),
            *super().get_urls(),
        ]

    def versions_view(self, request, object_id):
        article = self._item(request, object_id, "view_article")
        rows = list(ArticleVersion.objects.filter(article=article).select_related("created_by").order_by("-number"))
        for row in rows:
            row.changes = None  # the first version has nothing before it
        for older, newer in zip(rows[1:], rows, strict=False):
            newer.changes = versions.diff_article(older.data, newer.data)
        return self._page(
            request,
            article,
            "history.html",
            f"History of {article.title}",
            versions=rows,
            can_restore=request.user.has_perm("troubleshoot.publish_article"),
        )
