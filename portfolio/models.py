"""The learner's side: people and their roles, workplaces, portfolios (one learner working
towards one unit), evidence with its files and witness testimonies, notifications, and who may
see and do what with them."""

import datetime
import functools
import operator
from collections.abc import Callable

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.text import get_text_list

from portfolio import limits
from portfolio.uln import validate_uln


def _evidence_storage():
    return storages["evidence"]


class Role(models.TextChoices):
    LEARNER = "learner", "Learner"
    ASSESSOR = "assessor", "Assessor"
    IQA = "iqa", "Internal quality assurer"
    EQA = "eqa", "External quality assurer"
    CENTRE_ADMIN = "centre_admin", "Centre administrator"
    EMPLOYER = "employer", "Employer (line manager)"


# The user flag that grants each role, in the order roles are offered.
ROLE_FLAGS = {
    Role.LEARNER: "is_learner",
    Role.ASSESSOR: "is_assessor",
    Role.IQA: "is_iqa",
    Role.EQA: "is_eqa",
    Role.CENTRE_ADMIN: "is_centre_admin",
    Role.EMPLOYER: "is_employer",
}


class User(AbstractUser):
    """A person at the centre or an external verifier; one person may hold several roles."""

    is_learner = models.BooleanField("learner", default=False)
    is_assessor = models.BooleanField("assessor", default=False)
    is_iqa = models.BooleanField("internal quality assurer", default=False)
    is_eqa = models.BooleanField("external quality assurer", default=False)
    is_centre_admin = models.BooleanField(
        "centre administrator",
        default=False,
        help_text="Sees everything read-only, manages users and assignments in the admin.",
    )
    is_employer = models.BooleanField(
        "employer (line manager)",
        default=False,
        help_text="Follows the progress of the learners at the workplaces they are a contact "
        "of, and signs their progress reviews.",
    )

    class NotificationEmail(models.TextChoices):
        EACH = "each", "An e-mail for each message"
        DIGEST = "digest", "One daily digest of the day's messages"
        NONE = "none", "No e-mail: messages in the app only"

    notification_email = models.CharField(
        "e-mail for messages",
        max_length=10,
        choices=NotificationEmail.choices,
        default=NotificationEmail.EACH,
        help_text="Every message is shown in the app; this is how it is also e-mailed.",
    )
    # What the awarding body's claims need of a learner; personal data, removed by the purge.
    uln = models.CharField(
        "Unique Learner Number",
        max_length=10,
        blank=True,
        validators=[validate_uln],
        help_text="The learner's ULN from the Learning Records Service: 10 digits.",
    )
    date_of_birth = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        constraints = [
            models.UniqueConstraint(
                fields=["uln"], condition=~Q(uln=""), name="one_person_per_uln"
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def save(self, *args, **kwargs):
        # The admin site is the centre administrator's tool, so admin access follows the role.
        self.is_staff = self.is_centre_admin or self.is_superuser
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "is_staff"}
        super().save(*args, **kwargs)

    def may_manage(self, other: "User") -> bool:
        """Whether this person may change ``other``'s account, set its password, deactivate or
        delete it: only a superuser manages a superuser's account."""
        return self.is_superuser or not other.is_superuser

    @property
    def roles(self) -> list[Role]:
        return [role for role, flag in ROLE_FLAGS.items() if getattr(self, flag)]

    def has_role(self, role: Role) -> bool:
        return bool(getattr(self, ROLE_FLAGS[role]))


class Sector(models.TextChoices):
    PRIVATE = "private", "Private sector"
    NOT_FOR_PROFIT = "not_for_profit", "Not-for-profit"
    PUBLIC = "public", "Public services"


# The roles of the centre's staff and its external verifiers, who see workplaces.
STAFF_ROLES = (Role.ASSESSOR, Role.IQA, Role.EQA, Role.CENTRE_ADMIN)


class WorkplaceQuerySet(models.QuerySet):
    def visible_to(self, user: "User") -> "WorkplaceQuerySet":
        """The workplaces ``user`` may see: staff only (assessor, IQA, EQA, centre
        administrator), each the workplaces of the portfolios they see in those roles; the
        centre administrator every one. A learner sees none: their own workplace is shown on
        their portfolio."""
        conditions = [
            condition
            for role in STAFF_ROLES
            if (condition := _role_condition(user, role)) is not None
        ]
        if not conditions:
            return self.none()
        if user.has_role(Role.CENTRE_ADMIN):
            return self.all()
        at_workplace = Portfolio.objects.filter(
            functools.reduce(operator.or_, conditions), workplace=OuterRef("pk")
        )
        return self.filter(Exists(at_workplace))

    def matching(self, *, organisation: str, site: str = "", sector: str) -> "Workplace":
        """The workplace with this organisation, site and sector, comparing the text stripped
        and regardless of case; made (with the text stripped) when there is none yet."""
        organisation, site = organisation.strip(), site.strip()
        found = (
            self.filter(organisation__iexact=organisation, site__iexact=site, sector=sector)
            .order_by("pk")
            .first()
        )
        return found or self.create(organisation=organisation, site=site, sector=sector)


class Workplace(models.Model):
    """Where learners work: an employer's organisation, at one of its sites, shared by every
    learner who works there."""

    organisation = models.CharField(max_length=200, help_text="Where the learner works.")
    site = models.CharField(
        max_length=200, blank=True, help_text="The branch, office or site, where it has several."
    )
    sector = models.CharField(max_length=20, choices=Sector.choices, blank=True)
    address = models.TextField(blank=True, max_length=limits.NOTE)
    employer_sees_evidence = models.BooleanField(
        "line managers see the evidence",
        default=False,
        help_text="The learners' line managers here may open their evidence and its files, "
        "not only their progress.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WorkplaceQuerySet.as_manager()

    class Meta:
        ordering = ["organisation", "site", "pk"]

    def __str__(self) -> str:
        return f"{self.organisation}, {self.site}" if self.site else self.organisation

    def get_absolute_url(self) -> str:
        return reverse("workplace_detail", args=[self.pk])


class WorkplaceContact(models.Model):
    """Someone at a workplace the centre deals with, such as a learner's line manager."""

    workplace = models.ForeignKey(Workplace, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    job_title = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    # The contact's account, for a line manager who follows their staff's progress here (a
    # person holding the employer role). Without one, a review reaches them by a link.
    user = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="workplace_contacts",
        verbose_name="account",
    )

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.job_title})" if self.job_title else self.name


