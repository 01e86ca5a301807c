"""How far each enrolment has come towards its award: the credits achieved against the
qualification's rule, each group's bounds, each unit's status and what it still lacks, and
whether the award is achieved or claimed. Every sentence about the rule is
``units.combination``'s; what a unit lacks is ``coverage_for``'s.

``progress_for`` runs a fixed number of queries however many enrolments and units it is given.
"""

from dataclasses import dataclass, field

from django.db.models import QuerySet

from assessments.sufficiency import Coverage, coverage_for
from portfolio.enrolments import Achievement, achievement_of, award_claimed, units_and_rules
from portfolio.models import Enrolment, Portfolio, User
from units.combination import (
    GroupProgress,
    achievement_gaps,
    credits_achieved,
    credits_in_words,
    progress_by_group,
)
from units.models import Qualification

Status = Portfolio.Status
# A unit's status as progress speaks of it.
STATUS_WORDS = {
    Status.IN_PROGRESS: "in progress",
    Status.ASSESSED: "signed off",
    Status.VERIFIED: "verified",
    Status.CLAIMED: "claimed",
}
SIGNED_OFF = {Status.ASSESSED, *Portfolio.ACHIEVED}


@dataclass(frozen=True)
class UnitProgress:
    """One unit of an enrolment the viewer may see, with its coverage when it was asked for."""

    portfolio: Portfolio
    credits: int
    coverage: Coverage | None = None

    @property
    def status(self) -> str:
        return STATUS_WORDS[self.portfolio.status]

    @property
    def achieved(self) -> bool:
        """Whether the unit counts towards the award (verified, or claimed since)."""
        return self.portfolio.status in Portfolio.ACHIEVED

    @property
    def still_to_do(self) -> str:
        """What the unit still lacks, or what it waits for, in a few words."""
        match self.portfolio.status:
            case Status.ASSESSED:
                return "signed off, waiting for the IQA's sample"
            case Status.VERIFIED:
                return "verified"
            case Status.CLAIMED:
                return "claimed"
        coverage = self.coverage
        if coverage is None:
            return "in progress"
        not_met = sum(criterion.pk not in coverage.met for criterion in coverage.criteria)
        if not_met:
            return f"{not_met} {'criterion' if not_met == 1 else 'criteria'} still to be met"
        if unmet := len(coverage.unmet):
            return f"every criterion met, {unmet} more thing{'s' * (unmet != 1)} before sign-off"
        return "ready to sign off"

    @property
    def words(self) -> str:
        """ "Unit C4: 5 criteria still to be met"."""
        return f"Unit {self.portfolio.unit.code}: {self.still_to_do}"


@dataclass(frozen=True)
class EnrolmentProgress:
    """An enrolment's progress. The counts and credits are of every unit of the enrolment; only
    the units the viewer may see are in ``units`` (``hidden_units`` says how many are not)."""

    enrolment: Enrolment
    qualification: Qualification | None
    achievement: Achievement
    unit_count: int
    signed_off: int
    verified: int
    claimed: int
    units: list[UnitProgress] = field(default_factory=list)
    hidden_units: int = 0
    # Every unit of the enrolment, seen by the viewer or not: for the rules, never listed.
    portfolios: list[Portfolio] = field(default_factory=list)
    credits: int = 0
    credits_words: str = ""  # "12 of 37 credits"
    groups: list[GroupProgress] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    award_claimed: bool = False  # the full award claimed, rather than units on their own

    @property
    def achieved(self) -> bool | None:
        """Whether the qualification is achieved; None for single units."""
        if self.qualification is None:
            return None
        return self.achievement != Achievement.NOT_YET

    @property
    def units_words(self) -> str:
        """ "2 of 5 units verified"."""
        return f"{self.verified} of {self.unit_count} unit{'s' * (self.unit_count != 1)} verified"

    @property
    def summary(self) -> str:
        """One line for a list: "OCR X: 12 of 37 credits, 2 of 5 units verified"."""
        if self.qualification is None:
            return f"Single units: {self.units_words}"
        name = f"{self.qualification.awarding_body} {self.qualification.code}"
        return f"{name}: {self.credits_words}, {self.units_words}"


def progress_for(
    enrolments: list[Enrolment] | QuerySet[Enrolment],
    *,
    viewer: User | None = None,
    follower: User | None = None,
) -> dict[int, EnrolmentProgress]:
    """The progress of each enrolment, by its id, in their order. Given a ``viewer``, each unit
    they may see is listed with its coverage (what it still lacks); given a ``follower`` (an
    employer), each unit they follow (``PortfolioQuerySet.followed_by``), which makes none of
    them visible; without either, the counts, credits, groups and gaps only, for a line in a
    list. A query set of any number of enrolments is looked up through itself rather than by a
    list of ids."""
    portfolios, qualifications = units_and_rules(enrolments)
    visible: dict[int, Portfolio] = {}  # with the people a page names beside each unit
    coverage: dict[int, Coverage] = {}
    detail = viewer is not None or follower is not None
    if detail:
        detailed = (
            Portfolio.objects.visible_to(viewer)
            if viewer is not None
            else Portfolio.objects.followed_by(follower)
        )
        visible = {
            p.pk: p
            for p in detailed.filter(enrolment__in=enrolments)
            .select_related("unit", "assessor", "iqa", "workplace")
            .order_by("unit__code")
        }
        coverage = coverage_for(list(visible.values()))
    result = {}
    for enrolment in enrolments:
        units = portfolios.get(enrolment.pk, [])
        qualification = qualifications.get(enrolment.qualification_id)
        result[enrolment.pk] = _progress(
            enrolment, qualification, units, detail=detail, visible=visible, coverage=coverage
        )
    return result


def _progress(
    enrolment: Enrolment,
    qualification: Qualification | None,
    portfolios: list[Portfolio],
    *,
    detail: bool,
    visible: dict[int, Portfolio],
    coverage: dict[int, Coverage],
) -> EnrolmentProgress:
    achieved = [p.unit for p in portfolios if p.status in Portfolio.ACHIEVED]
    credits = {}  # unit id -> the credits the qualification lists it for
    if qualification is not None:
        credits = {
            listing.unit_id: listing.credits
            for group in qualification.groups.all()
            for listing in group.listings.all()
        }
    shown = [
        UnitProgress(visible[p.pk], credits.get(p.unit_id, p.unit.credit_value), coverage.get(p.pk))
        for p in portfolios
        if p.pk in visible
    ]
    return EnrolmentProgress(
        enrolment=enrolment,
        qualification=qualification,
        achievement=achievement_of(qualification, portfolios),
        award_claimed=award_claimed(portfolios),
        unit_count=len(portfolios),
        signed_off=sum(p.status in SIGNED_OFF for p in portfolios),
        verified=len(achieved),
        claimed=sum(p.status == Status.CLAIMED for p in portfolios),
        units=shown,
        hidden_units=len(portfolios) - len(shown) if detail else 0,
        portfolios=portfolios,
        credits=credits_achieved(qualification, achieved) if qualification else 0,
        credits_words=credits_in_words(qualification, achieved) if qualification else "",
        groups=progress_by_group(qualification, achieved) if qualification else [],
        gaps=achievement_gaps(qualification, achieved) if qualification else [],
    )


def progress_lines(portfolios) -> dict[int, EnrolmentProgress]:
    """The progress of the qualification of each of ``portfolios`` (each with its enrolment),
    by enrolment id, for a line beside it in a list: single units have none."""
    enrolments = {p.enrolment_id: p.enrolment for p in portfolios if p.enrolment.qualification_id}
    if not enrolments:
        return {}
    return progress_for(list(enrolments.values()))
