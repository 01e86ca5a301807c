"""The assessor's review in one screen: accept or refer back, the criteria an item shows in every
unit the assessor assesses with where each is shown, and the feedback, saved in one post."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from assessments.models import CriterionDecision, Mapping, Review
from audit.models import AuditEntry
from portfolio.models import EvidenceItem
from tests.factories import EvidenceFactory, PortfolioFactory

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def code(portfolio, nos_code):
    return portfolio.unit.criteria.get(nos_code=nos_code)


def ticks(*pairs):
    """The review form's data for criteria ticked, each with its own note ("" for none)."""
    data = {}
    for criterion, note in pairs:
        data[f"map_{criterion.pk}"] = "on"
        data[f"note_{criterion.pk}"] = note
    return data


@pytest.fixture
def submitted(portfolio):
    return EvidenceFactory(
        portfolio=portfolio, status="submitted", contexts="b", claims=["P1", "P8", "P17"]
    )


class TestAcceptingAndMapping:
    def test_one_post_accepts_and_confirms_claimed_and_unclaimed_criteria(
        self, portfolio, submitted
    ):
        p1, p8, p3 = (code(portfolio, c) for c in ("P1", "P8", "P3"))

        response = as_user(portfolio.assessor).post(
            f"/evidence/{submitted.pk}/review/",
            {
                "decision": "accept",
                "feedback": "Well handled.",
                "note": "Throughout the account",
                **ticks((p1, "First paragraph"), (p8, ""), (p3, "Last line")),
            },
            follow=True,
        )

        submitted.refresh_from_db()
        assert submitted.status == EvidenceItem.Status.ACCEPTED
        assert dict(Mapping.objects.values_list("criterion__nos_code", "note")) == {
            "P1": "First paragraph",
            "P8": "Throughout the account",  # no note of its own: the one for all
            "P3": "Last line",  # not claimed, still confirmed
        }
        assert Review.objects.get().feedback == "Well handled."
        actions = list(AuditEntry.objects.order_by("pk").values_list("action", flat=True))
        assert actions[-4:] == ["evidence.accepted", *["mapping.added"] * 3]
        assert "is accepted, with 3 criteria confirmed; the learner has been told." in (
            response.text
        )

    def test_a_tick_with_no_note_anywhere_is_refused_and_nothing_is_saved(
        self, portfolio, submitted
    ):
        p1, p8 = code(portfolio, "P1"), code(portfolio, "P8")

        response = as_user(portfolio.assessor).post(
            f"/evidence/{submitted.pk}/review/",
            {"decision": "accept", "feedback": "Kept", **ticks((p1, "Kept note"), (p8, ""))},
        )

        assert response.status_code == 400
        assert "Say where 2.1 (P8) is shown" in response.text
        # Everything typed comes back: the decision, the ticks, the notes, the feedback.
        assert response.context["review_form"]["decision"].value() == "accept"
        assert f'id="id_map_{p1.pk}" checked' in response.text
        assert f'id="id_map_{p8.pk}" checked' in response.text
        assert 'value="Kept note"' in response.text
        assert response.context["review_form"]["feedback"].value() == "Kept"
        submitted.refresh_from_db()
        assert submitted.status == EvidenceItem.Status.SUBMITTED
        assert not Mapping.objects.exists()
        assert not Review.objects.exists()

    def test_the_claims_come_first_and_every_other_criterion_is_one_fold_away(
        self, portfolio, submitted
    ):
        page = as_user(portfolio.assessor).get(f"/evidence/{submitted.pk}/").text

        form = page[page.index('id="review"') :]
        fold = form.index("<details")
        assert "Other criteria of OCR unit C4 (24)" in form
        for claimed in ("P1", "P8", "P17"):
            assert form.index(f'id="id_map_{code(portfolio, claimed).pk}"') < fold
        assert form.index(f'id="id_map_{code(portfolio, "P2").pk}"') > fold
        # Grouped under their learning outcomes.
        outcome = code(portfolio, "P8").outcome
        assert f"{outcome.number} {outcome.title}" in form[:fold]

    def test_the_decision_and_the_criteria_reach_the_keyboard_in_order(self, portfolio, submitted):
        page = as_user(portfolio.assessor).get(f"/evidence/{submitted.pk}/").text
        form = page[page.index('id="review"') :]

        order = [
            form.index('name="decision"'),
            form.index(f'name="map_{code(portfolio, "P1").pk}"'),
            form.index('name="note"'),
            form.index('name="feedback"'),
            form.index("Save the review"),
        ]
        assert order == sorted(order)


