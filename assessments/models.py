"""Judgements and quality assurance of portfolios."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from portfolio import limits
from portfolio.models import Enrolment, EvidenceItem, Portfolio, User

EvidenceMethod = EvidenceItem.Method


class Mapping(models.Model):
    """The assessor's confirmation that accepted evidence shows a criterion, and where."""

    evidence = models.ForeignKey(
        "portfolio.EvidenceItem", on_delete=models.CASCADE, related_name="mappings"
    )
    criterion = models.ForeignKey(
        "units.Criterion", on_delete=models.PROTECT, related_name="mappings"
    )
    note = models.TextField(
        max_length=limits.NOTE, help_text="Where in the evidence the criterion is shown."
    )
    recording_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="For a recorded discussion: where in the recording."
    )
    assessor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["evidence", "criterion"], name="unique_mapping"),
        ]

    def __str__(self) -> str:
        return f"{self.evidence} shows {self.criterion}"


class Review(models.Model):
    """The assessor's judgement of submitted evidence: accepted, or referred back with feedback."""

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        REFERRED_BACK = "referred_back", "Referred back"

    evidence = models.ForeignKey(
        "portfolio.EvidenceItem", on_delete=models.CASCADE, related_name="reviews"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    feedback = models.TextField(blank=True, max_length=limits.COMMENT)
    assessor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    # Referring back, the criteria the assessor had ticked, as [[criterion id, note], ...]: they
    # are offered ticked again when the evidence comes back, so nothing typed is lost. Not a
    # judgement (only accepted evidence is mapped), so not part of what is signed.
    proposed_mappings = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()}: {self.evidence}"


class ObservationRecord(models.Model):
    """What the assessor saw the learner do; the evidence item holds the account and contexts."""

    evidence = models.OneToOneField(
        "portfolio.EvidenceItem", on_delete=models.CASCADE, related_name="observation"
    )
    place = models.CharField(max_length=200)
    duration_minutes = models.PositiveSmallIntegerField()
    learner_confirmed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Observation: {self.evidence}"

    @staticmethod
    def may_confirm_on(evidence, user) -> bool:
        """The learner confirms the assessor's record of an observation they were part of."""
        return hasattr(evidence, "observation") and evidence.portfolio.belongs_to(user)


class CriterionDecisionQuerySet(models.QuerySet):
    def active(self) -> "CriterionDecisionQuerySet":
        return self.filter(withdrawn_at__isnull=True)


