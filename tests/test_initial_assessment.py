"""The initial assessment: the assessor records where the learner starts on each learning
outcome and the prior learning claimed, in one post; whoever sees the portfolio reads it; RPL
evidence is marked wherever evidence is listed."""

import pytest
from django.core.exceptions import ValidationError

from assessments.models import InitialAssessment, PriorLearning, StartingPoint
from assessments.services import PriorClaim, initial_assessment_save
from audit.models import AuditEntry
from portfolio.models import EvidenceItem, Portfolio
from tests.factories import EvidenceFactory, PortfolioFactory

pytestmark = pytest.mark.django_db


def url(portfolio) -> str:
    return f"/portfolios/{portfolio.pk}/initial-assessment/"


def outcomes(portfolio):
    return list(portfolio.unit.outcomes.order_by("number"))


def levels(portfolio, *chosen: str) -> dict:
    """The form's starting points: ``chosen`` in outcome order (the last repeated)."""
    rows = outcomes(portfolio)
    chosen = list(chosen) + [chosen[-1]] * (len(rows) - len(chosen))
    return {f"level_{o.pk}": level for o, level in zip(rows, chosen, strict=True)}


@pytest.fixture
def certificate(portfolio):
    return EvidenceFactory(
        portfolio=portfolio,
        title="NVQ level 2 customer service certificate",
        method=EvidenceItem.Method.PRIOR_LEARNING,
        status="submitted",
    )


def test_the_assessor_records_starting_points_prior_learning_and_notes_in_one_post(
    client, login, portfolio, certificate
):
    login(portfolio.assessor)
    first, *_ = outcomes(portfolio)

    response = client.post(
        url(portfolio),
        {
            **levels(portfolio, "competent", "some", "new"),
            f"note_{first.pk}": "Five years on a help desk",
            "new_1_description": "Level 2 certificate in customer service, 2021",
            "new_1_evidence": certificate.pk,
            "new_2_description": "",
            "notes": "Prefers to be observed in the mornings.",
        },
    )

    assert response.status_code == 302
    assert response.url == portfolio.get_absolute_url()
    assessment = InitialAssessment.objects.get(portfolio=portfolio)
    assert assessment.recorded_by == portfolio.assessor
    assert assessment.notes == "Prefers to be observed in the mornings."
    points = list(assessment.starting_points.order_by("outcome__number"))
    assert [p.level for p in points][:3] == ["competent", "some", "new"]
    assert points[0].note == "Five years on a help desk"
    (claim,) = assessment.prior_learning.all()
    assert claim.evidence == certificate
    entry = AuditEntry.objects.get(action="initial_assessment.recorded")
    assert entry.portfolio_id == portfolio.pk
    assert entry.chain == f"learner-{portfolio.learner_id}"
    assert entry.data["prior_learning"] == [{"id": claim.pk, "evidence": certificate.pk}]


def test_a_change_is_audited_with_what_changed_and_nothing_changed_writes_nothing(
    client, login, portfolio, certificate
):
    login(portfolio.assessor)
    data = {**levels(portfolio, "new"), "notes": "First notes"}
    client.post(url(portfolio), data)
    assessment = InitialAssessment.objects.get(portfolio=portfolio)
    before = AuditEntry.objects.count()

    client.post(url(portfolio), data)  # as it is

    assert AuditEntry.objects.count() == before
    client.post(url(portfolio), {**data, **levels(portfolio, "some"), "notes": "Second"})
    entry = AuditEntry.objects.latest("id")
    assert entry.action == "initial_assessment.changed"
    assert entry.data["changed"] == ["starting points", "notes"]
    assessment.refresh_from_db()
    assert assessment.notes == "Second"