class PortfolioQuerySet(models.QuerySet):
    def in_role(self, user: User, role: Role) -> "PortfolioQuerySet":
        """The portfolios ``user`` may see when acting as ``role``."""
        condition = _role_condition(user, role)
        return self.none() if condition is None else self.filter(condition)

    def assessed_by(self, user: User) -> "PortfolioQuerySet":
        """Portfolios ``user`` assesses, or judged as an assessor before the portfolio was given
        to another assessor. An IQA never quality-assures one of these."""
        return self.filter(assessed_by(user))

    def locked(self, pk: int) -> "Portfolio":
        """The portfolio, locked until the transaction ends. Every change to its records takes
        this lock first, so changes to one portfolio happen one at a time and a change racing a
        signature lands before it or not at all. Only this row is locked (not its unit), and
        rows that merely refer to it, such as audit entries, may still be written meanwhile."""
        return self.select_for_update(no_key=True, of=("self",)).get(pk=pk)

    def visible_to(self, user: User) -> "PortfolioQuerySet":
        """Every portfolio ``user`` may see, in any of their roles."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        conditions = [_role_condition(user, role) for role in user.roles]
        conditions = [condition for condition in conditions if condition is not None]
        if not conditions:
            return self.none()
        return self.filter(functools.reduce(operator.or_, conditions))

    def listed_for(self, user: User, role: Role) -> "PortfolioQuerySet":
        """The portfolios a role's home page lists, in its order, with the people, unit and
        enrolment each row shows."""
        return (
            self.in_role(user, role)
            .select_related("learner", "unit", "assessor", "iqa", "workplace", "enrolment")
            .order_by(*_HOME_ORDERINGS[role])
        )

    def counting(self, evidence_id: int) -> "PortfolioQuerySet":
        """The portfolios an item of evidence counts in: the one it is kept in, and each other
        unit of its enrolment it is claimed or mapped in."""
        item = EvidenceItem.objects.filter(pk=evidence_id)
        # Each is a unit of the item's enrolment: said first, so the database looks only there.
        return self.filter(
            Q(enrolment_id=Subquery(item.values("portfolio__enrolment_id")[:1]))
            & (
                Q(Exists(item.filter(portfolio_id=OuterRef("pk"))))
                | _linked(evidence_id=evidence_id, criterion__unit_id=OuterRef("unit_id"))
            )
        )

    def followed_by(self, user: User) -> "PortfolioQuerySet":
        """The portfolios an employer (line manager) follows: those of learners at a workplace
        where ``user`` is a contact with an account. Not part of ``visible_to``: an employer
        sees progress, plans and reviews on their own pages, and evidence only where the
        workplace allows it (``Workplace.employer_sees_evidence``)."""
        if not user.is_authenticated or not user.is_active or not user.is_employer:
            return self.none()
        return self.filter(
            Exists(WorkplaceContact.objects.filter(workplace=OuterRef("workplace"), user=user))
        )

    def search(self, text: str) -> "PortfolioQuerySet":
        """Portfolios whose learner's name or user name, or workplace, contains ``text``."""
        text = text.strip()
        if not text:
            return self
        return self.filter(
            Q(learner__first_name__icontains=text)
            | Q(learner__last_name__icontains=text)
            | Q(learner__username__icontains=text)
            | Q(workplace__organisation__icontains=text)
            | Q(workplace__site__icontains=text)
        )


_HOME_ORDERINGS = {
    Role.LEARNER: ["-start_date", "pk"],
    Role.ASSESSOR: ["learner__last_name", "learner__first_name", "pk"],
    Role.IQA: ["assessor__last_name", "assessor__first_name", "learner__last_name", "pk"],
    Role.EQA: ["learner__last_name", "learner__first_name", "pk"],
    Role.CENTRE_ADMIN: ["-start_date", "pk"],
}


def _role_condition(user: User, role: Role) -> Q | None:
    if not user.is_authenticated or not user.is_active or not user.has_role(role):
        return None
    match role:
        case Role.LEARNER:
            return Q(learner=user)
        case Role.ASSESSOR:
            return Q(assessor=user)
        case Role.IQA:
            # An IQA never quality-assures a portfolio they assessed themselves.
            return Q(iqa=user) & ~assessed_by(user)
        case Role.EQA:
            grants = EqaGrant.objects.active_for(user)
            return Q(Exists(grants.filter(whole_centre=True))) | Q(
                Exists(grants.filter(portfolios=OuterRef("pk")))
            )
        case Role.CENTRE_ADMIN:
            return Q(pk__isnull=False)
    # An employer sees no portfolio as such: ``PortfolioQuerySet.followed_by``.
    return None


