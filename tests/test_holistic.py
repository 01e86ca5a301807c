"""One item of evidence counting in several units of an enrolment: kept in one portfolio, claimed
or mapped in another unit of the same enrolment, and counted there by that unit's rules only."""

import datetime
import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from assessments import services as assessor_services
from assessments.forms import EvidenceReviewForm
from assessments.matrix import matrices_for
from assessments.models import CriterionDecision, Mapping, Review, Signature
from assessments.portfolio_views import with_judgements
from assessments.signable import DIGEST_VERSION, digest_of, manifest_for, stored
from assessments.signatures import signature_rows
from assessments.sufficiency import coverage_for
from audit.models import AuditEntry
from portfolio import services
from portfolio.files import atomic_with_files, prepare_upload, store_file
from portfolio.models import EvidenceItem, Portfolio, Role
from records.pdf import _context as _pdf_context
from records.retention import REMOVED, purge
from tests import samples
from tests.assessing import sufficient
from tests.factories import (
    EvidenceFactory,
    PortfolioFactory,
    WitnessFactory,
    edit_form_data,
    evidence_form_data,
)

pytestmark = pytest.mark.django_db


def review_form(item, user):
    return EvidenceReviewForm(evidence=with_judgements(item.pk), user=user, reviewing=False)


@pytest.fixture
def a(c4):
    """Unit A (C4), where the shared evidence is kept."""
    return PortfolioFactory()


@pytest.fixture
def b(a, c5):
    """Unit B (C5) of the same enrolment, with its own assessor and IQA."""
    return PortfolioFactory(learner=a.learner, unit=c5, enrolment=a.enrolment)


def criterion(portfolio, code):
    return portfolio.unit.criteria.get(nos_code=code)


def claim(item, portfolio, *codes, contexts=""):
    """The learner claims criteria (and shows contexts) of ``portfolio``'s unit on ``item``."""
    item.claimed_criteria.add(*portfolio.unit.criteria.filter(nos_code__in=codes))
    item.contexts.add(*portfolio.unit.contexts.filter(letter__in=list(contexts)))


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def attach_photo(item):
    with atomic_with_files() as written:
        return store_file(
            item,
            prepare_upload(samples.upload("desk.jpg", samples.jpeg())),
            by=item.portfolio.learner,
            written=written,
        )


class TestCounting:
    def test_an_item_claimed_in_two_units_counts_in_both_with_each_units_claims(self, a, b):
        item = EvidenceFactory(portfolio=a, status="submitted", contexts="b", claims=["P1"])
        claim(item, b, "P2", "P3", contexts="c")

        coverage = coverage_for([a, b])

        assert coverage[a.pk].claimed == {criterion(a, "P1").pk}
        assert coverage[b.pk].claimed == {criterion(b, "P2").pk, criterion(b, "P3").pk}
        assert coverage[a.pk].contexts_covered == {"b"}
        assert coverage[b.pk].contexts_covered == {"c"}
        assert coverage[a.pk].occasions == coverage[b.pk].occasions == {item.occurred_on}
        assert coverage[a.pk].awaiting_review == coverage[b.pk].awaiting_review == 1
        assert list(EvidenceItem.objects.counting_in(a)) == [item]
        assert list(EvidenceItem.objects.counting_in(b)) == [item]
        assert set(Portfolio.objects.counting(item.pk)) == {a, b}

    def test_each_unit_counts_it_alone_as_it_does_the_pair(self, a, b):
        item = EvidenceFactory(portfolio=a, status="submitted", contexts="b", claims=["P1"])
        claim(item, b, "P2", contexts="c")

        together = coverage_for([a, b])

        assert coverage_for([b])[b.pk].claimed == together[b.pk].claimed
        assert coverage_for([a])[a.pk].claimed == together[a.pk].claimed

    def test_an_item_only_claimed_in_its_own_unit_does_not_count_in_the_other(self, a, b):
        EvidenceFactory(portfolio=a, status="submitted", contexts="b", claims=["P1"])

        assert not EvidenceItem.objects.counting_in(b).exists()
        assert coverage_for([b])[b.pk].claimed == set()
        assert coverage_for([b])[b.pk].awaiting_review == 0

    def test_a_mapping_alone_makes_it_count(self, a, b):
        item = EvidenceFactory(portfolio=a, status="accepted", contexts="b", claims=["P1"])
        Mapping.objects.create(
            evidence=item, criterion=criterion(b, "P4"), note="", assessor=b.assessor
        )

        assert list(EvidenceItem.objects.counting_in(b)) == [item]
        assert coverage_for([b])[b.pk].confirmed == {criterion(b, "P4").pk}

    def test_simulated_evidence_counts_as_performance_only_in_the_unit_allowing_it(self, a, b):
        item = EvidenceFactory(
            portfolio=a, status="accepted", setting="simulation", contexts="b", claims=["P1"]
        )
        claim(item, b, "P1", contexts="c")
        for portfolio in (a, b):
            Mapping.objects.create(
                evidence=item,
                criterion=criterion(portfolio, "P1"),
                note="",
                assessor=portfolio.assessor,
            )
            CriterionDecision.objects.create(
                portfolio=portfolio,
                criterion=criterion(portfolio, "P1"),
                decided_by=portfolio.assessor,
            ).cited.set([item])

        coverage = coverage_for([a, b])

        assert coverage[a.pk].accepted_contexts == set()  # C4 allows no simulation
        assert coverage[a.pk].accepted_occasions == set()
        assert coverage[a.pk].met_from_real_work == set()
        assert "must be shown by accepted evidence from real work" in " ".join(coverage[a.pk].unmet)
        assert coverage[b.pk].accepted_contexts == {"c"}
        assert coverage[b.pk].accepted_occasions == {item.occurred_on}
        assert coverage[b.pk].met_from_real_work == {criterion(b, "P1").pk}

    def test_another_learners_item_never_counts(self, a, b, c5):
        stranger = PortfolioFactory()  # another learner's C4, in another enrolment
        PortfolioFactory(learner=stranger.learner, unit=c5, enrolment=stranger.enrolment)
        theirs = EvidenceFactory(portfolio=stranger, status="accepted", claims=["P1"])
        # Linked to this learner's C5 criteria (as no form allows), it still does not count.
        claim(theirs, b, "P1", contexts="a")
        Mapping.objects.create(
            evidence=theirs, criterion=criterion(b, "P1"), note="", assessor=b.assessor
        )

        assert not EvidenceItem.objects.counting_in(b).exists()
        assert coverage_for([b])[b.pk].claimed == set()
        assert coverage_for([b])[b.pk].confirmed == set()
        assert b not in Portfolio.objects.counting(theirs.pk)


