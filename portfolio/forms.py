import dataclasses
import re
import uuid

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout, Submit
from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import get_text_list

from portfolio import limits
from portfolio.budgets import UploadBudget
from portfolio.enrolments import choice_problems
from portfolio.files import ACCEPT_ATTRIBUTE, PreparedFile, prepare_upload
from portfolio.limits import ShowsLimits
from portfolio.models import (
    EvidenceFile,
    EvidenceItem,
    Portfolio,
    Sector,
    User,
    WitnessTestimony,
    Workplace,
)
from units.models import Criterion, EvidenceContext, Qualification, Unit

DECLARATION = (
    "I declare that this evidence is my own work, that it comes from dealing with real "
    "customers, and that I have removed customers' personal details."
)
WITNESS_DECLARATION = (
    "I confirm that this statement is a true account of what I saw, and that I am not a "
    "relative of the learner."
)


def declaration_field(**kwargs) -> forms.BooleanField:
    """The learner's declaration, ticked to submit evidence."""
    return forms.BooleanField(
        label=DECLARATION,
        error_messages={"required": "Tick the declaration to submit this evidence."},
        **kwargs,
    )


def ask_declaration(form: forms.BaseForm, *, submitting: bool, refusal: str) -> None:
    """Make a form's optional declaration required when the person submits, with ``refusal``
    as its error: a draft is saved without it."""
    declaration = form.fields["declaration"]
    declaration.required = submitting
    declaration.error_messages["required"] = refusal


class TypedWorkplaceForm(forms.ModelForm):
    """A portfolio form on which the workplace is typed as text (organisation, site, sector):
    ``workplace()`` finds the workplace record with the same text
    (``Workplace.objects.matching``) or makes one, so that learners at one workplace share it
    and no form changes a record others share."""

    WORKPLACE_FIELDS = ["organisation", "site", "sector"]

    organisation = forms.CharField(
        max_length=Workplace._meta.get_field("organisation").max_length,
        help_text="The organisation where the learner deals with customers.",
    )
    site = forms.CharField(
        max_length=Workplace._meta.get_field("site").max_length,
        required=False,
        help_text="The branch, office or site, where the organisation has several.",
    )
    sector = forms.ChoiceField(
        choices=Sector.choices, help_text="The unit accepts evidence from any of these."
    )

    def __init__(self, *args, **kwargs):
        instance = kwargs.get("instance")
        if instance is not None and instance.workplace_id:
            workplace = instance.workplace
            kwargs["initial"] = {
                "organisation": workplace.organisation,
                "site": workplace.site,
                "sector": workplace.sector,
                **(kwargs.get("initial") or {}),
            }
        super().__init__(*args, **kwargs)

    def workplace(self) -> Workplace:
        """The workplace record the cleaned form names, found or made."""
        return Workplace.objects.matching(
            **{name: self.cleaned_data[name] for name in self.WORKPLACE_FIELDS}
        )


class WorkplaceForm(TypedWorkplaceForm):
    """The learner's workplace details; the job role is their own, not the workplace's."""

    class Meta:
        model = Portfolio
        fields = ["job_role"]
        help_texts = {"job_role": "Your job title, paid or voluntary."}

    field_order = ["organisation", "site", "sector", "job_role"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].help_text = "The organisation where you deal with customers."
        self.fields["site"].help_text = "The branch, office or site you work at, if it has several."
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", "Save workplace"))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class EvidenceFilesField(forms.FileField):
    """Several files at once, each checked by content; cleans to a list of PreparedFile.

    The files of one save, and those its person (``person_id``, set by the form) added in the
    last 24 hours, are kept within the upload budgets (``portfolio.budgets``)."""

    widget = MultipleFileInput
    person_id: int | None = None

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)
        self.widget.attrs["accept"] = ACCEPT_ATTRIBUTE

    def clean(self, data, initial=None) -> list[PreparedFile]:
        uploads = data if isinstance(data, list | tuple) else [data] if data else []
        most = settings.EVIDENCE_MAX_FILES_AT_ONCE
        if len(uploads) > most:
            raise forms.ValidationError(
                f"You chose {len(uploads)} files; at most {most} can be added at once. Nothing "
                f"was saved: choose up to {most}, save, then add the rest."
            )
        prepared, errors = [], []
        budget = UploadBudget(self.person_id)
        for upload in uploads:
            try:
                prepared.append(prepare_upload(upload, budget=budget))
            except forms.ValidationError as error:
                errors.extend(error.messages)
        if errors:
            errors.append("Nothing was saved: choose the files again once they are put right.")
            raise forms.ValidationError(errors)
        return prepared


