"""The review pages' forms: the runs page's filters, the gap inbox's handling."""

from django import forms
from django.utils.html import format_html_join

from helpcenter.roles import reviewers
from troubleshoot.models import Checker, CheckerVersion, Platform, Run

from .models import GapItem
from .readouts import INCIDENT_CHOICES, UNKNOWN_PLATFORM


class RunFilterForm(forms.Form):
    """The runs page's filters; the CSV export reads the same ones."""

    # A slug, with every checker's as suggestions (`checker_options`, fetched when the field is first focused: a
    # <select> of 5,000 checkers took 0.3 s to render, and even as a datalist they made the page 540 KB).
    checker = forms.SlugField(required=False, max_length=50, widget=forms.TextInput(attrs={"list": "checker-slugs"}))
    version = forms.IntegerField(required=False, min_value=1, max_value=100000)
    source = forms.ChoiceField(required=False, choices=[("", "Any source"), *Run.Source.choices])
    code = forms.CharField(required=False, max_length=40, label="Error code")
    platform = forms.ChoiceField(
        required=False,
        choices=[("", "Any platform"), *Platform.choices, (UNKNOWN_PLATFORM, "Not known")],
        help_text="The seller's accounting platform, from their link, visit or answer.",
    )
    outcome = forms.ChoiceField(
        required=False,
        choices=[("", "Any outcome"), *Run.Outcome.choices, (Run.ABANDONED, "Abandoned")],
    )
    incident = forms.ChoiceField(
        required=False,
        label="Known incident",
        choices=[("", "With or without"), *INCIDENT_CHOICES],
    )

    @staticmethod
    def checker_options() -> str:
        """The suggestions for the checker field: every checker's slug, labelled with its title (one query)."""
        return format_html_join(
            "", '<option value="{}">{}</option>', Checker.objects.order_by("title").values_list("slug", "title")
        )

    def filters(self) -> dict:
        return self.cleaned_data if self.is_valid() else {}


class GapItemForm(forms.Form):
    """The gap inbox's "handle this gap": assign it, note it, mark it handled or not (POST). The gap is named by its
    key as the page lists it (`Gap.key`); the page's period and "Show handled" come back in `back-…` fields."""

    ACTIONS = [("save", "Save"), ("handled", "Mark handled"), ("reopen", "Not handled")]

    source = forms.ChoiceField(choices=GapItem.Source.choices)
    version = forms.ModelChoiceField(queryset=CheckerVersion.objects.all(), required=False)
    key = forms.CharField(max_length=500)
    assignee = forms.ModelChoiceField(queryset=reviewers(), required=False)
    note = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    action = forms.ChoiceField(choices=ACTIONS)

    def clean(self):
        data = super().clean()
        source, version = data.get("source"), data.get("version")
        if source and (version is not None) != (source in GapItem.CHECKER_SOURCES):
            raise forms.ValidationError("That gap is not one the inbox lists.")
        return data

    def gap_key(self) -> tuple:
        data = self.cleaned_data
        return (data["source"], data["version"].pk if data["version"] else None, data["key"])
