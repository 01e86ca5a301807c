"""The form a CSV file of learners or staff is chosen in, for its preview."""

from crispy_forms.helper import FormHelper
from django import forms

from people.imports import MAX_BYTES


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label="What the file lists",
        choices=[
            ("learners", "Learners, each registered for a qualification or single units"),
            ("staff", "Staff, with their roles"),
        ],
        widget=forms.RadioSelect,
        initial="learners",
    )
    file = forms.FileField(
        label="The CSV file",
        help_text=f"Saved from a spreadsheet as CSV, up to {MAX_BYTES // 1024} KB. Nothing is "
        "imported until you have seen what it will do.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size // 1024} KB; at most {MAX_BYTES // 1024} KB can be "
                "imported at once: split it."
            )
        return upload