def add_submission_key(form: forms.BaseForm) -> None:
    """Give a form that creates evidence its one-time key, made when the form is shown: posting
    the same form again finds the item it made (``EvidenceItem.submission_key``)."""
    form.fields["submission_key"] = forms.UUIDField(widget=forms.HiddenInput, required=False)
    if not form.is_bound:
        form.initial["submission_key"] = uuid.uuid4()


def submitted_key(form: forms.BaseForm) -> uuid.UUID | None:
    """The one-time key a bound form was posted with, read before the form is validated (so
    that nothing of a repeated post is checked or stored); None if it has none."""
    try:
        return uuid.UUID(str(form.data.get("submission_key", "")))
    except ValueError:
        return None


def refuse_repeated_files(portfolio: Portfolio, files: list[PreparedFile]) -> list[PreparedFile]:
    """``files``, unless one is already in a unit of the portfolio's enrolment (where one item
    can count in every unit) or chosen twice: then a ValidationError names each such file and
    where it is. A photo is re-encoded when stored, so a file is compared as it was sent as well
    as as it is stored."""
    if not files:
        return files
    hashes = {f.uploaded_sha256 for f in files} | {f.sha256 for f in files}
    earlier = (
        EvidenceFile.objects.filter(
            evidence__portfolio__enrolment_id=portfolio.enrolment_id, purged_at__isnull=True
        )
        .filter(Q(uploaded_sha256__in=hashes) | Q(sha256__in=hashes))
        .select_related("evidence__portfolio__unit")
        .order_by("uploaded_at", "pk")
    )
    found: dict[str, EvidenceFile] = {}
    for stored in earlier:
        found.setdefault(stored.uploaded_sha256, stored)
        found.setdefault(stored.sha256, stored)
    errors, chosen = [], {}
    for prepared in files:
        stored = found.get(prepared.uploaded_sha256) or found.get(prepared.sha256)
        if stored is not None:
            uploaded = timezone.localtime(stored.uploaded_at)
            day = date_format(
                uploaded, "j F" if uploaded.year == timezone.localdate().year else "j F Y"
            )
            kept = stored.evidence.portfolio
            # In another unit, it can count here too, claimed here.
            where = "" if kept.pk == portfolio.pk else f" in unit {kept.unit.code}"
            errors.append(
                f"{prepared.original_name} is already uploaded to '{stored.evidence.title}'"
                f"{where} on {day}; it was not added again."
                + (" Claim this unit's criteria on that evidence instead." if where else "")
            )
        elif first := chosen.get(prepared.uploaded_sha256):
            errors.append(
                f"{prepared.original_name} is the same file as {first.original_name}, chosen "
                "twice; choose it once."
            )
        chosen.setdefault(prepared.uploaded_sha256, prepared)
    if errors:
        errors.append("Nothing was saved: choose the files again without the repeated ones.")
        raise forms.ValidationError(errors)
    return files


@dataclasses.dataclass
class CriteriaGroup:
    """One folded group of criteria to tick: a learning outcome's criteria of one kind."""

    title: str
    options: list  # the field's BoundWidgets, one per criterion
    open: bool = False

    @property
    def ticked(self) -> int:
        return sum(1 for option in self.options if option.data["selected"])


