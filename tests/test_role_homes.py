"""Each role's home lists what that role may see, in a fixed number of queries."""

import pytest

from tests.factories import EvidenceFactory, PortfolioFactory

pytestmark = pytest.mark.django_db


def test_the_learner_sees_their_own_portfolio_only(client, login, portfolio):
    PortfolioFactory()
    login(portfolio.learner)

    response = client.get("/learner/")

    assert list(response.context["page"]) == [portfolio]
    assert "Deliver customer service to difficult customers" in response.text


def test_the_assessor_sees_their_caseload(client, login, portfolio):
    other = PortfolioFactory()
    mine = PortfolioFactory(assessor=portfolio.assessor)
    login(portfolio.assessor)

    response = client.get("/assessor/")

    assert set(response.context["page"]) == {portfolio, mine}
    assert str(other.learner) not in response.text


def test_the_iqa_sees_the_portfolios_they_quality_assure(client, login, portfolio):
    PortfolioFactory()
    login(portfolio.iqa)

    response = client.get("/iqa/")

    assert list(response.context["page"]) == [portfolio]
    assert str(portfolio.assessor) in response.text


def test_the_eqa_sees_their_grants_and_what_they_open(client, login, portfolio, make_grant):
    PortfolioFactory()
    grant = make_grant(portfolios=[portfolio], reason="Visit on 3 December")
    login(grant.eqa)

    response = client.get("/eqa/")

    assert list(response.context["page"]) == [portfolio]
    assert "1 chosen portfolio," in response.text
    assert "Visit on 3 December" in response.text


def test_the_centre_administrator_sees_every_portfolio_by_status(client, login, make_user, c4):
    PortfolioFactory.create_batch(3)
    PortfolioFactory(status="verified")
    login(make_user(centre_admin=True))

    response = client.get("/centre/")

    assert response.context["page"].paginator.count == 4
    assert ("In progress", 3) in response.context["statuses"]
    assert ("Verified", 1) in response.context["statuses"]


def test_long_lists_are_paginated(client, login, portfolio):
    PortfolioFactory.create_batch(26, assessor=portfolio.assessor)
    login(portfolio.assessor)

    first = client.get("/assessor/")
    second = client.get("/assessor/?page=2")

    assert len(first.context["page"]) == 25
    assert len(second.context["page"]) == 2
    assert "Page 1 of 2" in first.text


@pytest.mark.parametrize("count", [1, 20])
def test_the_caseload_runs_a_fixed_number_of_queries(
    client, login, portfolio, django_assert_num_queries, count
):
    for other in PortfolioFactory.create_batch(count - 1, assessor=portfolio.assessor):
        EvidenceFactory.create_batch(3, portfolio=other, status="submitted", claims=["P1"])
    login(portfolio.assessor)
    client.get("/assessor/")  # the chosen role is saved in the session once

    # Expect 22 queries: the session, the session user, counting the caseload for the pager, the
    # page of portfolios with their waiting, confirmed and activity figures; coverage: criteria,
    # contexts, evidence, claims, evidence contexts, mappings, decisions, cited evidence; the
    # plans in force; the next progress review of each: the last review held, the breaks in
    # learning; what waits for the assessor: evidence to review, open action points, plans to
    # revise; counting unread messages for the menu; saving the session (a savepoint, the
    # update, the release)
    with django_assert_num_queries(22):
        client.get("/assessor/")


@pytest.mark.parametrize("count", [1, 20])
def test_the_centre_home_runs_a_fixed_number_of_queries(
    client, login, make_user, django_assert_num_queries, c4, count
):
    PortfolioFactory.create_batch(count)
    login(make_user(centre_admin=True))
    client.get("/centre/")  # the chosen role is saved in the session once

    # Expect 14 queries: the session, the session user, the counts by status, the units of
    # enrolments with a unit verified and not claimed (for those achieved, not claimed; none
    # here, so no qualification is looked up), counting files found changed on storage, counting
    # e-mails that could not be sent, what waits for the administrator (e-mails given up, people
    # never signed in), the progress reviews due (the enrolments in progress with their last
    # review held, their breaks in learning), counting the portfolios for the pager, the page of
    # portfolios with learner, unit and people; counting unread messages for the menu; saving
    # the session (a savepoint, the update, the release)
    with django_assert_num_queries(16):
        client.get("/centre/")
