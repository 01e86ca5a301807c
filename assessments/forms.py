import re
from dataclasses import dataclass

from crispy_forms.helper import FormHelper
from django import forms
from django.contrib.auth import authenticate
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from assessments.models import EqaReview, IqaSample, Mapping, SampleRate, StandardisationMeeting
from portfolio import limits
from portfolio.budgets import UploadBudget
from portfolio.files import prepare_upload
from portfolio.forms import (
    CriterionChoiceField,
    EvidenceFilesField,
    add_submission_key,
    not_in_future,
    refuse_repeated_files,
)
from portfolio.limits import ShowsLimits
from portfolio.models import Claim, EvidenceItem, Portfolio, User
from units.models import Criterion


class _Form(ShowsLimits, forms.Form):
    """A form rendered inside a template's own <form> tag; its text areas show their limits."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


DECISIONS = [("accept", "Accept"), ("refer_back", "Refer back to the learner")]


@dataclass
class CriterionRow:
    """One criterion on the review screen: its tick, where it is shown, whether it is claimed."""

    criterion: Criterion
    label: str
    tick: forms.BoundField
    note: forms.BoundField
    claimed: bool


@dataclass
class CriterionGroup:
    """The criteria of one learning outcome of one unit on the review screen."""

    heading: str
    rows: list[CriterionRow]


class EvidenceReviewForm(_Form):
    """The assessor's review of one item in one screen, saved in one post: accept or refer back
    (while it awaits review), the criteria it shows in any unit of the learner's enrolment that
    they assess, each with where it is shown (its own note, or the note for all), and the
    feedback. A criterion confirmed before and unticked here is no longer confirmed. Referred
    back, the criteria ticked are kept with the review and offered ticked again when the
    evidence returns."""

    decision = forms.ChoiceField(choices=DECISIONS, widget=forms.RadioSelect)
    note = forms.CharField(
        label="Where it is shown",
        max_length=limits.NOTE,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept with every criterion ticked that has no note of its own. For example: "
        "'second paragraph: lets the customer finish before replying'.",
    )
    feedback = forms.CharField(
        max_length=limits.COMMENT,
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Required when referring back: say what the learner needs to do.",
    )

    def __init__(self, *args, evidence: EvidenceItem, user, reviewing: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.evidence, self.reviewing = evidence, reviewing
        if not reviewing:
            del self.fields["decision"]
        # The units of the enrolment this assessor assesses: one item can show several.
        self.criteria = list(
            Criterion.objects.filter(unit_id__in=evidence.units_assessed_by(user).values("unit_id"))
            .select_related("unit", "outcome")
            .order_by("unit__code", "position")
        )
        self.unit_ids = {c.unit_id for c in self.criteria}
        # Named by unit when any unit but the item's own is offered.
        self.several_units = bool(self.unit_ids - {evidence.portfolio.unit_id})
        # Prefetched by the evidence page.
        self.confirmed = {m.criterion_id: m for m in evidence.mappings.all()}
        self.claimed = {c.pk for c in evidence.claimed_criteria.all()}
        reviews = list(evidence.reviews.all())
        proposed = {}
        if reviews and reviews[-1].outcome == reviews[-1].Outcome.REFERRED_BACK:
            proposed = dict(reviews[-1].proposed_mappings)
        for criterion in self.criteria:
            label = self.label(criterion)
            self.fields[f"map_{criterion.pk}"] = forms.BooleanField(
                required=False,
                label=f"{label} {criterion.wording}",
                widget=forms.CheckboxInput(attrs={"class": "form-check-input map-tick"}),
            )
            self.fields[f"note_{criterion.pk}"] = forms.CharField(
                required=False,
                max_length=limits.NOTE,
                label=f"Where {label} is shown",
                widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
            )
            mapping = self.confirmed.get(criterion.pk)
            note = mapping.note if mapping else proposed.get(criterion.pk)
            if note is not None and not self.is_bound:
                self.initial[f"map_{criterion.pk}"] = True
                self.initial[f"note_{criterion.pk}"] = note

    def label(self, criterion: Criterion) -> str:
        return criterion.label_with_unit if self.several_units else criterion.label

    def _groups(self, criteria: list[Criterion]) -> list[CriterionGroup]:
        groups: dict = {}
        for criterion in criteria:
            outcome = criterion.outcome
            heading = f"{outcome.number} {outcome.title}"
            if self.several_units:
                heading = f"Unit {criterion.unit.code}: {heading}"
            groups.setdefault((criterion.unit_id, outcome.pk), CriterionGroup(heading, []))
            groups[criterion.unit_id, outcome.pk].rows.append(
                CriterionRow(
                    criterion,
                    self.label(criterion),
                    self[f"map_{criterion.pk}"],
                    self[f"note_{criterion.pk}"],
                    criterion.pk in self.claimed,
                )
            )
        return list(groups.values())

    def _offered_first(self, criterion: Criterion) -> bool:
        return (
            criterion.pk in self.claimed
            or criterion.pk in self.confirmed
            or bool(self[f"map_{criterion.pk}"].value())
        )

    def first_groups(self) -> list[CriterionGroup]:
        """The learner's claims, and whatever is confirmed or ticked already, by outcome."""
        return self._groups([c for c in self.criteria if self._offered_first(c)])

    def other_groups(self) -> list[tuple[str, int, list[CriterionGroup]]]:
        """Every other criterion, one fold per unit: (the unit's name, how many, its groups)."""
        rest = [c for c in self.criteria if not self._offered_first(c)]
        units = dict.fromkeys(c.unit for c in rest)
        return [
            (unit.label, len(in_unit), self._groups(in_unit))
            for unit in units
            for in_unit in [[c for c in rest if c.unit_id == unit.pk]]
        ]

    def clean(self):
        cleaned = super().clean()
        decision = cleaned.get("decision")
        if (
            decision == "refer_back"
            and "feedback" not in self.errors  # too long: that message is the one to show
            and not cleaned.get("feedback", "").strip()
        ):
            self.add_error("feedback", "Say what the learner needs to do: feedback is required.")
        shared = cleaned.get("note", "").strip()
        mappings, removed = {}, []
        for criterion in self.criteria:
            name = f"note_{criterion.pk}"
            if not cleaned.get(f"map_{criterion.pk}"):
                if criterion.pk in self.confirmed:
                    removed.append(criterion)
                continue
            note = cleaned.get(name, "").strip() or shared
            if note:
                mappings[criterion] = note
            elif name not in self.errors and "note" not in self.errors:
                self.add_error(
                    name,
                    f"Say where {self.label(criterion)} is shown, here or once under "
                    "'Where it is shown'.",
                )
        if not self.reviewing and not mappings and not removed:
            raise forms.ValidationError("Tick the criteria this evidence shows.")
        cleaned["mappings"], cleaned["removed"] = mappings, removed
        return cleaned