# How each kind of record by which someone judges a portfolio as its assessor is found: a query
# of the records ``user`` made, correlated with the portfolio (``OuterRef("pk")``). The
# learner's side holds one kind, the observation and discussion records an assessor writes as
# evidence; assessment adds its reviews, mappings, decisions and sign-offs when it loads
# (``assessments.apps``), since this side cannot know them.
ASSESSOR_JUDGEMENTS: dict[str, Callable[[User], models.QuerySet]] = {
    "assessor's record": lambda user: EvidenceItem.objects.filter(
        portfolio=OuterRef("pk"), recorded_by=user
    ),
}


# How an item of evidence comes to count in a unit of its enrolment other than the one it is kept
# in: a row linking it to one of that unit's criteria (with ``evidence`` and ``criterion``). The
# learner's side holds the claims; assessment adds its mappings when it loads
# (``assessments.apps``).
CRITERION_LINKS: dict[str, Callable[[], models.QuerySet]] = {
    "claim": lambda: CriterionClaim.objects.all(),
}


def _linked(*expressions, **condition) -> Q:
    """Items (``OuterRef("pk")`` unless ``condition`` names the evidence) with a link of any kind
    matching ``expressions`` and ``condition``."""
    if "evidence_id" not in condition:
        condition.setdefault("evidence", OuterRef("pk"))
    return functools.reduce(
        operator.or_,
        [Q(Exists(rows().filter(*expressions, **condition))) for rows in CRITERION_LINKS.values()],
    )


def assessed_by(user: User) -> Q:
    """Portfolios ``user`` assesses, or made an assessor's judgement on (any record of
    ``ASSESSOR_JUDGEMENTS``) before the portfolio was given to another assessor."""
    judgements = [Q(Exists(find(user))) for find in ASSESSOR_JUDGEMENTS.values()]
    return functools.reduce(operator.or_, judgements, Q(assessor=user))


class EnrolmentQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> "EnrolmentQuerySet":
        """Enrolments with a unit ``user`` may see."""
        visible = Portfolio.objects.visible_to(user)
        return self.filter(Exists(visible.filter(enrolment_id=OuterRef("pk"))))

    def followed_by(self, user: User) -> "EnrolmentQuerySet":
        """Enrolments with a unit an employer follows (``PortfolioQuerySet.followed_by``)."""
        followed = Portfolio.objects.followed_by(user)
        return self.filter(Exists(followed.filter(enrolment_id=OuterRef("pk"))))


class Enrolment(models.Model):
    """A learner registered on a qualification, or on single units, as the awarding body allows:
    one portfolio for each unit taken, and the evidence shared between them. An item of
    evidence is kept in one of its portfolios and counts in every unit of the enrolment it is
    claimed or mapped in (``EvidenceQuerySet.counting_in``)."""

    learner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="enrolments")
    qualification = models.ForeignKey(
        "units.Qualification",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enrolments",
        help_text="Empty for a learner entered for single units.",
    )
    start_date = models.DateField(default=timezone.localdate)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EnrolmentQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "pk"]

    def __str__(self) -> str:
        return f"{self.learner} on {self.entered_for}"

    def get_absolute_url(self) -> str:
        return reverse("enrolment_detail", args=[self.pk])

    @property
    def entered_for(self) -> str:
        """What the learner is entered for: "OCR qualification X" or "single units"."""
        return self.qualification.label if self.qualification_id else "single units"

    def may_change_units(self, user: User) -> bool:
        """The centre administrator chooses the units; see ``units_fixed``."""
        return user.is_active and user.is_centre_admin

    def units_fixed(self, portfolios) -> str | None:
        """Why the choice of units can no longer change, or None: once one of them is signed
        off, the choice stands."""
        signed = [p for p in portfolios if p.status != Portfolio.Status.IN_PROGRESS]
        if signed:
            return (
                f"Unit {signed[0].unit.code} is signed off, so the choice of units can no longer "
                "change."
            )
        return None


