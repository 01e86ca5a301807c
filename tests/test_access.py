import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from assessments.models import CriterionDecision, Mapping, Review, Signature
from audit.models import AuditEntry
from portfolio.access import get_for_user
from portfolio.models import Portfolio, Role
from tests.factories import EvidenceFactory, PortfolioFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(portfolio, make_user, make_grant):
    """Every kind of person, relative to ``portfolio``."""
    other = PortfolioFactory()
    granted_eqa = make_grant(portfolios=[portfolio]).eqa
    expired_eqa = make_grant(
        portfolios=[portfolio], expires_at=timezone.now() - datetime.timedelta(minutes=1)
    ).eqa
    return {
        "owner": portfolio.learner,
        "other learner": other.learner,
        "assessor": portfolio.assessor,
        "other assessor": other.assessor,
        "iqa": portfolio.iqa,
        "other iqa": other.iqa,
        "eqa with a grant": granted_eqa,
        "eqa with a grant to another portfolio": make_grant(portfolios=[other]).eqa,
        "eqa whose grant expired": expired_eqa,
        "eqa with a whole-centre grant": make_grant(whole_centre=True).eqa,
        "centre administrator": make_user(centre_admin=True),
        "person without a role": make_user(),
    }


SEES = {
    "owner": True,
    "other learner": False,
    "assessor": True,
    "other assessor": False,
    "iqa": True,
    "other iqa": False,
    "eqa with a grant": True,
    "eqa with a grant to another portfolio": False,
    "eqa whose grant expired": False,
    "eqa with a whole-centre grant": True,
    "centre administrator": True,
    "person without a role": False,
}


@pytest.mark.parametrize(("persona", "sees"), SEES.items())
def test_portfolio_page_matrix(client, login, people, portfolio, persona, sees):
    login(people[persona])

    response = client.get(f"/portfolios/{portfolio.pk}/")

    assert response.status_code == (200 if sees else 404)


@pytest.mark.parametrize(("persona", "sees"), SEES.items())
def test_workplace_form_matrix(client, login, people, portfolio, persona, sees):
    login(people[persona])

    response = client.get(f"/portfolios/{portfolio.pk}/workplace/")

    expected = 200 if persona == "owner" else 403 if sees else 404
    assert response.status_code == expected


def test_anonymous_visitors_are_sent_to_sign_in(client, portfolio):
    response = client.get(f"/portfolios/{portfolio.pk}/")

    assert response.url == f"/accounts/login/?next=/portfolios/{portfolio.pk}/"


def test_get_for_user_gives_the_owner_the_object(portfolio):
    found = get_for_user(
        portfolio.learner, Portfolio.objects, may=Portfolio.may_work_on, pk=portfolio.pk
    )

    assert found == portfolio


def test_get_for_user_refuses_someone_with_access_who_may_not_change_it(portfolio):
    with pytest.raises(PermissionDenied):
        get_for_user(
            portfolio.assessor, Portfolio.objects, may=Portfolio.may_work_on, pk=portfolio.pk
        )
    assert get_for_user(portfolio.assessor, Portfolio.objects, pk=portfolio.pk) == portfolio


def test_get_for_user_hides_the_object_from_a_stranger(portfolio, make_user):
    with pytest.raises(Http404):
        get_for_user(make_user(learner=True), Portfolio.objects, pk=portfolio.pk)


def test_an_iqa_never_sees_as_iqa_a_portfolio_they_assessed(c4, make_user):
    both = make_user(assessor=True, iqa=True)
    assessed = PortfolioFactory(assessor=both, iqa=both)
    sampled = PortfolioFactory(iqa=both)

    assert list(Portfolio.objects.in_role(both, Role.IQA)) == [sampled]
    assert list(Portfolio.objects.in_role(both, Role.ASSESSOR)) == [assessed]


def test_losing_a_role_loses_its_portfolios(portfolio):
    assessor = portfolio.assessor
    assessor.is_assessor = False
    assessor.save()

    assert not Portfolio.objects.visible_to(assessor).exists()


def test_an_inactive_person_sees_nothing(portfolio):
    learner = portfolio.learner
    learner.is_active = False
    learner.save()

    assert not Portfolio.objects.visible_to(learner).exists()


def test_the_owner_can_edit_the_workplace(client, login, portfolio):
    login(portfolio.learner)

    response = client.post(
        f"/portfolios/{portfolio.pk}/workplace/",
        {"organisation": "Hallam Rail", "sector": "private", "job_role": "Ticket office assistant"},
    )

    assert response.url == f"/portfolios/{portfolio.pk}/"
    portfolio.refresh_from_db()
    workplace = portfolio.workplace
    assert (workplace.organisation, workplace.site, workplace.sector) == (
        "Hallam Rail",
        "",
        "private",
    )
    entry = AuditEntry.objects.get(action="portfolio.workplace_changed")
    assert entry.data == {
        "organisation": "Hallam Rail",
        "sector": "private",
        "job_role": "Ticket office assistant",
    }


