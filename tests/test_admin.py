"""The Django admin is the centre administrator's tool for people and assignments."""

import pytest

from portfolio.models import Portfolio

pytestmark = pytest.mark.django_db


@pytest.fixture
def centre_admin(make_user):
    return make_user(centre_admin=True)


def test_a_centre_administrator_can_use_the_admin_without_being_a_superuser(
    client, login, centre_admin
):
    assert not centre_admin.is_superuser
    login(centre_admin)

    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/portfolio/user/").status_code == 200
    assert client.get("/admin/portfolio/portfolio/add/").status_code == 200


def test_other_roles_cannot_use_the_admin(client, login, make_user):
    login(make_user(assessor=True, iqa=True, eqa=True, learner=True))

    response = client.get("/admin/portfolio/user/")

    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")


def test_an_assignment_to_someone_without_the_role_is_refused(
    client, login, centre_admin, make_user, c4
):
    learner = make_user(learner=True)
    not_an_assessor = make_user(learner=True)
    login(centre_admin)

    response = client.post(
        "/admin/portfolio/portfolio/add/",
        {
            "learner": learner.pk,
            "unit": c4.pk,
            "start_date": "2026-09-01",
            "assessor": not_an_assessor.pk,
            "organisation": "Hallam Rail",
            "sector": "private",
            "job_role": "Ticket office assistant",
        },
    )

    assert response.status_code == 200
    assert f"{not_an_assessor} does not hold the assessor role." in response.text
    assert not Portfolio.objects.exists()


def test_a_centre_administrator_registers_a_learner_on_the_unit(
    client, login, centre_admin, make_user, c4
):
    learner, assessor, iqa = (
        make_user(learner=True),
        make_user(assessor=True),
        make_user(iqa=True),
    )
    login(centre_admin)

    response = client.post(
        "/admin/portfolio/portfolio/add/",
        {
            "learner": learner.pk,
            "unit": c4.pk,
            "start_date": "2026-09-01",
            "assessor": assessor.pk,
            "iqa": iqa.pk,
            "organisation": "Hallam Rail",
            "sector": "private",
            "job_role": "Ticket office assistant",
        },
    )

    assert response.status_code == 302
    portfolio = Portfolio.objects.get()
    assert (portfolio.learner, portfolio.assessor, portfolio.iqa) == (learner, assessor, iqa)
    assert portfolio.status == Portfolio.Status.IN_PROGRESS


def test_units_are_read_only_in_the_admin(client, login, centre_admin, c4):
    login(centre_admin)

    assert client.get(f"/admin/units/unit/{c4.pk}/change/").status_code == 200
    assert client.get("/admin/units/unit/add/").status_code == 403
    response = client.post(f"/admin/units/unit/{c4.pk}/change/", {"title": "Changed"})
    assert response.status_code == 403


def test_a_centre_administrator_grants_an_eqa_access_and_it_is_audited(
    client, login, centre_admin, make_user, portfolio
):
    from audit.models import AuditEntry
    from portfolio.models import EqaGrant

    eqa = make_user(eqa=True)
    login(centre_admin)

    response = client.post(
        "/admin/portfolio/eqagrant/add/",
        {
            "eqa": eqa.pk,
            "portfolios": [portfolio.pk],
            "expires_at_0": "2099-01-31",
            "expires_at_1": "17:00:00",
            "reason": "Visit",
        },
    )

    assert response.status_code == 302
    grant = EqaGrant.objects.get()
    assert grant.granted_by == centre_admin
    assert list(grant.portfolios.all()) == [portfolio]
    entry = AuditEntry.objects.get(action="eqa.granted")
    assert entry.data["portfolios"] == [portfolio.pk]


def test_a_grant_to_someone_who_is_not_an_eqa_is_refused(
    client, login, centre_admin, make_user, portfolio
):
    from portfolio.models import EqaGrant

    login(centre_admin)

    response = client.post(
        "/admin/portfolio/eqagrant/add/",
        {
            "eqa": make_user(learner=True).pk,
            "whole_centre": "on",
            "expires_at_0": "2099-01-31",
            "expires_at_1": "17:00:00",
        },
    )

    assert response.status_code == 200
    assert "does not hold the external quality assurer role" in response.text
    assert not EqaGrant.objects.exists()


def test_the_admins_old_addresses_of_eqa_grants_lead_to_their_new_ones(client, login, centre_admin):
    login(centre_admin)

    assert client.get("/admin/assessments/eqagrant/").url == "/admin/portfolio/eqagrant/"
    response = client.get("/admin/assessments/eqagrant/add/?eqa=3")
    assert (response.status_code, response.url) == (301, "/admin/portfolio/eqagrant/add/?eqa=3")