class TestMapping:
    @pytest.fixture
    def item(self, a, b):
        return EvidenceFactory(portfolio=a, status="accepted", contexts="b", claims=["P1"])

    def test_bs_assessor_maps_bs_criteria_on_an_item_kept_in_a(self, a, b, item):
        mapping = assessor_services.mapping_save(
            evidence=item, criterion=criterion(b, "P2"), note="Second paragraph", by=b.assessor
        )

        assert mapping.assessor == b.assessor
        entry = AuditEntry.objects.get(action="mapping.added")
        assert entry.portfolio_id == b.pk
        assert coverage_for([b])[b.pk].confirmed == {criterion(b, "P2").pk}
        assert coverage_for([a])[a.pk].confirmed == set()

    def test_bs_assessor_may_not_map_as_criteria(self, a, b, item):
        with pytest.raises(ValidationError) as refused:
            assessor_services.mapping_save(
                evidence=item, criterion=criterion(a, "P2"), note="", by=b.assessor
            )

        assert refused.value.messages == [
            "You do not assess OCR unit C4 for this learner, so you cannot confirm or remove its "
            "criteria."
        ]
        assert not Mapping.objects.exists()

    def test_as_assessor_may_not_remove_a_mapping_in_b(self, a, b, item):
        mapping = assessor_services.mapping_save(
            evidence=item, criterion=criterion(b, "P2"), note="", by=b.assessor
        )

        with pytest.raises(ValidationError, match="You do not assess OCR unit C5"):
            assessor_services.mapping_remove(mapping=mapping, by=a.assessor)
        assert Mapping.objects.filter(pk=mapping.pk).exists()

    def test_a_criterion_of_a_unit_the_learner_is_not_on_is_refused(self, a, b, item):
        other = PortfolioFactory(assessor=b.assessor)  # C4 of someone else
        with pytest.raises(ValidationError, match="not enrolled on"):
            assessor_services.mapping_save(
                evidence=EvidenceFactory(portfolio=other, status="accepted"),
                criterion=criterion(b, "P2"),
                note="",
                by=b.assessor,
            )

    def test_the_form_offers_only_the_units_the_user_assesses(self, a, b, item):
        for_b = review_form(item, b.assessor).criteria
        for_a = review_form(item, a.assessor).criteria

        assert {c.unit for c in for_b} == {b.unit}
        assert {c.unit for c in for_a} == {a.unit}

    def test_an_assessor_of_both_units_is_offered_both_named_by_unit(self, a, b, item):
        b.assessor = a.assessor
        b.save()

        form = review_form(item, a.assessor)

        assert {c.unit for c in form.criteria} == {a.unit, b.unit}
        labels = [field.label for name, field in form.fields.items() if name.startswith("map_")]
        assert any(label.startswith("C4 1.1 (P1) ") for label in labels)
        assert any(label.startswith("C5 1.1 (P1) ") for label in labels)

    def test_bs_assessor_maps_from_the_evidence_page(self, a, b, item):
        claim(item, b, "P2")
        client = as_user(b.assessor)

        page = client.get(f"/evidence/{item.pk}/")
        a_p2, b_p2 = criterion(a, "P2").pk, criterion(b, "P2").pk
        refused = client.post(
            f"/evidence/{item.pk}/review/",
            {f"map_{a_p2}": "on", f"note_{a_p2}": "Second paragraph"},
        )
        confirmed = client.post(
            f"/evidence/{item.pk}/review/",
            {f"map_{b_p2}": "on", f"note_{b_p2}": "Second paragraph"},
        )

        assert page.status_code == 200
        assert f'name="map_{b_p2}"' in page.text
        assert f'name="map_{a_p2}"' not in page.text
        assert refused.status_code == 400  # A's criteria are not B's assessor's to map
        assert confirmed.status_code == 302
        assert list(Mapping.objects.values_list("criterion__unit", flat=True)) == [b.unit.pk]

    def test_a_mapping_in_b_is_removed_by_bs_assessor_and_audited_in_b(self, a, b, item):
        mapping = assessor_services.mapping_save(
            evidence=item, criterion=criterion(b, "P2"), note="", by=b.assessor
        )
        assessor_services.mapping_remove(mapping=mapping, by=b.assessor)

        assert AuditEntry.objects.get(action="mapping.removed").portfolio_id == b.pk
        assert not EvidenceItem.objects.counting_in(b).exists()


