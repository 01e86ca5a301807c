"""Every assessor URL, walked by the assigned assessor, another assessor, the learner and an
anonymous visitor."""

import pytest

from assessments.models import CriterionDecision, Mapping
from tests.factories import EvidenceFactory, PortfolioFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(portfolio):
    submitted = EvidenceFactory(portfolio=portfolio, status="submitted", claims=["P1"])
    accepted = EvidenceFactory(portfolio=portfolio, status="accepted", claims=["P1"])
    p1 = portfolio.unit.criteria.get(nos_code="P1")
    mapping = Mapping.objects.create(
        evidence=accepted, criterion=p1, note="x", assessor=portfolio.assessor
    )
    p2 = portfolio.unit.criteria.get(nos_code="P2")
    Mapping.objects.create(evidence=accepted, criterion=p2, note="y", assessor=portfolio.assessor)
    decision = CriterionDecision.objects.create(
        portfolio=portfolio, criterion=p2, decided_by=portfolio.assessor
    )
    decision.cited.set([accepted])
    return {
        "personas": {
            "the assigned assessor": portfolio.assessor,
            "another assessor": PortfolioFactory().assessor,
            "the learner": portfolio.learner,
            "an anonymous visitor": None,
        },
        "ids": {
            "p": portfolio.pk,
            "s": submitted.pk,
            "a": accepted.pk,
            "m": mapping.pk,
            "c": p1.pk,
            "c2": p2.pk,
            "d": decision.pk,
        },
    }


# P1's note changed, P2 left as it is (a decision cites it).
MAPPED = {"map_{c}": "on", "note_{c}": "z", "map_{c2}": "on", "note_{c2}": "y"}

# (method, url, data, what the assigned assessor gets, what the learner gets)
ASSESSOR_URLS = [
    ("get", "/assessor/", {}, 200, 403),
    ("get", "/notifications/", {}, 200, 200),
    ("get", "/portfolios/{p}/matrix/", {}, 200, 200),
    ("get", "/portfolios/{p}/criteria/{c}/", {}, 200, 200),
    ("post", "/portfolios/{p}/criteria/{c}/", {}, 200, 403),
    ("get", "/portfolios/{p}/observations/new/", {}, 200, 403),
    ("get", "/portfolios/{p}/discussions/new/", {}, 200, 403),
    ("get", "/portfolios/{p}/sign-off/", {}, 200, 403),
    ("get", "/evidence/{s}/", {}, 200, 200),
    ("post", "/evidence/{s}/review/", {"decision": "accept"}, 302, 403),
    ("post", "/evidence/{a}/review/", MAPPED, 302, 403),
    ("post", "/decisions/{d}/withdraw/", {"reason": "r"}, 302, 403),
]


@pytest.mark.parametrize(("method", "url", "data", "assessor_gets", "learner_gets"), ASSESSOR_URLS)
@pytest.mark.parametrize(
    "persona", ["the assigned assessor", "another assessor", "the learner", "an anonymous visitor"]
)
def test_assessor_url_matrix(
    client, login, world, method, url, data, assessor_gets, learner_gets, persona
):
    user = world["personas"][persona]
    if user is not None:
        login(user)
    ids = world["ids"]
    data = {key.format(**ids): value.format(**ids) for key, value in data.items()}

    response = getattr(client, method)(url.format(**ids), data)

    if persona == "the assigned assessor":
        assert response.status_code == assessor_gets
    elif persona == "the learner":
        assert response.status_code == learner_gets
    elif persona == "an anonymous visitor":
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")
    elif url in {"/assessor/", "/notifications/"}:
        assert response.status_code == 200  # their own caseload and messages
        assert f"/portfolios/{ids['p']}/" not in response.text
    else:
        assert response.status_code == 404
