"""The review pages' forms: the runs page's filters."""

from django import forms
from django.utils.html import format_html_join

from troubleshoot.models import Checker, Run


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