@dataclasses.dataclass
class CriteriaSection:
    """The groups of one kind of criterion: performance, or knowledge and understanding."""

    legend: str
    groups: list[CriteriaGroup] = dataclasses.field(default_factory=list)


KIND_LEGENDS = {
    Criterion.Kind.PERFORMANCE: "Performance: what you did",
    Criterion.Kind.KNOWLEDGE: "Knowledge: what you know and understand",
}


class CriterionChoiceField(forms.ModelMultipleChoiceField):
    """Criteria to tick. Given their ``units`` (in the order shown), here or later by
    ``arrange``, they are grouped for ``includes/criteria_groups.html``: performance and
    knowledge apart, each grouped by unit (where there are several) and learning outcome,
    every group folded with the count ticked in it."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, queryset, *, units: list[Unit] | None = None, **kwargs):
        super().__init__(queryset, **kwargs)
        # (kind, group title) -> the criteria's ids, in the order shown.
        self.groups: dict[tuple[str, str], list[int]] = {}
        if units is not None:
            self.arrange(units)

    def arrange(self, units: list[Unit]) -> None:
        """Group the criteria of the field's queryset, which are of ``units``."""
        order = {unit.pk: index for index, unit in enumerate(units)}
        criteria = sorted(
            self.queryset.select_related("outcome", "unit"),
            key=lambda c: (c.kind != Criterion.Kind.PERFORMANCE, order[c.unit_id], c.position),
        )
        several = len(units) > 1
        self.groups = {}
        for criterion in criteria:
            outcome = criterion.outcome
            title = f"Unit {criterion.unit.code}: " * several + f"{outcome.number} {outcome.title}"
            self.groups.setdefault((criterion.kind, title), []).append(criterion.pk)
        labels = {c.pk: self.label_from_instance(c) for c in criteria}
        self.choices = [
            (f"{KIND_LEGENDS[kind]}. {title}", [(pk, labels[pk]) for pk in pks])
            for (kind, title), pks in self.groups.items()
        ]

    def label_from_instance(self, criterion: Criterion) -> str:
        return f"{criterion.label} {criterion.wording}"

    def sections(self, bound_field: forms.BoundField) -> list[CriteriaSection]:
        """The bound field's checkboxes in their sections and groups. A group holding a tick
        is open, and every group is when the field has an error but nothing is ticked."""
        options = {option.data["value"]: option for option in bound_field.subwidgets}
        sections: dict[str, CriteriaSection] = {}
        for (kind, title), pks in self.groups.items():
            section = sections.setdefault(kind, CriteriaSection(KIND_LEGENDS[kind]))
            group = CriteriaGroup(title, [options[pk] for pk in pks])
            group.open = group.ticked > 0
            section.groups.append(group)
        groups = [group for section in sections.values() for group in section.groups]
        if bound_field.errors and not any(group.open for group in groups):
            for group in groups:
                group.open = True
        return list(sections.values())


def not_in_future(day):
    """Evidence records what has happened: its date cannot be after today."""
    if day > timezone.localdate():
        raise forms.ValidationError("The date it happened cannot be in the future.")
    return day


_CONTACT_DETAILS = re.compile(r"@|(?:\d[\s().-]*){7,}")


def _evidence_layout(fields) -> Layout:
    """How the evidence form shows its fields: the criteria grouped and folded, short choices
    in two columns on a phone and the customer beside their reference, so that the form fits
    two phone screens until a group of criteria is opened."""
    shown = []
    for name in fields:
        if name == "claimed_criteria":
            shown.append(Field(name, template="includes/criteria_groups.html"))
        elif name in ("method", "setting"):
            shown.append(Field(name, wrapper_class="choice-columns"))
        elif name == "customer":
            shown.append(
                Div(
                    Div("customer", css_class="col-6"),
                    Div("customer_reference", css_class="col-6"),
                    css_class="row g-2",
                )
            )
        elif name != "customer_reference":
            shown.append(name)
    return Layout(*shown)