class TestPages:
    @pytest.fixture
    def item(self, a, b):
        item = EvidenceFactory(
            portfolio=a,
            title="Refund at the returns desk",
            status="accepted",
            contexts="b",
            claims=["P1"],
        )
        claim(item, b, "P2", contexts="c")
        Mapping.objects.create(
            evidence=item, criterion=criterion(b, "P2"), note="", assessor=b.assessor
        )
        return item

    def test_bs_matrix_shows_the_shared_item(self, b, item):
        response = as_user(b.assessor).get(f"/portfolios/{b.pk}/matrix/")

        assert response.status_code == 200
        assert item.title in response.text
        matrix = response.context["matrix"]
        assert [column.item.pk for column in matrix.columns] == [item.pk]
        assert matrix.columns[0].shared_with == []  # unit A is not theirs to see
        assert "kept in unit C4" in response.text
        p2 = next(r for r in matrix.rows if r["criterion"].nos_code == "P2")
        assert p2["marks"] == ["confirmed"]
        p1 = next(r for r in matrix.rows if r["criterion"].nos_code == "P1")
        assert p1["marks"] == [""]  # claimed in A only

    def test_bs_criterion_page_shows_the_shared_item(self, b, item):
        response = as_user(b.assessor).get(f"/portfolios/{b.pk}/criteria/{criterion(b, 'P2').pk}/")

        assert response.status_code == 200
        assert item.title in response.text

    def test_bs_portfolio_page_lists_the_shared_item(self, b, item):
        response = as_user(b.assessor).get(f"/portfolios/{b.pk}/")

        assert response.status_code == 200
        assert item.title in response.text

    def test_each_units_pages_show_only_its_own_contexts_of_the_item(self, a, b, item):
        # The item shows context b of A and context c of B (each unit has contexts a to d).
        for portfolio, letters in ((a, ["b"]), (b, ["c"])):
            client = as_user(portfolio.assessor)
            [column] = client.get(f"/portfolios/{portfolio.pk}/matrix/").context["matrix"].columns
            page = client.get(f"/portfolios/{portfolio.pk}/").context["evidence_items"]
            pdf = _pdf_context(portfolio)["items"]

            assert column.contexts == letters
            for shown in (page, pdf):
                [listed] = shown
                assert [c.letter for c in listed.contexts.all()] == letters

    def test_bs_iqa_may_sample_the_shared_item(self, b, item):
        response = as_user(b.iqa).get(f"/portfolios/{b.pk}/samples/new/")

        assert response.status_code == 200
        assert f'name="look_e{item.pk}"' in response.text

    def test_bs_caseload_counts_the_criterion_confirmed_on_the_shared_item(self, b, item):
        response = as_user(b.assessor).get("/assessor/")

        [row] = response.context["rows"]
        assert row["portfolio"].confirmed_count == 1

    def test_the_evidence_page_takes_bs_staff_back_to_bs_portfolio(self, a, b, item):
        for person in (b.assessor, b.iqa):
            page = as_user(person).get(f"/evidence/{item.pk}/")

            assert f'href="/portfolios/{b.pk}/"' in page.text
            assert f'href="/portfolios/{a.pk}/"' not in page.text
        page = as_user(a.assessor).get(f"/evidence/{item.pk}/")
        assert f'href="/portfolios/{a.pk}/"' in page.text

    def test_the_evidence_page_names_the_unit_of_each_criterion(self, a, b, item):
        Mapping.objects.create(
            evidence=item, criterion=criterion(a, "P1"), note="", assessor=a.assessor
        )

        page = as_user(b.assessor).get(f"/evidence/{item.pk}/").text

        assert '<span class="criterion-code">C4 1.1 (P1)</span>' in page  # claimed and mapped
        assert '<span class="criterion-code">C5 1.2 (P2)</span>' in page
        assert "<div>Unit C4: b " in page
        assert "<div>Unit C5: c " in page
        # B's assessor may change B's mapping only: it is ticked on the review form, A's is not
        # offered.
        b_p2 = criterion(b, "P2").pk
        assert (
            f'name="map_{b_p2}" class="form-check-input map-tick" id="id_map_{b_p2}" checked'
            in page
        )
        assert f'name="map_{criterion(a, "P1").pk}"' not in page

    def test_an_unshared_items_page_names_no_unit(self, a):
        item = EvidenceFactory(portfolio=a, status="accepted", contexts="b", claims=["P1"])

        page = as_user(a.assessor).get(f"/evidence/{item.pk}/").text

        assert '<span class="criterion-code">1.1 (P1)</span>' in page

    def test_a_decision_in_b_cites_the_shared_item(self, b, item):
        decision = assessor_services.decision_mark_met(
            portfolio=b, criterion=criterion(b, "P2"), cited=[item], by=b.assessor
        )

        assert list(decision.cited.all()) == [item]
        assert criterion(b, "P2").pk in coverage_for([b])[b.pk].met

    def test_a_shared_item_appears_once_in_each_unit_it_counts_in(self, a, b, item):
        only_a = EvidenceFactory(portfolio=a, status="submitted", claims=["P3"])
        EvidenceFactory(portfolio=a, status="draft", claims=["P4"])  # drafts are left out

        response = as_user(a.learner).get(f"/enrolments/{a.enrolment_id}/matrix/")

        first, second = response.context["matrices"]
        assert [m.portfolio for m in (first, second)] == [a, b]
        assert [(c.item, c.contexts, c.shared_with) for c in first.columns] == [
            (item, ["b"], ["C5"]),
            (only_a, [], []),
        ]
        assert [(c.item, c.contexts, c.shared_with) for c in second.columns] == [
            (item, ["c"], ["C4"])
        ]
        p2 = next(row for row in second.rows if row["criterion"].nos_code == "P2")
        assert p2["marks"] == ["confirmed"]
        assert response.text.count("shared: also counts in unit C5") == 1
        assert response.text.count("shared: also counts in unit C4") == 1
        assert f'href="/portfolios/{a.pk}/matrix/"' in response.text
        assert f'href="/portfolios/{b.pk}/matrix/"' in response.text

    def test_the_one_unit_matrix_links_to_the_whole_and_marks_shared_items(self, a, b, item):
        response = as_user(a.learner).get(f"/portfolios/{b.pk}/matrix/")

        assert [c.shared_with for c in response.context["matrix"].columns] == [["C4"]]
        assert f'href="/enrolments/{a.enrolment_id}/matrix/"' in response.text

    def test_each_person_sees_the_matrices_of_the_units_they_may_see(self, a, b, item):
        response = as_user(b.assessor).get(f"/enrolments/{a.enrolment_id}/matrix/")

        [only] = response.context["matrices"]
        assert only.portfolio == b
        assert [c.shared_with for c in only.columns] == [[]]
        assert "Unit C4</a>" not in response.text

    def test_the_items_counting_in_each_unit_are_as_counting_in_finds_them(self, a, b, item):
        EvidenceFactory(portfolio=a, status="submitted", claims=["P3"])
        EvidenceFactory(portfolio=b, status="accepted", claims=["P1"])
        items = EvidenceItem.objects.all()

        assert items.counting_in_each([a, b]) == {
            p.pk: set(items.counting_in(p).values_list("pk", flat=True)) for p in (a, b)
        }
        assert items.counting_in_each([]) == {}

    def test_the_matrices_of_one_unit_are_of_that_unit_alone(self, a, b, item):
        [matrix] = matrices_for([a, b], viewer=a.learner, shown=b)

        assert matrix.portfolio == b
        assert [c.item for c in matrix.columns] == [item]