class CriterionDecision(models.Model):
    """The assessor's decision that a criterion is met, citing confirmed evidence."""

    portfolio = models.ForeignKey(
        "portfolio.Portfolio", on_delete=models.CASCADE, related_name="decisions"
    )
    criterion = models.ForeignKey(
        "units.Criterion", on_delete=models.PROTECT, related_name="decisions"
    )
    cited = models.ManyToManyField("portfolio.EvidenceItem", related_name="cited_by")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    decided_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawal_reason = models.TextField(blank=True, max_length=limits.NOTE)

    objects = CriterionDecisionQuerySet.as_manager()

    class Meta:
        ordering = ["decided_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "criterion"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="one_active_decision_per_criterion",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.criterion} met"


class Signature(models.Model):
    """Who signed what, in which role, and a digest of exactly what they signed."""

    class Kind(models.TextChoices):
        ASSESSOR_SIGN_OFF = "assessor_sign_off", "Assessor's unit sign-off"
        LEARNER_DECLARATION = "learner_declaration", "Learner's unit declaration"
        IQA_SAMPLE = "iqa_sample", "IQA's sample record"
        IQA_COUNTERSIGNATURE = "iqa_countersignature", "IQA's countersignature"
        PLAN_ASSESSOR = "plan_assessor", "Assessor's agreement to the assessment plan"
        PLAN_LEARNER = "plan_learner", "Learner's acceptance of the assessment plan"
        REVIEW_ASSESSOR = "review_assessor", "Assessor's signature on the progress review"
        REVIEW_LEARNER = "review_learner", "Learner's signature on the progress review"
        REVIEW_EMPLOYER = "review_employer", "Employer's signature on the progress review"

    # What is signed: a portfolio (its unit's records), one version of an assessment plan, or a
    # progress review; exactly one of the three.
    portfolio = models.ForeignKey(
        "portfolio.Portfolio",
        on_delete=models.PROTECT,
        related_name="signatures",
        null=True,
        blank=True,
    )
    plan = models.ForeignKey(
        "AssessmentPlan",
        on_delete=models.PROTECT,
        related_name="signatures",
        null=True,
        blank=True,
    )
    progress_review = models.ForeignKey(
        "ProgressReview",
        on_delete=models.PROTECT,
        related_name="signatures",
        null=True,
        blank=True,
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    # None for a signature made through a single-use link by someone without an account (an
    # employer signing a review): their typed name is the signer's name, and the address kept.
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    signed_from = models.GenericIPAddressField(
        null=True, blank=True, help_text="Where a signature through a link was made from."
    )
    signer_name = models.CharField(max_length=200)
    role = models.CharField(max_length=30)
    statement = models.TextField()
    signed_at = models.DateTimeField()
    manifest = models.JSONField(help_text="The records and file hashes that were signed.")
    digest = models.CharField(max_length=64, help_text="SHA-256 of the manifest.")
    digest_version = models.PositiveSmallIntegerField(
        default=1, help_text="Which version of the manifest the digest is of."
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.TextField(blank=True, max_length=limits.NOTE)

    class Meta:
        ordering = ["signed_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "kind"],
                # Kind.IQA_SAMPLE: the class's own names are out of reach inside Meta.
                condition=models.Q(revoked_at__isnull=True) & ~models.Q(kind="iqa_sample"),
                name="one_signature_of_each_kind",
            ),
            models.UniqueConstraint(
                fields=["plan", "kind"],
                condition=models.Q(revoked_at__isnull=True, plan__isnull=False),
                name="one_plan_signature_of_each_kind",
            ),
            models.UniqueConstraint(
                fields=["progress_review", "kind"],
                condition=models.Q(revoked_at__isnull=True, progress_review__isnull=False),
                name="one_review_signature_of_each_kind",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(portfolio__isnull=False, plan=None, progress_review=None)
                    | models.Q(portfolio=None, plan__isnull=False, progress_review=None)
                    | models.Q(portfolio=None, plan=None, progress_review__isnull=False)
                ),
                name="signature_of_one_thing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.signer_name}"


class SampleRate(models.Model):
    """The share of an assessor's portfolios the centre wants sampled, by the assessor's risk."""

    class Rating(models.TextChoices):
        NEW = "new", "New"
        STANDARD = "standard", "Standard"
        EXPERIENCED = "experienced", "Experienced"

    rating = models.CharField(max_length=20, choices=Rating.choices, unique=True)
    percent = models.PositiveSmallIntegerField(help_text="Target share of portfolios sampled.")

    class Meta:
        ordering = ["-percent"]

    def __str__(self) -> str:
        return f"{self.get_rating_display()}: {self.percent}%"


class SamplingPlan(models.Model):
    """How closely an IQA samples one assessor's work."""

    iqa = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sampling_plans"
    )
    rating = models.CharField(
        max_length=20, choices=SampleRate.Rating.choices, default=SampleRate.Rating.NEW
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["iqa", "assessor"], name="one_plan_per_assessor"),
        ]

    def __str__(self) -> str:
        return f"{self.assessor} ({self.get_rating_display()})"


class IqaSample(models.Model):
    """An internal quality assurer's look at a portfolio: what was looked at, and the outcome."""

    class Stage(models.TextChoices):
        INTERIM = "interim", "Interim"
        SUMMATIVE = "summative", "Summative"

    class Outcome(models.TextChoices):
        AGREE = "agree", "Agree"
        REFER_BACK = "refer_back", "Refer back to the assessor"

    portfolio = models.ForeignKey(
        "portfolio.Portfolio", on_delete=models.PROTECT, related_name="samples"
    )
    iqa = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    stage = models.CharField(max_length=20, choices=Stage.choices)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    comment = models.TextField(blank=True, max_length=limits.COMMENT)
    signature = models.OneToOneField(
        Signature, on_delete=models.PROTECT, null=True, related_name="sample"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} sample of {self.portfolio}"

    def get_absolute_url(self) -> str:
        return reverse("sample_detail", args=[self.pk])


class SampleItem(models.Model):
    """One evidence item or criterion decision an IQA looked at, with their comment."""

    sample = models.ForeignKey(IqaSample, on_delete=models.CASCADE, related_name="items")
    evidence = models.ForeignKey(
        "portfolio.EvidenceItem", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision = models.ForeignKey(
        CriterionDecision, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    comment = models.TextField(blank=True, max_length=limits.NOTE)

    def __str__(self) -> str:
        return str(self.evidence or self.decision)


class ActionPoint(models.Model):
    """Something the IQA asks the assessor to do, by a date; the assessor answers and closes it."""

    sample = models.ForeignKey(IqaSample, on_delete=models.CASCADE, related_name="actions")
    text = models.TextField(max_length=limits.COMMENT)
    due_on = models.DateField()
    response = models.TextField(blank=True, max_length=limits.COMMENT)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["due_on", "pk"]

    def __str__(self) -> str:
        return self.text[:60]


class StandardisationMeeting(models.Model):
    """A meeting where assessors and IQAs agree how the standard is applied."""

    held_on = models.DateField()
    title = models.CharField(max_length=200)
    attendees = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+")
    other_attendees = models.CharField(max_length=300, blank=True)
    discussed = models.TextField("what was discussed", max_length=limits.STATEMENT)
    evidence = models.ManyToManyField(
        "portfolio.EvidenceItem", blank=True, related_name="+", verbose_name="evidence looked at"
    )
    actions = models.TextField("actions agreed", blank=True, max_length=limits.COMMENT)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.held_on}: {self.title}"


class EqaReview(models.Model):
    """An external quality assurer's review of a portfolio."""

    class Outcome(models.TextChoices):
        SATISFACTORY = "satisfactory", "Satisfactory"
        ACTION_REQUIRED = "action_required", "Action required"

    portfolio = models.ForeignKey(
        "portfolio.Portfolio", on_delete=models.PROTECT, related_name="eqa_reviews"
    )
    eqa = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    report = models.TextField(max_length=limits.STATEMENT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"EQA review of {self.portfolio}"


class EqaVisit(models.Model):
    """A page an external quality assurer opened: who, what, when."""

    eqa = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    path = models.CharField(max_length=500)
    method = models.CharField(max_length=10)
    status = models.PositiveSmallIntegerField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["eqa", "at"])]

    def __str__(self) -> str:
        return f"{self.eqa} opened {self.path}"


# The records by which someone judges a portfolio as its assessor, as the learner's side asks for
# them (``portfolio.models.ASSESSOR_JUDGEMENTS``): an IQA never quality-assures a portfolio with
# one of theirs. Added there when this app loads (``assessments.apps``).
ASSESSOR_JUDGEMENTS = {
    # Evidence reviewed once counts in every unit of the enrolment it is claimed in: a review is a
    # judgement in each unit of the enrolment.
    "review": lambda user: Review.objects.filter(
        evidence__portfolio__enrolment_id=OuterRef("enrolment_id"), assessor=user
    ),
    # A mapping judges the unit of its criterion, wherever in the enrolment its evidence is kept.
    "mapping": lambda user: Mapping.objects.filter(
        evidence__portfolio__enrolment_id=OuterRef("enrolment_id"),
        criterion__unit_id=OuterRef("unit_id"),
        assessor=user,
    ),
    "decision": lambda user: CriterionDecision.objects.filter(
        portfolio=OuterRef("pk"), decided_by=user
    ),
    "sign-off": lambda user: Signature.objects.filter(
        portfolio=OuterRef("pk"), signer=user, kind=Signature.Kind.ASSESSOR_SIGN_OFF
    ),
}


# How an item of evidence counts in another unit of its enrolment, as the learner's side asks
# (``portfolio.models.CRITERION_LINKS``): the assessor mapped it against one of that unit's
# criteria. Added there when this app loads (``assessments.apps``).
CRITERION_LINKS = {"mapping": lambda: Mapping.objects.all()}


class SignableRecord(models.Model):
    """What a signature on the portfolio would bind now: the manifest of its signable records and
    file hashes and the manifest's digest, kept up to date in the transaction of every change to
    what it covers (``assessments.signable``). Signatures, pages and the PDF compare against it."""

    portfolio = models.OneToOneField(
        "portfolio.Portfolio",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="signable",
    )
    manifest = models.JSONField()
    digest = models.CharField(max_length=64, help_text="SHA-256 of the manifest.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"signable record of portfolio {self.portfolio_id}: {self.digest[:12]}…"


class InitialAssessment(models.Model):
    """Where the learner starts on a unit, recorded by the assessor at the start of the
    portfolio: a starting point for each learning outcome, and any prior learning claimed."""

    portfolio = models.OneToOneField(
        "portfolio.Portfolio", on_delete=models.CASCADE, related_name="initial_assessment"
    )
    notes = models.TextField(blank=True, max_length=limits.COMMENT)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Initial assessment: {self.portfolio}"


class StartingPoint(models.Model):
    """The learner's starting point on one learning outcome of the unit."""

    class Level(models.TextChoices):
        COMPETENT = "competent", "Already competent"
        SOME = "some", "Some experience"
        NEW = "new", "New to this"

    initial_assessment = models.ForeignKey(
        InitialAssessment, on_delete=models.CASCADE, related_name="starting_points"
    )
    outcome = models.ForeignKey("units.LearningOutcome", on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=20, choices=Level.choices)
    note = models.TextField(blank=True, max_length=limits.NOTE)

    class Meta:
        ordering = ["outcome__number", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["initial_assessment", "outcome"], name="one_starting_point_per_outcome"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.outcome}: {self.get_level_display()}"


class PriorLearning(models.Model):
    """Prior learning the learner claims (a certificate, earlier training or work), with the
    evidence item that shows it: an item of method "recognition of prior learning", assessed
    like any other."""

    initial_assessment = models.ForeignKey(
        InitialAssessment, on_delete=models.CASCADE, related_name="prior_learning"
    )
    description = models.TextField(max_length=limits.NOTE)
    evidence = models.ForeignKey(
        "portfolio.EvidenceItem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="prior_learning_claims",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = "prior learning"

    def __str__(self) -> str:
        return self.description[:80]


def plan_enrolments(user: User):
    """The enrolments whose plans ``user`` reads: those they see (``EnrolmentQuerySet.
    visible_to``) and, as an employer, those they follow (``EnrolmentQuerySet.followed_by``)."""
    return Enrolment.objects.visible_to(user) | Enrolment.objects.followed_by(user)


class AssessmentPlanQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> "AssessmentPlanQuerySet":
        """The plans ``user`` reads: every issued version of an enrolment they see or follow
        (``plan_enrolments``); a draft only to an assessor of one of its units, who may write
        it."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        plans = self.filter(enrolment__in=plan_enrolments(user).values("pk"))
        if not user.is_assessor:
            return plans.exclude(status=AssessmentPlan.Status.DRAFT)
        assessed = Portfolio.objects.filter(enrolment_id=OuterRef("enrolment_id"), assessor=user)
        return plans.filter(~Q(status=AssessmentPlan.Status.DRAFT) | Q(Exists(assessed)))


class AssessmentPlan(models.Model):
    """One version of the plan the assessor agrees with the learner for their enrolment: the
    activities that will produce the evidence. A version once issued never changes: a change is
    a new version, and the earlier ones stay readable with their signatures."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Being written"
        AWAITING_LEARNER = "awaiting_learner", "Waiting for the learner to accept it"
        CHANGE_ASKED = "change_asked", "The learner asked for a change"
        ACCEPTED = "accepted", "Accepted"
        SUPERSEDED = "superseded", "Replaced by a later version"

    # Versions that are the plan in force (issued, not yet replaced).
    ISSUED = (Status.AWAITING_LEARNER, Status.CHANGE_ASKED, Status.ACCEPTED)

    enrolment = models.ForeignKey(
        "portfolio.Enrolment", on_delete=models.PROTECT, related_name="plans"
    )
    version = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    change_asked_at = models.DateTimeField(null=True, blank=True)
    change_asked = models.TextField("the change asked for", blank=True, max_length=limits.NOTE)
    superseded_at = models.DateTimeField(null=True, blank=True)

    objects = AssessmentPlanQuerySet.as_manager()

    class Meta:
        ordering = ["enrolment", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "version"], name="unique_plan_version"),
            models.UniqueConstraint(
                fields=["enrolment"],
                condition=models.Q(status="draft"),
                name="one_plan_draft_per_enrolment",
            ),
        ]

    def __str__(self) -> str:
        return f"Assessment plan {self.version} for {self.enrolment}"

    def get_absolute_url(self) -> str:
        return reverse("plan_detail", args=[self.pk])

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def in_force(self) -> bool:
        """Issued and not yet replaced by a later version."""
        return self.status in self.ISSUED

    @staticmethod
    def may_plan(user: User, enrolment_id: int) -> bool:
        """The assessor of any unit of the enrolment still in progress writes and revises its
        plan."""
        return (
            user.is_active
            and user.is_assessor
            and Portfolio.objects.filter(
                enrolment_id=enrolment_id, assessor=user, status=Portfolio.Status.IN_PROGRESS
            ).exists()
        )

    def may_write(self, user: User) -> bool:
        """Who may change this version's activities and issue it (while it is a draft)."""
        return self.may_plan(user, self.enrolment_id)

    def may_respond(self, user: User) -> bool:
        """The learner accepts the plan or asks for a change."""
        return user.is_active and user.is_learner and user.pk == self.enrolment.learner_id

    def may_link(self, user: User) -> bool:
        """The learner links their evidence to the activities, the assessor any evidence."""
        return self.may_respond(user) or self.may_write(user)

    def change_problem(self) -> str | None:
        """Why this version's activities can no longer change, or None."""
        if self.is_draft:
            return None
        return (
            f"Version {self.version} of the plan has been issued, so it no longer changes: "
            "revise the plan to change it."
        )


class PlanActivityQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> "PlanActivityQuerySet":
        """The activities of the plans ``user`` reads (``AssessmentPlanQuerySet.visible_to``)."""
        return self.filter(plan__in=AssessmentPlan.objects.visible_to(user))


class PlanActivity(models.Model):
    """One thing the plan asks for: what, by when, by which method, the criteria and contexts
    it is meant to cover, and where and when an observation will happen. Evidence linked to it
    fulfils it once accepted."""

    plan = models.ForeignKey(AssessmentPlan, on_delete=models.CASCADE, related_name="activities")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    details = models.TextField(blank=True, max_length=limits.COMMENT)
    method = models.CharField(max_length=20, choices=EvidenceMethod.choices)
    target_date = models.DateField()
    criteria = models.ManyToManyField("units.Criterion", blank=True, related_name="+")
    contexts = models.ManyToManyField("units.EvidenceContext", blank=True, related_name="+")
    place = models.CharField(
        blank=True, max_length=200, help_text="Where an observation will happen."
    )
    planned_for = models.DateTimeField(
        null=True, blank=True, help_text="When an observation will happen."
    )
    evidence = models.ManyToManyField(
        "portfolio.EvidenceItem", blank=True, related_name="plan_activities"
    )
    # The same activity in the version before, when the plan was revised.
    carried_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = PlanActivityQuerySet.as_manager()

    class Meta:
        ordering = ["position", "pk"]
        verbose_name_plural = "plan activities"

    def __str__(self) -> str:
        return self.title


def assesses_enrolment(user: User, enrolment_id: int) -> bool:
    """Whether ``user`` is, as an active assessor, the assessor of a unit of the enrolment: who
    writes and signs its progress reviews and records its breaks in learning."""
    return (
        user.is_active
        and user.is_assessor
        and Portfolio.objects.filter(enrolment_id=enrolment_id, assessor=user).exists()
    )


def _read_by(user: User, enrolment: str) -> Exists:
    """Rows whose enrolment (the field ``enrolment``) ``user`` sees, or follows as an employer:
    who reads its reviews and breaks in learning."""
    seen = Enrolment.objects.visible_to(user).filter(pk=OuterRef(enrolment))
    followed = Enrolment.objects.followed_by(user).filter(pk=OuterRef(enrolment))
    return Exists(seen) | Exists(followed)


class BreakInLearningQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> "BreakInLearningQuerySet":
        return self.filter(_read_by(user, "enrolment_id"))


class BreakInLearning(models.Model):
    """A time the learner is away from their learning (illness, leave), recorded by the
    assessor or the centre: it pauses the review schedule and the plan's due dates."""

    enrolment = models.ForeignKey(
        "portfolio.Enrolment", on_delete=models.PROTECT, related_name="breaks"
    )
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True, help_text="Empty while it lasts.")
    reason = models.TextField(max_length=limits.NOTE)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = BreakInLearningQuerySet.as_manager()

    class Meta:
        ordering = ["starts_on", "pk"]
        verbose_name_plural = "breaks in learning"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="break_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"Break in learning from {self.starts_on}"

    @staticmethod
    def may_record(enrolment_id: int, user: User) -> bool:
        """The assessor of a unit of the enrolment, or the centre administrator."""
        return (user.is_active and user.is_centre_admin) or assesses_enrolment(user, enrolment_id)

    def overlap_of(self, others) -> "BreakInLearning | None":
        """The first of ``others`` (other breaks of the enrolment) sharing a day with this one;
        one still going on lasts for ever."""
        ends = self.ends_on or datetime.date.max
        for other in others:
            if (
                other.pk != self.pk
                and other.starts_on <= ends
                and self.starts_on <= (other.ends_on or datetime.date.max)
            ):
                return other
        return None


