"""The forms of the decisions page: criteria marked met in bulk, and a decision withdrawn."""

from dataclasses import dataclass

from django import forms
from django.forms import BoundField

from assessments.forms import WithdrawForm, _Form
from assessments.models import Mapping
from units.models import Criterion


@dataclass
class Candidate:
    """A criterion not yet met and the mappings (with their evidence) it may be decided on."""

    criterion: Criterion
    mappings: list[Mapping]


@dataclass
class CandidateRow:
    criterion: Criterion
    met: BoundField
    cited: BoundField


class BulkDecisionForm(_Form):
    """A "Mark met" box for each candidate criterion, with the evidence it may cite already
    ticked under it; ``cleaned_data["chosen"]`` holds each criterion ticked with its cited
    evidence. The choices come from the mappings given, so the form asks nothing more of the
    database however many criteria it lists."""

    all = forms.BooleanField(
        required=False,
        label="Mark every criterion listed met",
        widget=forms.CheckboxInput(attrs={"data-mark-all": ""}),
    )

    nothing_ticked = False  # of the criteria listed

    def __init__(self, *args, candidates: list[Candidate], portfolio_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = candidates
        self.evidence = {}  # criterion id -> evidence id -> item
        for candidate in candidates:
            criterion, mappings = candidate.criterion, candidate.mappings
            self.evidence[criterion.pk] = {m.evidence_id: m.evidence for m in mappings}
            self.fields[f"met_{criterion.pk}"] = forms.BooleanField(
                required=False,
                label=f"Mark {criterion.label} met",
                widget=forms.CheckboxInput(attrs={"data-mark-met": ""}),
            )
            self.fields[f"cited_{criterion.pk}"] = forms.TypedMultipleChoiceField(
                required=False,
                coerce=int,
                choices=[(m.evidence_id, _evidence_label(m, portfolio_id)) for m in mappings],
                initial=[m.evidence_id for m in mappings],
                widget=forms.CheckboxSelectMultiple,
                label=f"Evidence {criterion.label} rests on",
                error_messages={
                    "invalid_choice": f"Cite only evidence on which {criterion.label} is "
                    "confirmed in this unit."
                },
            )

    def rows(self) -> list[CandidateRow]:
        return [
            CandidateRow(
                criterion=c.criterion,
                met=self[f"met_{c.criterion.pk}"],
                cited=self[f"cited_{c.criterion.pk}"],
            )
            for c in self.candidates
        ]

    def clean(self):
        cleaned = super().clean()
        chosen = []
        for candidate in self.candidates:
            criterion = candidate.criterion
            if not (cleaned.get("all") or cleaned.get(f"met_{criterion.pk}")):
                continue
            name = f"cited_{criterion.pk}"
            if name in self.errors:
                continue
            cited = cleaned.get(name) or []
            if not cited:
                self.add_error(
                    name,
                    f"Cite at least one piece of accepted evidence that shows {criterion.label}.",
                )
                continue
            chosen.append((criterion, [self.evidence[criterion.pk][pk] for pk in cited]))
        if not self.errors and not chosen:
            self.nothing_ticked = True
            raise forms.ValidationError("Tick “Mark met” on at least one criterion.")
        cleaned["chosen"] = chosen
        return cleaned


def _evidence_label(mapping: Mapping, portfolio_id: int) -> str:
    """The evidence as it is cited: its title, date and where the criterion is shown."""
    evidence = mapping.evidence
    kept = (
        f" (kept in unit {evidence.portfolio.unit.code})"
        if evidence.portfolio_id != portfolio_id
        else ""
    )
    return f"{evidence.title}{kept}, {evidence.occurred_on:%d %b %Y}: {mapping.note}"


class DecisionWithdrawForm(WithdrawForm):
    """The reason for withdrawing one decision, among the others on the decisions page."""

    def __init__(self, *args, decision, **kwargs):
        super().__init__(*args, prefix=f"withdraw-{decision.pk}", **kwargs)
        self.decision = decision
        field = self.fields["reason"]
        field.label = f"Why the decision on {decision.criterion.label} is withdrawn"
        field.error_messages["required"] = "Give the reason for withdrawing the decision."
