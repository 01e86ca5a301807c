"""A unit as data: loaded from a specification file by ``import_unit``, never typed in by hand."""

import re

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse


class Unit(models.Model):
    awarding_body = models.CharField(max_length=40)
    code = models.CharField(max_length=20)
    title = models.CharField(max_length=200)
    level = models.PositiveSmallIntegerField()
    credit_value = models.PositiveSmallIntegerField()
    guided_learning_hours = models.PositiveSmallIntegerField()
    purpose = models.TextField()
    assessment = models.TextField(help_text="How the unit is assessed and verified.")
    evidence_requirements = models.JSONField(
        default=list, help_text="The evidence requirements, one paragraph per entry."
    )
    nos_suite = models.CharField("NOS suite", max_length=200)
    nos_urn = models.CharField("NOS original URN", max_length=40)
    nos_developed_by = models.CharField("NOS developed by", max_length=200, blank=True)
    nos_version = models.CharField("NOS version", max_length=20, blank=True)
    nos_mapping = models.TextField("NOS mapping statement", blank=True)
    version = models.PositiveIntegerField(help_text="Version of the specification file.")

    # Sufficiency thresholds: how much accepted evidence the unit asks for.
    simulation_allowed_for_performance = models.BooleanField(default=False)
    min_distinct_occasions = models.PositiveSmallIntegerField()
    min_distinct_customers = models.PositiveSmallIntegerField()
    min_period_days = models.PositiveSmallIntegerField(
        help_text="Days between the earliest and latest accepted performance evidence."
    )
    sufficiency_rationale = models.TextField(blank=True)

    imported_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["awarding_body", "code"]
        constraints = [
            models.UniqueConstraint(fields=["awarding_body", "code"], name="unique_unit_code"),
        ]

    def __str__(self) -> str:
        return f"{self.awarding_body} {self.code} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("unit_detail", args=[self.pk])

    @property
    def label(self) -> str:
        return f"{self.awarding_body} unit {self.code}"

    @property
    def nos_title(self) -> str:
        """The NOS suite's name as a heading shows it: "NOS for ..." stays as it is, any other
        name is said to be a NOS suite."""
        if self.nos_suite.upper().startswith("NOS"):
            return self.nos_suite
        return f"NOS {self.nos_suite}"