class Portfolio(models.Model):
    """One learner working towards one unit, with the people who assess and quality-assure it.
    Each is one unit of an enrolment; made on its own, it is given a single-unit enrolment."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        ASSESSED = "assessed", "Assessed"
        VERIFIED = "verified", "Verified"
        CLAIMED = "claimed", "Claimed"

    # A unit counts towards its qualification once the IQA has verified it.
    ACHIEVED = (Status.VERIFIED, Status.CLAIMED)

    # The sector is the workplace's since 0.2; kept here for code and migrations that name it.
    Sector = Sector

    learner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="portfolios")
    enrolment = models.ForeignKey(
        Enrolment, on_delete=models.PROTECT, related_name="portfolios", editable=False
    )
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="portfolios")
    assessor = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="assessed_portfolios",
        null=True,
        blank=True,
    )
    iqa = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="quality_assured_portfolios",
        null=True,
        blank=True,
        verbose_name="IQA",
    )
    workplace = models.ForeignKey(Workplace, on_delete=models.PROTECT, related_name="portfolios")
    job_role = models.CharField(max_length=200, blank=True)
    start_date = models.DateField(default=timezone.localdate)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.IN_PROGRESS)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_reference = models.CharField(max_length=100, blank=True)
    retain_until = models.DateField(
        null=True, blank=True, help_text="After this date the records may be purged."
    )
    purged_at = models.DateTimeField(null=True, blank=True)
    # The claim that claimed it; its status, claimed_at and claim_reference are kept in step.
    claim = models.ForeignKey(
        "Claim", on_delete=models.PROTECT, null=True, blank=True, related_name="portfolios"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PortfolioQuerySet.as_manager()

    class Meta:
        ordering = ["learner__last_name", "learner__first_name", "learner__username"]
        constraints = [
            models.UniqueConstraint(fields=["learner", "unit"], name="one_portfolio_per_unit"),
        ]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.learner} - {self.unit.awarding_body} {self.unit.code}"

    def save(self, *args, **kwargs) -> None:
        if self.enrolment_id is None and self.learner_id is not None:
            self.enrolment = Enrolment.objects.create(
                learner_id=self.learner_id, start_date=self.start_date
            )
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("portfolio_detail", args=[self.pk])

    def clean(self) -> None:
        errors = {}
        if self.learner_id and not self.learner.is_learner:
            errors["learner"] = f"{self.learner} does not hold the learner role."
        elif self.enrolment_id and self.enrolment.learner_id != self.learner_id:
            errors["learner"] = "The learner must be the one enrolled."
        if self.assessor_id:
            if not self.assessor.is_assessor:
                errors["assessor"] = f"{self.assessor} does not hold the assessor role."
            elif self.assessor_id == self.learner_id:
                errors["assessor"] = "A learner cannot assess their own portfolio."
        if self.iqa_id:
            if not self.iqa.is_iqa:
                errors["iqa"] = f"{self.iqa} does not hold the internal quality assurer role."
            elif self.iqa_id == self.assessor_id:
                errors["iqa"] = "The IQA must not be the portfolio's assessor."
            elif self.pk and Portfolio.objects.assessed_by(self.iqa).filter(pk=self.pk).exists():
                errors["iqa"] = f"{self.iqa} has assessed this portfolio, so cannot be its IQA."
            elif self.iqa_id == self.learner_id:
                errors["iqa"] = "A learner cannot quality-assure their own portfolio."
        if errors:
            raise ValidationError(errors)

    def may_assess(self, user: User) -> bool:
        """The assigned assessor judges evidence until the unit is signed off."""
        return (
            user.pk == self.assessor_id
            and user.is_assessor
            and self.status == self.Status.IN_PROGRESS
        )

    def may_work_on(self, user: User) -> bool:
        """The learner adds and changes evidence and details while the portfolio is open."""
        return (
            user.pk == self.learner_id
            and user.is_learner
            and self.status == self.Status.IN_PROGRESS
        )

    def belongs_to(self, user: User) -> bool:
        """Whether ``user`` is this portfolio's learner: the pages then speak to them."""
        return user.pk == self.learner_id

    def may_declare(self, user: User) -> bool:
        """The learner signs the unit declaration once the assessor has signed the unit off."""
        return self.belongs_to(user) and self.status == self.Status.ASSESSED

    def may_quality_assure(self, user: User) -> bool:
        """The portfolio's IQA samples it, unless they assessed it themselves (now, or before it
        was given to another assessor)."""
        return (
            user.pk == self.iqa_id
            and user.pk != self.assessor_id
            and Portfolio.objects.in_role(user, Role.IQA).filter(pk=self.pk).exists()
        )

    def may_eqa_review(self, user: User) -> bool:
        """An external quality assurer reviews a portfolio while a grant gives them access."""
        return Portfolio.objects.in_role(user, Role.EQA).filter(pk=self.pk).exists()

    def shows_workplace_to(self, user: User) -> bool:
        """Whether a page of this portfolio, which ``user`` sees, links to its workplace's page
        (``WorkplaceQuerySet.visible_to``): for the staff, not the learner."""
        return not self.belongs_to(user) and any(user.has_role(role) for role in STAFF_ROLES)

    @property
    def age_days(self) -> int:
        return (timezone.localdate() - self.start_date).days