def test_a_bad_workplace_keeps_what_was_typed_and_says_why(client, login, portfolio):
    login(portfolio.learner)

    response = client.post(
        f"/portfolios/{portfolio.pk}/workplace/",
        {"organisation": "Hallam Rail", "sector": "offshore", "job_role": ""},
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert "This field is required" not in response.text  # the job role may wait
    assert 'value="Hallam Rail"' in response.text
    portfolio.refresh_from_db()
    assert portfolio.workplace.organisation == "Riverside Borough Council"


def test_the_workplace_is_locked_once_the_unit_is_assessed(client, login, portfolio):
    portfolio.status = Portfolio.Status.ASSESSED
    portfolio.save()
    login(portfolio.learner)

    assert client.get(f"/portfolios/{portfolio.pk}/workplace/").status_code == 403


def test_an_iqa_never_quality_assures_a_portfolio_they_assessed_before_it_changed_hands(
    c4, make_user
):
    from assessments import quality
    from assessments.models import Review
    from tests.factories import EvidenceFactory

    both = make_user(assessor=True, iqa=True)
    portfolio = PortfolioFactory(assessor=both)
    item = EvidenceFactory(portfolio=portfolio, status="accepted")
    Review.objects.create(evidence=item, outcome="accepted", assessor=both)
    # The portfolio goes to another assessor, and the former assessor is named its IQA.
    Portfolio.objects.filter(pk=portfolio.pk).update(assessor=make_user(assessor=True), iqa=both)
    portfolio.refresh_from_db()

    assert not Portfolio.objects.in_role(both, Role.IQA).exists()
    assert not Portfolio.may_quality_assure(portfolio, both)
    with pytest.raises(ValidationError, match="has assessed this portfolio"):
        portfolio.clean()  # as the admin's form would
    with pytest.raises(ValidationError, match="You assessed this portfolio"):
        quality.sample_record(
            portfolio=portfolio,
            iqa=both,
            stage="interim",
            outcome="agree",
            comment="",
            items=[(item, None, "")],
            actions=[],
        )


def _review(portfolio, person, item):
    Review.objects.create(evidence=item, outcome="accepted", assessor=person)


def _mapping(portfolio, person, item):
    Mapping.objects.create(
        evidence=item, criterion=portfolio.unit.criteria.first(), note="", assessor=person
    )


def _decision(portfolio, person, item):
    CriterionDecision.objects.create(
        portfolio=portfolio, criterion=portfolio.unit.criteria.first(), decided_by=person
    )


def _sign_off(portfolio, person, item):
    Signature.objects.create(
        portfolio=portfolio,
        kind=Signature.Kind.ASSESSOR_SIGN_OFF,
        signer=person,
        signer_name=str(person),
        role="assessor",
        statement="",
        signed_at=timezone.now(),
        manifest={},
        digest="",
    )


def _record(portfolio, person, item):
    item.recorded_by = person
    item.save(update_fields=["recorded_by"])


@pytest.mark.parametrize(
    "judge",
    [_review, _mapping, _decision, _sign_off, _record],
    ids=["review", "mapping", "decision", "sign-off", "assessor's record"],
)
def test_every_kind_of_assessor_judgement_keeps_its_maker_from_quality_assuring(
    c4, make_user, judge
):
    both = make_user(assessor=True, iqa=True)
    portfolio = PortfolioFactory(assessor=both)
    item = EvidenceFactory(portfolio=portfolio, status="accepted")
    judge(portfolio, both, item)
    Portfolio.objects.filter(pk=portfolio.pk).update(assessor=make_user(assessor=True), iqa=both)
    portfolio.refresh_from_db()

    assert not Portfolio.objects.in_role(both, Role.IQA).exists()
    assert not Portfolio.may_quality_assure(portfolio, both)
    assert Portfolio.objects.assessed_by(both).get() == portfolio


def test_a_former_assessor_who_judged_nothing_may_quality_assure(c4, make_user):
    both = make_user(assessor=True, iqa=True)
    portfolio = PortfolioFactory(assessor=both)
    Portfolio.objects.filter(pk=portfolio.pk).update(assessor=make_user(assessor=True), iqa=both)
    portfolio.refresh_from_db()

    assert list(Portfolio.objects.in_role(both, Role.IQA)) == [portfolio]
    assert Portfolio.may_quality_assure(portfolio, both)