class TestVisibility:
    @pytest.fixture
    def item(self, a, b):
        item = EvidenceFactory(portfolio=a, status="submitted", contexts="b", claims=["P1"])
        item.file = attach_photo(item)
        return item

    def statuses(self, item, *people):
        found = []
        for person in people:
            client = as_user(person)
            found.append(
                (
                    client.get(f"/evidence/{item.pk}/").status_code,
                    client.get(f"/files/{item.file.pk}/").status_code,
                )
            )
        return found

    def test_bs_staff_see_it_only_once_it_is_claimed_in_b(self, a, b, item):
        assert self.statuses(item, b.assessor, b.iqa) == [(404, 404), (404, 404)]

        claim(item, b, "P2")

        assert self.statuses(item, b.assessor, b.iqa) == [(200, 200), (200, 200)]

    def test_bs_staff_see_it_once_it_is_mapped_in_b(self, a, b, item):
        item.status = "accepted"
        item.save()
        assessor_services.mapping_save(
            evidence=item, criterion=criterion(b, "P2"), note="", by=b.assessor
        )

        assert self.statuses(item, b.assessor, b.iqa) == [(200, 200), (200, 200)]

    def test_as_staff_and_the_learner_see_it(self, a, b, item):
        claim(item, b, "P2")

        assert self.statuses(item, a.learner, a.assessor, a.iqa) == [(200, 200)] * 3

    def test_an_eqa_granted_b_only_sees_it_once_it_counts_in_b(self, a, b, item, make_grant):
        eqa = make_grant(portfolios=[b]).eqa
        assert self.statuses(item, eqa) == [(404, 404)]

        claim(item, b, "P2")

        assert self.statuses(item, eqa) == [(200, 200)]

    def test_someone_who_sees_neither_unit_gets_404(self, a, b, c5, item):
        claim(item, b, "P2")
        # Staff of another learner's C5.
        other = PortfolioFactory(unit=c5)

        assert self.statuses(item, other.assessor, other.iqa, other.learner) == [(404, 404)] * 3

    def test_a_draft_claimed_in_b_is_seen_only_by_the_learner(self, a, b, item):
        item.status = "draft"
        item.submitted_at = None
        item.save()
        claim(item, b, "P2")

        assert self.statuses(item, a.learner) == [(200, 200)]
        assert self.statuses(item, b.assessor, b.iqa, a.assessor) == [(404, 404)] * 3


