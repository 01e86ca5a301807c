"""Progress across the qualification: the credits, groups and gaps against its rule for the units
achieved, each unit's status and what it still lacks, shown on each person's pages; and the
tracking matrix of every unit of an enrolment."""

from pathlib import Path

import pytest
from django.test import Client

from assessments import quality
from assessments.models import CriterionDecision
from assessments.progress import progress_for
from assessments.sufficiency import coverage_for
from portfolio.enrolments import Achievement, achievement_of, awaiting_claim_count
from portfolio.models import Claim, Portfolio
from tests.assessing import sufficient
from tests.factories import PortfolioFactory, UserFactory
from tests.test_enrolments import VALID, centre_people, enrol, load_units, units
from tests.test_qualifications import listed
from units.combination import credits_achieved, progress_by_group
from units.qualification_importer import import_qualification_file

pytestmark = pytest.mark.django_db

SPECS = Path(__file__).resolve().parent / "specs"
CERTIFICATE = SPECS / "certificate.yaml"
DIPLOMA = SPECS / "diploma.yaml"
Status = Portfolio.Status


def qualification(tmp_path, spec):
    load_units(tmp_path, set(listed(spec)), spec)
    return import_qualification_file(spec).qualification


@pytest.fixture
def certificate(tmp_path):
    return qualification(tmp_path, CERTIFICATE)


@pytest.fixture
def diploma(tmp_path):
    return qualification(tmp_path, DIPLOMA)


@pytest.fixture
def people():
    return centre_people()


def verify(enrolment, *codes, status=Status.VERIFIED):
    enrolment.portfolios.filter(unit__code__in=codes).update(status=status)


def progress_of(enrolment, viewer=None):
    return progress_for([enrolment], viewer=viewer)[enrolment.pk]


def words(progress):
    return [group.words for group in progress.groups]


