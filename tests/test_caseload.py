"""Moving a caseload: chosen portfolios of one assessor or IQA given to another in one post,
audited per portfolio and once for the centre, the new person told once, and refused, moving
nothing, where an IQA would quality-assure what they assessed."""

import threading
import time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from assessments.models import CriterionDecision, Review
from assessments.services import unit_sign_off
from assessments.signatures import signature_rows
from audit.chain import verify_chains
from audit.models import CENTRE, AuditEntry
from people.caseload import caseload_move
from portfolio.models import Notification, OutgoingEmail, Portfolio, Role
from tests.assessing import sufficient
from tests.factories import EvidenceFactory, PortfolioFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/people/caseload/"


@pytest.fixture
def people(c4):
    return {
        "admin": UserFactory(centre_admin=True, first_name="Cora", last_name="Hartigan"),
        "ann": UserFactory(assessor=True, first_name="Ann", last_name="Bramwell"),
        "bob": UserFactory(assessor=True, first_name="Bob", last_name="Crofton"),
        "ida": UserFactory(iqa=True, first_name="Ida", last_name="Delacourt"),
        # An assessor who is also an IQA for other assessors.
        "ivo": UserFactory(iqa=True, assessor=True, first_name="Ivo", last_name="Easterbrook"),
    }


@pytest.fixture
def anns(people):
    """Three portfolios in progress assessed by Ann, quality-assured by Ida, and one of Bob's."""
    portfolios = [
        PortfolioFactory(
            assessor=people["ann"],
            iqa=people["ida"],
            learner=UserFactory(learner=True, first_name=first, last_name="Learner"),
        )
        for first in ["Amy", "Ben", "Cal"]
    ]
    PortfolioFactory(assessor=people["bob"], iqa=people["ida"])
    return portfolios


def move(people, portfolios, *, role=Role.ASSESSOR, source="ann", to="bob", reason="Ann leaves"):
    return caseload_move(
        role=role,
        from_person=people[source],
        to_person=people[to],
        portfolios=portfolios,
        reason=reason,
        by=people["admin"],
        site_url="https://portfolio.example.org",
    )


def holders(portfolios, field="assessor"):
    return [getattr(Portfolio.objects.get(pk=p.pk), f"{field}_id") for p in portfolios]


def refusal(call) -> list[str]:
    with pytest.raises(ValidationError) as raised:
        call()
    return raised.value.messages


# The service --------------------------------------------------------------------------------


def test_it_moves_every_portfolio_chosen(people, anns):
    moved = move(people, anns)

    assert sorted(p.pk for p in moved) == sorted(p.pk for p in anns)
    assert holders(anns) == [people["bob"].pk] * 3
    assert Portfolio.objects.filter(assessor=people["ann"]).count() == 0


def test_it_moves_only_the_portfolios_chosen(people, anns):
    move(people, anns[:2])

    assert holders(anns) == [people["bob"].pk, people["bob"].pk, people["ann"].pk]


def test_it_moves_the_iqa_role(people, anns):
    move(people, anns, role=Role.IQA, source="ida", to="ivo")

    assert holders(anns, "iqa") == [people["ivo"].pk] * 3
    assert holders(anns) == [people["ann"].pk] * 3  # the assessor stays


def test_it_audits_each_portfolio_on_its_learners_chain_and_the_move_once_for_the_centre(
    people, anns
):
    move(people, anns[:2], reason="Ann's caseload is too large")

    entries = AuditEntry.objects.filter(action="portfolio.assessor_moved").order_by("pk")
    assert {(e.portfolio_id, e.chain) for e in entries} == {
        (p.pk, f"learner-{p.learner_id}") for p in anns[:2]
    }
    entry = entries[0]
    assert entry.actor == people["admin"]
    assert "from Ann Bramwell to Bob Crofton: Ann's caseload is too large" in entry.summary
    assert entry.data == {
        "role": "assessor",
        "from": people["ann"].pk,
        "to": people["bob"].pk,
        "reason": "Ann's caseload is too large",
    }
    [summary] = AuditEntry.objects.filter(action="caseload.moved")
    assert summary.chain == CENTRE
    assert (
        summary.summary
        == "Cora Hartigan moved 2 portfolios from Ann Bramwell to Bob Crofton as assessor"
    )
    assert summary.data == {
        "role": "assessor",
        "from": people["ann"].pk,
        "to": people["bob"].pk,
        "portfolios": sorted(p.pk for p in anns[:2]),
    }
    assert verify_chains().broken is None