class TestSignatures:
    @pytest.fixture
    def signed_a(self, a, b):
        """A sufficient and signed off, one of its items also claimed in B; B in progress."""
        sufficient(a)
        shared = EvidenceItem.objects.filter(portfolio=a, answers_question=None).first()
        claim(shared, b, "P1", contexts="c")
        assessor_services.unit_sign_off(portfolio=a, by=a.assessor)
        a.refresh_from_db()
        a.shared = shared
        return a

    def test_judgements_in_b_leave_as_signature_valid(self, signed_a, b):
        shared = signed_a.shared
        a_before = stored(signed_a).digest
        assessor_services.mapping_save(
            evidence=shared, criterion=criterion(b, "P1"), note="Para 1", by=b.assessor
        )
        assessor_services.decision_mark_met(
            portfolio=b, criterion=criterion(b, "P1"), cited=[shared], by=b.assessor
        )

        assert stored(signed_a).digest == a_before
        [row] = signature_rows(signed_a)
        assert row.valid, row.reasons
        [named] = stored(b).manifest["evidence"]
        assert named["id"] == shared.pk
        assert named["claims"] == ["P1"]  # B's claim only; in A it claims every P criterion
        assert named["contexts"] == ["c"]
        assert stored(b).manifest["mappings"] == [[shared.pk, "P1", sha("Para 1"), None]]
        assert stored(b).manifest["decisions"] == [["P1", b.assessor_id, [shared.pk]]]

    def test_a_signature_records_the_version_of_the_record_it_is_of(self, signed_a):
        [row] = signature_rows(signed_a)
        assert row.signature.digest_version == DIGEST_VERSION == 1

        Signature.objects.filter(pk=row.signature.pk).update(digest_version=2)

        [row] = signature_rows(signed_a)
        assert not row.valid
        assert row.reasons == [
            "It was made with version 2 of the record of what is signed, which this release "
            "does not check."
        ]

    def test_a_claim_in_b_leaves_as_signature_valid(self, signed_a, b):
        claim(signed_a.shared, b, "P9")

        [row] = signature_rows(signed_a)
        assert row.valid, row.reasons
        assert "P9" in stored(b).manifest["evidence"][0]["claims"]

    def test_an_item_kept_in_b_counting_in_signed_a_cannot_be_edited(self, a, b, client):
        sufficient(a)
        item = EvidenceFactory(
            portfolio=b, status="referred_back", contexts="a", claims=["P1"], title="Late train"
        )
        claim(item, a, "P2", contexts="a")
        assessor_services.unit_sign_off(portfolio=a, by=a.assessor)
        item.refresh_from_db()

        assert item.closed_unit_counting_it() == a
        assert not item.may_edit(a.learner)
        with pytest.raises(ValidationError) as refused:
            services.refuse_if_signed_elsewhere(item)
        assert refused.value.messages == [
            f"'Late train' also counts in {a.unit.label}, which is signed off, so it can no "
            "longer change."
        ]
        response = as_user(a.learner).post(
            f"/evidence/{item.pk}/edit/", edit_form_data(item, title="Changed")
        )
        assert response.status_code == 403
        page = as_user(a.learner).get(f"/evidence/{item.pk}/").text
        assert "also counts in OCR unit C4, which is signed off" in page
        item.refresh_from_db()
        assert item.title == "Late train"
        [row] = signature_rows(a)
        assert row.valid, row.reasons

    def test_an_item_kept_in_b_counting_in_signed_a_cannot_be_reviewed(self, a, b):
        sufficient(a)
        item = EvidenceFactory(
            portfolio=b, status="submitted", contexts="a", claims=["P1"], title="Late train"
        )
        claim(item, a, "P2", contexts="a")
        assessor_services.unit_sign_off(portfolio=a, by=a.assessor)
        item.refresh_from_db()

        assert not item.may_review(b.assessor)
        with pytest.raises(
            ValidationError, match=r"also counts in OCR unit C4, which is signed off"
        ):
            assessor_services.evidence_review(
                evidence=item, by=b.assessor, accept=True, feedback="", site_url=""
            )
        response = as_user(b.assessor).post(
            f"/evidence/{item.pk}/review/", {"decision": "accept", "feedback": ""}
        )
        assert response.status_code == 403
        page = as_user(b.assessor).get(f"/evidence/{item.pk}/").text
        assert "Record the review" not in page
        assert (
            "'Late train' also counts in OCR unit C4, which is signed off, so it can no longer "
            "be reviewed or changed." in page
        )
        item.refresh_from_db()
        assert item.status == "submitted"
        assert not Review.objects.filter(evidence=item).exists()
        [row] = signature_rows(a)
        assert row.valid, row.reasons

    def test_a_witness_cannot_answer_for_an_item_counting_in_signed_a(self, a, b):
        sufficient(a)
        item = EvidenceFactory(portfolio=b, status="submitted", contexts="a", claims=["P1"])
        claim(item, a, "P2", contexts="a")
        now = timezone.now()
        testimony = WitnessFactory(
            evidence=item, status="sent", sent_at=now, expires_at=now + datetime.timedelta(days=7)
        )
        assessor_services.unit_sign_off(portfolio=a, by=a.assessor)

        problem = services.witness_respond(
            testimony=testimony, confirmed=True, typed_name="Sam Okafor", ip=None
        )

        assert problem == "closed"
        testimony.refresh_from_db()
        assert testimony.status == "sent"
        [row] = signature_rows(a)
        assert row.valid, row.reasons

    @pytest.fixture
    def draft(self, a, b):
        """A draft kept in B that also claims A's criteria, and A then signed off."""
        sufficient(a)
        draft = EvidenceFactory(portfolio=b, contexts="a", claims=["P1"], title="Half written")
        claim(draft, a, "P2", contexts="a")
        assessor_services.unit_sign_off(portfolio=a, by=a.assessor)
        draft.refresh_from_db()
        return draft

    def test_a_draft_claimed_in_signed_a_may_still_be_deleted(self, a, b, draft):
        response = as_user(a.learner).post(f"/evidence/{draft.pk}/delete/")

        assert response.status_code == 302
        assert not EvidenceItem.objects.filter(pk=draft.pk).exists()
        [row] = signature_rows(a)
        assert row.valid, row.reasons

    def test_a_draft_claimed_in_signed_a_is_edited_without_as_criteria(self, a, b, draft):
        learner = as_user(a.learner)
        form = learner.get(f"/evidence/{draft.pk}/edit/").context["form"]
        assert {c.unit for c in form.fields["claimed_criteria"].queryset} == {b.unit}

        response = learner.post(
            f"/evidence/{draft.pk}/edit/",
            edit_form_data(
                draft,
                title="Written in full",
                claimed_criteria=[criterion(b, "P1").pk],
                contexts=[b.unit.contexts.get(letter="a").pk],
            ),
        )

        assert response.status_code == 302
        draft.refresh_from_db()
        assert draft.title == "Written in full"
        assert list(draft.claimed_criteria.all()) == [criterion(b, "P1")]
        assert draft.closed_unit_counting_it(drafts_too=True) is None
        services.evidence_submit(evidence=draft, by=a.learner, site_url="")
        [row] = signature_rows(a)
        assert row.valid, row.reasons

    def test_a_draft_claimed_in_signed_a_cannot_be_submitted(self, a, b, draft):
        with pytest.raises(
            ValidationError, match=r"also counts in OCR unit C4, which is signed off"
        ):
            services.evidence_submit(evidence=draft, by=a.learner, site_url="")
        draft.refresh_from_db()
        assert draft.status == "draft"


