"""Breaks in learning: recorded and ended by the assessor of a unit or the centre administrator,
refused when the dates do not hold, and shown wherever the enrolment is; and the review
schedule each qualification sets."""

import datetime
from pathlib import Path

import pytest

from assessments.models import BreakInLearning
from audit.models import AuditEntry
from tests.factories import PortfolioFactory, UserFactory
from units.qualification_importer import import_qualification_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def portfolio(c4):
    return PortfolioFactory()


def record(client, portfolio, **data):
    return client.post(
        f"/enrolments/{portfolio.enrolment_id}/breaks/new/",
        {"starts_on": "2026-03-02", "ends_on": "", "reason": "Illness", **data},
    )


def test_the_assessor_records_a_break_and_ends_it(client, login, portfolio):
    client = login(portfolio.assessor)

    response = record(client, portfolio)

    assert response.status_code == 302
    pause = BreakInLearning.objects.get()
    assert (pause.starts_on, pause.ends_on, pause.reason) == (
        datetime.date(2026, 3, 2),
        None,
        "Illness",
    )
    response = client.post(f"/breaks/{pause.pk}/end/", {f"break-{pause.pk}-ends_on": "2026-03-20"})
    assert response.status_code == 302
    pause.refresh_from_db()
    assert pause.ends_on == datetime.date(2026, 3, 20)
    entries = AuditEntry.objects.filter(action__startswith="break.").order_by("pk")
    assert [e.action for e in entries] == ["break.recorded", "break.ended"]
    assert {e.chain for e in entries} == {f"learner-{portfolio.learner_id}"}


def test_the_centre_administrator_records_a_break_too(client, login, portfolio):
    assert record(login(UserFactory(is_centre_admin=True)), portfolio).status_code == 302
    assert BreakInLearning.objects.count() == 1


@pytest.mark.parametrize("who", ["learner", "iqa", "stranger"])
def test_no_one_else_records_one(client, login, portfolio, who):
    person = {
        "learner": portfolio.learner,
        "iqa": portfolio.iqa,
        "stranger": UserFactory(is_assessor=True),
    }[who]

    response = record(login(person), portfolio)

    assert response.status_code == (404 if who == "stranger" else 403)
    assert not BreakInLearning.objects.exists()


def test_a_break_cannot_end_before_it_starts(client, login, portfolio):
    response = record(login(portfolio.assessor), portfolio, ends_on="2026-03-01", reason="Keep")

    assert response.status_code == 200
    page = response.content.decode()
    assert "The last day of the break cannot be before its first day." in page
    assert "Keep" in page
    assert not BreakInLearning.objects.exists()


@pytest.mark.parametrize(
    ("starts_on", "ends_on"),
    [("2026-03-10", "2026-03-12"), ("2026-02-01", "2026-03-02"), ("2026-03-20", "")],
)
def test_a_break_cannot_overlap_another(client, login, portfolio, starts_on, ends_on):
    client = login(portfolio.assessor)
    record(client, portfolio, ends_on="2026-03-20")

    response = record(client, portfolio, starts_on=starts_on, ends_on=ends_on)

    assert response.status_code == 200
    assert "It overlaps the break from 02 March 2026 to 20 March 2026" in response.text
    assert BreakInLearning.objects.count() == 1


def test_a_break_going_on_is_overlapped_by_any_later_one(client, login, portfolio):
    client = login(portfolio.assessor)
    record(client, portfolio)

    response = record(client, portfolio, starts_on="2027-01-01", ends_on="2027-01-02")

    assert "It overlaps the break from 02 March 2026 and still going on" in response.text


def test_ending_a_break_before_it_starts_is_refused(client, login, portfolio):
    client = login(portfolio.assessor)
    record(client, portfolio)
    pause = BreakInLearning.objects.get()

    response = client.post(f"/breaks/{pause.pk}/end/", {f"break-{pause.pk}-ends_on": "2026-03-01"})

    assert response.status_code == 200
    assert "cannot be before its first day, 02 March 2026" in response.text
    pause.refresh_from_db()
    assert pause.ends_on is None


def test_the_learner_cannot_end_a_break(client, login, portfolio):
    record(login(portfolio.assessor), portfolio)
    pause = BreakInLearning.objects.get()

    response = login(portfolio.learner).post(
        f"/breaks/{pause.pk}/end/", {f"break-{pause.pk}-ends_on": "2026-03-05"}
    )

    assert response.status_code == 403
    pause.refresh_from_db()
    assert pause.ends_on is None


def test_breaks_are_shown_on_the_enrolment_portfolio_and_reviews_pages(client, login, portfolio):
    client = login(portfolio.assessor)
    record(client, portfolio, reason="Broken wrist")

    for url in (
        f"/enrolments/{portfolio.enrolment_id}/",
        f"/portfolios/{portfolio.pk}/",
        f"/enrolments/{portfolio.enrolment_id}/reviews/",
    ):
        assert "Broken wrist" in login(portfolio.learner).get(url).text, url


# How often a qualification's learners are reviewed ------------------------------------------


@pytest.fixture
def qualification(c4):
    return import_qualification_file(
        Path(__file__).resolve().parent / "specs" / "certificate.yaml"
    ).qualification


def test_the_centre_administrator_sets_the_review_schedule_of_a_qualification(
    client, login, qualification
):
    admin = UserFactory(is_centre_admin=True)
    client = login(admin)
    assert "Weeks between progress reviews" in client.get("/centre/qualifications/").text

    response = client.post(
        "/centre/qualifications/",
        {"qualification": qualification.pk, f"q{qualification.pk}-review_weeks": "8"},
    )

    assert response.status_code == 302
    qualification.refresh_from_db()
    assert qualification.review_weeks == 8
    entry = AuditEntry.objects.get(action="qualification.review_weeks")
    assert entry.chain == "centre"
    assert entry.data == {"qualification": qualification.pk, "before": 12, "after": 8}


def test_a_schedule_out_of_range_is_refused_with_the_reason(client, login, qualification):
    client = login(UserFactory(is_centre_admin=True))

    response = client.post(
        "/centre/qualifications/",
        {"qualification": qualification.pk, f"q{qualification.pk}-review_weeks": "0"},
    )

    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 1" in response.text
    qualification.refresh_from_db()
    assert qualification.review_weeks == 12
    assert not AuditEntry.objects.filter(action="qualification.review_weeks").exists()