def start_of(day: datetime.date) -> datetime.datetime:
    """The first moment of ``day`` in the centre's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


class ClaimQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> "ClaimQuerySet":
        """Claims of enrolments ``user`` may see."""
        return self.filter(
            Exists(Enrolment.objects.visible_to(user).filter(pk=OuterRef("enrolment")))
        )

    def made_between(self, start=None, end=None) -> "ClaimQuerySet":
        """Claims made from the day ``start`` to the day ``end``, both included, as the days are
        at the centre; either may be None (no bound)."""
        claims = self
        # Moments rather than the dates of moments, so the index on claimed_at is used.
        if start is not None:
            claims = claims.filter(claimed_at__gte=start_of(start))
        if end is not None:
            claims = claims.filter(claimed_at__lt=start_of(end + datetime.timedelta(days=1)))
        return claims

    def listed(self) -> "ClaimQuerySet":
        """With what a list of claims shows: the learner, the qualification, who claimed it and
        the units claimed, in unit code order."""
        return self.select_related(
            "enrolment__learner", "enrolment__qualification", "claimed_by"
        ).prefetch_related(
            models.Prefetch(
                "portfolios", Portfolio.objects.select_related("unit").order_by("unit__code")
            )
        )


class Claim(models.Model):
    """The certification claim sent to the awarding body for an enrolment: the full award (every
    unit achieved) or single units, never both for one learner. Its units are the portfolios it
    claimed (``portfolios``); the rules are ``assessments.quality.claim_record``'s."""

    class Kind(models.TextChoices):
        FULL_AWARD = "full_award", "Full award"
        UNITS = "units", "Units"

    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="claims")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    reference = models.CharField(
        max_length=100, blank=True, help_text="The awarding body's reference, once given."
    )
    claimed_at = models.DateTimeField(default=timezone.now)
    claimed_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for a claim recorded before claims were kept, by someone not known.",
    )

    objects = ClaimQuerySet.as_manager()

    class Meta:
        ordering = ["-claimed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment"],
                condition=Q(kind="full_award"),
                name="one_full_award_claim_per_enrolment",
            ),
        ]
        indexes = [models.Index(fields=["claimed_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} claim for {self.enrolment}"


class EqaGrantQuerySet(models.QuerySet):
    def active(self) -> "EqaGrantQuerySet":
        return self.filter(expires_at__gt=timezone.now())

    def active_for(self, user: User) -> "EqaGrantQuerySet":
        """The grants giving ``user`` access now: while one holds, they see what it covers."""
        return self.active().filter(eqa=user)


class EqaGrant(models.Model):
    """Read-only access for an external quality assurer, to chosen portfolios or the whole centre,
    until it expires."""

    eqa = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="eqa_grants",
        verbose_name="external quality assurer",
    )
    whole_centre = models.BooleanField(
        default=False, help_text="Every portfolio of the centre, including ones added later."
    )
    portfolios = models.ManyToManyField(Portfolio, blank=True, related_name="eqa_grants")
    expires_at = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True, help_text="For example the visit date.")
    granted_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EqaGrantQuerySet.as_manager()

    class Meta:
        ordering = ["-expires_at"]
        verbose_name = "EQA access grant"
        # The table keeps the name it had when grants belonged to assessment.
        db_table = "assessments_eqagrant"

    def __str__(self) -> str:
        scope = "the whole centre" if self.whole_centre else "chosen portfolios"
        return f"{self.eqa}: {scope} until {timezone.localtime(self.expires_at):%d %b %Y %H:%M}"

    def clean(self) -> None:
        if self.eqa_id and not self.eqa.is_eqa:
            raise ValidationError(
                {"eqa": f"{self.eqa} does not hold the external quality assurer role."}
            )

    @property
    def is_active(self) -> bool:
        return self.expires_at > timezone.now()


class EvidenceQuerySet(models.QuerySet):
    def for_pages(self) -> "EvidenceQuerySet":
        """With what every evidence page shows beside the item: its portfolio's unit and people,
        the question it answers and who recorded it."""
        return self.select_related(
            "portfolio__unit",
            "portfolio__learner",
            "portfolio__assessor",
            "answers_question",
            "recorded_by",
        )

    def visible_to(self, user: User) -> "EvidenceQuerySet":
        """Evidence that counts in a portfolio ``user`` may see (kept in it, or claimed or mapped
        in its unit from another unit of the enrolment); a draft only to the learner writing it."""
        if not user.is_authenticated:
            return self.none()
        visible = Portfolio.objects.visible_to(user)
        # Linked to a criterion of a unit of its enrolment that ``user`` may see.
        shared = _linked(
            Exists(
                visible.filter(
                    enrolment_id=OuterRef("evidence__portfolio__enrolment_id"),
                    unit_id=OuterRef("criterion__unit_id"),
                )
            )
        )
        return self.filter(Q(portfolio__in=visible) | shared).exclude(
            ~Q(portfolio__learner=user), status=EvidenceItem.Status.DRAFT
        )

    def shown_to_employer(self, user: User) -> "EvidenceQuerySet":
        """Evidence an employer (line manager) may open on their own pages: kept in a portfolio
        they follow (``PortfolioQuerySet.followed_by``) at a workplace that lets its line
        managers see the evidence (``Workplace.employer_sees_evidence``); never a draft. Not
        part of ``visible_to``: no page of the portfolio opens to them."""
        followed = Portfolio.objects.followed_by(user).filter(
            workplace__employer_sees_evidence=True
        )
        return self.filter(portfolio__in=followed).exclude(status=EvidenceItem.Status.DRAFT)

    def counting_in(self, portfolio: "Portfolio") -> "EvidenceQuerySet":
        """The evidence that counts in ``portfolio``'s unit: kept in it, or kept in another unit
        of the same enrolment and claimed or mapped against one of this unit's criteria."""
        # Everything it may be is in the enrolment: said first, so the database starts from the
        # enrolment's few items rather than from every link to the unit's criteria.
        return self.filter(
            Q(portfolio__enrolment_id=portfolio.enrolment_id)
            & (Q(portfolio_id=portfolio.pk) | _linked(criterion__unit_id=portfolio.unit_id))
        )

    def counting_in_each(self, portfolios: "list[Portfolio]") -> dict[int, set[int]]:
        """For each of ``portfolios``, by its id, the ids of these items that count in it (as
        ``counting_in`` finds them), in one query however many portfolios there are."""
        found: dict[int, set[int]] = {portfolio.pk: set() for portfolio in portfolios}
        if not portfolios:
            return found
        each = [
            self.counting_in(portfolio)
            .order_by()
            .values_list("pk", models.Value(portfolio.pk, output_field=models.IntegerField()))
            for portfolio in portfolios
        ]
        for evidence_id, portfolio_id in each[0].union(*each[1:], all=True):
            found[portfolio_id].add(evidence_id)
        return found


class EvidenceItem(models.Model):
    """One piece of evidence from the learner's job, and what the learner says it shows."""

    class Method(models.TextChoices):
        OBSERVATION = "observation", "Direct observation"
        WITNESS = "witness", "Witness testimony"
        WORK_PRODUCT = "work_product", "Work product"
        DISCUSSION = "discussion", "Professional discussion"
        QUESTIONING = "questioning", "Questioning"
        REFLECTIVE = "reflective", "Reflective account"
        PRIOR_LEARNING = "prior_learning", "Recognition of prior learning"

    class Setting(models.TextChoices):
        REAL_PAID = "real_paid", "Real job (paid)"
        REAL_VOLUNTARY = "real_voluntary", "Real job (voluntary)"
        REALISTIC = "realistic", "Realistic working environment"
        PLACEMENT = "placement", "Work placement"
        SIMULATION = "simulation", "Simulation"

    class Customer(models.TextChoices):
        EXTERNAL = "external", "External customer"
        INTERNAL = "internal", "Internal customer (a colleague or another team)"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        ACCEPTED = "accepted", "Accepted"
        REFERRED_BACK = "referred_back", "Referred back"
        RESUBMITTED = "resubmitted", "Resubmitted"

    EDITABLE = {Status.DRAFT, Status.REFERRED_BACK}
    AWAITING_REVIEW = {Status.SUBMITTED, Status.RESUBMITTED}

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="evidence")
    title = models.CharField(max_length=200)
    method = models.CharField(max_length=20, choices=Method.choices)
    occurred_on = models.DateField("date it happened")
    contexts = models.ManyToManyField(
        "units.EvidenceContext", blank=True, related_name="evidence", verbose_name="contexts"
    )
    setting = models.CharField(max_length=20, choices=Setting.choices, blank=True)
    customer = models.CharField(
        "internal or external customer", max_length=10, choices=Customer.choices, blank=True
    )
    customer_reference = models.CharField(
        "customer reference",
        max_length=40,
        blank=True,
        help_text="Your own label for the customer, never their name or contact details.",
    )
    account = models.TextField("what happened", blank=True, max_length=limits.ACCOUNT)
    claimed_criteria = models.ManyToManyField(
        "units.Criterion",
        through="CriterionClaim",
        blank=True,
        related_name="claimed_by",
        verbose_name="criteria you believe it covers",
    )
    answers_question = models.ForeignKey(
        "units.Criterion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="answers",
        help_text="The knowledge criterion whose question this evidence answers.",
    )
    declared_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The assessor, for an observation or discussion record; empty for the learner.",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The one-time key of the form that created it: the same form posted again (a double tap, a
    # retry on a bad connection) finds this item instead of adding another.
    submission_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_on", "-pk"]
        verbose_name = "evidence item"
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "answers_question"],
                condition=Q(answers_question__isnull=False),
                name="one_answer_per_question",
            ),
        ]
        indexes = [models.Index(fields=["portfolio", "status"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("evidence_detail", args=[self.pk])

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE

    @property
    def is_knowledge_answer(self) -> bool:
        return self.answers_question_id is not None

    @property
    def is_prior_learning(self) -> bool:
        """Evidence of recognition of prior learning: assessed like any other item, and marked
        "RPL" wherever evidence is listed (the portfolio page, the matrix, the PDF)."""
        return self.method == self.Method.PRIOR_LEARNING

    def may_edit(self, user: User) -> bool:
        """The learner changes their own evidence while it is a draft or referred back, and no
        other unit it counts in is signed off."""
        return (
            self.is_editable
            and self.portfolio.may_work_on(user)
            and self.closed_unit_counting_it() is None
        )

    def closed_unit_counting_it(self, *, drafts_too: bool = False) -> "Portfolio | None":
        """Another portfolio of the enrolment this item counts in that is signed off (or
        further): what was signed there includes the item, so it no longer changes. A draft is
        in no signature, but would join one when submitted (``drafts_too``)."""
        if self.status == self.Status.DRAFT and not drafts_too:
            return None
        return (
            Portfolio.objects.counting(self.pk)
            .exclude(pk=self.portfolio_id)
            .exclude(status=Portfolio.Status.IN_PROGRESS)
            .select_related("unit")
            .first()
        )

    def may_delete(self, user: User) -> bool:
        return self.status == self.Status.DRAFT and self.may_edit(user)

    def may_review(self, user: User) -> bool:
        """The assessor accepts or refers back evidence that awaits review."""
        return (
            self.status in self.AWAITING_REVIEW
            and self.portfolio.may_assess(user)
            and self.closed_unit_counting_it() is None
        )

    def may_map(self, user: User) -> bool:
        """The assessor confirms criteria on accepted evidence: those of the units of its
        enrolment they assess, while each is open."""
        return self.status == self.Status.ACCEPTED and (
            self.portfolio.may_assess(user) or self.units_assessed_by(user).exists()
        )

    def units_assessed_by(self, user: User) -> "PortfolioQuerySet":
        """The portfolios of this item's enrolment whose criteria ``user`` may map on it."""
        if not user.is_assessor:
            return Portfolio.objects.none()
        return Portfolio.objects.filter(
            enrolment__portfolios=self.portfolio_id,
            assessor=user,
            status=Portfolio.Status.IN_PROGRESS,
        )

    @classmethod
    def setting_counts_as_work(cls, setting: str, unit) -> bool:
        """Performance evidence must come from work: evidence from a simulation counts only
        where the unit allows simulation for performance."""
        return setting != cls.Setting.SIMULATION or unit.simulation_allowed_for_performance

    def checking_problem(self) -> str | None:
        """Why this evidence cannot be submitted yet because of its files, or None: a file still
        being checked in the background is not yet part of it."""
        names = list(
            self.files.filter(status=EvidenceFile.Status.CHECKING).values_list(
                "original_name", flat=True
            )
        )
        if not names:
            return None
        return (
            f"'{self.title}' cannot be submitted yet: {get_text_list(names, 'and')} "
            f"{'is' if len(names) == 1 else 'are'} still being checked. Submit it once the check "
            "is done (this evidence page shows it); nothing was changed."
        )

    def submit_problem(self) -> str | None:
        """Why the learner cannot submit this evidence yet, or None: a file still being checked
        in the background, or nothing to assess (no file ready and nothing written)."""
        if problem := self.checking_problem():
            return problem
        if not self.account.strip() and not self.files.ready().exists():
            return (
                f"Add a file or write what happened before submitting '{self.title}': there is "
                "nothing to assess yet."
            )
        return None

    def witness_problem(self) -> str | None:
        """Why this witness-testimony evidence cannot be accepted yet, or None: what makes it
        evidence is the witness confirming the statement."""
        if self.method != self.Method.WITNESS:
            return None
        testimony = WitnessTestimony.objects.filter(evidence=self).first()
        Status = WitnessTestimony.Status
        if testimony is None or testimony.status == Status.NOT_SENT:
            return (
                "This is witness testimony, but no statement has been sent to a witness: refer "
                "it back so that the learner can send one."
            )
        if testimony.status == Status.DECLINED:
            return f"{testimony.witness_name} declined the statement: refer it back."
        if testimony.status == Status.SENT and testimony.link_expired:
            return (
                f"{testimony.witness_name}'s link expired without an answer: refer it back so "
                "that the learner can send the statement again."
            )
        if testimony.status == Status.SENT:
            return (
                f"This is witness testimony and {testimony.witness_name} has not confirmed the "
                "statement yet: accept it once they have, or refer it back."
            )
        return None


class CriterionClaim(models.Model):
    """The learner's belief that an evidence item covers a criterion (not the assessor's)."""

    evidence = models.ForeignKey(EvidenceItem, on_delete=models.CASCADE)
    criterion = models.ForeignKey("units.Criterion", on_delete=models.PROTECT)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["evidence", "criterion"], name="unique_claim"),
        ]

    def __str__(self) -> str:
        return f"{self.evidence} claims {self.criterion}"


class EvidenceFileQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> "EvidenceFileQuerySet":
        return self.filter(evidence__in=EvidenceItem.objects.visible_to(user))

    def shown_to_employer(self, user: User) -> "EvidenceFileQuerySet":
        """The files of evidence an employer may open (``EvidenceQuerySet.shown_to_employer``)."""
        return self.filter(evidence__in=EvidenceItem.objects.shown_to_employer(user))

    def ready(self) -> "EvidenceFileQuerySet":
        """Files that are checked and stored: the only ones served, counted, signed, put in the
        PDF or exported. A file being checked in the background is none of these."""
        return self.filter(status=EvidenceFile.Status.READY)


class EvidenceFile(models.Model):
    """A file of an evidence item, kept privately and served only through an access check."""

    class Kind(models.TextChoices):
        IMAGE = "image", "Photo or image"
        PDF = "pdf", "PDF document"
        DOCUMENT = "document", "Word or OpenDocument text"
        TEXT = "text", "Plain text"
        AUDIO = "audio", "Audio recording"
        VIDEO = "video", "Video"

    class Status(models.TextChoices):
        CHECKING = "checking", "Being checked"
        READY = "ready", "Ready"

    evidence = models.ForeignKey(EvidenceItem, on_delete=models.CASCADE, related_name="files")
    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.READY,
        help_text="A video, a recording or a large PDF is checked and cleaned in the background; "
        "until then it is not served, counted or signed.",
    )
    file = models.FileField(storage=_evidence_storage, max_length=300)
    screen = models.FileField(storage=_evidence_storage, max_length=300, blank=True)
    print_version = models.FileField(storage=_evidence_storage, max_length=300, blank=True)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    size = models.PositiveBigIntegerField()
    pixels = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="Width times height of a photo as uploaded, for the daily budget of pixels; "
        "empty for other files and for photos added before it was kept.",
    )
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_sha256 = models.CharField(
        "SHA-256 as uploaded",
        max_length=64,
        help_text="Differs from the stored file's when an image was re-encoded without metadata.",
    )
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    purged_at = models.DateTimeField(
        null=True, blank=True, help_text="When the content was removed; the hash is kept."
    )
    checked_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When its bytes on storage were last read and hashed (verify_files).",
    )
    storage_problem = models.CharField(
        max_length=300,
        blank=True,
        help_text="What the last check found wrong with the bytes on storage; empty while they "
        "match the SHA-256 above.",
    )

    objects = EvidenceFileQuerySet.as_manager()

    class Meta:
        ordering = ["uploaded_at", "pk"]
        indexes = [models.Index(fields=["checked_at", "id"], name="evidencefile_checked")]

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("evidence_file", args=[self.pk])

    @property
    def is_image(self) -> bool:
        return self.kind == self.Kind.IMAGE

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY

    @property
    def shown_inline(self) -> bool:
        return self.kind in {self.Kind.IMAGE, self.Kind.PDF}

    def stored_names(self) -> list[str]:
        return [f.name for f in (self.file, self.screen, self.print_version) if f]


