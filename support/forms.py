"""Forms for a seller's support request, the request queue and what sellers tell us (feedback, follow-ups)."""

import re

from django import forms
from django.core import validators
from django.core.exceptions import ValidationError

from helpcenter.roles import reviewers
from troubleshoot.models import FollowUp

from .models import ArticleFeedback, SupportRequest


class SupportRequestForm(forms.ModelForm):
    class Meta:
        model = SupportRequest
        fields = ["email", "description", "error_message", "settlement_id", "recording_url"]
        labels = {
            "email": "Your email",
            "description": "What happened?",
            "error_message": "The exact error message (optional)",
            "settlement_id": "Settlement ID (optional)",
            "recording_url": "Link to a screenshot or screen recording (optional)",
        }
        help_texts = {
            "email": "Support replies here. Use the email you log in with.",
            "description": "What you tried and what you saw. Your answers in this checker are sent too.",
            "error_message": "Copy and paste it if you can.",
            "recording_url": "For example a Loom link. http or https only.",
        }
        error_messages = {
            "email": {"required": "Please give the email support should reply to."},
            "description": {"required": "Please tell us what happened."},
        }
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "description": forms.Textarea(attrs={"rows": 5, "maxlength": 5000}),
            "error_message": forms.Textarea(attrs={"rows": 2, "maxlength": 2000}),
            "recording_url": forms.URLInput(attrs={"placeholder": "https://www.loom.com/share/…"}),
        }

    def clean_description(self) -> str:
        description = self.cleaned_data["description"].strip()
        if not description:
            raise forms.ValidationError("Please tell us what happened.")
        return description


class RequestUpdateForm(forms.ModelForm):
    class Meta:
        model = SupportRequest
        fields = ["status", "assignee", "internal_note"]
        widgets = {"internal_note": forms.Textarea(attrs={"rows": 4, "maxlength": 5000})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = reviewers()


class AskSupportForm(forms.ModelForm):
    """From a search that found no guide (no run): the seller's email, what happened (their search, to start with)
    and the message they pasted, sent as the error message."""

    class Meta:
        model = SupportRequest
        fields = ["email", "description", "error_message"]
        labels = {
            "email": "Your email",
            "description": "What happened?",
            "error_message": "The message you searched for (sent with your request)",
        }
        help_texts = {
            "email": "Support replies here. Use the email you log in with.",
            "description": "What you were doing and what you saw.",
        }
        error_messages = {
            "email": {"required": "Please give the email support should reply to."},
            "description": {"required": "Please tell us what happened."},
        }
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "description": forms.Textarea(attrs={"rows": 4, "maxlength": 5000}),
            "error_message": forms.Textarea(attrs={"rows": 2, "maxlength": 2000}),
        }

    @classmethod
    def for_search(cls, query: str) -> "AskSupportForm":
        """The form as the search page offers it: the seller's search in both boxes."""
        query = query.strip()
        return cls(initial={"description": query[:5000], "error_message": query[:2000]})

    def clean_description(self) -> str:
        description = self.cleaned_data["description"].strip()
        if not description:
            raise forms.ValidationError("Please tell us what happened.")
        return description


class ArticleFeedbackForm(forms.ModelForm):
    helpful = forms.TypedChoiceField(
        choices=[("yes", "Yes"), ("no", "No")], coerce=lambda value: value == "yes", widget=forms.HiddenInput
    )

    class Meta:
        model = ArticleFeedback
        fields = ["helpful", "comment"]
        labels = {"comment": "What was missing? (optional)"}
        widgets = {"comment": forms.Textarea(attrs={"rows": 2, "maxlength": 1000})}


class FollowUpForm(forms.Form):
    """At a resolved ending: the email to ask "Still fixed?" in a few days."""

    email = forms.EmailField(
        label="Your email (optional)",
        help_text="We'll ask in a few days whether it's still fixed. Nothing else is sent.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


FOLLOWUP_ANSWERS = {"fixed": FollowUp.FIXED, "came-back": FollowUp.CAME_BACK}


REFERENCE = re.compile(r"(?:HC-?)?([A-HJ-NP-Z2-9]{6})")  # a reference as `new_reference` draws them, HC- optional


class QueueForm(forms.Form):
    """The request queue's tab, "Assigned to me" and search (GET). Anything else in the URL is ignored."""

    status = forms.ChoiceField(choices=[*SupportRequest.Status.choices, ("all", "All")], required=False)
    mine = forms.BooleanField(required=False, label="Assigned to me")
    q = forms.CharField(
        required=False,
        max_length=254,
        label="Reference or seller's email",
        help_text="HC-7K3Q9D, or the seller's whole email address.",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )

    def clean_q(self) -> dict:
        """The search as one exact filter: {"reference": …} or {"email": …}, or {} for no search."""
        text = self.cleaned_data["q"].strip()
        if not text:
            return {}
        if found := REFERENCE.fullmatch(text.upper()):
            return {"reference": "HC-" + found[1]}
        try:
            validators.validate_email(text)
        except ValidationError:
            raise ValidationError(
                "Search by a request's reference (HC-7K3Q9D) or a seller's whole email address."
            ) from None
        return {"email": text}

    def choices(self) -> dict:
        """The tab ("new" unless asked), mine and the search, bad input read as none."""
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "status": data.get("status") or SupportRequest.Status.NEW,
            "mine": data.get("mine", False),
            "search": data.get("q", {}),
        }


class BulkStatusForm(forms.Form):
    """The queue's "change the status of the chosen requests" (POST)."""

    requests = forms.ModelMultipleChoiceField(
        queryset=SupportRequest.objects.only("pk", "reference", "status"),
        to_field_name="reference",
        error_messages={"required": "Choose the requests to change first."},
    )
    status = forms.ChoiceField(choices=SupportRequest.Status.choices, label="Status")

    def clean_requests(self):
        chosen = self.cleaned_data["requests"]
        if len(chosen) > BULK_MOST:
            raise ValidationError(f"Change at most {BULK_MOST} requests at a time.")
        return chosen


BULK_MOST = 200
