"""The filter of the claims list: the days whose claims are shown or exported."""

from crispy_forms.helper import FormHelper
from django import forms


class ClaimsFilterForm(forms.Form):
    """The days whose claims are listed or exported, both included; either may be left empty."""

    start = forms.DateField(
        label="From",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label="To",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", "The last day comes before the first: swap them.")
        return cleaned

    def parameters(self) -> dict:
        """The days asked for, as the export keeps them."""
        return {
            "from": self.cleaned_data["start"].isoformat() if self.cleaned_data["start"] else "",
            "to": self.cleaned_data["end"].isoformat() if self.cleaned_data["end"] else "",
        }
