"""Enrolments: a learner entered for a qualification or for single units, and the choice of units,
checked against the qualification's rules of combination (``units.combination``)."""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.text import get_text_list

from audit.chain import record
from portfolio.models import Enrolment, EvidenceItem, Portfolio, User, Workplace
from portfolio.signable import batched
from units.combination import problems_with_choice
from units.models import Qualification, Unit


@dataclass(frozen=True)
class NewUnitDetails:
    """What a unit added to an enrolment starts with: its assessor and IQA, and the learner's
    workplace as their other units have it."""

    assessor: User | None
    iqa: User | None
    workplace: Workplace
    job_role: str


def choice_problems(qualification: Qualification | None, units: list[Unit]) -> list[str]:
    """Why ``units`` cannot be the choice for an enrolment on ``qualification`` (or on single
    units, when it is None), in plain words; empty when they can."""
    if not units:
        return ["Choose at least one unit."]
    if qualification is None:
        return []
    structured = Qualification.objects.with_structure().get(pk=qualification.pk)
    return problems_with_choice(structured, units)


def enrolment_create(
    *,
    learner: User,
    qualification: Qualification | None,
    units: list[Unit],
    start_date: datetime.date,
    details: NewUnitDetails,
    by: User,
    per_unit: Mapping[int, NewUnitDetails] | None = None,
) -> Enrolment:
    """Enter ``learner`` for ``qualification`` (or single units) with ``units`` chosen: one
    portfolio for each unit, starting with ``details`` or, for a unit whose pk ``per_unit``
    holds, with its own. Refused with the rules' reasons, saving nothing."""
    if problems := choice_problems(qualification, units):
        raise ValidationError(problems)
    _refuse_units_taken(learner, units)
    with transaction.atomic(), batched():
        enrolment = Enrolment.objects.create(
            learner=learner, qualification=qualification, start_date=start_date
        )
        for unit in units:
            _add_unit(enrolment, unit, (per_unit or {}).get(unit.pk, details))
        record(
            "enrolment.created",
            actor=by,
            obj=enrolment,
            learner=learner,
            summary=f"{by} entered {learner} for {enrolment.entered_for}",
            data={"units": sorted(f"{u.awarding_body} {u.code}" for u in units)},
        )
    return enrolment


def enrolment_units_save(
    *, enrolment: Enrolment, units: list[Unit], details: NewUnitDetails, by: User
) -> tuple[list[Unit], list[Unit]]:
    """Change the choice of units: a portfolio for each unit added, and the portfolio of each
    unit taken away removed, while no unit of the enrolment is signed off and a removed unit
    holds nothing. Refused with the reasons, changing nothing. Returns (added, removed)."""
    with transaction.atomic(), batched():
        enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
        portfolios = list(
            enrolment.portfolios.select_related("unit")
            .select_for_update(no_key=True, of=("self",))
            .order_by("pk")
        )
        if reason := enrolment.units_fixed(portfolios):
            raise ValidationError(reason)
        if problems := choice_problems(enrolment.qualification, units):
            raise ValidationError(problems)
        current = {p.unit_id: p for p in portfolios}
        wanted = {unit.pk: unit for unit in units}
        added = [unit for pk, unit in wanted.items() if pk not in current]
        removed = [p for pk, p in current.items() if pk not in wanted]
        _refuse_units_taken(enrolment.learner, added)
        for portfolio in removed:
            _remove_unit(portfolio)
        for unit in added:
            _add_unit(enrolment, unit, details)
        if added or removed:
            record(
                "enrolment.units_changed",
                actor=by,
                obj=enrolment,
                learner=enrolment.learner,
                summary=f"{by} changed the units {enrolment.learner} is entered for",
                data={
                    "added": sorted(f"{u.awarding_body} {u.code}" for u in added),
                    "removed": sorted(f"{p.unit.awarding_body} {p.unit.code}" for p in removed),
                },
            )
    return added, [p.unit for p in removed]


def _refuse_units_taken(learner: User, units: list[Unit]) -> None:
    taken = Portfolio.objects.filter(learner=learner, unit__in=units).select_related("unit")
    if taken:
        raise ValidationError(
            f"{learner} already has a portfolio for "
            f"{get_text_list([p.unit.label for p in taken], 'and')}: a unit is taken once."
        )


def _add_unit(enrolment: Enrolment, unit: Unit, details: NewUnitDetails) -> Portfolio:
    portfolio = Portfolio(
        learner=enrolment.learner,
        enrolment=enrolment,
        unit=unit,
        assessor=details.assessor,
        iqa=details.iqa,
        workplace=details.workplace,
        job_role=details.job_role,
        start_date=enrolment.start_date,
    )
    portfolio.full_clean(exclude=["enrolment"])
    portfolio.save()
    return portfolio


def _remove_unit(portfolio: Portfolio) -> None:
    """Remove a unit's portfolio, refused if anything is recorded in it: evidence kept there,
    claims or mappings of its criteria, or anything else that refers to it."""
    refusal = ValidationError(
        f"Unit {portfolio.unit.code} cannot be taken away: it already holds evidence or records."
    )
    if EvidenceItem.objects.counting_in(portfolio).exists():
        raise refusal
    try:
        with transaction.atomic():
            portfolio.delete()
    except ProtectedError as error:
        raise refusal from error
