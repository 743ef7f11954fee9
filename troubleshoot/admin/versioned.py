"""The pages beside an editor that checkers and articles share: publish, versions, the diff, restore."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from helpcenter import params

from .. import versions

NO_BASE = "This form didn't say which version it was opened on. Nothing was published: reload the page."


class VersionedPagesMixin:
    """The publish, history and restore pages a checker's and an article's admin both have.

    Each admin names what differs: how its draft is read, checked, compared, published and restored."""

    draft_of = None  # item → its content-file dict
    problems_in = None  # content-file dict → problems that refuse a publish
    changes_between = None  # (old dict, new dict) → [Change]
    publish_item = None  # versions.publish or versions.publish_article
    restore_item = None  # versions.restore or versions.restore_article
    restored_data = None  # (draft dict, version dict) → the draft's dict once the version is restored into it
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
        if request.method == "POST":
            done, problems, error = self._publish_posted(request, item)
            if done is not None:
                return done
        draft = self.draft_of(item)
        return self._page(
            request,
            item,
            "publish.html",
            f"Publish {item.title}",
            live=live,
            base=base,
            published_since=base != live_number,
            problems=problems or self.problems_in(draft),
            error=error,
            changes=self.changes_between(live.data if live else {}, draft),
            nothing_to_publish=live is not None and live.data == draft,
        )

    def _publish_posted(self, request, item):
        """Publish what the publish page posted: the redirect once done (or refused by a publish since), else the
        problems that refused it, or what was wrong with the form."""
        name = self.model._meta.model_name
        posted_base = params.number(request.POST.get("base"))
        if posted_base is None:
            return (
                None,
                [],
                "This form didn't say which version it was opened on. Nothing was published: reload the page.",
            )
        note = request.POST.get("note", "").strip()
        try:
            version = self.publish_item(item, user=request.user, note=note, base=posted_base)
        except versions.PublishConflict as conflict:
            messages.error(request, str(conflict))
            return redirect(f"admin:troubleshoot_{name}_versions", item.pk), [], ""
        except versions.PublishRefused as refused:
            return None, refused.problems, ""
        messages.success(request, f"Version {version.number} of {item.title} is live.{self.published_note}")
        return redirect(f"admin:troubleshoot_{name}_change", item.pk), [], ""

    def restore_view(self, request, object_id, number):
        """Restore a version into the draft (POST). A draft with changes since the live version is only replaced
        once the editor confirms on a page of its own, saying what it loses; the replaced draft is kept, and the
        editor offers to bring it back."""
        name = self.model._meta.model_name
        item = self._item(request, object_id, f"publish_{name}")
        version = item.versions.filter(number=number).first()
        if version is None:
            raise Http404(f"This {name} has no version {number}.")
        if request.method != "POST":
            return redirect(f"admin:troubleshoot_{name}_versions", item.pk)
        draft = self.draft_of(item)
        live = item.live_version
        if request.POST.get("confirm") != "yes" and (live is None or live.data != draft):
            return self._page(
                request,
                item,
                "restore.html",
                f"Restore version {number} of {item.title}?",
                version=version,
                changes=self.changes_between(draft, self.restored_data(draft, version.data)),
            )
        kept = self.restore_item(item, number, user=request.user)
        message = self.restored_message.format(number=number)
        if kept is not None:
            message += " The draft it replaced is kept: the editor can bring it back."
        messages.success(request, message)
        return redirect(f"admin:troubleshoot_{name}_change", item.pk)

    def response_change(self, request, obj):
        """Saved: back to the editor, or on to the page a link of the editor led to ("Publish…" with unsaved
        changes saves them first, then goes there; the editor's script posts the link as `_continue_to`)."""
        response = super().response_change(request, obj)
        target = request.POST.get("_continue_to", "")
        local = target.startswith("/") and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        return redirect(target) if local and response.status_code == 302 else response

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The editor offers back the draft the last restore replaced (to those who may restore).
        if obj is not None and request.user.has_perm(f"troubleshoot.publish_{self.model._meta.model_name}"):
            context["replaced_draft"] = versions.replaced_draft(obj)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def bring_back_view(self, request, object_id, kept_id):
        """Put back the draft a restore replaced (POST): the editor's "Bring back the draft you replaced"."""
        name = self.model._meta.model_name
        item = self._item(request, object_id, f"publish_{name}")
        kept = versions.replaced_draft(item)
        if request.method != "POST" or kept is None or kept.pk != kept_id:
            messages.warning(request, "That draft can no longer be brought back: nothing was changed.")
            return redirect(f"admin:troubleshoot_{name}_change", item.pk)
        versions.bring_back(kept, user=request.user)
        when = timezone.localtime(kept.created_at)
        messages.success(request, f"The draft you replaced on {when:%d %b %Y at %H:%M} is back. Publish to go live.")
        return redirect(f"admin:troubleshoot_{name}_change", item.pk)