class TestQualification:
    def test_a_mandatory_group_incomplete_is_a_gap(self, certificate, people):
        enrolment = enrol(certificate, people)  # M1, M2, O2, O3, O4, O6
        verify(enrolment, "M1", "O2", "O3", "O4", "O6")

        progress = progress_of(enrolment)

        assert words(progress) == [
            "Group A: 1 of 2 mandatory units",
            "Group B: 11 credits",
            "Group C: 10 credits",
        ]
        assert [group.met for group in progress.groups] == [False, True, True]
        assert progress.gaps == [
            "Unit M2 Work with others in customer service is mandatory and not achieved yet",
            "The qualification needs 28 credits; the units achieved give 25",
        ]
        assert progress.credits == 25
        assert progress.credits_words == "25 of 28 credits"
        assert progress.achieved is False
        assert progress.achievement == Achievement.NOT_YET

    def test_optional_credits_short_of_a_groups_minimum_are_a_gap(self, diploma, people):
        codes = ["DM1", "DM2", "DM3", "DA1", "DB1", "DB2", "DB3", "DB4", "DC1"]
        enrolment = enrol(diploma, people, codes)
        verify(enrolment, "DM1", "DM2", "DM3", "DA1", "DB1", "DB2", "DC1")

        progress = progress_of(enrolment)

        assert words(progress) == [
            "Mandatory units: 3 of 3 mandatory units",
            "Group A: 3 of at least 3 credits",
            "Group B: 11 of at least 16 credits",
            "Group C: 4 credits (at most 7 credits)",
        ]
        assert [group.met for group in progress.groups] == [True, True, False, True]
        assert progress.gaps == [
            "Group B needs at least 16 credits; the units achieved give 11",
            "The qualification needs 45 credits; the units achieved give 37",
        ]
        assert progress.summary == "OCR CS3-DIP: 37 of 45 credits, 7 of 9 units verified"

    def test_credits_below_the_level_the_rule_asks_are_a_gap(self, certificate, people):
        enrolment = enrol(certificate, people, ["M1", "M2", "O1", "O2", "O4", "O5", "O6", "O7"])
        verify(enrolment, "M1", "M2", "O1", "O2", "O4", "O5", "O6")

        progress = progress_of(enrolment)

        assert progress.credits == 32
        assert progress.gaps == [
            "11 optional credits must be at Level 2 or above; the units achieved give 10"
        ]
        assert progress.achieved is False

    def test_verified_units_satisfying_the_rule_achieve_it_and_claiming_them_claims_it(
        self, certificate, people
    ):
        enrolment = enrol(certificate, people)
        verify(enrolment, "M1", "M2", "O2", "O3", "O4")
        verify(enrolment, "O6", status=Status.CLAIMED)

        progress = progress_of(enrolment)

        assert progress.gaps == []
        assert progress.achieved is True
        assert progress.achievement == Achievement.ACHIEVED
        assert (progress.signed_off, progress.verified, progress.claimed) == (6, 6, 1)
        assert awaiting_claim_count() == 1

        verify(enrolment, *[p.unit.code for p in enrolment.portfolios.all()], status="claimed")

        assert progress_of(enrolment).achievement == Achievement.CLAIMED
        assert awaiting_claim_count() == 0

    def test_a_unit_verified_after_the_full_award_is_claimed_leaves_it_claimed(
        self, certificate, people
    ):
        enrolment = enrol(certificate, people, codes=[*VALID, "O7"])
        verify(enrolment, *VALID)
        quality.claim_record(enrolment=enrolment, kind=Claim.Kind.FULL_AWARD, by=people["admin"])

        verify(enrolment, "O7")

        progress = progress_of(enrolment)
        assert progress.achievement == Achievement.CLAIMED
        assert progress.award_claimed
        assert (progress.verified, progress.claimed) == (7, 6)
        assert awaiting_claim_count() == 0

    def test_units_signed_off_but_not_verified_count_for_nothing(self, certificate, people):
        enrolment = enrol(certificate, people)
        verify(enrolment, "M1", "M2", "O2", "O3", "O4", "O6", status=Status.ASSESSED)

        progress = progress_of(enrolment)

        assert (progress.signed_off, progress.verified, progress.credits) == (6, 0, 0)
        assert progress.achieved is False
        assert awaiting_claim_count() == 0

    def test_the_group_words_say_each_bound(self, diploma):
        structured = type(diploma).objects.with_structure().get(pk=diploma.pk)
        achieved = units("DM1", "DA1", "DA2", "DC1", "DC2")

        assert [g.words for g in progress_by_group(structured, achieved)] == [
            "Mandatory units: 1 of 3 mandatory units",
            "Group A: 7 of at least 3 credits",
            "Group B: 0 of at least 16 credits",
            "Group C: 8 credits (at most 7 credits)",
        ]
        assert [g.met for g in progress_by_group(structured, achieved)] == [
            False,
            True,
            False,
            False,
        ]
        assert credits_achieved(structured, achieved) == 21


