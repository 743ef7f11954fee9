"""Forms for the seller's journey. Every field has a bound on its size; nothing typed is lost on an error."""

from django import forms

from .models import Run, SupportRequest


class AnswerForm(forms.Form):
    """An answer to a step: the key of the step the seller saw and the number of the answer they chose (0 first)."""

    step = forms.SlugField(max_length=60)
    answer = forms.IntegerField(min_value=0, max_value=999)


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


class BackForm(forms.Form):
    """Back names the answer it undoes, so a repeated Back undoes it once."""

    answer = forms.IntegerField(min_value=1)
