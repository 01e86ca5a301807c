"""Enrolments: a learner entered for a qualification or for single units, and the choice of units,
checked against the qualification's rules of combination (``units.combination``)."""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import ProtectedError, QuerySet
from django.utils.text import get_text_list

from audit.chain import record
from portfolio.models import Claim, Enrolment, EvidenceItem, Portfolio, User, Workplace
from portfolio.signable import batched
from units.combination import is_achieved, problems_with_choice
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
    return _choice_save(enrolment, units=units, details=details, by=by)


def enrolment_qualification_change(
    *,
    enrolment: Enrolment,
    qualification: Qualification | None,
    units: list[Unit],
    details: NewUnitDetails,
    by: User,
) -> tuple[list[Unit], list[Unit]]:
    """Enter the learner for ``qualification`` instead (or for single units, when it is None),
    with ``units`` chosen under its rules: the portfolios of the units kept stay as they are,
    with everything in them, and the units are added and taken away as by
    ``enrolment_units_save``, on the same conditions. Returns (added, removed)."""
    return _choice_save(
        enrolment, units=units, details=details, by=by, qualification=qualification, entering=True
    )


def _choice_save(
    enrolment: Enrolment,
    *,
    units: list[Unit],
    details: NewUnitDetails,
    by: User,
    qualification: Qualification | None = None,
    entering: bool = False,
) -> tuple[list[Unit], list[Unit]]:
    """Save the choice of units and, ``entering`` the learner for ``qualification`` (None: for
    single units), what the enrolment is for; one audit entry for the whole change."""
    with transaction.atomic(), batched():
        enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
        portfolios = list(
            enrolment.portfolios.select_related("unit")
            .select_for_update(no_key=True, of=("self",))
            .order_by("pk")
        )
        if reason := enrolment.units_fixed(portfolios):
            raise ValidationError(reason)
        was_for = enrolment.entered_for
        if entering:
            enrolment.qualification = qualification
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
        data = {
            "added": sorted(f"{u.awarding_body} {u.code}" for u in added),
            "removed": sorted(f"{p.unit.awarding_body} {p.unit.code}" for p in removed),
        }
        learner = enrolment.learner
        entered_for_other = enrolment.entered_for != was_for
        if entered_for_other:
            enrolment.save(update_fields=["qualification"])
            action = "enrolment.qualification_changed"
            summary = f"{by} entered {learner} for {enrolment.entered_for} instead of {was_for}"
            data = {"from": was_for, "to": enrolment.entered_for, **data}
        else:
            action = "enrolment.units_changed"
            summary = f"{by} changed the units {learner} is entered for"
        if added or removed or entered_for_other:
            record(action, actor=by, obj=enrolment, learner=learner, summary=summary, data=data)
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


class Achievement(models.TextChoices):
    """Where an enrolment stands towards its award: a qualification is achieved when its
    verified units satisfy its rule (``units.combination.is_achieved``), single units when every
    one is verified; claimed once the full award is claimed (a unit verified after it is part of
    that award), or once nothing achieved waits for a claim."""

    NOT_YET = "not_yet", "Not yet achieved"
    ACHIEVED = "achieved", "Achieved, not claimed"
    CLAIMED = "claimed", "Claimed"


def achievement_of(qualification: Qualification | None, portfolios: list[Portfolio]) -> Achievement:
    """Where the enrolment whose units are ``portfolios`` (each with its unit) stands, on
    ``qualification`` (from ``Qualification.objects.with_structure()``) or single units."""
    if award_claimed(portfolios):
        return Achievement.CLAIMED
    achieved = [p for p in portfolios if p.status in Portfolio.ACHIEVED]
    if qualification is None:
        done = bool(portfolios) and len(achieved) == len(portfolios)
    else:
        done = is_achieved(qualification, [p.unit for p in achieved])
    if not done:
        return Achievement.NOT_YET
    if all(p.status == Portfolio.Status.CLAIMED for p in achieved):
        return Achievement.CLAIMED
    return Achievement.ACHIEVED


def award_claim(portfolios: list[Portfolio]) -> Claim | None:
    """The claim for the full award of the enrolment whose units are ``portfolios`` (each with
    its claim), once made."""
    return next(
        (p.claim for p in portfolios if p.claim_id and p.claim.kind == Claim.Kind.FULL_AWARD),
        None,
    )


def award_claimed(portfolios: list[Portfolio]) -> bool:
    """Whether the full award has been claimed for the enrolment whose units are
    ``portfolios`` (each with its claim)."""
    return award_claim(portfolios) is not None


def units_and_rules(
    enrolments: QuerySet[Enrolment] | list[Enrolment],
) -> tuple[dict[int, list[Portfolio]], dict[int, Qualification]]:
    """Every unit of each enrolment (its portfolio, with the unit and the enrolment), in unit
    code order, and each of their qualifications with its structure: one query, and five more
    when a qualification has rules (four without), however many enrolments and units."""
    portfolios: dict[int, list[Portfolio]] = {}
    for portfolio in (
        Portfolio.objects.filter(enrolment__in=enrolments)
        .select_related("unit", "enrolment", "claim")
        .order_by("enrolment_id", "unit__code")
    ):
        portfolios.setdefault(portfolio.enrolment_id, []).append(portfolio)
    qualification_ids = {
        units[0].enrolment.qualification_id
        for units in portfolios.values()
        if units[0].enrolment.qualification_id
    }
    qualifications = {
        qualification.pk: qualification
        for qualification in Qualification.objects.with_structure().filter(pk__in=qualification_ids)
    }
    return portfolios, qualifications


def enrolments_at(enrolments: QuerySet[Enrolment], state: str) -> QuerySet[Enrolment]:
    """The enrolments of ``enrolments`` that stand at ``state`` (an ``Achievement``). The
    database settles most: one with no unit verified has achieved nothing yet, and one claimed
    for the full award is claimed; the rules judge only the rest."""
    judged = _judged(enrolments)
    if state == Achievement.NOT_YET:
        settled = ~models.Exists(_units_achieved())
    elif state == Achievement.CLAIMED:
        settled = models.Exists(_award_claims())
    else:
        settled = models.Q(pk__in=[])
    return enrolments.filter(
        settled | models.Q(pk__in=[pk for pk, at in judged.items() if at == state])
    )


def awaiting_claim_count() -> int:
    """How many enrolments are achieved and not yet claimed (``Achievement.ACHIEVED``)."""
    return sum(at == Achievement.ACHIEVED for at in _judged(Enrolment.objects.all()).values())


def _units_achieved() -> QuerySet[Portfolio]:
    return Portfolio.objects.filter(
        enrolment_id=models.OuterRef("pk"), status__in=Portfolio.ACHIEVED
    )


def _award_claims() -> QuerySet[Claim]:
    return Claim.objects.filter(enrolment_id=models.OuterRef("pk"), kind=Claim.Kind.FULL_AWARD)


def _judged(enrolments: QuerySet[Enrolment]) -> dict[int, Achievement]:
    """Where each enrolment the database cannot settle stands, by the rules: those with a unit
    verified or claimed and no claim for the full award."""
    undecided = enrolments.filter(models.Exists(_units_achieved())).exclude(
        models.Exists(_award_claims())
    )
    portfolios, qualifications = units_and_rules(undecided)
    return {
        pk: achievement_of(qualifications.get(units[0].enrolment.qualification_id), units)
        for pk, units in portfolios.items()
    }
