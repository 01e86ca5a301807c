import datetime

import factory
from django.conf import settings
from django.utils import timezone

from portfolio.models import (
    CriterionClaim,
    EqaGrant,
    EvidenceItem,
    Portfolio,
    Sector,
    User,
    WitnessTestimony,
    Workplace,
    WorkplaceContact,
)
from units.importer import import_unit_file
from units.models import Unit

PASSWORD = "correct-horse-battery"
C4_SPEC = settings.UNIT_SPECS_DIR / "ocr-c4.yaml"


def c4_unit() -> Unit:
    """The real C4 unit, imported from its specification file on first use."""
    return Unit.objects.filter(awarding_body="OCR", code="C4").first() or (
        import_unit_file(C4_SPEC).unit
    )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password(PASSWORD)

    class Params:
        learner = factory.Trait(is_learner=True)
        assessor = factory.Trait(is_assessor=True)
        iqa = factory.Trait(is_iqa=True)
        eqa = factory.Trait(is_eqa=True)
        centre_admin = factory.Trait(is_centre_admin=True)


class WorkplaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workplace

    organisation = "Riverside Borough Council"
    sector = Sector.PUBLIC


class WorkplaceContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkplaceContact

    workplace = factory.SubFactory(WorkplaceFactory)
    name = factory.Faker("name")
    job_title = "Line manager"
    email = factory.LazyAttribute(lambda contact: "manager@example.org")
    phone = "0114 496 0123"


class PortfolioFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Portfolio

    learner = factory.SubFactory(UserFactory, learner=True)
    unit = factory.LazyFunction(c4_unit)
    assessor = factory.SubFactory(UserFactory, assessor=True)
    iqa = factory.SubFactory(UserFactory, iqa=True)
    workplace = factory.SubFactory("tests.factories.WorkplaceFactory")
    job_role = "Contact centre adviser"


class EqaGrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EqaGrant
        skip_postgeneration_save = True

    eqa = factory.SubFactory(UserFactory, eqa=True)
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=30))

    @factory.post_generation
    def portfolios(self, create, extracted, **kwargs):
        if create and extracted:
            self.portfolios.set(extracted)


class EvidenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EvidenceItem
        skip_postgeneration_save = True

    portfolio = factory.SubFactory(PortfolioFactory)
    title = factory.Sequence(lambda n: f"Difficult customer {n}")
    method = EvidenceItem.Method.REFLECTIVE
    occurred_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=3))
    setting = EvidenceItem.Setting.REAL_PAID
    customer = EvidenceItem.Customer.EXTERNAL
    customer_reference = factory.Sequence(lambda n: f"Customer {n}")
    account = "The customer was angry about a late refund. I listened and explained."
    status = EvidenceItem.Status.DRAFT
    submitted_at = factory.LazyAttribute(
        lambda item: None if item.status == EvidenceItem.Status.DRAFT else timezone.now()
    )

    @factory.post_generation
    def contexts(self, create, extracted, **kwargs):
        """Letters, e.g. contexts="ab"."""
        if create and extracted:
            self.contexts.set(self.portfolio.unit.contexts.filter(letter__in=list(extracted)))

    @factory.post_generation
    def claims(self, create, extracted, **kwargs):
        """NOS codes, e.g. claims=["P1", "P8"]."""
        if create and extracted:
            for criterion in self.portfolio.unit.criteria.filter(nos_code__in=extracted):
                CriterionClaim.objects.create(evidence=self, criterion=criterion)


class WitnessFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WitnessTestimony

    evidence = factory.SubFactory(EvidenceFactory)
    witness_name = "Sam Okafor"
    witness_job_title = "Duty manager"
    relationship = "My line manager"
    not_a_relative = True
    witness_email = "sam.okafor@example.org"
    statement = "I saw the learner calm an upset customer at the returns desk."


def evidence_form_data(portfolio, **changes) -> dict:
    """The evidence form filled in for new evidence of ``portfolio``: a reflective account in
    context b claiming P1 and P8, with ``changes`` on top."""
    unit = portfolio.unit
    return {
        "title": "Refund complaint at the desk",
        "method": "reflective",
        "occurred_on": (timezone.localdate() - datetime.timedelta(days=2)).isoformat(),
        "contexts": [unit.contexts.get(letter="b").pk],
        "setting": "real_paid",
        "customer": "external",
        "customer_reference": "Customer 7",
        "account": "A customer was shouting about a refund. I listened, then explained.",
        "claimed_criteria": [c.pk for c in unit.criteria.filter(nos_code__in=["P1", "P8"])],
        **changes,
    }


def edit_form_data(evidence, **changes) -> dict:
    """The evidence form filled in with ``evidence`` as it stands, with ``changes`` (``files``,
    say) on top: what the learner posts when saving it again."""
    return {
        "title": evidence.title,
        "method": evidence.method,
        "occurred_on": evidence.occurred_on.isoformat(),
        "contexts": [c.pk for c in evidence.contexts.all()],
        "setting": evidence.setting,
        "customer": evidence.customer,
        "customer_reference": evidence.customer_reference,
        "account": evidence.account,
        "claimed_criteria": [c.pk for c in evidence.claimed_criteria.all()],
        **changes,
    }


class PlanFactory(factory.django.DjangoModelFactory):
    """A version of an assessment plan, issued unless told otherwise."""

    class Meta:
        model = "assessments.AssessmentPlan"

    enrolment = factory.LazyAttribute(lambda o: PortfolioFactory().enrolment)
    version = 1
    status = "awaiting_learner"
    written_by = factory.LazyAttribute(
        lambda o: o.enrolment.portfolios.first().assessor or UserFactory(is_assessor=True)
    )
    issued_at = factory.LazyFunction(timezone.now)


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "assessments.PlanActivity"

    plan = factory.SubFactory(PlanFactory)
    title = factory.Sequence(lambda n: f"Activity {n}")
    method = "observation"
    target_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=14))
