"""Progress reviews: written by the assessor with the progress computed, signed by the assessor,
the learner and the employer (with an account, or through a single-use link without one), and
due on a schedule the breaks in learning pause."""

import datetime
import re
from io import StringIO

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from assessments.models import (
    BreakInLearning,
    CriterionDecision,
    ProgressReview,
    Review,
    Signature,
)
from assessments.review_services import review_save, review_sign, reviews_due_notify
from assessments.reviews import review_signature_rows
from assessments.services import content_sign
from audit.models import AuditEntry
from portfolio.models import Notification, User, WorkplaceContact
from records.retention import REMOVED, purge
from tests.factories import (
    PASSWORD,
    ActivityFactory,
    EvidenceFactory,
    PlanFactory,
    PortfolioFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

START = datetime.date(2026, 1, 31)  # the enrolment's start: a month's end


@pytest.fixture
def today(monkeypatch):
    """Fix the day the site believes it is (``timezone.localdate()`` without an argument)."""
    original = timezone.localdate

    def freeze(day: datetime.date) -> None:
        monkeypatch.setattr(
            timezone,
            "localdate",
            lambda value=None, timezone=None: day if value is None else original(value, timezone),
        )

    return freeze


@pytest.fixture
def portfolio(c4):
    portfolio = PortfolioFactory()
    enrolment = portfolio.enrolment
    enrolment.start_date = START
    enrolment.save(update_fields=["start_date"])
    return portfolio


@pytest.fixture
def enrolment(portfolio):
    return portfolio.enrolment


@pytest.fixture
def employer(portfolio):
    """A line manager with an account, following the learner at their workplace."""
    person = UserFactory(is_employer=True, first_name="Elspeth", last_name="Harrowgate")
    WorkplaceContact.objects.create(
        workplace=portfolio.workplace, name="Elspeth Harrowgate", user=person
    )
    return person


def at(day: datetime.date, hour: int = 12) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def write(client, enrolment, held_on="2026-04-20", **changes):
    return client.post(
        f"/enrolments/{enrolment.pk}/reviews/new/",
        {
            "held_on": held_on,
            "went_well": "Calm with the angry caller on the refunds line.",
            "targets": "Evidence context d: when systems let the learner down.",
            **changes,
        },
    )


def signed_review(portfolio, held_on=datetime.date(2026, 4, 20)) -> ProgressReview:
    """A review written and signed by the assessor, through the workflows."""
    review = review_save(
        enrolment=portfolio.enrolment,
        held_on=held_on,
        went_well="Calm with the angry caller.",
        targets="Context d.",
        by=portfolio.assessor,
    )
    review_sign(review=review, by=portfolio.assessor)
    return ProgressReview.objects.get(pk=review.pk)


# Writing a review ---------------------------------------------------------------------------


def test_the_progress_is_computed_from_the_records_of_the_period(
    client, login, portfolio, enrolment, today
):
    today(datetime.date(2026, 4, 21))
    criteria = list(portfolio.unit.criteria.order_by("position")[:3])
    for criterion, day in zip(
        criteria, [datetime.date(2026, 2, 1), START, datetime.date(2026, 5, 1)], strict=True
    ):
        decision = CriterionDecision.objects.create(
            portfolio=portfolio, criterion=criterion, decided_by=portfolio.assessor
        )
        CriterionDecision.objects.filter(pk=decision.pk).update(decided_at=at(day))
    accepted = EvidenceFactory(portfolio=portfolio, status="accepted", title="Refund at the till")
    review = Review.objects.create(
        evidence=accepted, outcome=Review.Outcome.ACCEPTED, assessor=portfolio.assessor
    )
    Review.objects.filter(pk=review.pk).update(created_at=at(datetime.date(2026, 3, 2)))
    plan = PlanFactory(enrolment=enrolment, issued_at=at(START))
    activity = ActivityFactory(plan=plan, title="Observed at the returns desk")
    activity.evidence.add(accepted)
    ActivityFactory(plan=plan, title="Not done yet")
    client = login(portfolio.assessor)

    response = write(client, enrolment)

    made = ProgressReview.objects.get()
    assert response.status_code == 302
    assert response.url == made.get_absolute_url()
    assert made.period_from == START
    assert made.progress["units"] == [
        {
            "unit": "OCR C4",
            "title": portfolio.unit.title,
            # on the day it started and after, up to the day held; not the one decided later
            "criteria_met": 2,
            "criteria_met_so_far": 2,
            "criteria": portfolio.unit.criteria.count(),
        }
    ]
    assert made.progress["evidence_accepted"] == 1
    assert made.progress["activities_done"] == [
        {"title": "Observed at the returns desk", "done_on": "2026-03-02"}
    ]
    assert made.progress["activities_done_so_far"] == 1
    # 12 weeks after the review, by the qualification's schedule (single units: the setting)
    assert made.next_review_on == datetime.date(2026, 7, 13)
    entry = AuditEntry.objects.get(action="review.written")
    assert entry.chain == f"learner-{enrolment.learner_id}"
    # The snapshot keeps the day as text; the page shows it as every other date.
    assert "Observed at the returns desk (2 March 2026)" in client.get(response.url).text


def test_the_next_period_begins_after_the_last_review_held(client, login, portfolio, today):
    today(datetime.date(2026, 8, 1))
    first = signed_review(portfolio)
    decision = CriterionDecision.objects.create(
        portfolio=portfolio,
        criterion=portfolio.unit.criteria.first(),
        decided_by=portfolio.assessor,
    )
    # decided on the day of the first review: counted there, not again
    CriterionDecision.objects.filter(pk=decision.pk).update(decided_at=at(first.held_on, 9))
    client = login(portfolio.assessor)

    write(client, portfolio.enrolment, held_on="2026-07-20")

    second = ProgressReview.objects.exclude(pk=first.pk).get()
    assert second.period_from == first.held_on
    assert second.progress["units"][0]["criteria_met"] == 0
    assert second.progress["units"][0]["criteria_met_so_far"] == 1


def test_bad_input_keeps_what_was_typed_and_says_why(client, login, portfolio, today):
    today(datetime.date(2026, 4, 21))
    client = login(portfolio.assessor)

    response = write(client, portfolio.enrolment, held_on="2026-01-01", targets="Keep me")

    assert response.status_code == 200
    page = response.content.decode()
    assert "cannot be held before 31 January 2026" in page
    assert "Keep me" in page
    assert write(client, portfolio.enrolment, held_on="2026-05-01").status_code == 200
    assert not ProgressReview.objects.exists()


def test_only_the_assessor_of_a_unit_writes_a_review(client, login, portfolio):
    assert (
        login(portfolio.learner)
        .get(f"/enrolments/{portfolio.enrolment_id}/reviews/new/")
        .status_code
        == 403
    )
    stranger = UserFactory(is_assessor=True)
    assert write(login(stranger), portfolio.enrolment).status_code == 404
    assert not ProgressReview.objects.exists()


def test_a_review_signed_by_the_assessor_no_longer_changes(client, login, portfolio, today):
    today(datetime.date(2026, 4, 21))
    review = signed_review(portfolio)
    client = login(portfolio.assessor)

    assert client.get(f"/reviews/{review.pk}/edit/").status_code == 403
    response = client.post(
        f"/reviews/{review.pk}/edit/",
        {"held_on": "2026-04-20", "went_well": "Changed", "targets": "Changed"},
    )

    assert response.status_code == 403
    review.refresh_from_db()
    assert review.went_well == "Calm with the angry caller."


# Signatures ----------------------------------------------------------------------------------


def test_the_assessor_the_learner_and_an_employer_with_an_account_sign(
    client, login, portfolio, employer, today, django_capture_on_commit_callbacks
):
    today(datetime.date(2026, 4, 21))
    client = login(portfolio.assessor)
    write(client, portfolio.enrolment)
    review = ProgressReview.objects.get()

    page = client.get(review.get_absolute_url()).content.decode()
    assert "Sign the review" in page
    assert client.post(f"/reviews/{review.pk}/sign/", {"password": "wrong"}).status_code == 200
    client.post(f"/reviews/{review.pk}/sign/", {"password": PASSWORD})

    told = Notification.objects.filter(kind=Notification.Kind.REVIEW_TO_SIGN)
    assert sorted(n.recipient_id for n in told) == sorted([portfolio.learner_id, employer.pk])
    client = login(portfolio.learner)
    assert "Add your comments to your progress review" in client.get("/learner/").text
    client.post(f"/reviews/{review.pk}/sign/", {"comments": "It helped.", "password": PASSWORD})
    client = login(employer)
    page = client.get(review.get_absolute_url()).content.decode()
    assert "Add your comments and sign" in page
    # an employer lists the reviews on their own page, never the enrolment's
    assert f'href="/employer/enrolments/{portfolio.enrolment_id}/"' in page
    assert client.get(f"/enrolments/{portfolio.enrolment_id}/reviews/").status_code == 404
    client.post(
        f"/reviews/{review.pk}/sign/", {"comments": "Doing well at work.", "password": PASSWORD}
    )

    review.refresh_from_db()
    assert (review.learner_comments, review.employer_comments) == (
        "It helped.",
        "Doing well at work.",
    )
    rows = review_signature_rows(review)
    assert [(row.signature.kind, row.valid) for row in rows] == [
        (Signature.Kind.REVIEW_ASSESSOR, True),
        (Signature.Kind.REVIEW_LEARNER, True),
        (Signature.Kind.REVIEW_EMPLOYER, True),
    ]
    assert rows[2].signature.signer == employer
    assert review.state == "Signed by all"
    assert AuditEntry.objects.filter(action__startswith="signature.review_").count() == 3
    # a signed part no longer changes: the employer has nothing more to sign
    assert (
        client.post(
            f"/reviews/{review.pk}/sign/", {"comments": "Changed", "password": PASSWORD}
        ).status_code
        == 403
    )


def test_the_learner_signs_only_after_the_assessor(client, login, portfolio, today):
    today(datetime.date(2026, 4, 21))
    write(login(portfolio.assessor), portfolio.enrolment)
    review = ProgressReview.objects.get()
    client = login(portfolio.learner)

    assert "Add your comments and sign" not in client.get(review.get_absolute_url()).text
    response = client.post(f"/reviews/{review.pk}/sign/", {"password": PASSWORD})

    assert response.status_code == 404  # a review being written is its assessor's alone
    assert not Signature.objects.exists()


def test_a_review_being_written_is_read_by_its_assessors_only(
    client, login, portfolio, employer, today
):
    today(datetime.date(2026, 4, 21))
    write(login(portfolio.assessor), portfolio.enrolment, went_well="Not agreed yet")
    review = ProgressReview.objects.get()
    admin = UserFactory(is_centre_admin=True)

    assert login(portfolio.assessor).get(review.get_absolute_url()).status_code == 200
    for person in (portfolio.learner, employer, portfolio.iqa, admin):
        client = login(person)
        assert client.get(review.get_absolute_url()).status_code == 404, person
        assert client.get(f"/reviews/{review.pk}/edit/").status_code == 404, person
    assert (
        "Not agreed yet"
        not in login(portfolio.learner).get(f"/enrolments/{portfolio.enrolment_id}/reviews/").text
    )
    employer_page = login(employer).get(f"/employer/enrolments/{portfolio.enrolment_id}/").text
    assert f"/reviews/{review.pk}/" not in employer_page
    assert "No progress review is recorded yet" in employer_page

    review_sign(review=review, by=portfolio.assessor)

    assert login(portfolio.learner).get(review.get_absolute_url()).status_code == 200
    assert (
        f"/reviews/{review.pk}/"
        in login(employer).get(f"/employer/enrolments/{portfolio.enrolment_id}/").text
    )


def test_the_learners_comments_break_nothing_of_the_assessors_but_a_changed_review_breaks_all(
    portfolio, today
):
    today(datetime.date(2026, 4, 21))
    review = signed_review(portfolio)
    review_sign(review=review, by=portfolio.learner, comments="Fine by me.")
    review.refresh_from_db()
    assert [row.valid for row in review_signature_rows(review)] == [True, True]

    ProgressReview.objects.filter(pk=review.pk).update(targets="Something else")
    review.refresh_from_db()

    rows = review_signature_rows(review)
    assert [row.valid for row in rows] == [False, False]
    assert rows[0].reasons == ["The review has changed (targets)."]
    ProgressReview.objects.filter(pk=review.pk).update(
        targets="Context d.", learner_comments="Rewritten"
    )
    review.refresh_from_db()
    rows = review_signature_rows(review)
    assert [row.valid for row in rows] == [True, False]
    assert rows[1].reasons == ["The learner's part has changed (comments)."]


# The employer's single-use link --------------------------------------------------------------


@pytest.fixture
def sent(client, login, portfolio, today, django_capture_on_commit_callbacks):
    """A review signed by the assessor and e-mailed to an employer without an account, offered
    from the workplace's contacts; returns the link's path."""
    today(datetime.date(2026, 4, 21))
    contact = WorkplaceContact.objects.create(
        workplace=portfolio.workplace, name="Bryn Talbot", email="bryn@example.org"
    )
    review = signed_review(portfolio)
    client = login(portfolio.assessor)
    assert "Bryn Talbot" in client.get(review.get_absolute_url()).text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/reviews/{review.pk}/send/", {"contact": contact.pk})
    assert response.status_code == 302
    client.logout()
    (email,) = mail.outbox
    assert email.to == ["bryn@example.org"]
    return re.search(r"http://testserver(/review-link/[^/]+/)", email.body).group(1)


def opened(browser, link: str) -> str:
    assert "Open the review" in browser.get(link).text
    response = browser.post(link, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 302
    return response.url


def test_an_employer_without_an_account_signs_through_the_link(sent, portfolio):
    browser = Client()
    page = opened(browser, sent)

    shown = browser.get(page).content.decode()
    assert "Targets until the next review" in shown
    assert "Context d." in shown
    response = browser.post(
        page,
        {"comments": "A great help on the shop floor.", "typed_name": "Bryn Talbot"},
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 200
    assert "Tick the declaration" in response.text
    response = browser.post(
        page,
        {
            "comments": "A great help on the shop floor.",
            "typed_name": "Bryn  Talbot",
            "declaration": "on",
        },
        REMOTE_ADDR="203.0.113.9",
    )

    assert "Thank you" in response.text
    signature = Signature.objects.get(kind=Signature.Kind.REVIEW_EMPLOYER)
    assert signature.signer is None
    assert (signature.signer_name, signature.signed_from) == ("Bryn Talbot", "203.0.113.9")
    assert signature.signed_at is not None
    review = ProgressReview.objects.get()
    assert review.employer_comments == "A great help on the shop floor."
    assert [row.valid for row in review_signature_rows(review)] == [True, True]
    entry = AuditEntry.objects.get(action="signature.review_employer")
    assert entry.actor is None
    assert entry.actor_label == "Employer Bryn Talbot"
    assert entry.data["ip"] == "203.0.113.9"
    assert AuditEntry.objects.filter(action="review.link_opened").count() == 1
    # the assessor is told
    assert Notification.objects.filter(
        recipient=portfolio.assessor, message__contains="Bryn Talbot"
    ).exists()


def test_the_link_works_once_and_only_in_the_browser_that_opened_it(sent):
    browser = Client()
    page = opened(browser, sent)

    other = Client()
    response = other.post(sent)
    assert response.status_code == 410
    assert "opened in another browser" in response.text
    assert other.get(page).status_code == 404
    browser.post(page, {"typed_name": "Bryn Talbot", "declaration": "on"})

    assert browser.get(sent).status_code == 410
    assert "has been signed" in browser.get(page).text
    assert Signature.objects.filter(kind=Signature.Kind.REVIEW_EMPLOYER).count() == 1


def test_the_link_expires(sent, settings):
    ProgressReview.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))

    response = Client().get(sent)

    assert response.status_code == 410
    assert "expired" in response.text
    assert Client().post(sent).status_code == 410
    assert not ProgressReview.objects.filter(opened_at__isnull=False).exists()


def test_the_link_expires_after_the_days_set(sent, settings):
    review = ProgressReview.objects.get()
    assert (review.expires_at - review.sent_at) == datetime.timedelta(
        days=settings.REVIEW_LINK_DAYS
    )


def test_a_link_sent_again_replaces_the_one_opened(sent, client, login, portfolio):
    browser = Client()
    page = opened(browser, sent)
    review = ProgressReview.objects.get()
    client = login(portfolio.assessor)
    client.post(f"/reviews/{review.pk}/send/", {"name": "Bryn Talbot", "email": "b@example.org"})

    response = browser.post(page, {"typed_name": "Bryn Talbot", "declaration": "on"})

    assert response.status_code == 404
    assert not Signature.objects.filter(kind=Signature.Kind.REVIEW_EMPLOYER).exists()
    assert Client().get(sent).status_code == 404


def test_a_review_changed_after_the_employer_signed_shows_their_signature_broken(sent):
    browser = Client()
    browser.post(opened(browser, sent), {"typed_name": "Bryn Talbot", "declaration": "on"})

    ProgressReview.objects.update(went_well="Changed afterwards")

    rows = review_signature_rows(ProgressReview.objects.get())
    assert [row.valid for row in rows] == [False, False]
    assert rows[1].reasons == ["The review has changed (went well)."]


def test_the_link_is_sent_only_after_the_assessor_signs(client, login, portfolio, today):
    today(datetime.date(2026, 4, 21))
    write(login(portfolio.assessor), portfolio.enrolment)
    review = ProgressReview.objects.get()

    client.post(f"/reviews/{review.pk}/send/", {"name": "Bryn", "email": "bryn@example.org"})

    review.refresh_from_db()
    assert review.token_hash == ""
    assert not mail.outbox
    assert (
        login(portfolio.learner)
        .post(f"/reviews/{review.pk}/send/", {"name": "Bryn", "email": "bryn@example.org"})
        .status_code
        == 404  # a review being written is its assessors' alone
    )


# When reviews fall due -----------------------------------------------------------------------


def reviews_page(client, enrolment) -> str:
    return " ".join(client.get(f"/enrolments/{enrolment.pk}/reviews/").content.decode().split())


@pytest.mark.parametrize(
    ("day", "shown"),
    [
        (datetime.date(2026, 4, 10), "Due 25 Apr 2026"),
        (datetime.date(2026, 4, 11), "Due soon</span> 25 Apr 2026"),
        (datetime.date(2026, 4, 25), "Due soon</span> 25 Apr 2026"),
        (datetime.date(2026, 4, 26), "Overdue</span> since 25 Apr 2026"),
    ],
)
def test_the_first_review_falls_due_twelve_weeks_after_the_start(
    client, login, portfolio, today, day, shown
):
    today(day)
    assert shown in reviews_page(login(portfolio.assessor), portfolio.enrolment)


def test_a_schedule_of_four_weeks_from_a_months_end_crosses_february(
    client, login, portfolio, today, settings
):
    settings.PROGRESS_REVIEW_WEEKS = 4
    today(datetime.date(2026, 3, 1))

    assert "Overdue</span> since 28 Feb 2026" in reviews_page(
        login(portfolio.assessor), portfolio.enrolment
    )


def test_a_break_in_learning_moves_the_review_on_by_its_days(
    client, login, portfolio, today, settings
):
    settings.PROGRESS_REVIEW_WEEKS = 4
    BreakInLearning.objects.create(
        enrolment=portfolio.enrolment,
        starts_on=datetime.date(2026, 2, 10),
        ends_on=datetime.date(2026, 2, 19),
        reason="Illness",
        recorded_by=portfolio.assessor,
    )
    client = login(portfolio.assessor)

    today(datetime.date(2026, 3, 1))
    assert "Due soon</span> 10 Mar 2026" in reviews_page(client, portfolio.enrolment)
    today(datetime.date(2026, 3, 11))
    assert "Overdue</span> since 10 Mar 2026" in reviews_page(client, portfolio.enrolment)


def test_a_break_going_on_pauses_the_schedule(client, login, portfolio, today):
    BreakInLearning.objects.create(
        enrolment=portfolio.enrolment,
        starts_on=datetime.date(2026, 3, 1),
        reason="Maternity leave",
        recorded_by=portfolio.assessor,
    )
    today(datetime.date(2026, 6, 1))

    assert "Paused</span> by a break in learning" in reviews_page(
        login(portfolio.assessor), portfolio.enrolment
    )


def test_the_caseload_shows_each_learners_next_review(client, login, portfolio, today):
    today(datetime.date(2026, 4, 26))

    page = login(portfolio.assessor).get("/assessor/").content.decode()

    assert "Overdue</span> since 25 Apr 2026" in page


@pytest.mark.parametrize("learners", [1, 4])
def test_the_caseload_runs_the_same_queries_with_reviews_due(
    client, login, portfolio, today, learners, django_assert_num_queries
):
    today(datetime.date(2026, 4, 26))
    for _ in range(learners - 1):
        other = PortfolioFactory(assessor=portfolio.assessor)
        BreakInLearning.objects.create(
            enrolment=other.enrolment,
            starts_on=datetime.date(2026, 2, 1),
            reason="Leave",
            recorded_by=portfolio.assessor,
        )
    signed_review(portfolio, held_on=datetime.date(2026, 4, 20))
    client = login(portfolio.assessor)
    client.get("/assessor/")

    # Expect 22 queries: the session and its user; counting the caseload, the page of it; the
    # coverage (8); the progress of the units listed; the plans in force; each enrolment's last
    # review held, their breaks in learning; what waits for the assessor (3); counting unread
    # messages; saving the session (a savepoint, the update, its release)
    with django_assert_num_queries(22):
        assert client.get("/assessor/").status_code == 200


@pytest.mark.parametrize("more_learners", [0, 3])
def test_the_review_page_runs_a_fixed_number_of_queries(
    client, login, portfolio, employer, today, more_learners, django_assert_num_queries
):
    today(datetime.date(2026, 4, 21))
    for _ in range(more_learners):
        PortfolioFactory(assessor=portfolio.assessor, workplace=portfolio.workplace)
    WorkplaceContact.objects.create(workplace=portfolio.workplace, name="Bryn Talbot")
    review = signed_review(portfolio)
    client = login(portfolio.assessor)
    client.get(review.get_absolute_url())

    # Expect 11 queries: the session and its user; the review with its enrolment, learner,
    # qualification and writer; its signatures in force; whether the reader assesses a unit of
    # it (to offer the link); the contacts to offer; every signature, to check; counting
    # unread messages; saving the session (a savepoint, the update, its release)
    with django_assert_num_queries(11):
        assert client.get(review.get_absolute_url()).status_code == 200

    review_sign(review=review, by=portfolio.learner, comments="Fine.")
    review_sign(review=review, by=employer, comments="Good.")
    # Signed by all, nothing is offered: 9 queries, the same less the two for the link
    with django_assert_num_queries(9):
        assert client.get(review.get_absolute_url()).status_code == 200


def test_the_centre_home_counts_reviews_due_and_overdue(client, login, portfolio, today, c4):
    PortfolioFactory()  # started today: not due for twelve weeks
    soon = PortfolioFactory()
    soon.enrolment.start_date = datetime.date(2026, 2, 10)
    soon.enrolment.save(update_fields=["start_date"])
    today(datetime.date(2026, 4, 26))
    admin = UserFactory(is_centre_admin=True)

    page = " ".join(login(admin).get("/centre/").content.decode().split())

    assert "<strong>1</strong> overdue, <strong>1</strong> due soon" in page
    assert str(portfolio.learner) in page
    assert str(soon.learner) in page


def test_the_assessor_is_told_once_when_a_review_is_due_soon_and_once_when_overdue(
    portfolio, today
):
    assert reviews_due_notify(today=datetime.date(2026, 4, 1)) == 0
    assert reviews_due_notify(today=datetime.date(2026, 4, 12)) == 1
    assert reviews_due_notify(today=datetime.date(2026, 4, 13)) == 0
    assert reviews_due_notify(today=datetime.date(2026, 4, 26)) == 1
    assert reviews_due_notify(today=datetime.date(2026, 4, 27)) == 0

    told = Notification.objects.filter(kind=Notification.Kind.REVIEW_DUE).order_by("pk")
    assert [n.recipient for n in told] == [portfolio.assessor] * 2
    assert [n.message for n in told] == [
        f"{portfolio.learner}'s progress review falls due on 25 Apr 2026",
        f"{portfolio.learner}'s progress review is overdue since 25 Apr 2026",
    ]


def test_the_daily_command_sends_the_review_reminders(portfolio, today):
    today(datetime.date(2026, 4, 26))
    out = StringIO()
    call_command("send_daily_notifications", stdout=out)

    assert "progress reviews due: 1" in out.getvalue()


# The end of the retention period ------------------------------------------------------------


def test_the_purge_removes_the_employers_contact_the_comments_and_the_reasons_for_breaks(
    portfolio, today
):
    today(datetime.date(2026, 4, 21))
    review = signed_review(portfolio)
    review_sign(review=review, by=portfolio.learner, comments="My manager shouts at me.")
    ProgressReview.objects.filter(pk=review.pk).update(
        employer_name="Bryn Talbot", employer_email="bryn@example.org", token_hash="a" * 64
    )
    review = ProgressReview.objects.get(pk=review.pk)
    review.employer_comments = "Often late."
    content_sign(
        target=review,
        kind=Signature.Kind.REVIEW_EMPLOYER,
        manifest={},
        by=None,
        role="employer",
        statement="I am the employer.",
        signer_name="Bryn Talbot",
        ip="203.0.113.9",
    )
    ProgressReview.objects.filter(pk=review.pk).update(employer_comments="Often late.")
    pause = BreakInLearning.objects.create(
        enrolment=portfolio.enrolment,
        starts_on=datetime.date(2026, 2, 1),
        ends_on=datetime.date(2026, 2, 10),
        reason="Surgery on her knee",
        recorded_by=portfolio.assessor,
    )
    portfolio.status = portfolio.Status.CLAIMED
    portfolio.save(update_fields=["status"])

    purge(portfolio)

    review.refresh_from_db()
    assert (review.employer_name, review.employer_email, review.token_hash) == (REMOVED, "", "")
    assert (review.learner_comments, review.employer_comments) == (REMOVED, REMOVED)
    assert Signature.objects.get(kind=Signature.Kind.REVIEW_EMPLOYER).signed_from is None
    pause.refresh_from_db()
    assert pause.reason == REMOVED
    assert review.targets == "Context d."  # the assessor's record stays, as decisions do


def test_the_purge_of_one_unit_keeps_the_enrolments_reviews_while_another_unit_is_kept(
    portfolio, today, c5
):
    today(datetime.date(2026, 4, 21))
    PortfolioFactory(enrolment=portfolio.enrolment, learner=portfolio.learner, unit=c5)
    review = signed_review(portfolio)
    review_sign(review=review, by=portfolio.learner, comments="Going well.")
    portfolio.status = portfolio.Status.CLAIMED
    portfolio.save(update_fields=["status"])

    purge(portfolio)

    review.refresh_from_db()
    assert review.learner_comments == "Going well."
    assert REMOVED not in review.learner_comments


def test_an_assessor_who_is_also_the_line_manager_signs_once(portfolio):
    assessor = portfolio.assessor
    User.objects.filter(pk=assessor.pk).update(is_employer=True)
    assessor.refresh_from_db()
    WorkplaceContact.objects.create(workplace=portfolio.workplace, name="Both", user=assessor)
    review = signed_review(portfolio)

    assert review.part_for(assessor) is None
    with pytest.raises(ValidationError):
        review_sign(review=review, by=assessor, comments="Signing twice")