class WitnessTestimony(models.Model):
    """What a witness saw, written by the learner and confirmed by the witness through a link."""

    class Status(models.TextChoices):
        NOT_SENT = "not_sent", "Not sent yet"
        SENT = "sent", "Waiting for the witness"
        CONFIRMED = "confirmed", "Confirmed by the witness"
        DECLINED = "declined", "Declined by the witness"

    evidence = models.OneToOneField(
        EvidenceItem, on_delete=models.CASCADE, related_name="testimony"
    )
    witness_name = models.CharField(max_length=200)
    witness_job_title = models.CharField("witness's job title", max_length=200)
    relationship = models.CharField(
        "relationship to you", max_length=200, help_text="For example: my line manager."
    )
    not_a_relative = models.BooleanField("the witness is not a relative of mine", default=False)
    witness_email = models.EmailField("witness's e-mail address")
    statement = models.TextField(
        "what the witness saw",
        max_length=limits.STATEMENT,
        help_text="The witness is asked to confirm this, word for word.",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NOT_SENT)
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    # The e-mailed link is exchanged, the first time it is used, for a key kept in that browser's
    # session: from then on the link opens nothing elsewhere, and the token in any log is spent.
    opened_at = models.DateTimeField(null=True, blank=True)
    browser_key_hash = models.CharField(max_length=64, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    response_ip = models.GenericIPAddressField(null=True, blank=True)
    confirmed_name = models.CharField("name typed by the witness", max_length=200, blank=True)
    decline_reason = models.TextField(blank=True, max_length=limits.NOTE)

    class Meta:
        verbose_name_plural = "witness testimonies"

    def __str__(self) -> str:
        return f"{self.witness_name} on {self.evidence}"

    @property
    def is_answered(self) -> bool:
        return self.status in {self.Status.CONFIRMED, self.Status.DECLINED}

    @property
    def link_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def answer_problem(self) -> str | None:
        """Why the witness's link takes no answer now, or None if it does: "used" (answered
        already), "replaced" (changed since it was sent), "expired", or "closed" (the unit is
        signed off, or another unit the evidence counts in, and an answer now would change what
        was signed; it opens again if the portfolio is reopened)."""
        if self.is_answered:
            return "used"
        if self.status != self.Status.SENT:
            return "replaced"  # changed since it was sent, and not sent again yet
        if self.link_expired:
            return "expired"
        if (
            self.evidence.portfolio.status != Portfolio.Status.IN_PROGRESS
            or self.evidence.closed_unit_counting_it() is not None
        ):
            return "closed"
        return None


class Notification(models.Model):
    """Something for a person to look at, shown in the app (and e-mailed, each or in a daily
    digest, as the person chose: ``User.notification_email``)."""

    class Kind(models.TextChoices):
        EVIDENCE_SUBMITTED = "evidence_submitted", "Evidence submitted"
        EVIDENCE_REFERRED_BACK = "evidence_referred_back", "Evidence referred back"
        EVIDENCE_ACCEPTED = "evidence_accepted", "Evidence accepted"
        WITNESS_ANSWERED = "witness_answered", "Witness answered"
        RECORD_TO_CONFIRM = "record_to_confirm", "Observation or discussion to confirm"
        ACTION_RAISED = "action_raised", "Action point raised"
        ACTION_DUE = "action_due", "Action point due"
        AWAITING_SAMPLE = "awaiting_sample", "Portfolio waiting for a sample"
        EQA_GRANTED = "eqa_granted", "EQA access given"
        EQA_EXPIRING = "eqa_expiring", "EQA access about to expire"
        INVITATION_UNUSED = "invitation_unused", "Invitation not yet used"
        FILE_CHECK = "file_check", "File check"
        UNIT_SIGNED_OFF = "unit_signed_off", "Unit signed off"
        PLAN_TO_ACCEPT = "plan_to_accept", "Assessment plan to accept"
        PLAN_CHANGE_ASKED = "plan_change_asked", "Change to an assessment plan asked for"
        ACTIVITY_OVERDUE = "activity_overdue", "Planned activity overdue"
        REVIEW_TO_SIGN = "review_to_sign", "Progress review to sign"
        REVIEW_DUE = "review_due", "Progress review due"
        OTHER = "other", "Other"

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=30, choices=Kind.choices, default=Kind.OTHER)
    evidence = models.ForeignKey(
        EvidenceItem, on_delete=models.CASCADE, null=True, related_name="notifications"
    )
    message = models.CharField(max_length=300)
    link = models.CharField(
        max_length=500, blank=True, help_text="The page it is about, on this site (a path)."
    )
    file_check = models.BooleanField(
        default=False,
        help_text="How a file's check in the background ended: shown on its evidence page "
        "until read.",
    )
    # Made once only: a notice from the daily checks names what it is about (e.g. an action
    # point falling due), so running them again finds it made already.
    once_key = models.CharField(max_length=100, blank=True)
    digest_pending = models.BooleanField(
        default=False, help_text="Waiting for the recipient's next daily digest e-mail."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            models.Index(
                fields=["recipient"],
                condition=models.Q(digest_pending=True),
                name="notification_digest_pending",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "once_key"],
                condition=~models.Q(once_key=""),
                name="notification_once",
            )
        ]

    def __str__(self) -> str:
        return self.message

    @property
    def url(self) -> str:
        if self.link:
            return self.link
        return self.evidence.get_absolute_url() if self.evidence_id else ""


