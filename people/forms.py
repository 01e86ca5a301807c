import datetime

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Fieldset, Layout
from django import forms
from django.utils import timezone

from people.services import (
    LearnerDetails,
    NewPerson,
    UnitStaff,
    email_problem,
    workplace_problem,
)
from portfolio.forms import EnrolmentForm
from portfolio.models import ROLE_FLAGS, EqaGrant, Portfolio, Role, User, Workplace
from portfolio.uln import normalise

NAME_MAX = User._meta.get_field("first_name").max_length


class LearnerDetailsFields(forms.Form):
    """A learner's Unique Learner Number and date of birth, for the awarding body's claims."""

    uln = forms.CharField(
        label="Unique Learner Number (ULN)",
        required=False,
        max_length=20,  # spaces typed inside it are taken out
        help_text="10 digits, from the Learning Records Service; leave empty if not known.",
    )
    date_of_birth = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Sent with the claim to the awarding body, if the centre holds it.",
    )

    def clean_uln(self) -> str:
        return normalise(self.cleaned_data["uln"])

    def learner_details(self) -> LearnerDetails:
        return LearnerDetails(
            uln=self.cleaned_data["uln"], date_of_birth=self.cleaned_data["date_of_birth"]
        )


class RegistrationForm(LearnerDetailsFields, EnrolmentForm):
    """A learner registered in one post: a new person (invited by e-mail) or one already
    known, entered for a qualification or single units (the enrolment form's choice of units),
    with an assessor and an IQA for every unit and, where a unit differs, its own."""

    first_name = forms.CharField(max_length=NAME_MAX, required=False)
    last_name = forms.CharField(max_length=NAME_MAX, required=False)
    email = forms.EmailField(
        required=False,
        label="E-mail address",
        help_text="Their invitation to set a password is sent here.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        learner = self.fields["learner"]
        learner.required = False
        learner.label = "Someone already registered"
        learner.empty_label = "No: a new person (below)"
        learner.help_text = "Choose a learner already known, or leave this and add a new person."
        self.fields["assessor"].help_text = "For every unit, unless the unit has its own below."
        self.fields["iqa"].help_text = "For every unit, unless the unit has its own below."
        self.unit_fields = []
        for pk, unit in self.units_by_pk.items():
            self.fields[f"assessor_{pk}"] = forms.ModelChoiceField(
                queryset=self.fields["assessor"].queryset,
                required=False,
                label=f"Assessor for unit {unit.code}",
                empty_label="As for every unit",
            )
            self.fields[f"iqa_{pk}"] = forms.ModelChoiceField(
                queryset=self.fields["iqa"].queryset,
                required=False,
                label=f"IQA for unit {unit.code}",
                empty_label="As for every unit",
            )
            self.unit_fields += [f"assessor_{pk}", f"iqa_{pk}"]
        self.helper.layout = Layout(
            Fieldset(
                "The learner",
                "learner",
                "first_name",
                "last_name",
                "email",
                "uln",
                "date_of_birth",
            ),
            Fieldset("What they are entered for", "start_date", "units"),
            Fieldset(
                "Who assesses and quality-assures",
                "assessor",
                "iqa",
                HTML(
                    '<details class="mb-3"{% if form.unit_fields_open %} open{% endif %}>'
                    "<summary>A different assessor or IQA for some units</summary>"
                    '<div class="mt-2">'
                ),
                *self.unit_fields,
                HTML("</div></details>"),
            ),
            Fieldset("Where they work", "organisation", "site", "sector", "job_role"),
        )

    @property
    def unit_fields_open(self) -> bool:
        return any(self[name].value() or self.errors.get(name) for name in self.unit_fields)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("learner") is None:
            for name, what in (("first_name", "first name"), ("last_name", "last name")):
                if not cleaned.get(name, "").strip() and name not in self.errors:
                    self.add_error(name, f"Enter the new learner's {what}, or choose a learner.")
            problem = "email" not in self.errors and email_problem(cleaned.get("email", ""))
            if problem:
                self.add_error("email", problem)
        return cleaned

    def registration(self) -> dict:
        """The cleaned form as ``people.services.learner_register``'s arguments (but ``by``
        and ``site_url``)."""
        data = self.cleaned_data
        staff = UnitStaff(assessor=data["assessor"], iqa=data["iqa"])
        per_unit = {}
        for unit in data["unit_objects"]:
            assessor, iqa = data.get(f"assessor_{unit.pk}"), data.get(f"iqa_{unit.pk}")
            if assessor or iqa:
                per_unit[unit.pk] = UnitStaff(
                    assessor=assessor or staff.assessor, iqa=iqa or staff.iqa
                )
        return {
            "learner": data["learner"]
            or NewPerson(
                first_name=data["first_name"], last_name=data["last_name"], email=data["email"]
            ),
            "qualification": self.qualification,
            "units": data["unit_objects"],
            "staff": staff,
            "per_unit": per_unit,
            "organisation": data["organisation"],
            "site": data["site"],
            "sector": data["sector"],
            "job_role": data["job_role"],
            "start_date": data["start_date"],
            "details": self.learner_details(),
        }


class StaffForm(LearnerDetailsFields):
    """A person's name, e-mail address, roles and whether their account is active, and a
    learner's ULN and date of birth."""

    first_name = forms.CharField(max_length=NAME_MAX)
    last_name = forms.CharField(max_length=NAME_MAX)
    email = forms.EmailField(
        label="E-mail address", help_text="A new person's invitation is sent here."
    )
    roles = forms.TypedMultipleChoiceField(
        choices=[(role.value, role.label) for role in ROLE_FLAGS],
        coerce=Role,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one role."},
    )
    is_active = forms.BooleanField(
        label="The account is active",
        required=False,
        initial=True,
        help_text="Someone whose account is not active cannot sign in.",
    )
    workplaces = forms.ModelMultipleChoiceField(
        queryset=Workplace.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Line manager at",
        help_text="The workplaces whose learners they follow. A contact there with their "
        "e-mail address is linked to their account; otherwise one is added.",
    )

    def __init__(self, *args, user: User | None = None, **kwargs):
        if user is not None:
            kwargs["initial"] = {
                "first_name": user.first_name,
                "last_name": user.last_name,
                "email": user.email,
                "roles": [role.value for role in user.roles],
                "is_active": user.is_active,
                "uln": user.uln,
                "date_of_birth": user.date_of_birth,
                "workplaces": list(user.workplace_contacts.values_list("workplace_id", flat=True)),
            }
        super().__init__(*args, **kwargs)
        self.fields["workplaces"].queryset = Workplace.objects.order_by(
            "organisation", "site", "pk"
        )
        self.order_fields(["first_name", "last_name", "email", "roles", "is_active"])
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "first_name",
            "last_name",
            "email",
            "roles",
            "is_active",
            Fieldset("For a learner: what the awarding body's claims need", "uln", "date_of_birth"),
            Fieldset("For an employer: where they are a line manager", "workplaces"),
        )

    def clean(self):
        cleaned = super().clean()
        roles, workplaces = cleaned.get("roles") or [], cleaned.get("workplaces")
        problem = "roles" not in self.errors and workplace_problem(roles, workplaces)
        if problem:
            self.add_error("workplaces", problem)
        return cleaned


