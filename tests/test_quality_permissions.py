"""Every IQA, EQA and administrator URL, walked by the right person, a wrong person, an EQA
whose grant expired and an anonymous visitor."""

import datetime

import pytest
from django.utils import timezone

from assessments import quality
from assessments.models import StandardisationMeeting
from assessments.services import unit_sign_off
from tests.assessing import sufficient
from tests.factories import EvidenceFactory, PortfolioFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(portfolio, make_user, make_grant):
    sufficient(portfolio)
    unit_sign_off(portfolio=portfolio, by=portfolio.assessor)
    sample = quality.sample_record(
        portfolio=portfolio,
        iqa=portfolio.iqa,
        stage="interim",
        outcome="refer_back",
        comment="",
        items=[(portfolio.evidence.first(), None, "")],
        actions=[("Tighten the notes", timezone.localdate() + datetime.timedelta(days=7))],
    )
    other = PortfolioFactory()
    expired = make_grant(portfolios=[portfolio])
    expired.expires_at = timezone.now() - datetime.timedelta(seconds=1)
    expired.save()
    return {
        "iqa": portfolio.iqa,
        "eqa": make_grant(portfolios=[portfolio]).eqa,
        "admin": make_user(centre_admin=True),
        "assessor": portfolio.assessor,
        "wrong iqa": other.iqa,
        "wrong eqa": make_grant(portfolios=[other]).eqa,
        "learner": other.learner,
        "expired eqa": expired.eqa,
        "ids": {
            "p": portfolio.pk,
            "s": sample.pk,
            "a": sample.actions.get().pk,
            "assessor": portfolio.assessor.pk,
        },
    }


# (method, url, data, the right person, what they get, what a wrong person gets)
URLS = [
    ("get", "/iqa/", {}, "iqa", 200, None),
    ("post", "/iqa/plans/{assessor}/", {"rating": "standard"}, "iqa", 302, 403),
    ("get", "/portfolios/{p}/samples/new/", {}, "iqa", 200, 404),
    ("get", "/samples/{s}/", {}, "iqa", 200, 404),
    ("post", "/actions/{a}/close/", {"response": "done"}, "assessor", 302, 404),
    ("get", "/standardisation/", {}, "iqa", 200, None),
    ("get", "/standardisation/new/", {}, "iqa", 200, None),
    ("get", "/portfolios/{p}/audit/", {}, "eqa", 200, 404),
    ("get", "/eqa/", {}, "eqa", 200, None),
    ("post", "/portfolios/{p}/eqa-review/", {"outcome": "satisfactory", "report": "ok"}, "eqa",
     302, 404),
    ("get", "/centre/", {}, "admin", 200, 403),
    ("get", "/centre/eqa-visits/", {}, "admin", 200, 403),
    ("get", "/portfolios/{p}/unlock/", {}, "admin", 200, None),
    ("post", "/portfolios/{p}/claim/", {"reference": "X1"}, "admin", 302, None),
]  # fmt: skip

WRONG = {"iqa": "wrong iqa", "eqa": "wrong eqa", "admin": "learner", "assessor": "wrong iqa"}


@pytest.mark.parametrize(("method", "url", "data", "right", "gets", "wrong_gets"), URLS)
@pytest.mark.parametrize("who", ["right", "wrong", "expired eqa", "anonymous"])
def test_quality_url_matrix(client, login, world, method, url, data, right, gets, wrong_gets, who):
    person = {"right": right, "wrong": WRONG[right]}.get(who, who)
    if who != "anonymous":
        login(world[person])
    path = url.format(**world["ids"])

    response = getattr(client, method)(path, data)

    if who == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")
    elif who == "right":
        assert response.status_code == gets
    elif who == "expired eqa" and url in {"/eqa/"}:
        assert response.status_code == 200  # their own page, showing the grant as expired
        assert "expired" in response.text
        assert f"/portfolios/{world['ids']['p']}/" not in response.text
    elif who == "expired eqa":
        assert response.status_code in {403, 404}
    elif wrong_gets is None:
        # Their own page of the same kind, or a portfolio they may see but not change.
        assert response.status_code in {200, 302, 403, 404}
        assert f"/portfolios/{world['ids']['p']}/" not in getattr(response, "text", "")
    else:
        assert response.status_code == wrong_gets


@pytest.mark.parametrize("size", [1, 10])
def test_the_iqa_home_runs_a_fixed_number_of_queries(
    client, login, make_user, django_assert_num_queries, c4, size
):
    iqa = make_user(iqa=True)
    for _ in range(size):
        portfolio = PortfolioFactory(iqa=iqa)
        EvidenceFactory.create_batch(2, portfolio=portfolio, status="accepted", contexts="a")
    login(iqa)
    client.get("/iqa/")

    # Expect 31 queries: the session, the session user, counting the portfolio list; plans: the
    # rates, the ratings, the portfolios, the samples, the assessors; suggestions: the distinct
    # assessors, methods, contexts and criteria of all accepted evidence and of what was looked
    # at (8), the candidates, their methods, contexts and mappings, the assessors' names, the
    # items; the recent samples, the waiting portfolios, the page of the portfolio list; what
    # waits for the IQA: portfolios to sample, action points past due; counting unread messages
    # for the menu; saving the session (a savepoint, the update, the release)
    with django_assert_num_queries(31):
        client.get("/iqa/")


@pytest.mark.parametrize("size", [1, 10])
def test_the_eqa_home_runs_a_fixed_number_of_queries(
    client, login, make_grant, django_assert_num_queries, c4, size
):
    grant = make_grant(portfolios=PortfolioFactory.create_batch(size))
    login(grant.eqa)
    client.get("/eqa/")

    # Expect 11 queries: the session, the session user, counting the granted portfolios, the
    # grants with their portfolio counts, the page of portfolios, recording the visit; what waits
    # for the EQA: the grants open now; counting unread messages for the menu; saving the session
    # (a savepoint, the update, the release)
    with django_assert_num_queries(11):
        client.get("/eqa/")


def test_a_standardisation_meeting_is_recorded(client, login, portfolio):
    login(portfolio.iqa)

    response = client.post(
        "/standardisation/new/",
        {
            "held_on": "2026-11-10",
            "title": "Context d evidence",
            "attendees": [portfolio.iqa.pk, portfolio.assessor.pk],
            "discussed": "What counts as systems letting the learner down.",
            "actions": "Assessors to cite the failure in the mapping note.",
        },
    )

    assert response.url == "/standardisation/"
    meeting = StandardisationMeeting.objects.get()
    assert set(meeting.attendees.all()) == {portfolio.iqa, portfolio.assessor}
    assert "Context d evidence" in client.get("/standardisation/").text


def test_the_standardisation_log_lists_only_evidence_the_reader_may_see(
    client, login, portfolio, make_grant
):
    mine = EvidenceFactory(portfolio=portfolio, status="accepted", title="Queue at the till")
    other = EvidenceFactory(portfolio=PortfolioFactory(), status="accepted", title="Noisy flat")
    meeting = StandardisationMeeting.objects.create(
        held_on=timezone.localdate(),
        title="Context d evidence",
        discussed="What counts as systems letting the learner down.",
        recorded_by=portfolio.iqa,
    )
    meeting.evidence.set([mine, other])

    for reader in (portfolio.assessor, make_grant(portfolios=[portfolio]).eqa):
        login(reader)
        page = client.get("/standardisation/").text
        assert "Queue at the till" in page
        assert "Noisy flat" not in page
        assert str(other.portfolio.learner) not in page