class TestReferringBack:
    def test_referred_back_the_ticks_are_kept_and_offered_again_on_resubmission(
        self, portfolio, submitted
    ):
        p1, p8 = code(portfolio, "P1"), code(portfolio, "P8")
        assessor = as_user(portfolio.assessor)

        assessor.post(
            f"/evidence/{submitted.pk}/review/",
            {
                "decision": "refer_back",
                "feedback": "Say what you said.",
                "note": "Shared",
                **ticks((p1, "Para 1"), (p8, "")),
            },
        )

        submitted.refresh_from_db()
        assert submitted.status == EvidenceItem.Status.REFERRED_BACK
        assert not Mapping.objects.exists()  # only accepted evidence is mapped
        assert Review.objects.get().proposed_mappings == [[p1.pk, "Para 1"], [p8.pk, "Shared"]]
        submitted.status = EvidenceItem.Status.RESUBMITTED
        submitted.save()
        page = assessor.get(f"/evidence/{submitted.pk}/").text
        assert f'id="id_map_{p1.pk}" checked' in page
        assert 'value="Para 1"' in page
        assert 'value="Shared"' in page

        assessor.post(
            f"/evidence/{submitted.pk}/review/",
            {"decision": "accept", **ticks((p1, "Para 1"), (p8, "Shared"))},
        )
        assert dict(Mapping.objects.values_list("criterion__nos_code", "note")) == {
            "P1": "Para 1",
            "P8": "Shared",
        }
        assert Review.objects.latest("pk").proposed_mappings == []

    def test_referring_back_without_feedback_keeps_the_ticks(self, portfolio, submitted):
        p1 = code(portfolio, "P1")

        response = as_user(portfolio.assessor).post(
            f"/evidence/{submitted.pk}/review/",
            {"decision": "refer_back", "feedback": "", **ticks((p1, "Para 1"))},
        )

        assert response.status_code == 400
        assert "feedback is required" in response.text
        assert f'id="id_map_{p1.pk}" checked' in response.text
        assert 'value="Para 1"' in response.text
        assert not Review.objects.exists()


class TestAcceptedEvidence:
    @pytest.fixture
    def accepted(self, portfolio):
        item = EvidenceFactory(portfolio=portfolio, status="accepted", claims=["P1", "P2"])
        for nos_code in ("P1", "P2"):
            Mapping.objects.create(
                evidence=item,
                criterion=code(portfolio, nos_code),
                note=f"{nos_code} note",
                assessor=portfolio.assessor,
                recording_seconds=30,
            )
        return item

    def test_notes_change_criteria_are_added_and_unticked_ones_removed_in_one_post(
        self, portfolio, accepted
    ):
        p1, p3 = code(portfolio, "P1"), code(portfolio, "P3")

        response = as_user(portfolio.assessor).post(
            f"/evidence/{accepted.pk}/review/",
            {"decision": "refer_back", **ticks((p1, "P1 changed"), (p3, "P3 new"))},
            follow=True,
        )

        mappings = {m.criterion.nos_code: m for m in Mapping.objects.select_related("criterion")}
        assert {c: m.note for c, m in mappings.items()} == {"P1": "P1 changed", "P3": "P3 new"}
        assert mappings["P1"].recording_seconds == 30  # a discussion's time stays
        accepted.refresh_from_db()
        assert accepted.status == EvidenceItem.Status.ACCEPTED  # no decision is taken here
        actions = AuditEntry.objects.order_by("pk").values_list("action", flat=True)
        assert list(actions)[-3:] == ["mapping.removed", "mapping.changed", "mapping.added"]
        assert "3 criteria confirmed or changed" in response.text

    def test_nothing_changed_says_so(self, portfolio, accepted):
        response = as_user(portfolio.assessor).post(
            f"/evidence/{accepted.pk}/review/",
            ticks((code(portfolio, "P1"), "P1 note"), (code(portfolio, "P2"), "P2 note")),
            follow=True,
        )

        assert "Nothing changed." in response.text
        assert not AuditEntry.objects.filter(action__startswith="mapping").exists()

    def test_a_criterion_cited_by_a_decision_stays_and_nothing_else_changes(
        self, portfolio, accepted
    ):
        decision = CriterionDecision.objects.create(
            portfolio=portfolio, criterion=code(portfolio, "P2"), decided_by=portfolio.assessor
        )
        decision.cited.set([accepted])

        response = as_user(portfolio.assessor).post(
            f"/evidence/{accepted.pk}/review/", ticks((code(portfolio, "P1"), "P1 changed"))
        )

        assert response.status_code == 400
        assert "withdraw the decision first" in response.text
        assert 'value="P1 changed"' in response.text
        assert set(Mapping.objects.values_list("note", flat=True)) == {"P1 note", "P2 note"}

    def test_another_assessor_and_the_learner_may_not(self, portfolio, accepted):
        data = ticks((code(portfolio, "P3"), "x"))

        other = as_user(PortfolioFactory().assessor).post(f"/evidence/{accepted.pk}/review/", data)
        learner = as_user(portfolio.learner).post(f"/evidence/{accepted.pk}/review/", data)

        assert other.status_code == 404
        assert learner.status_code == 403
        assert Mapping.objects.count() == 2