class TestUnits:
    def test_each_unit_says_what_it_still_lacks_or_waits_for(self, certificate, people):
        enrolment = enrol(certificate, people)
        verify(enrolment, "M2", status=Status.ASSESSED)
        verify(enrolment, "O2")
        verify(enrolment, "O3", status=Status.CLAIMED)

        progress = progress_of(enrolment, people["learner"])

        assert [unit.words for unit in progress.units] == [
            "Unit M1: 1 criterion still to be met",
            "Unit M2: signed off, waiting for the IQA's sample",
            "Unit O2: verified",
            "Unit O3: claimed",
            "Unit O4: 1 criterion still to be met",
            "Unit O6: 1 criterion still to be met",
        ]
        assert [unit.status for unit in progress.units] == [
            "in progress",
            "signed off",
            "verified",
            "claimed",
            "in progress",
            "in progress",
        ]
        assert [unit.credits for unit in progress.units] == [4, 4, 5, 6, 5, 5]

    def test_a_unit_says_how_many_criteria_are_not_met_then_what_else_it_lacks(self, c4):
        portfolio = PortfolioFactory()
        learner = portfolio.learner

        assert progress_of(portfolio.enrolment, learner).units[0].words == (
            "Unit C4: 27 criteria still to be met"
        )

        # Every criterion marked met, on no evidence from real work in any context.
        for criterion in portfolio.unit.criteria.all():
            CriterionDecision.objects.create(
                portfolio=portfolio, criterion=criterion, decided_by=portfolio.assessor
            )
        unmet = coverage_for([portfolio])[portfolio.pk].unmet

        assert progress_of(portfolio.enrolment, learner).units[0].still_to_do == (
            f"every criterion met, {len(unmet)} more things before sign-off"
        )

    def test_a_sufficient_unit_is_ready_to_sign_off(self, c4):
        portfolio = PortfolioFactory()
        sufficient(portfolio)

        [unit] = progress_of(portfolio.enrolment, portfolio.learner).units

        assert unit.words == "Unit C4: ready to sign off"

    def test_a_single_unit_enrolment_has_unit_progress_only(self, c4):
        portfolio = PortfolioFactory()

        progress = progress_of(portfolio.enrolment, portfolio.learner)

        assert progress.qualification is None
        assert progress.achieved is None
        assert (progress.groups, progress.gaps, progress.credits) == ([], [], 0)
        assert progress.summary == "Single units: 0 of 1 unit verified"
        assert [unit.portfolio for unit in progress.units] == [portfolio]
        assert progress.achievement == Achievement.NOT_YET
        Portfolio.objects.filter(pk=portfolio.pk).update(status=Status.VERIFIED)
        assert progress_of(portfolio.enrolment).achievement == Achievement.ACHIEVED

    def test_only_the_units_the_viewer_may_see_are_detailed_but_credits_count_every_unit(
        self, certificate, people
    ):
        enrolment = enrol(certificate, people)
        verify(enrolment, "M1", "M2", "O2")
        other_assessor = UserFactory(assessor=True)
        enrolment.portfolios.filter(unit__code="O6").update(assessor=other_assessor)

        progress = progress_of(enrolment, other_assessor)

        assert [unit.portfolio.unit.code for unit in progress.units] == ["O6"]
        assert progress.hidden_units == 5
        assert progress.credits == 13
        assert progress.verified == 3
        assert progress_of(enrolment, people["learner"]).hidden_units == 0

    def test_achievement_of_no_units_is_not_yet(self):
        assert achievement_of(None, []) == Achievement.NOT_YET


def get(user, url):
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response