class TestEachUnitsRules:
    @pytest.fixture
    def learner(self, a, b):
        return as_user(a.learner)

    def post(self, learner, a, **changes):
        return learner.post(f"/portfolios/{a.pk}/evidence/new/", evidence_form_data(a, **changes))

    def test_the_form_groups_bs_criteria_under_unit_b(self, learner, a, b):
        response = learner.get(f"/portfolios/{a.pk}/evidence/new/")

        assert "Unit C4: 1 " in response.text
        assert "Unit C5: 1 " in response.text
        assert "Unit C5: a " in response.text

    def test_simulated_evidence_may_claim_performance_in_the_unit_allowing_it(self, learner, a, b):
        response = self.post(
            learner,
            a,
            setting="simulation",
            claimed_criteria=[criterion(b, "P1").pk],
            contexts=[b.unit.contexts.get(letter="b").pk],
        )

        assert response.status_code == 302
        item = EvidenceItem.objects.get()
        assert item.portfolio == a
        assert list(EvidenceItem.objects.counting_in(b)) == [item]

    def test_simulated_evidence_may_not_claim_performance_in_a_unit_refusing_it(
        self, learner, a, b
    ):
        response = self.post(
            learner,
            a,
            setting="simulation",
            claimed_criteria=[criterion(a, "P1").pk, criterion(b, "P1").pk],
            contexts=[
                c.pk for c in [a.unit.contexts.get(letter="b"), b.unit.contexts.get(letter="b")]
            ],
        )

        assert response.status_code == 200
        assert response.context["form"].errors["claimed_criteria"] == [
            "Unit C4 does not allow simulation for performance evidence, so simulated evidence "
            "cannot claim C4 1.1 (P1). Change the setting or untick those criteria."
        ]
        assert not EvidenceItem.objects.exists()

    def test_contexts_are_required_in_each_unit_claimed(self, learner, a, b):
        response = self.post(
            learner,
            a,
            claimed_criteria=[criterion(a, "P1").pk, criterion(b, "P1").pk],
            contexts=[a.unit.contexts.get(letter="b").pk],
        )

        assert response.status_code == 200
        assert response.context["form"].errors["contexts"] == [
            "Evidence that claims performance criteria must show at least one context of unit "
            "C5; this claims C5 1.1 (P1)."
        ]
        assert not EvidenceItem.objects.exists()

    def test_a_file_already_in_another_unit_of_the_enrolment_is_refused(self, learner, a, b):
        attach_photo(EvidenceFactory(portfolio=a, title="Angry caller"))
        day = timezone.localdate().strftime("%-d %B")

        response = learner.post(
            f"/portfolios/{b.pk}/evidence/new/",
            {**evidence_form_data(b), "files": [samples.upload("again.jpg", samples.jpeg())]},
        )

        assert response.status_code == 200
        assert response.context["form"].errors["files"] == [
            f"again.jpg is already uploaded to 'Angry caller' in unit C4 on {day}; it was not "
            "added again. Claim this unit's criteria on that evidence instead.",
            "Nothing was saved: choose the files again without the repeated ones.",
        ]
        assert not EvidenceItem.objects.filter(portfolio=b).exists()

    def test_a_file_in_another_learners_unit_is_not_a_repeat(self, learner, a, b, c5):
        other = PortfolioFactory(unit=c5)
        attach_photo(EvidenceFactory(portfolio=other, title="Angry caller"))

        response = learner.post(
            f"/portfolios/{b.pk}/evidence/new/",
            {**evidence_form_data(b), "files": [samples.upload("desk.jpg", samples.jpeg())]},
        )

        assert response.status_code == 302

    def test_a_signed_off_unit_is_not_offered(self, learner, a, b):
        b.status = Portfolio.Status.ASSESSED
        b.save()

        response = learner.get(f"/portfolios/{a.pk}/evidence/new/")

        assert "C5" not in response.text
        refused = self.post(learner, a, claimed_criteria=[criterion(b, "P1").pk])
        assert refused.status_code == 200
        assert "claimed_criteria" in refused.context["form"].errors