class LearningOutcome(models.Model):
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="outcomes")
    number = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=300)
    guidance_intro = models.TextField(blank=True)
    guidance_points = models.JSONField(default=list)

    class Meta:
        ordering = ["unit", "number"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "number"], name="unique_outcome_number"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class Criterion(models.Model):
    class Kind(models.TextChoices):
        PERFORMANCE = "performance", "Performance"
        KNOWLEDGE = "knowledge", "Knowledge and understanding"

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="criteria")
    outcome = models.ForeignKey(LearningOutcome, on_delete=models.CASCADE, related_name="criteria")
    number = models.CharField("OCR number", max_length=10)
    wording = models.TextField("OCR wording")
    nos_code = models.CharField("NOS code", max_length=10)
    nos_wording = models.TextField("NOS wording")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    knowledge_question = models.TextField(
        blank=True, help_text="The question a learner answers to evidence a knowledge criterion."
    )
    position = models.PositiveSmallIntegerField(help_text="Order within the unit.")

    class Meta:
        ordering = ["unit", "position"]
        verbose_name_plural = "criteria"
        constraints = [
            models.UniqueConstraint(fields=["unit", "number"], name="unique_criterion_number"),
            models.UniqueConstraint(fields=["unit", "nos_code"], name="unique_criterion_nos_code"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """How every page names a criterion: the awarding body's number, then the NOS code, as
        in "1.1 (P1)"."""
        return f"{self.number} ({self.nos_code})"

    @property
    def label_with_unit(self) -> str:
        """The label with its unit's code, where criteria of several units meet: "C4 1.1 (P1)"."""
        return f"{self.unit.code} {self.label}"

    @property
    def is_performance(self) -> bool:
        return self.kind == self.Kind.PERFORMANCE


class EvidenceContext(models.Model):
    """A circumstance the unit asks evidence to be shown in, in the unit's own words."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="contexts")
    letter = models.CharField(max_length=1)
    description = models.CharField(max_length=200)
    short_name = models.CharField(max_length=60, help_text="A few words for tables and badges.")

    class Meta:
        ordering = ["unit", "letter"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "letter"], name="unique_context_letter"),
        ]

    def __str__(self) -> str:
        return f"{self.letter} {self.description}"

    @property
    def staff_description(self) -> str:
        """The description as staff read it: the unit speaks to the learner ("a busy time in
        your job"), a form for the assessor or a report speaks of them ("the learner's job")."""
        return _third_person(self.description)


_SECOND_PERSON = [
    (re.compile(r"\byourself\b", re.I), "themselves"),
    (re.compile(r"\byours\b", re.I), "the learner's"),
    (re.compile(r"\byour\b", re.I), "the learner's"),
    (re.compile(r"\byou\b", re.I), "the learner"),
]


def _third_person(text: str) -> str:
    for pattern, replacement in _SECOND_PERSON:
        text = pattern.sub(replacement, text)
    return text


class QualificationQuerySet(models.QuerySet):
    def with_structure(self) -> "QualificationQuerySet":
        """Each qualification with its groups, their listings (with their units) and its rules
        (with their groups), in five queries however many there are: what the rules engine
        (``units/combination.py``) and the qualification's page read."""
        return self.prefetch_related(
            models.Prefetch(
                "groups",
                UnitGroup.objects.order_by("position").prefetch_related(
                    models.Prefetch(
                        "listings", UnitListing.objects.select_related("unit").order_by("position")
                    )
                ),
            ),
            models.Prefetch(
                "rules", CombinationRule.objects.order_by("position").prefetch_related("groups")
            ),
        )


class Qualification(models.Model):
    """A qualification as data: its groups of units and rules of combination, loaded from a
    specification file by ``import_qualification``."""

    awarding_body = models.CharField(max_length=40)
    code = models.CharField(max_length=20)
    title = models.CharField(max_length=200)
    level = models.PositiveSmallIntegerField()
    total_credits = models.PositiveSmallIntegerField(help_text="The minimum credits for the award.")
    version = models.PositiveIntegerField(help_text="Version of the specification file.")
    # The centre's choice, not the specification's: importing the file again leaves it as set.
    review_weeks = models.PositiveSmallIntegerField(
        "weeks between progress reviews",
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(52)],
        help_text="Each learner on it is reviewed at least this often: 12 weeks by default.",
    )
    imported_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = QualificationQuerySet.as_manager()

    class Meta:
        ordering = ["awarding_body", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["awarding_body", "code"], name="unique_qualification_code"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.awarding_body} {self.code} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("qualification_detail", args=[self.pk])

    @property
    def label(self) -> str:
        return f"{self.awarding_body} qualification {self.code}"


class UnitGroup(models.Model):
    """Units of a qualification chosen together: every one of a mandatory group, or some of an
    optional group within its bounds."""

    class Kind(models.TextChoices):
        MANDATORY = "mandatory", "Mandatory"
        OPTIONAL = "optional", "Optional"

    qualification = models.ForeignKey(
        Qualification, on_delete=models.CASCADE, related_name="groups"
    )
    key = models.CharField(max_length=10, help_text='The short id the specification uses, "A".')
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    position = models.PositiveSmallIntegerField()
    min_credits = models.PositiveSmallIntegerField(null=True, blank=True)
    max_credits = models.PositiveSmallIntegerField(null=True, blank=True)
    min_units = models.PositiveSmallIntegerField(null=True, blank=True)
    max_units = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["qualification", "position"]
        constraints = [
            models.UniqueConstraint(fields=["qualification", "key"], name="unique_group_key"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_mandatory(self) -> bool:
        return self.kind == self.Kind.MANDATORY


class UnitListing(models.Model):
    """A unit as the qualification's specification lists it; ``unit`` is the loaded unit of its
    awarding body and code, empty until its own specification file is imported."""

    qualification = models.ForeignKey(
        Qualification, on_delete=models.CASCADE, related_name="listings"
    )
    group = models.ForeignKey(UnitGroup, on_delete=models.CASCADE, related_name="listings")
    awarding_body = models.CharField(
        max_length=40,
        help_text="The unit's awarding body: the qualification's unless the listing names one.",
    )
    code = models.CharField(max_length=20)
    title = models.CharField(max_length=200)
    level = models.PositiveSmallIntegerField()
    credits = models.PositiveSmallIntegerField()
    position = models.PositiveSmallIntegerField(help_text="Order within the group.")
    unit = models.ForeignKey(
        Unit, on_delete=models.SET_NULL, null=True, blank=True, related_name="listings"
    )

    class Meta:
        ordering = ["qualification", "group__position", "position"]
        constraints = [
            models.UniqueConstraint(fields=["qualification", "code"], name="unique_listing_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def is_loaded(self) -> bool:
        return self.unit_id is not None


class CombinationRule(models.Model):
    """A rule across groups, beyond each group's own bounds."""

    class Kind(models.TextChoices):
        CREDITS_AT_LEVEL = "credits_at_level", "Credits at or above a level"
        ONE_FROM_EACH = "one_from_each", "At least one unit from each group"

    qualification = models.ForeignKey(Qualification, on_delete=models.CASCADE, related_name="rules")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    groups = models.ManyToManyField(UnitGroup, related_name="rules")
    level = models.PositiveSmallIntegerField(null=True, blank=True)
    credits = models.PositiveSmallIntegerField(null=True, blank=True)
    description = models.TextField(
        blank=True, help_text="The rule in plain words, as the specification gives it."
    )
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["qualification", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["qualification", "position"], name="unique_rule_position"
            ),
        ]

    def __str__(self) -> str:
        return self.description or self.get_kind_display()
