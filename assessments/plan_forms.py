"""The forms of the assessment plan: an activity the assessor plans, the change the learner asks
for, and the evidence linked to an activity."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout
from django import forms
from django.utils import timezone
from django.utils.formats import date_format

from assessments.models import AssessmentPlan, PlanActivity
from portfolio import limits
from portfolio.forms import CriterionChoiceField
from portfolio.limits import ShowsLimits
from portfolio.models import EvidenceItem, Portfolio
from units.models import Criterion, EvidenceContext


def _day(day) -> str:
    return date_format(day, "j F Y")


class ActivityForm(ShowsLimits, forms.ModelForm):
    """One activity of a draft: what, by which method, by when, the criteria and contexts of
    the enrolment's units it is meant to cover, and where and when an observation happens."""

    class Meta:
        model = PlanActivity
        fields = [
            "title",
            "method",
            "target_date",
            "details",
            "criteria",
            "contexts",
            "place",
            "planned_for",
        ]
        widgets = {
            "title": forms.TextInput(attrs={"placeholder": "e.g. Observation at a busy time"}),
            "details": forms.Textarea(attrs={"rows": 3}),
            "target_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "contexts": forms.CheckboxSelectMultiple,
            "planned_for": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }
        labels = {
            "title": "Activity",
            "details": "What the learner will do",
            "target_date": "Target date",
            "contexts": "Contexts it is meant to show",
            "place": "Where the observation will happen",
            "planned_for": "When the observation will happen",
        }
        help_texts = {
            "place": "Needed for an observation.",
            "planned_for": "The day and time agreed, if known.",
        }

    def __init__(self, *args, plan: AssessmentPlan, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.enrolment = plan.enrolment
        units = [
            portfolio.unit
            for portfolio in Portfolio.objects.filter(enrolment_id=plan.enrolment_id)
            .select_related("unit")
            .order_by("unit__code", "pk")
        ]
        several = len(units) > 1
        self.fields["method"].choices = [("", "Choose a method"), *EvidenceItem.Method.choices]
        self.fields["criteria"] = CriterionChoiceField(
            queryset=Criterion.objects.filter(unit__in=units),
            units=units,
            required=False,
            label="Criteria it is meant to cover",
            help_text="Of the units the learner is entered for.",
            error_messages={
                "invalid_choice": "Choose criteria of the units this learner is entered for "
                "only: %(value)s is not one of them."
            },
        )
        contexts = self.fields["contexts"]
        contexts.queryset = (
            EvidenceContext.objects.filter(unit__in=units)
            .select_related("unit")
            .order_by("unit__code", "letter")
        )
        contexts.required = False
        contexts.error_messages["invalid_choice"] = (
            "Choose contexts of the units this learner is entered for only: %(value)s is not "
            "one of them."
        )
        contexts.label_from_instance = (
            (lambda c: f"Unit {c.unit.code}: {c.letter} {c.description}")
            if several
            else (lambda c: f"{c.letter} {c.description}")
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "title",
            Div(
                Div("method", css_class="col-sm-6"),
                Div("target_date", css_class="col-sm-6"),
                css_class="row g-2",
            ),
            "details",
            Field("criteria", template="assessments/plan_criteria.html"),
            "contexts",
            Div(
                Div("place", css_class="col-sm-6"),
                Div("planned_for", css_class="col-sm-6"),
                css_class="row g-2",
            ),
        )

    def clean_target_date(self):
        day = self.cleaned_data["target_date"]
        start = self.enrolment.start_date
        if day < start:
            raise forms.ValidationError(
                f"The target date cannot be before the learner started, on {_day(start)}."
            )
        return day

    def clean(self):
        data = super().clean()
        method, place = data.get("method"), (data.get("place") or "").strip()
        if method == EvidenceItem.Method.OBSERVATION and not place:
            self.add_error("place", "An observation needs a place: say where it will happen.")
        planned_for, target = data.get("planned_for"), data.get("target_date")
        if planned_for and target and timezone.localdate(planned_for) > target:
            self.add_error(
                "planned_for",
                f"The observation is planned after the target date ({_day(target)}): "
                "move one of them.",
            )
        start = self.enrolment.start_date
        if planned_for and timezone.localdate(planned_for) < start:
            self.add_error(
                "planned_for",
                f"The observation cannot be before the learner started, on {_day(start)}.",
            )
        return data

    def values(self) -> dict:
        """The activity's fields as the service saves them."""
        data = self.cleaned_data
        return {
            "title": data["title"].strip(),
            "details": data["details"],
            "method": data["method"],
            "target_date": data["target_date"],
            "place": data["place"].strip(),
            "planned_for": data["planned_for"],
        }


class ChangeForm(ShowsLimits, forms.Form):
    """What the learner would like changed in the plan waiting for them."""

    reason = forms.CharField(
        label="What would you like changed?",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=limits.NOTE,
        error_messages={
            "required": "Say what you would like changed, so your assessor can revise the plan."
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class LinkForm(forms.Form):
    """An item of the enrolment's evidence to link to an activity, or to unlink from it."""

    evidence = forms.ModelChoiceField(
        queryset=EvidenceItem.objects.none(),
        label="Evidence",
        error_messages={
            "required": "Choose the evidence to link.",
            "invalid_choice": "That evidence is not one you may link to this plan.",
        },
    )

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evidence"].queryset = choices