class TestUnsharedManifest:
    def test_an_unshared_portfolios_manifest_is_what_it_was(self, a):
        today = timezone.localdate()
        item = EvidenceFactory(
            portfolio=a,
            title="Refund",
            status="accepted",
            contexts="ba",
            claims=["P8", "P1"],
            occurred_on=today - datetime.timedelta(days=3),
            customer_reference="Customer 7",
            account="I listened.",
        )
        EvidenceFactory(portfolio=a, title="Draft")  # drafts are in no manifest
        Mapping.objects.create(
            evidence=item, criterion=criterion(a, "P1"), note="Para 2", assessor=a.assessor
        )
        review = Review.objects.create(evidence=item, assessor=a.assessor, outcome="accepted")
        decision = CriterionDecision.objects.create(
            portfolio=a, criterion=criterion(a, "P1"), decided_by=a.assessor
        )
        decision.cited.set([item])

        manifest = manifest_for(a)

        assert manifest == {
            "portfolio": {
                "id": a.pk,
                "learner": a.learner_id,
                "unit": "OCR C4",
                "unit_version": a.unit.version,
                "organisation": "Riverside Borough Council",
                "sector": "public",
                "job_role": "Contact centre adviser",
            },
            "evidence": [
                {
                    "id": item.pk,
                    "title": "Refund",
                    "method": "reflective",
                    "occurred_on": (today - datetime.timedelta(days=3)).isoformat(),
                    "status": "accepted",
                    "setting": "real_paid",
                    "customer": "external",
                    "customer_reference": "Customer 7",
                    "account_sha256": sha("I listened."),
                    "contexts": ["a", "b"],
                    "claims": ["P1", "P8"],
                    "declared_at": None,
                    "files": [],
                    "witness": None,
                    "observation": None,
                }
            ],
            "mappings": [[item.pk, "P1", sha("Para 2"), None]],
            "decisions": [["P1", a.assessor_id, [item.pk]]],
            "reviews": [[review.pk, item.pk, "accepted"]],
        }
        assert stored(a).digest == digest_of(manifest)


