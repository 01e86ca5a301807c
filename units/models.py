"""A unit as data: loaded from a specification file by ``import_unit``, never typed in by hand."""

import re

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