def test_a_post_missing_a_starting_point_saves_nothing_and_keeps_what_was_typed(
    client, login, portfolio, certificate
):
    login(portfolio.assessor)
    first, second, *_ = outcomes(portfolio)
    data = levels(portfolio, "new")
    del data[f"level_{second.pk}"]

    response = client.post(
        url(portfolio),
        {
            **data,
            f"note_{first.pk}": "Kept note",
            "new_1_description": "",
            "new_1_evidence": certificate.pk,
            "notes": "Kept notes",
        },
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert f"Choose where the learner starts on outcome {second.number}." in page
    assert f"Describe the prior learning that &#x27;{certificate.title}&#x27; shows." in page
    assert "Kept note<" in page
    assert "Kept notes<" in page
    assert not InitialAssessment.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="initial_assessment").exists()


def test_prior_learning_is_changed_and_removed_by_its_rows(client, login, portfolio, certificate):
    login(portfolio.assessor)
    client.post(
        url(portfolio),
        {
            **levels(portfolio, "some"),
            "new_1_description": "Certificate",
            "new_1_evidence": certificate.pk,
            "new_2_description": "Two years in a call centre",
        },
    )
    kept, gone = PriorLearning.objects.order_by("pk")

    response = client.post(
        url(portfolio),
        {
            **levels(portfolio, "some"),
            f"prior_{kept.pk}_description": "Certificate, level 2",
            f"prior_{kept.pk}_evidence": certificate.pk,
            f"prior_{gone.pk}_description": "Two years in a call centre",
            f"prior_{gone.pk}_remove": "on",
        },
    )

    assert response.status_code == 302
    (claim,) = PriorLearning.objects.all()
    assert (claim.pk, claim.description) == (kept.pk, "Certificate, level 2")


def test_an_emptied_recorded_row_asks_to_tick_remove(client, login, portfolio):
    login(portfolio.assessor)
    client.post(url(portfolio), {**levels(portfolio, "new"), "new_1_description": "Course"})
    (claim,) = PriorLearning.objects.all()

    response = client.post(
        url(portfolio), {**levels(portfolio, "new"), f"prior_{claim.pk}_description": ""}
    )

    assert response.status_code == 400
    assert "Describe the prior learning, or tick the box to remove it." in response.content.decode()
    assert PriorLearning.objects.get().description == "Course"


def test_only_the_enrolments_prior_learning_evidence_may_be_chosen(
    client, login, portfolio, certificate
):
    other_method = EvidenceFactory(portfolio=portfolio, status="submitted")
    elsewhere = EvidenceFactory(method=EvidenceItem.Method.PRIOR_LEARNING, status="submitted")
    login(portfolio.assessor)

    page = client.get(url(portfolio)).content.decode()

    assert certificate.title in page
    assert other_method.title not in page
    assert elsewhere.title not in page
    for item in (other_method, elsewhere):
        response = client.post(
            url(portfolio),
            {**levels(portfolio, "new"), "new_1_description": "x", "new_1_evidence": item.pk},
        )
        assert response.status_code == 400
        assert "Choose one of the learner&#x27;s items of recognition" in response.content.decode()
    assert not InitialAssessment.objects.exists()


def test_the_service_refuses_evidence_that_is_not_prior_learning(portfolio):
    item = EvidenceFactory(portfolio=portfolio, status="submitted")
    points = {o.pk: ("new", "") for o in outcomes(portfolio)}

    with pytest.raises(ValidationError, match="is not evidence of recognition of prior"):
        initial_assessment_save(
            portfolio=portfolio,
            by=portfolio.assessor,
            starting_points=points,
            notes="",
            prior_learning=[PriorClaim(None, "Course", item)],
        )

    assert not InitialAssessment.objects.exists()


def test_the_service_refuses_once_the_unit_is_signed_off(portfolio):
    Portfolio.objects.filter(pk=portfolio.pk).update(status=Portfolio.Status.ASSESSED)
    points = {o.pk: ("new", "") for o in outcomes(portfolio)}

    with pytest.raises(ValidationError, match="signed off"):
        initial_assessment_save(
            portfolio=portfolio,
            by=portfolio.assessor,
            starting_points=points,
            notes="",
            prior_learning=[],
        )