def test_the_new_assessor_is_told_once_in_the_app_and_by_email(people, anns):
    move(people, anns)

    [notification] = Notification.objects.filter(recipient=people["bob"])
    assert notification.message.startswith("Cora Hartigan gave you 3 portfolios to assess")
    assert "Amy Learner (C4), Ben Learner (C4) and Cal Learner (C4)" in notification.message
    [email] = OutgoingEmail.objects.filter(to=people["bob"].email)
    assert "https://portfolio.example.org/assessor/" in email.body
    assert not Notification.objects.exclude(recipient=people["bob"]).exists()


def test_it_refuses_an_iqa_who_reviewed_evidence_in_the_enrolment_naming_it_and_moves_nothing(
    people, anns
):
    # Ivo reviewed an item of Amy's once, when he assessed her; Ben's he decided a criterion of.
    Review.objects.create(
        evidence=EvidenceFactory(portfolio=anns[0], status="accepted"),
        outcome="accepted",
        assessor=people["ivo"],
    )
    CriterionDecision.objects.create(
        portfolio=anns[1], criterion=anns[1].unit.criteria.first(), decided_by=people["ivo"]
    )

    messages = refusal(lambda: move(people, anns, role=Role.IQA, source="ida", to="ivo"))

    assert messages == [
        "Amy Learner, unit C4: Ivo Easterbrook has judged it as its assessor (a review), and "
        "an IQA never quality-assures what they assessed.",
        "Ben Learner, unit C4: Ivo Easterbrook has judged it as its assessor (a decision), "
        "and an IQA never quality-assures what they assessed.",
    ]
    assert holders(anns, "iqa") == [people["ida"].pk] * 3
    assert not AuditEntry.objects.filter(action__endswith="moved").exists()
    assert not Notification.objects.exists()


def test_it_refuses_an_iqa_who_is_the_portfolios_assessor(people, anns):
    Portfolio.objects.filter(pk=anns[2].pk).update(assessor=people["ivo"])

    messages = refusal(lambda: move(people, anns, role=Role.IQA, source="ida", to="ivo"))

    assert messages == [
        "Cal Learner, unit C4: Ivo Easterbrook has judged it as its assessor (its assessor "
        "now), and an IQA never quality-assures what they assessed."
    ]
    assert holders(anns, "iqa") == [people["ida"].pk] * 3


def test_it_refuses_to_give_the_assessors_work_to_the_portfolios_iqa(people, anns):
    Portfolio.objects.filter(pk=anns[1].pk).update(iqa=people["ivo"])

    messages = refusal(lambda: move(people, anns, to="ivo"))

    assert messages == [
        "Ben Learner, unit C4: Ivo Easterbrook is its IQA, and an IQA never quality-assures "
        "what they assessed. Give it another IQA first."
    ]
    assert holders(anns) == [people["ann"].pk] * 3


def test_a_signed_off_unit_keeps_its_assessor_but_moves_to_a_new_iqa_with_its_signature_holding(
    people, anns
):
    sufficient(anns[0])
    unit_sign_off(portfolio=anns[0], by=people["ann"])

    messages = refusal(lambda: move(people, anns))
    assert messages == [
        "Amy Learner, unit C4 stays with Ann Bramwell: it is assessed: the unit is signed off, "
        "and the assessor's sign-off stays theirs."
    ]
    assert holders(anns) == [people["ann"].pk] * 3

    move(people, [anns[0]], role=Role.IQA, source="ida", to="ivo")
    assert holders([anns[0]], "iqa") == [people["ivo"].pk]
    [row] = signature_rows(Portfolio.objects.get(pk=anns[0].pk))
    assert row.valid


def test_a_verified_or_purged_portfolio_stays_with_its_iqa(people, anns):
    Portfolio.objects.filter(pk=anns[0].pk).update(status=Portfolio.Status.VERIFIED)
    Portfolio.objects.filter(pk=anns[1].pk).update(purged_at=timezone.now())

    messages = refusal(lambda: move(people, anns, role=Role.IQA, source="ida", to="ivo"))

    assert messages == [
        "Amy Learner, unit C4 stays with Ida Delacourt: it is verified: the IQA's "
        "countersignature stays theirs.",
        "Ben Learner, unit C4 stays with Ida Delacourt: its records are purged.",
    ]