def _signed_as(kind: "Signature.Kind") -> Exists:
    """Reviews with a signature of ``kind`` in force."""
    return Exists(
        Signature.objects.filter(progress_review=OuterRef("pk"), kind=kind, revoked_at__isnull=True)
    )


def _assessor_signed() -> Exists:
    return _signed_as(Signature.Kind.REVIEW_ASSESSOR)


class ProgressReviewQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> "ProgressReviewQuerySet":
        """The reviews of the enrolments ``user`` sees (``EnrolmentQuerySet.visible_to``), and
        of those an employer follows (``followed_by``), once held (``held``); one still being
        written only to an assessor of a unit of its enrolment, who may write it (as a draft
        plan is)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        reviews = self.filter(_read_by(user, "enrolment_id"))
        if not user.is_assessor:
            return reviews.held()
        assessed = Portfolio.objects.filter(enrolment_id=OuterRef("enrolment_id"), assessor=user)
        return reviews.filter(Q(_assessor_signed()) | Q(Exists(assessed)))

    def held(self) -> "ProgressReviewQuerySet":
        """The reviews the assessor has signed (``ProgressReview.is_held``)."""
        return self.filter(_assessor_signed())

    def waiting_for(self, kind: "Signature.Kind") -> "ProgressReviewQuerySet":
        """The reviews held that wait for a signature of ``kind``: the learner's or the
        employer's."""
        return self.held().exclude(_signed_as(kind))

    def with_signatures(self) -> "ProgressReviewQuerySet":
        """Each review with its signatures in force (``signed``), in one more query."""
        return self.prefetch_related(
            models.Prefetch(
                "signatures",
                Signature.objects.filter(revoked_at__isnull=True).order_by("signed_at", "pk"),
                to_attr="signatures_in_force",
            )
        )


