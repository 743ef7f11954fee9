"""Forms for the request queue and for what sellers tell us (feedback, follow-ups)."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from helpcenter.roles import REVIEWERS
from troubleshoot.models import FollowUp

from .models import ArticleFeedback, SupportRequest


class RequestUpdateForm(forms.ModelForm):
    class Meta:
        model = SupportRequest
        fields = ["status", "assignee", "internal_note"]
        widgets = {"internal_note": forms.Textarea(attrs={"rows": 4, "maxlength": 5000})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        reviewers = Q(is_superuser=True) | Q(groups__name=REVIEWERS)
        self.fields["assignee"].queryset = (
            get_user_model().objects.filter(reviewers, is_active=True).distinct().order_by("username")
        )


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