def test_it_refuses_a_portfolio_no_longer_held_by_the_person_moved_from(people, anns):
    Portfolio.objects.filter(pk=anns[2].pk).update(assessor=people["ivo"])

    messages = refusal(lambda: move(people, anns))

    assert messages == [
        "Cal Learner, unit C4: its assessor is now Ivo Easterbrook, not Ann Bramwell."
    ]
    assert holders(anns[:2]) == [people["ann"].pk] * 2


@pytest.mark.parametrize(
    ("to", "expected"),
    [
        ("ann", "The portfolios are Ann Bramwell's already: choose someone else."),
        ("ida", "Ida Delacourt does not hold the assessor role."),
        ("inactive", "Old Hand's account is not active: choose someone who works here."),
    ],
)
def test_it_refuses_someone_who_cannot_take_the_work(people, anns, to, expected):
    people["inactive"] = UserFactory(
        assessor=True, is_active=False, first_name="Old", last_name="Hand"
    )

    assert refusal(lambda: move(people, anns, to=to)) == [expected]
    assert holders(anns) == [people["ann"].pk] * 3


def test_it_refuses_the_learner_as_their_own_assessor(people, anns):
    amy = anns[0].learner
    amy.is_assessor = True
    amy.save()
    people["amy"] = amy

    assert refusal(lambda: move(people, anns, to="amy")) == [
        "Amy Learner, unit C4: A learner cannot assess their own portfolio."
    ]


def test_it_asks_for_a_reason_and_a_portfolio(people, anns):
    assert refusal(lambda: move(people, anns, reason="  ")) == [
        "Say why the portfolios move: the reason is kept on each record."
    ]
    assert refusal(lambda: move(people, [])) == ["Choose at least one portfolio to move."]


@pytest.mark.parametrize("who", ["ann", "ida", "superuser"])
def test_only_a_centre_administrator_moves_a_caseload(people, anns, who):
    people["superuser"] = UserFactory(is_superuser=True)
    with pytest.raises(PermissionDenied):
        caseload_move(
            role=Role.ASSESSOR,
            from_person=people["ann"],
            to_person=people["bob"],
            portfolios=anns,
            reason="Refused",
            by=people[who],
            site_url="",
        )
    assert holders(anns) == [people["ann"].pk] * 3


# The page -----------------------------------------------------------------------------------


def test_the_centre_home_links_to_the_page(people, login):
    response = login(people["admin"]).get(reverse("centre_home"))

    assert f'href="{URL}"' in response.content.decode()


def test_the_page_lists_the_portfolios_all_ticked_and_says_how_many_will_move(people, anns, login):
    sufficient(anns[2])
    unit_sign_off(portfolio=anns[2], by=people["ann"])

    response = login(people["admin"]).get(
        URL, {"role": "assessor", "from_person": people["ann"].pk}
    )

    assert response.status_code == 200
    page = response.content.decode()
    for portfolio in anns[:2]:
        assert f'value="{portfolio.pk}" id="id_portfolios_{portfolio.pk}" checked' in page
    assert f'name="portfolios" value="{anns[2].pk}"' not in page
    assert "Move 2 portfolios" in page
    assert "Cal Learner, OCR unit C4</a>: it is assessed" in page
    # Only active assessors other than Ann may take them, with what each holds now.
    choices = response.context["form"].fields["to_person"].queryset
    assert set(choices) == {people["bob"], people["ivo"]}
    assert "Bob Crofton (holds 1 now)" in page


def test_the_page_offers_everyone_holding_portfolios_to_move_from_those_who_left_too(
    people, anns, login
):
    people["ann"].is_active = False
    people["ann"].save()

    response = login(people["admin"]).get(URL)

    offered = set(response.context["choose"].fields["from_person"].queryset)
    assert offered == {people["ann"], people["bob"], people["ida"]}
    assert "Ann Bramwell (account not active)" in response.content.decode()