class TestQueryCounts:
    def shared_enrolments(self, n, c5):
        portfolios = []
        for _ in range(n):
            a = PortfolioFactory()
            b = PortfolioFactory(learner=a.learner, unit=c5, enrolment=a.enrolment)
            item = EvidenceFactory(portfolio=a, status="accepted", contexts="b", claims=["P1"])
            claim(item, b, "P2", contexts="c")
            Mapping.objects.create(
                evidence=item, criterion=criterion(b, "P2"), note="", assessor=b.assessor
            )
            portfolios += [a, b]
        return Portfolio.objects.select_related("unit").filter(pk__in=[p.pk for p in portfolios])

    @pytest.mark.parametrize("n", [1, 10])
    def test_coverage_for_shared_enrolments_takes_the_same_queries(
        self, n, c5, django_assert_num_queries
    ):
        portfolios = list(self.shared_enrolments(n, c5))

        # Expect 8 queries: criteria, contexts, evidence, claims, the evidence's contexts,
        # mappings, decisions, and the evidence the decisions cite
        with django_assert_num_queries(8):
            coverage = coverage_for(portfolios)

        assert all(len(c.claimed) == 1 for c in coverage.values())


def test_whoever_reviewed_evidence_kept_in_one_unit_never_quality_assures_another(a, b):
    item = EvidenceFactory(portfolio=a, status="accepted", claims=["P1"])
    claim(item, b, "P2")
    Review.objects.create(evidence=item, outcome="accepted", feedback="", assessor=a.assessor)
    Portfolio.objects.filter(pk=b.pk).update(iqa=a.assessor)
    a.assessor.is_iqa = True
    a.assessor.save()

    assert not Portfolio.objects.in_role(a.assessor, Role.IQA).filter(pk=b.pk).exists()
    b.refresh_from_db()
    assert not b.may_quality_assure(a.assessor)


def test_shared_evidence_is_purged_with_the_last_unit_that_holds_it(a, b):
    item = EvidenceFactory(portfolio=a, status="accepted", account="What I did", claims=["P1"])
    claim(item, b, "P2")
    photo = attach_photo(item)
    Portfolio.objects.filter(pk__in=[a.pk, b.pk]).update(
        status=Portfolio.Status.CLAIMED, retain_until=datetime.date(2020, 1, 1)
    )

    assert purge(Portfolio.objects.get(pk=a.pk)) == 0
    item.refresh_from_db()
    photo.refresh_from_db()
    assert item.account == "What I did"
    assert photo.purged_at is None

    assert purge(Portfolio.objects.get(pk=b.pk)) == 1
    item.refresh_from_db()
    photo.refresh_from_db()
    assert item.account == REMOVED
    assert photo.purged_at is not None
