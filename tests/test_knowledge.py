import pytest

from assessments.sufficiency import coverage_for
from portfolio.models import EvidenceItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def learner_client(client, login, portfolio):
    login(portfolio.learner)
    return client


def test_the_learner_sees_one_question_per_knowledge_criterion(learner_client, portfolio):
    page = learner_client.get(f"/portfolios/{portfolio.pk}/knowledge/").text

    for criterion in portfolio.unit.criteria.filter(kind="knowledge"):
        assert criterion.knowledge_question.replace("'", "&#x27;") in page
    assert page.count("Answer<span") == 10


def test_an_answer_is_evidence_by_questioning_claiming_its_criterion(learner_client, portfolio):
    k6 = portfolio.unit.criteria.get(nos_code="K6")

    learner_client.post(
        f"/portfolios/{portfolio.pk}/knowledge/{k6.pk}/",
        {
            "answer": "Assertive is calm and clear; aggressive attacks; passive gives in.",
            "save": "",
        },
    )

    evidence = EvidenceItem.objects.get()
    assert evidence.method == "questioning"
    assert evidence.answers_question == k6
    assert list(evidence.claimed_criteria.all()) == [k6]
    assert evidence.status == "draft"
    assert (
        "Your answer for 3.6 (K6) is a draft: submit it."
        in coverage_for([portfolio])[portfolio.pk].missing
    )


def test_changing_an_answer_keeps_one_item(learner_client, portfolio):
    k1 = portfolio.unit.criteria.get(nos_code="K1")
    url = f"/portfolios/{portfolio.pk}/knowledge/{k1.pk}/"

    learner_client.post(url, {"answer": "First try", "save": ""})
    learner_client.post(url, {"answer": "Second try", "save": ""})

    assert EvidenceItem.objects.get().account == "Second try"


def test_an_empty_answer_is_refused(learner_client, portfolio):
    k1 = portfolio.unit.criteria.get(nos_code="K1")

    response = learner_client.post(f"/portfolios/{portfolio.pk}/knowledge/{k1.pk}/", {"answer": ""})

    assert "This field is required." in response.text
    assert not EvidenceItem.objects.exists()


def test_a_performance_criterion_has_no_question(learner_client, portfolio):
    p1 = portfolio.unit.criteria.get(nos_code="P1")

    assert learner_client.get(f"/portfolios/{portfolio.pk}/knowledge/{p1.pk}/").status_code == 404


def test_a_submitted_answer_cannot_change(learner_client, portfolio):
    k1 = portfolio.unit.criteria.get(nos_code="K1")
    url = f"/portfolios/{portfolio.pk}/knowledge/{k1.pk}/"
    learner_client.post(url, {"answer": "First", "save": ""})
    EvidenceItem.objects.update(status="submitted")

    learner_client.post(url, {"answer": "Changed", "save": ""})

    assert EvidenceItem.objects.get().account == "First"