class EqaGrantForm(forms.Form):
    """An EQA's access: the whole centre or chosen portfolios, until the end of a day."""

    eqa = forms.ModelChoiceField(queryset=User.objects.none(), label="External quality assurer")
    whole_centre = forms.BooleanField(
        required=False,
        label="The whole centre",
        help_text="Every portfolio of the centre, including ones added later.",
    )
    portfolios = forms.ModelMultipleChoiceField(
        queryset=Portfolio.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    until = forms.DateField(
        label="Until the end of",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="The access ends at midnight at the end of this day.",
    )
    reason = forms.CharField(
        max_length=EqaGrant._meta.get_field("reason").max_length,
        required=False,
        help_text="For example the visit date.",
    )

    def __init__(self, *args, grant: EqaGrant | None = None, **kwargs):
        if grant is not None:
            kwargs["initial"] = {
                "eqa": grant.eqa_id,
                "whole_centre": grant.whole_centre,
                "portfolios": [p.pk for p in grant.portfolios.all()],
                # The day it ends at the end of (or ended on, if ended early).
                "until": (
                    timezone.localtime(grant.expires_at) - datetime.timedelta(microseconds=1)
                ).date(),
                "reason": grant.reason,
            }
        super().__init__(*args, **kwargs)
        self.fields["eqa"].queryset = User.objects.filter(is_eqa=True, is_active=True)
        self.fields["portfolios"].queryset = Portfolio.objects.select_related(
            "learner", "unit"
        ).order_by("learner__last_name", "learner__first_name", "learner__pk", "unit__code")
        self.helper = FormHelper()
        self.helper.form_tag = False

    def chosen(self) -> set[int]:
        """The portfolios ticked, as sent or as granted."""
        values = self["portfolios"].value() or []
        return {int(value) for value in values if str(value).isdigit()}