class TestAcrossUnits:
    @pytest.fixture
    def a(self, c4):
        return PortfolioFactory()

    @pytest.fixture
    def b(self, a, c5):
        return PortfolioFactory(
            learner=a.learner, unit=c5, enrolment=a.enrolment, assessor=a.assessor
        )

    def test_one_post_maps_criteria_of_every_unit_the_assessor_assesses(self, a, b):
        item = EvidenceFactory(portfolio=a, status="submitted", contexts="b", claims=["P1"])
        item.claimed_criteria.add(code(b, "P2"))
        page = as_user(a.assessor).get(f"/evidence/{item.pk}/").text
        assert "Unit C5: " in page
        assert "C5 1.2 (P2)" in page

        as_user(a.assessor).post(
            f"/evidence/{item.pk}/review/",
            {"decision": "accept", **ticks((code(a, "P1"), "A"), (code(b, "P2"), "B"))},
        )

        assert set(Mapping.objects.values_list("criterion__unit__code", "note")) == {
            ("C4", "A"),
            ("C5", "B"),
        }
        # Each mapping is a judgement in its own unit.
        assert set(
            AuditEntry.objects.filter(action="mapping.added").values_list("portfolio_id", flat=True)
        ) == {a.pk, b.pk}

    def test_a_unit_assessed_by_someone_else_is_neither_offered_nor_mapped(self, a, b):
        b.assessor = PortfolioFactory().assessor
        b.save()
        item = EvidenceFactory(portfolio=a, status="submitted", contexts="b", claims=["P1"])
        item.claimed_criteria.add(code(b, "P2"))

        page = as_user(a.assessor).get(f"/evidence/{item.pk}/").text
        response = as_user(a.assessor).post(
            f"/evidence/{item.pk}/review/",
            {"decision": "accept", **ticks((code(a, "P1"), "A"), (code(b, "P2"), "B"))},
        )

        assert f'name="map_{code(b, "P2").pk}"' not in page
        assert response.status_code == 302
        assert list(Mapping.objects.values_list("criterion__unit__code", flat=True)) == ["C4"]


def review_page_queries(user, item) -> int:
    client = as_user(user)
    client.get(f"/evidence/{item.pk}/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/evidence/{item.pk}/").status_code == 200
    return len(queries)


def test_the_review_screen_runs_the_same_queries_however_many_criteria_units_and_mappings(c4, c5):
    small = PortfolioFactory()
    one = EvidenceFactory(portfolio=small, status="accepted", contexts="b", claims=["P1"])

    big = PortfolioFactory()
    other = PortfolioFactory(
        learner=big.learner, unit=c5, enrolment=big.enrolment, assessor=big.assessor
    )
    many = EvidenceFactory(
        portfolio=big, status="accepted", contexts="abcd", claims=[f"P{n}" for n in range(1, 18)]
    )
    many.claimed_criteria.add(*other.unit.criteria.all())
    Mapping.objects.bulk_create(
        Mapping(evidence=many, criterion=c, note="n", assessor=big.assessor)
        for c in [*big.unit.criteria.all()[:10], *other.unit.criteria.all()[:10]]
    )
    for _n in range(5):
        EvidenceFactory(portfolio=big, status="accepted", claims=["P1"])

    assert review_page_queries(small.assessor, one) == review_page_queries(big.assessor, many)