class ProgressReview(models.Model):
    """A review of the learner's progress since the last: the progress computed from the
    records, what went well and the targets until the next, the learner's and the employer's
    comments, signed by the assessor, the learner and the employer."""

    enrolment = models.ForeignKey(
        "portfolio.Enrolment", on_delete=models.PROTECT, related_name="progress_reviews"
    )
    held_on = models.DateField()
    period_from = models.DateField(help_text="The last review, or the start of the enrolment.")
    # Computed from the records when written, never typed; fixed once the assessor signs.
    progress = models.JSONField(default=dict)
    went_well = models.TextField("what went well", max_length=limits.COMMENT)
    targets = models.TextField("targets until the next review", max_length=limits.COMMENT)
    next_review_on = models.DateField(null=True, blank=True)
    learner_comments = models.TextField(blank=True, max_length=limits.COMMENT)
    employer_comments = models.TextField(blank=True, max_length=limits.COMMENT)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The employer's single-use link, for one without an account (as a witness's link works).
    employer_name = models.CharField(blank=True, max_length=200)
    employer_email = models.EmailField(blank=True)
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    browser_key_hash = models.CharField(max_length=64, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    objects = ProgressReviewQuerySet.as_manager()

    class Meta:
        ordering = ["enrolment", "-held_on", "-pk"]

    def __str__(self) -> str:
        return f"Progress review of {self.held_on} for {self.enrolment}"

    def get_absolute_url(self) -> str:
        return reverse("progress_review_detail", args=[self.pk])

    def signed(self, kind: "Signature.Kind") -> "Signature | None":
        """The signature of ``kind`` in force on the review, if any (from ``with_signatures``
        where it was loaded)."""
        signatures = getattr(self, "signatures_in_force", None)
        if signatures is None:
            self.signatures_in_force = signatures = list(
                Signature.objects.filter(progress_review=self, revoked_at__isnull=True)
            )
        return next((s for s in signatures if s.kind == kind), None)

    @property
    def is_held(self) -> bool:
        """Signed by the assessor: their part is fixed, and the others may sign."""
        return self.signed(Signature.Kind.REVIEW_ASSESSOR) is not None

    @property
    def state(self) -> str:
        if not self.is_held:
            return "Being written"
        missing = [
            who
            for kind, who in (
                (Signature.Kind.REVIEW_LEARNER, "the learner"),
                (Signature.Kind.REVIEW_EMPLOYER, "the employer"),
            )
            if self.signed(kind) is None
        ]
        if not missing:
            return "Signed by all"
        return "Waiting for " + " and ".join(missing) + " to sign"

    def may_write(self, user: User) -> bool:
        """The assessor of a unit of the enrolment changes it until they sign it."""
        return not self.is_held and assesses_enrolment(user, self.enrolment_id)

    def part_for(self, user: User) -> "Signature.Kind | None":
        """Which signature ``user`` may add now, or None: the assessor's first, then the
        learner's and the employer's (one following the learner with an account), each once,
        and never two by one person (an assessor who is also a line manager at the learner's
        workplace signs as the assessor only)."""
        if not user.is_active:
            return None
        if not self.is_held:
            return Signature.Kind.REVIEW_ASSESSOR if self.may_write(user) else None
        self.signed(Signature.Kind.REVIEW_ASSESSOR)  # loads the signatures in force
        if any(signature.signer_id == user.pk for signature in self.signatures_in_force):
            return None
        if self.enrolment.learner_id == user.pk:
            kind = Signature.Kind.REVIEW_LEARNER
        elif (
            user.is_employer
            and Enrolment.objects.followed_by(user).filter(pk=self.enrolment_id).exists()
        ):
            kind = Signature.Kind.REVIEW_EMPLOYER
        else:
            return None
        return kind if self.signed(kind) is None else None

    @property
    def link_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def link_problem(self) -> str | None:
        """Why the employer's link takes no signature now, or None if it does: "used" (the
        employer has signed), "replaced" (not sent, or cancelled), or "expired"."""
        if self.signed(Signature.Kind.REVIEW_EMPLOYER) is not None:
            return "used"
        if not self.token_hash or not self.is_held:
            return "replaced"
        if self.link_expired:
            return "expired"
        return None
