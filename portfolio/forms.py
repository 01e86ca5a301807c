from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from portfolio.models import Portfolio


class WorkplaceForm(forms.ModelForm):
    class Meta:
        model = Portfolio
        fields = ["organisation", "sector", "job_role"]
        help_texts = {
            "organisation": "The organisation where you deal with customers.",
            "sector": "The unit accepts evidence from any of these.",
            "job_role": "Your job title, paid or voluntary.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", "Save workplace"))