class EvidenceForm(ShowsLimits, forms.ModelForm):
    """The learner's evidence, new or changed; ``submitting`` (the "Save and submit" button)
    asks for the declaration too."""

    files = EvidenceFilesField(
        label="Add files",
        help_text="",
    )
    declaration = declaration_field(required=False)

    class Meta:
        model = EvidenceItem
        fields = [
            "title",
            "method",
            "occurred_on",
            "contexts",
            "setting",
            "customer",
            "customer_reference",
            "account",
            "claimed_criteria",
        ]
        widgets = {
            "title": forms.TextInput(attrs={"placeholder": "e.g. Angry caller about a refund"}),
            "method": forms.RadioSelect,
            "occurred_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "contexts": forms.CheckboxSelectMultiple,
            "setting": forms.RadioSelect,
            "customer": forms.RadioSelect,
            "account": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"customer": "Customer"}
        help_texts = {
            "title": "",
            "contexts": "",
            "customer_reference": "Your own label, never their name or details.",
            "account": "What you did and why.",
        }

    def __init__(self, *args, portfolio: Portfolio, submitting: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.portfolio = portfolio
        self.submitting = submitting
        ask_declaration(
            self,
            submitting=submitting,
            refusal="Tick the declaration to submit this evidence, or choose Save draft to keep "
            "it as a draft. Nothing was saved.",
        )
        self.fields["files"].person_id = portfolio.learner_id
        # One item can show criteria of every open unit of the enrolment: this one first.
        open_units = Portfolio.objects.filter(
            Q(pk=portfolio.pk)
            | Q(enrolment_id=portfolio.enrolment_id, status=Portfolio.Status.IN_PROGRESS)
        ).select_related("unit")
        units = [
            p.unit for p in sorted(open_units, key=lambda p: (p.pk != portfolio.pk, p.unit.code))
        ]
        self.units = units
        several = len(units) > 1
        contexts = self.fields["contexts"]
        contexts.queryset = EvidenceContext.objects.filter(unit__in=units).select_related("unit")
        contexts.label_from_instance = (
            (lambda c: f"Unit {c.unit.code}: {c.letter} {c.description}")
            if several
            else (lambda c: f"{c.letter} {c.description}")
        )
        # Grouped and folded, so 27 boxes read as a few short lists opened one at a time.
        self.fields["claimed_criteria"] = CriterionChoiceField(
            queryset=Criterion.objects.filter(unit__in=units),
            units=units,
            required=False,
            label="Criteria you believe it covers",
            help_text="Tick those it shows; your assessor decides.",
        )
        self.fields["method"].choices = [
            choice
            for choice in EvidenceItem.Method.choices
            if choice[0] != EvidenceItem.Method.QUESTIONING
        ]
        self.fields["setting"].choices = EvidenceItem.Setting.choices
        self.fields["setting"].required = False
        self.fields["customer"].choices = EvidenceItem.Customer.choices
        self.fields["customer"].required = False
        if self.instance.pk is None:
            add_submission_key(self)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = _evidence_layout(self.fields)

    def clean_occurred_on(self):
        return not_in_future(self.cleaned_data["occurred_on"])

    def clean_files(self):
        return refuse_repeated_files(self.portfolio, self.cleaned_data["files"])

    def clean_customer_reference(self):
        reference = self.cleaned_data["customer_reference"].strip()
        if _CONTACT_DETAILS.search(reference):
            raise forms.ValidationError(
                "Use your own label for the customer (for example 'Customer 3'), not their "
                "e-mail address or phone number."
            )
        return reference

    def clean(self):
        cleaned = super().clean()
        claimed = cleaned.get("claimed_criteria") or []
        performance = [c for c in claimed if c.is_performance]
        if not performance:
            return cleaned
        several = len(self.units) > 1
        # Each unit's own rules, for the performance criteria claimed in it.
        for unit in self.units:
            in_unit = [c for c in performance if c.unit_id == unit.pk]
            if not in_unit:
                continue
            codes = get_text_list(
                [c.label_with_unit if several else c.label for c in in_unit], "and"
            )
            name = f"Unit {unit.code}" if several else "This unit"
            if not EvidenceItem.setting_counts_as_work(cleaned.get("setting"), unit):
                self.add_error(
                    "claimed_criteria",
                    f"{name} does not allow simulation for performance evidence, so simulated "
                    f"evidence cannot claim {codes}. Change the setting or untick those criteria.",
                )
            if "contexts" in cleaned and not any(c.unit_id == unit.pk for c in cleaned["contexts"]):
                self.add_error(
                    "contexts",
                    "Evidence that claims performance criteria must show at least one context"
                    + f" of unit {unit.code}" * several
                    + f"; this claims {codes}.",
                )
        for name, message in [
            ("setting", "Say where this happened: performance evidence must come from work."),
            ("customer", "Say whether the customer was internal or external."),
            (
                "customer_reference",
                "Give the customer a reference (for example 'Customer 3') so different "
                "customers can be counted.",
            ),
        ]:
            if name in cleaned and not cleaned[name]:
                self.add_error(name, message)
        return cleaned


class KnowledgeAnswerForm(ShowsLimits, forms.Form):
    """An answer to a knowledge question; ``submitting`` asks for the declaration too."""

    answer = forms.CharField(
        max_length=EvidenceItem._meta.get_field("account").max_length,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="Answer in your own words, with examples from your job where you can.",
    )
    declaration = declaration_field(required=False)

    def __init__(self, *args, submitting: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        ask_declaration(
            self,
            submitting=submitting,
            refusal="Tick the declaration to submit your answer, or choose Save draft to keep "
            "it as a draft. Nothing was saved.",
        )
        self.helper = FormHelper()
        self.helper.form_tag = False


class SubmitEvidenceForm(forms.Form):
    declaration = declaration_field()

    def __init__(self, *args, evidence: EvidenceItem, **kwargs):
        super().__init__(*args, **kwargs)
        self.evidence = evidence
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Submit for assessment"))

    def clean(self):
        cleaned = super().clean()
        if problem := self.evidence.submit_problem():
            raise forms.ValidationError(problem)
        return cleaned


class SubmitManyForm(forms.Form):
    """Several of the learner's items that count in a portfolio, submitted with one declaration.

    ``waiting`` is every item of theirs there that is a draft or referred back; ``problems``
    says, for those that cannot be submitted yet, why not (they are shown without a box, and
    refused if ticked all the same)."""

    evidence = forms.ModelMultipleChoiceField(
        queryset=EvidenceItem.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Tick the evidence to submit: nothing is ticked, so nothing was submitted.",
            "invalid_choice": "Nothing was submitted: one of the ticked items is not a draft or "
            "referred-back item of yours in this portfolio (it may have been submitted from "
            "another tab). The list below is as it is now.",
            "invalid_pk_value": "Nothing was submitted: one of the ticked items is not evidence "
            "of this portfolio.",
        },
    )
    declaration = declaration_field()

    def __init__(self, *args, waiting: list[EvidenceItem], problems: dict[int, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.waiting = waiting
        self.problems = problems
        self.fields["evidence"].queryset = EvidenceItem.objects.filter(
            pk__in=[item.pk for item in waiting]
        ).select_related("portfolio__learner", "portfolio__assessor")
        self.fields["declaration"].error_messages["required"] = (
            "Tick the declaration to submit the evidence: nothing was submitted."
        )

    @staticmethod
    def unchanged(item: EvidenceItem) -> bool:
        """Referred back and not changed since (``reviewed_at``, annotated by the page)."""
        reviewed_at = getattr(item, "reviewed_at", None)
        return (
            item.status == EvidenceItem.Status.REFERRED_BACK
            and reviewed_at is not None
            and item.updated_at <= reviewed_at
        )

    def ticked(self) -> set[int]:
        """The items ticked: as posted, or, before a post, every one that can be submitted,
        except an item referred back that the learner has not changed since."""
        if not self.is_bound:
            return {
                item.pk
                for item in self.waiting
                if item.pk not in self.problems and not self.unchanged(item)
            }
        ticked = set()
        for value in self.data.getlist("evidence"):
            try:
                ticked.add(int(value))
            except ValueError:
                continue
        return ticked

    def rows(self) -> list[tuple[EvidenceItem, str | None, bool, bool]]:
        """Each waiting item, why it cannot be submitted yet (or None), whether it is ticked,
        and whether it is referred back and unchanged since."""
        ticked = self.ticked()
        return [
            (item, self.problems.get(item.pk), item.pk in ticked, self.unchanged(item))
            for item in self.waiting
        ]

    def clean_evidence(self):
        chosen = list(self.cleaned_data["evidence"])
        refused = [
            f"'{item.title}' cannot be submitted yet: {self.problems[item.pk]}"
            for item in chosen
            if item.pk in self.problems
        ]
        if refused:
            raise forms.ValidationError(
                [*refused, "Nothing was submitted: untick it, or put it right first."]
            )
        order = {item.pk: index for index, item in enumerate(self.waiting)}
        return sorted(chosen, key=lambda item: order[item.pk])


class WitnessTestimonyForm(ShowsLimits, forms.ModelForm):
    class Meta:
        model = WitnessTestimony
        fields = [
            "witness_name",
            "witness_job_title",
            "relationship",
            "not_a_relative",
            "witness_email",
            "statement",
        ]
        widgets = {"statement": forms.Textarea(attrs={"rows": 8})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["not_a_relative"].required = True
        self.fields["not_a_relative"].error_messages["required"] = (
            "A relative cannot be your witness: choose someone else, such as a manager or a "
            "colleague."
        )
        self.helper = FormHelper()
        self.helper.form_id = "witness-form"
        self.helper.add_input(Submit("save", "Save witness details"))
        self.helper.add_input(Submit("send", "Save and e-mail it to the witness"))


class WitnessConfirmForm(forms.Form):
    typed_name = forms.CharField(label="Type your full name", max_length=200)
    declaration = forms.BooleanField(
        label=WITNESS_DECLARATION,
        error_messages={"required": "Tick the declaration to confirm the statement."},
    )

    def __init__(self, *args, testimony: WitnessTestimony, **kwargs):
        super().__init__(*args, prefix="confirm", **kwargs)
        self.testimony = testimony
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_typed_name(self):
        typed = " ".join(self.cleaned_data["typed_name"].split())
        expected = " ".join(self.testimony.witness_name.split())
        if typed.casefold() != expected.casefold():
            raise forms.ValidationError(
                f"Type your name as the learner gave it ({expected}). If that is not your name, "
                "decline the statement and say why."
            )
        return typed


class WitnessDeclineForm(ShowsLimits, forms.Form):
    reason = forms.CharField(
        label="Why are you declining?",
        max_length=limits.NOTE,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The learner and their assessor will see this.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="decline", **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class EnrolmentUnitsForm(forms.Form):
    """The units chosen for an enrolment, and what a unit added starts with. With a
    qualification, its loaded units grouped as the qualification groups them (a unit not loaded
    yet is not offered); for single units, every unit in the catalogue."""

    units = forms.TypedMultipleChoiceField(
        coerce=int, widget=forms.CheckboxSelectMultiple, label="Units", required=False
    )
    assessor = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, help_text="For each unit added."
    )
    iqa = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        label="IQA",
        help_text="For each unit added; never the assessor.",
    )
    # The workplace typed as everywhere else (found or made by Workplace.objects.matching).
    organisation = TypedWorkplaceForm.base_fields["organisation"]
    site = TypedWorkplaceForm.base_fields["site"]
    sector = forms.ChoiceField(
        choices=[("", "Not known yet"), *Sector.choices],
        required=False,
        help_text="The unit accepts evidence from any of these.",
    )
    job_role = forms.CharField(
        max_length=Portfolio._meta.get_field("job_role").max_length,
        required=False,
        help_text="The learner's job title, paid or voluntary, if known.",
    )

    def __init__(self, *args, qualification=None, enrolment=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.qualification = qualification
        self.not_loaded = []
        if qualification is not None:
            structured = Qualification.objects.with_structure().get(pk=qualification.pk)
            self.structure = structured
            choices = []
            for group in structured.groups.all():
                listings = list(group.listings.all())
                self.not_loaded += [listing for listing in listings if listing.unit_id is None]
                loaded = [listing for listing in listings if listing.unit_id is not None]
                if loaded:
                    choices.append(
                        (
                            f"{group.name} ({group.get_kind_display().lower()})",
                            [(listing.unit_id, _listing_label(listing)) for listing in loaded],
                        )
                    )
            self.units_by_pk = {
                listing.unit_id: listing.unit
                for group in structured.groups.all()
                for listing in group.listings.all()
                if listing.unit_id
            }
            mandatory = [
                listing.unit_id
                for group in structured.groups.all()
                if group.is_mandatory
                for listing in group.listings.all()
                if listing.unit_id
            ]
        else:
            catalogue = list(Unit.objects.order_by("awarding_body", "code"))
            choices = [(unit.pk, f"{unit.label}: {unit.title}") for unit in catalogue]
            self.units_by_pk = {unit.pk: unit for unit in catalogue}
            mandatory = []
        self.fields["units"].choices = choices
        self.fields["assessor"].queryset = User.objects.filter(
            is_assessor=True, is_active=True
        ).order_by("last_name", "first_name", "username")
        self.fields["iqa"].queryset = User.objects.filter(is_iqa=True, is_active=True).order_by(
            "last_name", "first_name", "username"
        )
        first = None
        if enrolment is not None:
            current = list(enrolment.portfolios.select_related("workplace").order_by("pk"))
            first = current[0] if current else None
            self.initial.setdefault("units", [p.unit_id for p in current])
        else:
            self.initial.setdefault("units", mandatory)
        if first is not None:
            for name in ("assessor", "iqa", "job_role"):
                self.initial.setdefault(name, getattr(first, name))
            for name in ("organisation", "site", "sector"):
                self.initial.setdefault(name, getattr(first.workplace, name))
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean(self):
        cleaned = super().clean()
        units = [self.units_by_pk[pk] for pk in cleaned.get("units", [])]
        cleaned["unit_objects"] = units
        if problems := choice_problems(self.qualification, units):
            for problem in problems:
                self.add_error("units", problem)
        assessor, iqa = cleaned.get("assessor"), cleaned.get("iqa")
        if assessor and iqa and assessor == iqa:
            self.add_error("iqa", "The IQA must not be the assessor.")
        return cleaned


def _listing_label(listing) -> str:
    return (
        f"Unit {listing.code}: {listing.title} (level {listing.level}, {listing.credits} credits)"
    )


class EnrolmentForm(EnrolmentUnitsForm):
    """A learner entered for a qualification or single units, from a date, with the units."""

    learner = forms.ModelChoiceField(queryset=User.objects.none())
    start_date = forms.DateField(
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    field_order = ["learner", "start_date", "units"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["learner"].queryset = User.objects.filter(
            is_learner=True, is_active=True
        ).order_by("last_name", "first_name", "username")
        self.order_fields(self.field_order)


class NotificationSettingsForm(forms.ModelForm):
    """How a person has their messages e-mailed; every message is in the app whatever they
    choose."""

    class Meta:
        model = User
        fields = ["notification_email"]
        widgets = {"notification_email": forms.RadioSelect}
        labels = {"notification_email": "E-mail me"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["notification_email"].help_text = (
            "Every message is shown on your Messages page whatever you choose. The digest comes "
            "once a day, listing what arrived since the last one."
        )
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", "Save"))
