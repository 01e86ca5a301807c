"""Every learner URL, walked by the owner, another learner, an unrelated assessor and an
anonymous visitor."""

import pytest

from portfolio.files import atomic_with_files, prepare_upload, store_file
from portfolio.services import file_renditions
from tests import samples
from tests.factories import EvidenceFactory, PortfolioFactory, WitnessFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(portfolio, make_user):
    draft = EvidenceFactory(portfolio=portfolio, contexts="a", claims=["P1"])
    with atomic_with_files() as written:
        photo = store_file(
            draft,
            prepare_upload(samples.upload("p.jpg", samples.jpeg())),
            by=portfolio.learner,
            written=written,
        )
    file_renditions(file_id=photo.pk)  # as the background worker does
    WitnessFactory(evidence=draft)
    k1 = portfolio.unit.criteria.get(nos_code="K1")
    return {
        "personas": {
            "owner": portfolio.learner,
            "another learner": PortfolioFactory().learner,
            "an unrelated assessor": make_user(assessor=True),
            "an anonymous visitor": None,
        },
        "ids": {"p": portfolio.pk, "e": draft.pk, "f": photo.pk, "k": k1.pk},
    }


# (method, url, what the owner gets)
LEARNER_URLS = [
    ("get", "/learner/", 200),
    ("get", "/portfolios/{p}/", 200),
    ("get", "/portfolios/{p}/workplace/", 200),
    ("get", "/portfolios/{p}/evidence/new/", 200),
    ("get", "/portfolios/{p}/knowledge/", 200),
    ("get", "/portfolios/{p}/knowledge/{k}/", 200),
    ("get", "/evidence/{e}/", 200),
    ("get", "/evidence/{e}/edit/", 200),
    ("get", "/evidence/{e}/delete/", 200),
    ("get", "/evidence/{e}/submit/", 200),
    ("get", "/evidence/{e}/witness/", 200),
    ("post", "/evidence/{e}/witness/send/", 302),
    ("get", "/files/{f}/", 200),
    ("get", "/files/{f}/screen/", 200),
    ("get", "/files/{f}/print/", 200),
    ("post", "/files/{f}/remove/", 302),
]


@pytest.mark.parametrize(("method", "url", "owner_gets"), LEARNER_URLS)
@pytest.mark.parametrize(
    "persona", ["owner", "another learner", "an unrelated assessor", "an anonymous visitor"]
)
def test_learner_url_matrix(client, login, world, method, url, owner_gets, persona):
    user = world["personas"][persona]
    if user is not None:
        login(user)

    response = getattr(client, method)(url.format(**world["ids"]))

    if persona == "owner":
        assert response.status_code == owner_gets
    elif persona == "an anonymous visitor":
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")
    elif url == "/learner/" and persona == "another learner":
        assert response.status_code == 200  # their own home, with nothing of the owner's
        assert f'href="/portfolios/{world["ids"]["p"]}/"' not in response.text
    elif url == "/learner/":
        assert response.status_code == 403  # a role page, not an object: refused, not hidden
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("items", [1, 20])
def test_the_learner_home_runs_a_fixed_number_of_queries(
    client, login, portfolio, django_assert_num_queries, items
):
    EvidenceFactory.create_batch(items, portfolio=portfolio, status="submitted", contexts="ab")
    login(portfolio.learner)
    client.get("/learner/")

    # Expect 23 queries: the session, the session user, counting unread messages for the menu,
    # counting portfolios for the pager, the page of portfolios with their enrolments; progress:
    # every unit of those enrolments, the units the learner sees; their coverage: criteria,
    # contexts, evidence, claims, evidence contexts, mappings, decisions, cited evidence; their
    # plans in force; what waits for the learner: evidence referred back, observation records to
    # confirm, plans to accept, progress reviews to sign; saving the session (a savepoint, the
    # update, the release)
    with django_assert_num_queries(23):
        client.get("/learner/")


@pytest.mark.parametrize("items", [1, 20])
def test_the_portfolio_page_runs_a_fixed_number_of_queries(
    client, login, portfolio, django_assert_num_queries, items
):
    EvidenceFactory.create_batch(
        items, portfolio=portfolio, status="submitted", contexts="ab", claims=["P1"]
    )
    login(portfolio.learner)
    client.get("/learner/")

    # Expect 27 queries: the session, the session user, counting unread messages for the menu, the
    # portfolio with its people and unit; coverage: criteria, contexts, evidence, claims, evidence
    # contexts, mappings, decisions, cited evidence; the evidence list: counting it for the pager,
    # the page with file counts, its contexts, its claims; the signatures, files found changed on
    # storage, the stored signable record, the IQA samples, the EQA reviews, the initial
    # assessment (none yet), the plan in force; the breaks in learning and the last progress
    # review held; saving the session (a savepoint, the update, the release)
    with django_assert_num_queries(28):
        client.get(f"/portfolios/{portfolio.pk}/")


@pytest.mark.parametrize("answers", [1, 10])
def test_the_knowledge_page_runs_a_fixed_number_of_queries(
    client, login, portfolio, django_assert_num_queries, answers
):
    for criterion in portfolio.unit.criteria.filter(kind="knowledge")[:answers]:
        EvidenceFactory(portfolio=portfolio, method="questioning", answers_question=criterion)
    login(portfolio.learner)
    client.get("/learner/")

    # Expect 9 queries: the session, the session user, counting unread messages for the menu, the
    # portfolio with its unit, the learner's answers, the unit's knowledge criteria; saving the
    # session (a savepoint, the update, the release)
    with django_assert_num_queries(9):
        client.get(f"/portfolios/{portfolio.pk}/knowledge/")