def test_the_page_points_to_adding_prior_learning_evidence_when_there_is_none(
    client, login, portfolio
):
    login(portfolio.assessor)
    page = client.get(url(portfolio)).content.decode()
    assert "has no evidence of recognition of prior learning yet" in page

    client.cookies.clear()
    login(portfolio.learner)
    page = client.get(url(portfolio)).content.decode()
    assert "No initial assessment is recorded yet" in page
    assert f'href="/portfolios/{portfolio.pk}/evidence/new/"' in page


def test_the_learner_reads_it_and_may_not_post(client, login, portfolio, certificate):
    PriorLearning.objects.create(
        initial_assessment=InitialAssessment.objects.create(
            portfolio=portfolio, recorded_by=portfolio.assessor, notes="Keen"
        ),
        description="Level 2 certificate",
        evidence=certificate,
    )
    StartingPoint.objects.create(
        initial_assessment=portfolio.initial_assessment,
        outcome=outcomes(portfolio)[0],
        level="competent",
    )
    login(portfolio.learner)

    page = client.get(url(portfolio)).content.decode()

    assert "Already competent" in page
    assert "Level 2 certificate" in page
    assert f'href="{certificate.get_absolute_url()}"' in page
    assert "RPL" in page
    assert '<form method="post" novalidate' not in page
    assert client.post(url(portfolio), levels(portfolio, "new")).status_code == 403


def test_the_portfolio_page_shows_the_panel_and_marks_rpl_evidence(
    client, login, portfolio, certificate
):
    login(portfolio.assessor)
    page = client.get(portfolio.get_absolute_url()).content.decode()
    assert "Record the initial assessment" in page

    client.post(url(portfolio), {**levels(portfolio, "competent"), "new_1_description": "x"})
    page = client.get(portfolio.get_absolute_url()).content.decode()

    assert "Record the initial assessment" not in page
    assert "Outcome 1: already competent" in page
    assert "1 piece of prior learning claimed." in page
    assert "(recognition of prior learning)</span>" in page  # beside the certificate's title


def test_the_matrix_marks_rpl_evidence_with_a_text_alternative(
    client, login, portfolio, certificate
):
    EvidenceFactory(portfolio=portfolio, status="submitted", title="Ordinary")
    login(portfolio.assessor)

    page = client.get(f"/portfolios/{portfolio.pk}/matrix/").content.decode()

    assert page.count('<span class="visually-hidden"> (recognition of prior learning)</span>') == 2
    assert "recognition of prior learning, assessed like any other evidence" in page


def test_another_portfolios_assessor_gets_404(client, login, portfolio):
    login(PortfolioFactory().assessor)

    assert client.get(url(portfolio)).status_code == 404


@pytest.mark.parametrize("claims", [1, 6])
def test_the_page_runs_a_fixed_number_of_queries(
    client, login, portfolio, django_assert_num_queries, claims
):
    assessment = InitialAssessment.objects.create(
        portfolio=portfolio, recorded_by=portfolio.assessor
    )
    for outcome in outcomes(portfolio):
        StartingPoint.objects.create(initial_assessment=assessment, outcome=outcome, level="new")
    for n in range(claims):
        item = EvidenceFactory(
            portfolio=portfolio, method=EvidenceItem.Method.PRIOR_LEARNING, status="submitted"
        )
        PriorLearning.objects.create(
            initial_assessment=assessment, description=f"{n}", evidence=item
        )
    login(portfolio.assessor)
    client.get(url(portfolio))

    # Expect 12 queries: the session, the session user, counting unread messages for the menu,
    # the portfolio with its learner, unit and assessor; the initial assessment with who
    # recorded it, its starting points with their outcomes, its prior learning with its
    # evidence; the unit's outcomes; the enrolment's prior-learning evidence the reader sees;
    # saving the session (a savepoint, the update, the release)
    with django_assert_num_queries(12):
        client.get(url(portfolio))