class TestPages:
    @pytest.fixture
    def enrolment(self, certificate, people):
        enrolment = enrol(certificate, people)
        verify(enrolment, "M1", "O2")
        verify(enrolment, "M2", status=Status.ASSESSED)
        return enrolment

    def test_the_learners_home_shows_the_qualifications_progress_above_its_units(
        self, enrolment, people
    ):
        text = get(people["learner"], "/learner/").text

        assert "9 of 28 credits</strong> achieved" in text
        assert "3 of 6 units signed off, 2 verified, 0 claimed" in text
        assert "Group A: 1 of 2 mandatory units" in text
        assert "Unit M2 Work with others in customer service is mandatory and not achieved yet" in (
            text
        )
        assert text.index("Group A: 1 of 2 mandatory units") < text.index("unit M1: Handle")
        assert "Signed off, waiting for the IQA&#x27;s sample" in text
        assert "1 criterion still to be met" in text

    def test_the_learner_is_told_when_the_qualification_is_achieved_and_claimed(
        self, enrolment, people
    ):
        verify(enrolment, *[p.unit.code for p in enrolment.portfolios.all()])

        assert "The qualification is achieved.</strong>" in get(people["learner"], "/learner/").text

        enrolment.portfolios.update(status=Status.CLAIMED)

        text = get(people["learner"], "/learner/").text
        assert (
            "The qualification is achieved; its units are claimed on their own, not as the full "
            "award.</strong>"
        ) in text
        assert "Still needed for the award" not in text

    def test_the_learner_is_told_when_the_full_award_is_claimed(self, enrolment, people):
        verify(enrolment, *[p.unit.code for p in enrolment.portfolios.all()])
        quality.claim_record(enrolment=enrolment, kind=Claim.Kind.FULL_AWARD, by=people["admin"])

        text = get(people["learner"], "/learner/").text
        assert "The qualification is achieved and its full award claimed.</strong>" in text

    def test_the_caseload_and_the_iqas_home_give_each_row_its_qualification(
        self, enrolment, people
    ):
        line = "OCR CS2-CERT: 9 of 28 credits, 2 of 6 units verified"
        link = f'<a href="/enrolments/{enrolment.pk}/">{line}</a>'

        assert get(people["assessor"], "/assessor/").text.count(link) == 6
        assert get(people["iqa"], "/iqa/").text.count(link) == 6

    def test_the_enrolment_page_shows_it_in_full(self, enrolment, people):
        other_assessor = UserFactory(assessor=True)
        enrolment.portfolios.filter(unit__code="O6").update(assessor=other_assessor)

        text = get(people["admin"], enrolment.get_absolute_url()).text

        assert "9 of 28 credits</strong> achieved" in text
        assert "Group B: 5 credits" in text
        assert "The qualification needs 28 credits; the units achieved give 9" in text
        assert "Signed off, waiting for the IQA&#x27;s sample" in text
        assert "Not yet marked met by the assessor: 1.1 (P1)." in text
        assert f'href="/enrolments/{enrolment.pk}/matrix/"' in text
        assert text.count('<td data-label="Still to do">Nothing') == 2  # M1 and O2, verified

        hidden = get(other_assessor, enrolment.get_absolute_url()).text
        assert "5 more units of this enrolment are not yours to see" in hidden
        assert "9 of 28 credits" in hidden
        assert "Unit M1" not in hidden

    def test_the_centre_lists_enrolments_by_where_they_stand(self, certificate, people):
        achieved = enrol(certificate, people)
        verify(achieved, *[p.unit.code for p in achieved.portfolios.all()])
        single = PortfolioFactory(unit=units("O7")[0], learner__last_name="Zephyr")
        admin = people["admin"]

        def listed(query=""):
            page = get(admin, f"/centre/qualifications/?{query}")
            return [row.enrolment for row in page.context["rows"]]

        assert listed() == [achieved, single.enrolment]
        assert listed("achievement=achieved") == [achieved]
        assert listed("achievement=not_yet") == [single.enrolment]
        assert listed("achievement=claimed") == []
        assert listed("q=zephyr") == [single.enrolment]
        assert listed("q=CS2-CERT&achievement=achieved") == [achieved]
        assert f'href="/enrolments/{achieved.pk}/claim/"' in (
            get(admin, "/centre/qualifications/").text
        )
        home = get(admin, "/centre/").text
        assert "<strong>1</strong> enrolment achieved, not claimed" in home
        assert 'href="/centre/qualifications/"' in home

        # A unit verified of two, judged by the rules; the award claimed, settled by the database.
        part_way = PortfolioFactory(unit=units("O5")[0], learner__last_name="Young")
        PortfolioFactory(
            unit=units("O1")[0], learner=part_way.learner, enrolment=part_way.enrolment
        )
        verify(part_way.enrolment, "O5")
        quality.claim_record(enrolment=achieved, kind=Claim.Kind.FULL_AWARD, by=admin)

        assert listed("achievement=not_yet") == [part_way.enrolment, single.enrolment]
        assert listed("achievement=achieved") == []
        assert listed("achievement=claimed") == [achieved]

    def test_the_centres_list_is_paginated(self, c4, people):
        PortfolioFactory.create_batch(26)

        first = get(people["admin"], "/centre/qualifications/")
        filtered = get(people["admin"], "/centre/qualifications/?achievement=not_yet&page=2")

        assert len(first.context["rows"]) == 25
        assert "Page 1 of 2" in first.text
        assert len(filtered.context["rows"]) == 1


def test_progress_for_no_enrolments_is_empty():
    assert progress_for([]) == {}