class AssessorRecordForm(ShowsLimits, forms.ModelForm):
    """The parts of an observation or discussion record that live on the evidence item."""

    criteria = CriterionChoiceField(
        queryset=Criterion.objects.none(), label="Criteria observed", required=False
    )
    note = forms.CharField(
        label="Where each criterion is shown",
        max_length=limits.NOTE,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept with every criterion ticked; you can refine each one afterwards.",
    )
    place = forms.CharField(max_length=200)
    duration_minutes = forms.IntegerField(label="Duration (minutes)", min_value=1, max_value=600)
    files = EvidenceFilesField(label="Files", help_text="Photos or notes made during the visit.")

    class Meta:
        model = EvidenceItem
        fields = [
            "title",
            "occurred_on",
            "contexts",
            "setting",
            "customer",
            "customer_reference",
            "account",
        ]
        labels = {"account": "What was observed", "occurred_on": "Date"}
        widgets = {
            "occurred_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "contexts": forms.CheckboxSelectMultiple,
            "setting": forms.RadioSelect,
            "customer": forms.RadioSelect,
            "account": forms.Textarea(attrs={"rows": 8}),
        }

    method = EvidenceItem.Method.OBSERVATION

    def __init__(self, *args, portfolio: Portfolio, **kwargs):
        super().__init__(*args, **kwargs)
        self.portfolio = portfolio
        self.fields["files"].person_id = portfolio.assessor_id  # who writes the record
        unit = portfolio.unit
        self.fields["contexts"].queryset = unit.contexts.all()
        self.fields["contexts"].label_from_instance = lambda c: f"{c.letter} {c.staff_description}"
        self.fields["criteria"].queryset = unit.criteria.order_by("position")
        self.fields["setting"].choices = EvidenceItem.Setting.choices
        self.fields["customer"].choices = EvidenceItem.Customer.choices
        self.instance.method = self.method
        add_submission_key(self)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_occurred_on(self):
        return not_in_future(self.cleaned_data["occurred_on"])

    def clean_files(self):
        return refuse_repeated_files(self.portfolio, self.cleaned_data["files"])

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("criteria") and not cleaned.get("note", "").strip():
            self.add_error("note", "Say where the criteria ticked are shown.")
        return cleaned

    def mapped_criteria(self) -> list[tuple[Criterion, str, int | None]]:
        note = self.cleaned_data.get("note", "")
        return [(criterion, note, None) for criterion in self.cleaned_data.get("criteria", [])]


