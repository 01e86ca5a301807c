"""People and their roles, and portfolios: one learner working towards one unit."""

import functools
import operator

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone


class Role(models.TextChoices):
    LEARNER = "learner", "Learner"
    ASSESSOR = "assessor", "Assessor"
    IQA = "iqa", "Internal quality assurer"
    EQA = "eqa", "External quality assurer"
    CENTRE_ADMIN = "centre_admin", "Centre administrator"


# The user flag that grants each role, in the order roles are offered.
ROLE_FLAGS = {
    Role.LEARNER: "is_learner",
    Role.ASSESSOR: "is_assessor",
    Role.IQA: "is_iqa",
    Role.EQA: "is_eqa",
    Role.CENTRE_ADMIN: "is_centre_admin",
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

    class Meta:
        ordering = ["last_name", "first_name", "username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def save(self, *args, **kwargs):
        # The admin site is the centre administrator's tool, so admin access follows the role.
        self.is_staff = self.is_centre_admin or self.is_superuser
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "is_staff"}
        super().save(*args, **kwargs)

    @property
    def roles(self) -> list[Role]:
        return [role for role, flag in ROLE_FLAGS.items() if getattr(self, flag)]

    def has_role(self, role: Role) -> bool:
        return bool(getattr(self, ROLE_FLAGS[role]))


class PortfolioQuerySet(models.QuerySet):
    def in_role(self, user: User, role: Role) -> "PortfolioQuerySet":
        """The portfolios ``user`` may see when acting as ``role``."""
        condition = _role_condition(user, role)
        return self.none() if condition is None else self.filter(condition)

    def visible_to(self, user: User) -> "PortfolioQuerySet":
        """Every portfolio ``user`` may see, in any of their roles."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        conditions = [_role_condition(user, role) for role in user.roles]
        conditions = [condition for condition in conditions if condition is not None]
        if not conditions:
            return self.none()
        return self.filter(functools.reduce(operator.or_, conditions))


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
            return Q(iqa=user) & ~Q(assessor=user)
        case Role.EQA:
            from assessments.models import EqaGrant

            grants = EqaGrant.objects.active().filter(eqa=user)
            return Q(Exists(grants.filter(whole_centre=True))) | Q(
                Exists(grants.filter(portfolios=OuterRef("pk")))
            )
        case Role.CENTRE_ADMIN:
            return Q(pk__isnull=False)
    return None


class Portfolio(models.Model):
    """One learner working towards one unit, with the people who assess and quality-assure it."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        ASSESSED = "assessed", "Assessed"
        VERIFIED = "verified", "Verified"
        CLAIMED = "claimed", "Claimed"

    class Sector(models.TextChoices):
        PRIVATE = "private", "Private sector"
        NOT_FOR_PROFIT = "not_for_profit", "Not-for-profit"
        PUBLIC = "public", "Public services"

    learner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="portfolios")
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
    organisation = models.CharField(max_length=200, help_text="Where the learner works.")
    sector = models.CharField(max_length=20, choices=Sector.choices)
    job_role = models.CharField(max_length=200)
    start_date = models.DateField(default=timezone.localdate)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.IN_PROGRESS)
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

    def get_absolute_url(self) -> str:
        return reverse("portfolio_detail", args=[self.pk])

    def clean(self) -> None:
        errors = {}
        if self.learner_id and not self.learner.is_learner:
            errors["learner"] = f"{self.learner} does not hold the learner role."
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
            elif self.iqa_id == self.learner_id:
                errors["iqa"] = "A learner cannot quality-assure their own portfolio."
        if errors:
            raise ValidationError(errors)

    def may_edit_workplace(self, user: User) -> bool:
        return (
            user.pk == self.learner_id
            and user.is_learner
            and self.status == self.Status.IN_PROGRESS
        )

    @property
    def age_days(self) -> int:
        return (timezone.localdate() - self.start_date).days
