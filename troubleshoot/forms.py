"""Forms for the seller's journey. Every field has a bound on its size; nothing typed is lost on an error."""

from django import forms

from .models import Answer, Run

NONE_FIT_NEEDS_A_LINE = "Tell us in a line what's different for you, so support can pick it up from there."


class AnswerForm(forms.Form):
    """An answer to a step: the key of the step the seller saw and the number of the answer they chose (0 first)."""

    step = forms.SlugField(max_length=60)
    answer = forms.IntegerField(min_value=0, max_value=999)
    # With "None of these fit" (answer `Answer.NONE_FIT`): the seller's line on what is different.
    note = forms.CharField(max_length=300, required=False)
    # Sent from an earlier step's page (the browser's Back): answering it withdraws the answers after it first.
    again = forms.BooleanField(required=False)

    def clean(self):
        data = super().clean()
        if data.get("answer") == Answer.NONE_FIT and not data.get("note", "").strip():
            raise forms.ValidationError(NONE_FIT_NEEDS_A_LINE, code="none_fit_note")
        data["note"] = " ".join(data.get("note", "").split())
        return data


class PreviewForm(AnswerForm):
    """An answer in a preview: the answers so far travel with it, because a preview stores nothing."""

    path = forms.RegexField(r"^(\d{1,3}(\.\d{1,3}){0,199})?$", required=False)


class StartForm(AnswerForm):
    """The first answer, which starts a run with the id minted when the page was shown.

    An unknown source is logged as direct by `flow.start_run`, which owns that rule.
    """

    run = forms.UUIDField()
    source = forms.CharField(max_length=10, required=False)
    source_detail = forms.CharField(max_length=200, required=False)
    code = forms.CharField(max_length=40, required=False)


class FixedNoteForm(forms.ModelForm):
    class Meta:
        model = Run
        fields = ["fixed_note"]
        labels = {"fixed_note": "What fixed it? (optional)"}
        help_texts = {"fixed_note": "A line helps us improve this checker for the next person."}
        widgets = {"fixed_note": forms.Textarea(attrs={"rows": 3, "maxlength": 2000})}


class BackForm(forms.Form):
    """Back names the answer it undoes, so a repeated Back undoes it once."""

    answer = forms.IntegerField(min_value=1)