_LINE = re.compile(
    r"^\s*(?P<code>[A-Za-z]+\d+)\s+(?:(?P<h>\d{1,2}):)?(?P<m>\d{1,3}):(?P<s>\d{2})\s*$"
)


class DiscussionForm(AssessorRecordForm):
    """A professional discussion: a recording and the criteria discussed, each with its time."""

    method = EvidenceItem.Method.DISCUSSION
    recording = forms.FileField(label="Recording of the discussion")
    discussed = forms.CharField(
        label="Criteria discussed, with the time in the recording",
        max_length=limits.STATEMENT,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="One per line: the NOS code, then minutes:seconds. For example 'K6 03:15'.",
    )

    class Meta(AssessorRecordForm.Meta):
        labels = {"account": "Summary of the discussion", "occurred_on": "Date"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ["criteria", "note", "place", "duration_minutes", "files"]:
            del self.fields[name]
        for name in ["contexts", "setting", "customer", "customer_reference"]:
            self.fields[name].required = False

    def clean_recording(self):
        budget = UploadBudget(self.portfolio.assessor_id)
        prepared = prepare_upload(self.cleaned_data["recording"], budget=budget)
        if prepared.kind != "audio":
            raise forms.ValidationError(
                f"{prepared.original_name} is not an audio recording: choose an MP3, M4A or WAV."
            )
        return prepared

    def clean_discussed(self):
        codes = {c.nos_code.upper(): c for c in self.portfolio.unit.criteria.all()}
        parsed, errors = [], []
        for number, line in enumerate(self.cleaned_data["discussed"].splitlines(), start=1):
            if not line.strip():
                continue
            match = _LINE.match(line)
            if not match:
                errors.append(f"Line {number}: write the code then the time, as in 'K6 03:15'.")
                continue
            criterion = codes.get(match["code"].upper())
            if criterion is None:
                errors.append(f"Line {number}: {match['code']} is not a criterion of this unit.")
                continue
            seconds = int(match["h"] or 0) * 3600 + int(match["m"]) * 60 + int(match["s"])
            parsed.append((criterion, f"Discussed at {_clock(seconds)} in the recording", seconds))
        if errors:
            raise forms.ValidationError(errors)
        if not parsed:
            raise forms.ValidationError("Name at least one criterion discussed.")
        return parsed

    def mapped_criteria(self):
        return self.cleaned_data["discussed"]


def _clock(seconds: int) -> str:
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes:02d}:{seconds:02d}"


class DecisionForm(_Form):
    cited = forms.ModelMultipleChoiceField(
        queryset=EvidenceItem.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label="Evidence it rests on",
        error_messages={"required": "Cite at least one piece of accepted evidence that shows it."},
    )

    def __init__(self, *args, mappings: list[Mapping], **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["cited"]
        field.queryset = EvidenceItem.objects.filter(pk__in=[m.evidence_id for m in mappings])
        notes = {m.evidence_id: m.note for m in mappings}
        field.label_from_instance = lambda e: f"{e.title} ({e.occurred_on:%d %b %Y}): {notes[e.pk]}"


class WithdrawForm(_Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), label="Reason", max_length=limits.NOTE
    )


