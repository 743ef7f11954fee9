"""Forms for the review pages (filters, the request queue) and for what sellers tell us (feedback, follow-ups)."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.html import format_html_join

from troubleshoot.models import Checker, FollowUp, Run

from .models import ArticleFeedback, SupportRequest


class RunFilterForm(forms.Form):
    """The runs page's filters; the CSV export reads the same ones."""

    # A slug, with every checker's as suggestions (`checker_options`, fetched when the field is first focused: a
    # <select> of 5,000 checkers took 0.3 s to render, and even as a datalist they made the page 540 KB).
    checker = forms.SlugField(required=False, max_length=50, widget=forms.TextInput(attrs={"list": "checker-slugs"}))
    version = forms.IntegerField(required=False, min_value=1, max_value=100000)
    source = forms.ChoiceField(required=False, choices=[("", "Any source"), *Run.Source.choices])
    code = forms.CharField(required=False, max_length=40, label="Error code")
    outcome = forms.ChoiceField(
        required=False,
        choices=[("", "Any outcome"), *Run.Outcome.choices, (Run.ABANDONED, "Abandoned")],
    )
    incident = forms.ChoiceField(
        required=False,
        label="Known incident",
        choices=[("", "With or without"), ("during", "Started during one"), ("outside", "Outside any")],
    )

    @staticmethod
    def checker_options() -> str:
        """The suggestions for the checker field: every checker's slug, labelled with its title (one query)."""
        return format_html_join(
            "", '<option value="{}">{}</option>', Checker.objects.order_by("title").values_list("slug", "title")
        )

    def filters(self) -> dict:
        return self.cleaned_data if self.is_valid() else {}


class RequestUpdateForm(forms.ModelForm):
    class Meta:
        model = SupportRequest
        fields = ["status", "assignee", "internal_note"]
        widgets = {"internal_note": forms.Textarea(attrs={"rows": 4, "maxlength": 5000})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        reviewers = Q(is_superuser=True) | Q(groups__name="Reviewers")
        self.fields["assignee"].queryset = (
            get_user_model().objects.filter(reviewers, is_active=True).distinct().order_by("username")
        )


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
