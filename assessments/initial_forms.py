"""The initial assessment's form: where the learner starts on each learning outcome of the unit,
the prior learning claimed with the evidence item that shows each, and the overall notes, all
sent in one post."""

from dataclasses import dataclass

from django import forms
from django.forms import BoundField

from assessments.forms import _Form
from assessments.models import InitialAssessment, PriorLearning, StartingPoint
from assessments.services import PriorClaim
from portfolio import limits
from portfolio.models import EvidenceItem
from units.models import LearningOutcome

# Empty rows of prior learning offered below those recorded; more after each save.
NEW_ROWS = 2


@dataclass
class OutcomeRow:
    outcome: LearningOutcome
    level: BoundField
    note: BoundField


@dataclass
class PriorRow:
    """One row of prior learning on the form: recorded already (with its remove box) or new."""

    legend: str
    description: BoundField
    evidence: BoundField
    remove: BoundField | None


def evidence_label(item: EvidenceItem, portfolio_id: int) -> str:
    """An evidence item as the prior-learning choice names it: title, date, status, and the
    unit it is kept in when that is another."""
    kept = f", kept in unit {item.portfolio.unit.code}" if item.portfolio_id != portfolio_id else ""
    return f"{item.title} ({item.occurred_on:%d %b %Y}, {item.get_status_display().lower()}{kept})"


class InitialAssessmentForm(_Form):
    """A starting point (required) and a note for each learning outcome, the prior learning
    rows (each recorded one with a box to remove it, and ``NEW_ROWS`` empty ones), and the
    overall notes. The evidence offered is the enrolment's items of method "recognition of
    prior learning" its assessor may see, given by the view, so the form asks nothing of the
    database; ``claims()``, ``removed()`` and ``starting_points()`` are what the service
    takes."""

    notes = forms.CharField(
        label="Overall notes",
        required=False,
        max_length=limits.COMMENT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For example the learner's job and experience, how they like to learn, and "
        "any support they need.",
    )

    def __init__(
        self,
        *args,
        outcomes: list[LearningOutcome],
        assessment: InitialAssessment | None,
        evidence: list[EvidenceItem],
        portfolio_id: int,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.outcomes = outcomes
        points = {p.outcome_id: p for p in assessment.starting_points.all()} if assessment else {}
        self.recorded: list[PriorLearning] = (
            list(assessment.prior_learning.all()) if assessment else []
        )
        if assessment:
            self.fields["notes"].initial = assessment.notes
        for outcome in outcomes:
            point = points.get(outcome.pk)
            self.fields[f"level_{outcome.pk}"] = forms.ChoiceField(
                label=f"Starting point on outcome {outcome.number}",
                choices=StartingPoint.Level.choices,
                widget=forms.RadioSelect,
                initial=point.level if point else None,
                error_messages={
                    "required": f"Choose where the learner starts on outcome {outcome.number}."
                },
            )
            self.fields[f"note_{outcome.pk}"] = forms.CharField(
                label=f"Note on outcome {outcome.number}",
                required=False,
                max_length=limits.NOTE,
                widget=forms.Textarea(attrs={"rows": 2}),
                initial=point.note if point else "",
            )
        self.items = {item.pk: item for item in evidence}
        for row in self.recorded:
            # Linked before, it stays on offer whatever it has become since.
            if row.evidence_id and row.evidence_id not in self.items:
                self.items[row.evidence_id] = row.evidence
        choices = [("", "No evidence item yet")] + [
            (item.pk, evidence_label(item, portfolio_id)) for item in self.items.values()
        ]
        self.keys = [f"prior_{row.pk}" for row in self.recorded] + [
            f"new_{n}" for n in range(1, NEW_ROWS + 1)
        ]
        for number, key in enumerate(self.keys, start=1):
            row = self.recorded[number - 1] if number <= len(self.recorded) else None
            self.fields[f"{key}_description"] = forms.CharField(
                label=f"What was learnt before ({number})",
                required=False,
                max_length=limits.NOTE,
                widget=forms.Textarea(attrs={"rows": 2}),
                initial=row.description if row else "",
                help_text="For example a certificate, earlier training or a job, with dates.",
            )
            self.fields[f"{key}_evidence"] = forms.TypedChoiceField(
                label=f"Evidence item that shows it ({number})",
                required=False,
                coerce=int,
                empty_value=None,
                choices=choices,
                initial=row.evidence_id if row else None,
                error_messages={
                    "invalid_choice": "Choose one of the learner's items of recognition of prior "
                    "learning."
                },
            )
            if row is not None:
                self.fields[f"{key}_remove"] = forms.BooleanField(
                    label=f"Remove this prior learning ({number})", required=False
                )

    def outcome_rows(self) -> list[OutcomeRow]:
        return [
            OutcomeRow(outcome, self[f"level_{outcome.pk}"], self[f"note_{outcome.pk}"])
            for outcome in self.outcomes
        ]

    def prior_rows(self) -> list[PriorRow]:
        return [
            PriorRow(
                legend=f"Prior learning {number}" + ("" if key.startswith("prior_") else " (new)"),
                description=self[f"{key}_description"],
                evidence=self[f"{key}_evidence"],
                remove=self[f"{key}_remove"] if key.startswith("prior_") else None,
            )
            for number, key in enumerate(self.keys, start=1)
        ]

    def clean(self):
        cleaned = super().clean()
        for key in self.keys:
            if cleaned.get(f"{key}_remove"):
                continue
            description = (cleaned.get(f"{key}_description") or "").strip()
            item = self.items.get(cleaned.get(f"{key}_evidence"))
            if description:
                cleaned[f"{key}_description"] = description
            elif key.startswith("prior_"):
                self.add_error(
                    f"{key}_description",
                    "Describe the prior learning, or tick the box to remove it.",
                )
            elif item is not None:
                self.add_error(
                    f"{key}_description", f"Describe the prior learning that '{item.title}' shows."
                )
        return cleaned

    def starting_points(self) -> dict[int, tuple[str, str]]:
        return {
            outcome.pk: (
                self.cleaned_data[f"level_{outcome.pk}"],
                self.cleaned_data[f"note_{outcome.pk}"].strip(),
            )
            for outcome in self.outcomes
        }

    def claims(self) -> list[PriorClaim]:
        """Each row kept or added (an empty new row is no row)."""
        claims = []
        for key in self.keys:
            if self.cleaned_data.get(f"{key}_remove"):
                continue
            description = self.cleaned_data[f"{key}_description"]
            if not description:
                continue
            pk = int(key.removeprefix("prior_")) if key.startswith("prior_") else None
            item = self.items.get(self.cleaned_data[f"{key}_evidence"])
            claims.append(PriorClaim(pk, description, item))
        return claims

    def removed(self) -> list[int]:
        return [row.pk for row in self.recorded if self.cleaned_data.get(f"prior_{row.pk}_remove")]