def test_one_post_moves_the_ticked_portfolios(people, anns, login):
    client = login(people["admin"])
    query = f"?role=assessor&from_person={people['ann'].pk}"

    response = client.post(
        URL + query,
        {
            "to_person": people["bob"].pk,
            "portfolios": [anns[0].pk, anns[2].pk],
            "reason": "Ann leaves",
        },
    )

    assert response.status_code == 302
    assert response.url == URL + query
    assert holders(anns) == [people["bob"].pk, people["ann"].pk, people["bob"].pk]
    page = client.get(response.url).content.decode()
    assert "2 portfolios moved from Ann Bramwell to Bob Crofton, who has been told." in page


def test_a_post_without_a_reason_gets_the_form_back_with_what_was_typed(people, anns, login):
    response = login(people["admin"]).post(
        f"{URL}?role=assessor&from_person={people['ann'].pk}",
        {"to_person": people["bob"].pk, "portfolios": [anns[1].pk], "reason": ""},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Say why the portfolios move." in page
    assert f'<option value="{people["bob"].pk}" selected>' in page
    assert f'value="{anns[1].pk}" id="id_portfolios_{anns[1].pk}" checked' in page
    assert f'value="{anns[0].pk}" id="id_portfolios_{anns[0].pk}">' in page  # unticked
    assert "Move 1 portfolio<" in page
    assert holders(anns) == [people["ann"].pk] * 3


def test_a_refused_move_names_each_portfolio_and_moves_nothing(people, anns, login):
    Portfolio.objects.filter(pk=anns[0].pk).update(iqa=people["ivo"])

    response = login(people["admin"]).post(
        f"{URL}?role=assessor&from_person={people['ann'].pk}",
        {
            "to_person": people["ivo"].pk,
            "portfolios": [p.pk for p in anns],
            "reason": "Ann leaves",
        },
    )

    assert response.status_code == 400
    assert "Amy Learner, unit C4: Ivo Easterbrook is its IQA" in response.content.decode()
    assert holders(anns) == [people["ann"].pk] * 3


def test_a_post_naming_nobody_to_move_from_is_refused(people, anns, login):
    response = login(people["admin"]).post(
        URL, {"to_person": people["bob"].pk, "portfolios": [anns[0].pk], "reason": "x"}
    )

    assert response.status_code == 400
    assert holders(anns) == [people["ann"].pk] * 3


@pytest.mark.parametrize("who", ["ann", "ida", "superuser"])
def test_the_page_is_the_centre_administrators(people, anns, login, who):
    """A superuser who is not a centre administrator uses the Django admin."""
    people["superuser"] = UserFactory(is_superuser=True)

    client = login(people[who])
    assert client.get(URL).status_code == 403
    response = client.post(
        f"{URL}?role=assessor&from_person={people['ann'].pk}",
        {"to_person": people["bob"].pk, "portfolios": [anns[0].pk], "reason": "x"},
    )
    assert response.status_code == 403
    assert holders(anns) == [people["ann"].pk] * 3


@pytest.mark.parametrize("more", [0, 10])
def test_the_page_runs_the_same_queries_for_any_caseload(
    people, anns, login, django_assert_num_queries, more
):
    for _ in range(more):
        PortfolioFactory(assessor=people["ann"])
    client = login(people["admin"])
    query = {"role": "assessor", "from_person": people["ann"].pk}
    client.get(URL, query)

    # Expect 10 queries: the session and its user, the person moved from (checked, then the list
    # to choose from), their portfolios with the people and unit each row shows, the people who
    # may take them with what each holds, counting unread messages for the menu, and saving the
    # session (a savepoint, the update, its release)
    with django_assert_num_queries(10):
        assert client.get(URL, query).status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are real on PostgreSQL")
def test_a_move_racing_a_sign_off_waits_for_it_and_then_refuses_the_signed_off_unit(people, anns):
    locked, outcome = threading.Event(), {}

    def sign_off():
        try:
            with transaction.atomic():
                Portfolio.objects.locked(anns[0].pk)
                locked.set()
                time.sleep(0.5)
                Portfolio.objects.filter(pk=anns[0].pk).update(status=Portfolio.Status.ASSESSED)
        finally:
            connections.close_all()

    def moving():
        locked.wait()
        try:
            move(people, anns)
        except ValidationError as error:
            outcome["refused"] = error.messages
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sign_off), threading.Thread(target=moving)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcome["refused"] == [
        "Amy Learner, unit C4 stays with Ann Bramwell: it is assessed: the unit is signed off, "
        "and the assessor's sign-off stays theirs."
    ]
    assert holders(anns) == [people["ann"].pk] * 3