class UploadUsage(models.Model):
    """What one stored upload took from its person's daily budget (``portfolio.budgets``): its
    megabytes and, for a photo, its pixels. Kept for a day whatever becomes of the file, so
    deleting evidence gives no room back."""

    person = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    file = models.ForeignKey(
        EvidenceFile, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    size = models.PositiveBigIntegerField()
    pixels = models.PositiveBigIntegerField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["person", "at"])]

    def __str__(self) -> str:
        return f"An upload of {self.size} bytes at {self.at:%Y-%m-%d %H:%M}"


class PasswordResetRequest(models.Model):
    """A password reset asked for, kept for an hour to throttle them per address and per e-mail
    address typed (held only as a hash: it may belong to no account)."""

    address = models.GenericIPAddressField(null=True, blank=True)
    email_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["address", "created_at"]),
            models.Index(fields=["email_hash", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"A password reset asked for at {self.created_at:%Y-%m-%d %H:%M}"


class OutgoingEmail(models.Model):
    """An e-mail the background worker sends, tried again a few times if the mail server
    refuses or does not answer. Once sent it is removed; one given up stays listed for the
    centre administrator for a while, without its text, which may hold a link that signs
    someone in (a password reset, a witness's link)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "waiting to be sent"
        FAILED = "failed", "could not be sent"

    to = models.EmailField(max_length=254)
    subject = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, help_text="Why the last attempt failed.")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.subject} (to {self.to})"