class SignForm(_Form):
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        label="Your password",
        help_text="Asked again so that only you can sign.",
    )

    def __init__(self, *args, request: HttpRequest, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.user = request.user

    def clean_password(self):
        # Checked as a sign-in is, so that wrong passwords here count towards the same lock-out
        # (django-axes) and guessing at an unattended session is stopped as guessing at the
        # sign-in form is.
        password = self.cleaned_data["password"]
        signer = authenticate(self.request, username=self.user.get_username(), password=password)
        if signer is None or signer.pk != self.user.pk:
            raise forms.ValidationError("That is not your password. Nothing was signed.")
        return password


ACTION_ROWS = 3


class SampleForm(SignForm):
    """An IQA sample: what was looked at with a comment each, the outcome, action points."""

    comment_limit = f"{limits.NOTE:,}"  # shown once above the comments on each row

    stage = forms.ChoiceField(choices=IqaSample.Stage.choices, widget=forms.RadioSelect)
    outcome = forms.ChoiceField(choices=IqaSample.Outcome.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        label="Overall comment",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=limits.COMMENT,
    )

    def __init__(self, *args, evidence: list, decisions: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.evidence, self.decisions = evidence, decisions
        for prefix, objects in (("e", evidence), ("d", decisions)):
            for obj in objects:
                self.fields[f"look_{prefix}{obj.pk}"] = forms.BooleanField(
                    required=False, label="Looked at"
                )
                self.fields[f"note_{prefix}{obj.pk}"] = forms.CharField(
                    required=False,
                    label="Comment",
                    widget=forms.Textarea(attrs={"rows": 1}),
                    max_length=limits.NOTE,
                )
        for n in range(1, ACTION_ROWS + 1):
            self.fields[f"action{n}"] = forms.CharField(
                required=False,
                label=f"Action point {n}",
                widget=forms.Textarea(attrs={"rows": 1}),
                max_length=limits.COMMENT,
            )
            self.fields[f"due{n}"] = forms.DateField(
                required=False,
                label=f"Due date {n}",
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )
        # The password comes last, after everything it signs.
        self.fields["password"] = self.fields.pop("password")

    def rows(self, prefix: str, objects: list) -> list:
        return [
            (obj, self[f"look_{prefix}{obj.pk}"], self[f"note_{prefix}{obj.pk}"]) for obj in objects
        ]

    def evidence_rows(self):
        return self.rows("e", self.evidence)

    def decision_rows(self):
        return self.rows("d", self.decisions)

    def action_rows(self):
        return [(self[f"action{n}"], self[f"due{n}"]) for n in range(1, ACTION_ROWS + 1)]

    def clean(self):
        cleaned = super().clean()
        items = []
        for evidence in self.evidence:
            if cleaned.get(f"look_e{evidence.pk}"):
                items.append((evidence, None, cleaned.get(f"note_e{evidence.pk}", "")))
        for decision in self.decisions:
            if cleaned.get(f"look_d{decision.pk}"):
                items.append((None, decision, cleaned.get(f"note_d{decision.pk}", "")))
        if not items:
            raise forms.ValidationError("Tick the evidence or decisions you looked at.")
        actions = []
        for n in range(1, ACTION_ROWS + 1):
            text, due = cleaned.get(f"action{n}", "").strip(), cleaned.get(f"due{n}")
            if text and not due:
                self.add_error(f"due{n}", "Give the date this action is due.")
            elif due and not text:
                self.add_error(f"action{n}", "Say what the assessor should do.")
            elif due and due < timezone.localdate():
                self.add_error(f"due{n}", "The due date cannot be in the past.")
            elif text:
                actions.append((text, due))
        if cleaned.get("outcome") == IqaSample.Outcome.REFER_BACK and not actions:
            self.add_error("action1", "Referring back needs at least one action point.")
        cleaned["items"], cleaned["actions"] = items, actions
        return cleaned


class ActionCloseForm(_Form):
    response = forms.CharField(
        label="What you did", widget=forms.Textarea(attrs={"rows": 2}), max_length=limits.COMMENT
    )


class MeetingForm(ShowsLimits, forms.ModelForm):
    class Meta:
        model = StandardisationMeeting
        fields = [
            "held_on",
            "title",
            "attendees",
            "other_attendees",
            "discussed",
            "evidence",
            "actions",
        ]
        widgets = {
            "held_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "attendees": forms.CheckboxSelectMultiple,
            "evidence": forms.CheckboxSelectMultiple,
            "discussed": forms.Textarea(attrs={"rows": 4}),
            "actions": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"held_on": "Date"}

    def __init__(self, *args, evidence_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = User.objects.filter(
            Q(is_assessor=True) | Q(is_iqa=True) | Q(is_centre_admin=True), is_active=True
        ).order_by("last_name", "first_name")
        self.fields["evidence"].queryset = evidence_choices
        self.fields["evidence"].label_from_instance = lambda e: (
            f"{e.portfolio.learner}: {e.title} ({e.occurred_on:%d %b %Y})"
        )
        self.fields["evidence"].required = False
        self.helper = FormHelper()
        self.helper.form_tag = False


class EqaReviewForm(_Form):
    outcome = forms.ChoiceField(choices=EqaReview.Outcome.choices, widget=forms.RadioSelect)
    report = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), max_length=limits.STATEMENT)


# What a claim reference refused says, on the portfolio page and the claim page alike.
REFERENCE_ERRORS = {
    "required": "Give the claim reference from the awarding body.",
    "max_length": (
        "A claim reference is at most %(limit_value)d characters; this one has %(show_value)d."
    ),
}


class ClaimForm(_Form):
    reference = forms.CharField(
        label="Claim reference",
        max_length=Claim._meta.get_field("reference").max_length,
        help_text="As given by the awarding body.",
        error_messages=REFERENCE_ERRORS,
    )


class EnrolmentClaimForm(_Form):
    """The claim for an enrolment: the full award, or the verified units ticked."""

    kind = forms.ChoiceField(
        label="Claim for", choices=Claim.Kind.choices, widget=forms.RadioSelect
    )
    units = forms.ModelMultipleChoiceField(
        queryset=Portfolio.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="The units to claim on their own",
    )
    reference = forms.CharField(
        label="Claim reference",
        max_length=Claim._meta.get_field("reference").max_length,
        required=False,
        help_text="As given by the awarding body; it may be added later.",
    )

    def __init__(self, *args, claimable, **kwargs):
        super().__init__(*args, **kwargs)
        refusals = {
            Claim.Kind.FULL_AWARD: claimable.award_refusal,
            Claim.Kind.UNITS: claimable.units_refusal,
        }
        self.offered = [(kind, label) for kind, label in Claim.Kind.choices if not refusals[kind]]
        self.fields["kind"].choices = self.offered
        self.fields["kind"].error_messages["invalid_choice"] = (
            "That claim cannot be made now: the page says why."
        )
        if self.offered:
            self.fields["kind"].initial = self.offered[0][0]
        self.fields["units"].queryset = Portfolio.objects.filter(
            pk__in=[p.pk for p in claimable.verified]
        ).select_related("unit")
        self.fields["units"].label_from_instance = lambda p: f"Unit {p.unit.code} {p.unit.title}"

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == Claim.Kind.UNITS and not cleaned.get("units"):
            self.add_error("units", "Tick at least one unit to claim on its own.")
        return cleaned


class ClaimReferenceForm(_Form):
    reference = forms.CharField(
        label="The awarding body's reference",
        max_length=Claim._meta.get_field("reference").max_length,
        error_messages=REFERENCE_ERRORS,
    )


class UnlockForm(_Form):
    reason = forms.CharField(
        label="Why the signed records must change",
        max_length=limits.NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept in the audit trail and shown on every signature the unlock breaks.",
    )


class PlanForm(forms.Form):
    rating = forms.ChoiceField(choices=SampleRate.Rating.choices)
