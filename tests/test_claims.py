"""Claims to the awarding body: a learner's Unique Learner Number (checked by its published check
digit) and date of birth, the claim for the full award or for single units (never both for one
learner), and the claims list exported as CSV safe to open in a spreadsheet."""

import csv
import datetime
import io
import json
import zipfile

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from assessments import quality
from assessments.models import Signature
from audit.chain import record
from audit.models import AuditEntry
from people import imports
from people.services import LearnerDetails, NewPerson, UnitStaff, learner_register
from portfolio.models import Claim, Enrolment, Portfolio, User
from portfolio.services import user_save
from portfolio.uln import check_digit, validate_uln
from records import services as record_services
from records.claims import COLUMNS, spreadsheet_safe
from records.models import Export
from records.personal_data import personal_data_zip
from records.retention import purge
from records.tasks import build_export
from tests.factories import PortfolioFactory, UserFactory
from units.models import Qualification, UnitGroup, UnitListing

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


# The Unique Learner Number ------------------------------------------------------------------

VALID_ULNS = [
    "9276308686",  # the Learning Records Service's and HESA's worked example
    "1000102504",
    "1234567899",
    "5555555554",
    "9999999998",
    "1000000000",  # the weighted sum 10 leaves 10, so the check digit is 0
]

INVALID_ULNS = [
    ("1234567890", "1234567890 is not a valid Unique Learner Number: its check digit should be 9."),
    ("9276308687", "9276308687 is not a valid Unique Learner Number: its check digit should be 6."),
    ("0276308686", "0276308686 is not a valid Unique Learner Number: none begins with 0."),
    ("123456789", "123456789 is not a Unique Learner Number: it is 10 digits, and this has 9."),
    ("12345678901", "it is 10 digits, and this has 11"),
    ("12345678AB", "it is 10 digits, with no letters or other signs"),
    ("\uff11" * 10, "with no letters or other signs"),  # digits, but not 0 to 9
    ("1000000060", "no check digit fits its first nine digits"),
]


@pytest.mark.parametrize("uln", VALID_ULNS)
def test_a_valid_uln_passes(uln):
    validate_uln(uln)


@pytest.mark.parametrize(("uln", "message"), INVALID_ULNS)
def test_an_invalid_uln_is_refused_saying_why(uln, message):
    with pytest.raises(ValidationError) as refused:
        validate_uln(uln)
    assert message in refused.value.messages[0]


def test_the_check_digit_is_ten_less_the_remainder_of_the_weighted_sum():
    # 9*10 + 2*9 + 7*8 + 6*7 + 3*6 + 0*5 + 8*4 + 6*3 + 8*2 = 290, which leaves 4 after 11s.
    assert check_digit("927630868") == 6
    # 1*10 + 6*2 = 22 leaves 0: the check digit would have to be 10.
    assert check_digit("100000006") is None


def test_the_account_refuses_an_invalid_uln_and_a_second_person_with_the_same():
    learner = UserFactory(learner=True, uln="9276308686")
    learner.full_clean()
    learner.uln = "1234567890"
    with pytest.raises(ValidationError) as refused:
        learner.full_clean()
    assert "its check digit should be 9" in str(refused.value)
    other = UserFactory.build(learner=True, uln="9276308686")
    with pytest.raises(ValidationError):
        other.validate_constraints()


def test_a_number_saved_for_two_people_at_once_refuses_the_second_under_its_field(make_user):
    UserFactory(learner=True, uln="9276308686")
    second = UserFactory.build(learner=True, uln="9276308686")  # checked before the first saved

    with pytest.raises(ValidationError) as refused:
        user_save(user=second, by=make_user(centre_admin=True))

    assert (
        "already has the Unique Learner Number 9276308686" in refused.value.message_dict["uln"][0]
    )
    assert User.objects.filter(uln="9276308686").count() == 1


# The learner's details where they are entered -----------------------------------------------


@pytest.fixture
def admin(make_user):
    return make_user(centre_admin=True)


def register(admin, c4, **details):
    return learner_register(
        learner=NewPerson(first_name="Pat", last_name="Lee", email="pat@example.org"),
        qualification=None,
        units=[c4],
        staff=UnitStaff(assessor=None, iqa=None),
        organisation="Riverside",
        start_date=TODAY,
        by=admin,
        site_url="https://portfolio.example",
        details=LearnerDetails(**details),
    )


class TestLearnerDetails:
    def test_a_new_learner_is_registered_with_their_uln_and_date_of_birth(self, admin, c4):
        enrolment = register(
            admin, c4, uln="9276 308 686", date_of_birth=datetime.date(2008, 4, 30)
        )

        learner = enrolment.learner
        assert (learner.uln, learner.date_of_birth) == ("9276308686", datetime.date(2008, 4, 30))

    def test_a_wrong_uln_refuses_the_registration_under_its_field(self, admin, c4):
        with pytest.raises(ValidationError) as refused:
            register(admin, c4, uln="1234567890")

        assert refused.value.error_dict["uln"][0].messages == [
            "1234567890 is not a valid Unique Learner Number: its check digit should be 9."
        ]
        assert not User.objects.filter(email="pat@example.org").exists()

    def test_another_learners_uln_and_a_future_birthday_are_refused(self, admin, c4):
        UserFactory(learner=True, uln="9276308686", first_name="Sam", last_name="Roy")
        with pytest.raises(ValidationError) as refused:
            register(admin, c4, uln="9276308686", date_of_birth=TODAY + datetime.timedelta(days=1))

        assert "Sam Roy already has the Unique Learner Number 9276308686" in str(refused.value)
        assert "it cannot be a date of birth" in str(refused.value)

    def test_a_known_learner_entered_again_keeps_or_gets_their_details(self, admin, c4, c5):
        learner = UserFactory(learner=True, date_of_birth=datetime.date(2008, 4, 30))
        User.objects.filter(pk=learner.pk).update(uln="1234567890")  # held before it was checked
        learner.refresh_from_db()
        enter = {
            "qualification": None,
            "staff": UnitStaff(assessor=None, iqa=None),
            "organisation": "Riverside",
            "start_date": TODAY,
            "by": admin,
            "site_url": "https://portfolio.example",
        }

        learner_register(learner=learner, units=[c4], **enter)
        learner.refresh_from_db()
        assert (learner.uln, learner.date_of_birth) == ("1234567890", datetime.date(2008, 4, 30))

        learner_register(
            learner=learner, units=[c5], details=LearnerDetails(uln="9276308686"), **enter
        )
        learner.refresh_from_db()
        assert (learner.uln, learner.date_of_birth) == ("9276308686", datetime.date(2008, 4, 30))
        assert AuditEntry.objects.get(action="person.changed").data["changed"] == ["uln"]

    def test_the_registration_page_takes_them(self, client, login, admin, c4, make_user):
        login(admin)
        assessor, iqa = make_user(assessor=True), make_user(iqa=True)
        form = {
            "first_name": "Pat",
            "last_name": "Lee",
            "email": "pat@example.org",
            "uln": "1234567890",
            "date_of_birth": "2008-04-30",
            "start_date": TODAY.isoformat(),
            "units": [c4.pk],
            "assessor": assessor.pk,
            "iqa": iqa.pk,
            "organisation": "Riverside",
        }
        refused = client.post(reverse("learner_new"), form)
        assert refused.status_code == 400
        assert "its check digit should be 9" in refused.text

        client.post(reverse("learner_new"), form | {"uln": "9276308686"})

        learner = User.objects.get(email="pat@example.org")
        assert (learner.uln, learner.date_of_birth) == ("9276308686", datetime.date(2008, 4, 30))

    def test_the_person_page_changes_them_and_the_change_is_audited(self, client, login, admin):
        learner = UserFactory(learner=True)
        login(admin)
        form = {
            "first_name": learner.first_name,
            "last_name": learner.last_name,
            "email": learner.email,
            "roles": ["learner"],
            "is_active": "on",
            "uln": "9276308686",
            "date_of_birth": "2008-04-30",
        }
        page = client.get(reverse("person_edit", args=[learner.pk]))
        assert "Unique Learner Number" in page.text

        client.post(reverse("person_edit", args=[learner.pk]), form)

        learner.refresh_from_db()
        assert learner.uln == "9276308686"
        entry = AuditEntry.objects.get(action="person.changed")
        assert entry.data["changed"] == ["date_of_birth", "uln"]
        assert "9276308686" not in json.dumps(entry.data)  # the number itself is not copied

    def test_the_import_takes_the_columns_with_a_clear_message_per_row(self, admin, c4):
        data = (
            b"first_name,last_name,email,units,organisation,uln,date_of_birth\n"
            b"Pat,Lee,pat@example.org,C4,Riverside,9276308686,30/04/2008\n"
            b"Sam,Roy,sam@example.org,C4,Riverside,1234567890,\n"
            b"Ali,Khan,ali@example.org,C4,Riverside,,31/02/2008\n"
        )
        rows = imports.read("learners", data)

        preview = imports.run("learners", rows, by=admin, site_url="https://x", commit=False)

        good, wrong_uln, wrong_day = preview.rows
        assert good.problems == []
        assert wrong_uln.problems == [
            "1234567890 is not a valid Unique Learner Number: its check digit should be 9."
        ]
        assert wrong_day.problems == [
            "'31/02/2008' under date_of_birth is not a date: write it as 2008-04-30 or 30/04/2008."
        ]
        outcome = imports.run("learners", rows[:1], by=admin, site_url="https://x", commit=True)
        assert outcome.imported
        pat = User.objects.get(email="pat@example.org")
        assert (pat.uln, pat.date_of_birth) == ("9276308686", datetime.date(2008, 4, 30))

    def test_the_personal_data_export_holds_them_and_the_claims(self, admin, c4):
        learner = UserFactory(
            learner=True, uln="9276308686", date_of_birth=datetime.date(2008, 4, 30)
        )
        portfolio = PortfolioFactory(learner=learner, status=Portfolio.Status.VERIFIED)
        quality.portfolio_claim(portfolio=portfolio, reference="OCR-9", by=admin)
        out = io.BytesIO()

        personal_data_zip(learner, out)

        records = json.loads(zipfile.ZipFile(out).read("records.json"))
        assert records["account"]["uln"] == "9276308686"
        assert records["account"]["date_of_birth"] == "2008-04-30"
        assert [claim["reference"] for claim in records["claims"]] == ["OCR-9"]

    def test_the_purge_removes_them(self, django_capture_on_commit_callbacks):
        learner = UserFactory(
            learner=True, uln="9276308686", date_of_birth=datetime.date(2008, 4, 30)
        )
        portfolio = PortfolioFactory(
            learner=learner, status=Portfolio.Status.CLAIMED, retain_until="2020-01-01"
        )

        with django_capture_on_commit_callbacks(execute=True):
            purge(portfolio)

        learner.refresh_from_db()
        assert (learner.uln, learner.date_of_birth) == ("", None)


# Claims -------------------------------------------------------------------------------------


def qualification_of(c4, c5) -> Qualification:
    """A qualification of two mandatory units, C4 and C5: achieved when both are verified."""
    qualification = Qualification.objects.create(
        awarding_body="OCR",
        code="Q100",
        title="Certificate in Customer Service",
        level=2,
        total_credits=c4.credit_value + c5.credit_value,
        version=1,
    )
    group = UnitGroup.objects.create(
        qualification=qualification, key="A", name="Group A", kind="mandatory", position=1
    )
    for position, unit in enumerate([c4, c5]):
        UnitListing.objects.create(
            qualification=qualification,
            group=group,
            code=unit.code,
            title=unit.title,
            level=unit.level,
            credits=unit.credit_value,
            position=position,
            unit=unit,
        )
    return qualification


def enrolled(qualification, c4, c5) -> Enrolment:
    """Pat Lee entered for ``qualification``, with a portfolio in progress for each unit."""
    learner = UserFactory(learner=True, first_name="Pat", last_name="Lee")
    enrolment = Enrolment.objects.create(
        learner=learner, qualification=qualification, start_date=datetime.date(2026, 9, 1)
    )
    for unit in (c4, c5):
        PortfolioFactory(learner=learner, unit=unit, enrolment=enrolment)
    return enrolment


@pytest.fixture
def qualification(c4, c5):
    return qualification_of(c4, c5)


@pytest.fixture
def enrolment(qualification, c4, c5):
    return enrolled(qualification, c4, c5)


def units(enrolment) -> dict[str, Portfolio]:
    return {p.unit.code: p for p in enrolment.portfolios.select_related("unit", "claim")}


def verify(*portfolios):
    Portfolio.objects.filter(pk__in=[p.pk for p in portfolios]).update(
        status=Portfolio.Status.VERIFIED
    )


def refusal(**kwargs) -> str:
    with pytest.raises(ValidationError) as refused:
        quality.claim_record(**kwargs)
    return " ".join(refused.value.messages)


class TestClaims:
    def test_the_full_award_is_refused_until_the_verified_units_satisfy_the_rule(
        self, enrolment, admin
    ):
        c4 = units(enrolment)["C4"]
        verify(c4)

        said = refusal(enrolment=enrolment, kind=Claim.Kind.FULL_AWARD, by=admin)

        assert said.startswith("The qualification is not achieved yet: Unit C5")
        assert "mandatory and not achieved yet" in said
        assert not Claim.objects.exists()

    def test_the_full_award_claims_every_achieved_unit_and_keeps_them(self, enrolment, admin):
        verify(*units(enrolment).values())

        claim = quality.claim_record(
            enrolment=enrolment, kind=Claim.Kind.FULL_AWARD, reference="OCR-77", by=admin
        )

        now = units(enrolment)
        assert {p.status for p in now.values()} == {"claimed"}
        assert {p.claim_id for p in now.values()} == {claim.pk}
        assert {p.claim_reference for p in now.values()} == {"OCR-77"}
        assert {p.claimed_at for p in now.values()} == {claim.claimed_at}
        retain = TODAY.replace(year=TODAY.year + settings.RETENTION_YEARS)
        assert {p.retain_until for p in now.values()} == {retain}
        assert (claim.kind, claim.claimed_by) == ("full_award", admin)
        entry = AuditEntry.objects.get(action="claim.recorded")
        assert entry.chain == f"learner-{enrolment.learner_id}"
        assert entry.data["units"] == ["C4", "C5"]
        assert AuditEntry.objects.filter(action="portfolio.claimed").count() == 2

    def test_a_unit_claim_refuses_the_full_award_afterwards(self, enrolment, admin):
        c4, c5 = units(enrolment).values()
        verify(c4)
        quality.claim_record(enrolment=enrolment, kind="units", portfolios=[c4], by=admin)
        verify(c5)

        said = refusal(enrolment=enrolment, kind=Claim.Kind.FULL_AWARD, by=admin)

        assert said == (
            "Unit C4 of Pat Lee's enrolment was claimed on its own, so the full award cannot be "
            "claimed as well: the awarding body allows a claim for the full award or for single "
            "units, never both for one learner."
        )
        # Its other unit may still be claimed on its own.
        quality.claim_record(enrolment=enrolment, kind="units", portfolios=[c5], by=admin)
        assert Claim.objects.filter(kind="units").count() == 2

    def test_the_full_award_refuses_a_unit_claim_afterwards(self, enrolment, admin, c4):
        verify(*units(enrolment).values())
        quality.claim_record(enrolment=enrolment, kind=Claim.Kind.FULL_AWARD, by=admin)
        extra = units(enrolment)["C4"]

        said = refusal(enrolment=enrolment, kind="units", portfolios=[extra], by=admin)

        assert said.startswith("Pat Lee was claimed for the full award of OCR qualification Q100")
        assert "never both for one learner" in said
        assert Claim.objects.count() == 1
        assert "claimed for the full award" in refusal(
            enrolment=enrolment, kind=Claim.Kind.FULL_AWARD, by=admin
        )

    def test_only_verified_units_not_yet_claimed_are_claimed_on_their_own(self, enrolment, admin):
        c4, c5 = units(enrolment).values()
        Portfolio.objects.filter(pk=c5.pk).update(status=Portfolio.Status.ASSESSED)
        verify(c4)

        assert "unit C5 is assessed" in refusal(
            enrolment=enrolment, kind="units", portfolios=[c4, c5], by=admin
        )
        assert "Choose at least one" in refusal(enrolment=enrolment, kind="units", by=admin)
        quality.claim_record(enrolment=enrolment, kind="units", portfolios=[c4], by=admin)
        assert refusal(enrolment=enrolment, kind="units", portfolios=[c4], by=admin) == (
            "Unit C4 is already claimed."
        )
        other = PortfolioFactory(status=Portfolio.Status.VERIFIED)
        assert "Only units of this enrolment" in refusal(
            enrolment=enrolment, kind="units", portfolios=[other], by=admin
        )

    def test_single_units_have_no_full_award(self, admin, c4):
        portfolio = PortfolioFactory(status=Portfolio.Status.VERIFIED)

        said = refusal(enrolment=portfolio.enrolment, kind=Claim.Kind.FULL_AWARD, by=admin)

        assert "is entered for single units: there is no full award to claim" in said

    def test_only_the_centre_administrator_records_a_claim(self, enrolment):
        verify(*units(enrolment).values())
        assessor = units(enrolment)["C4"].assessor

        assert "Only the centre administrator" in refusal(
            enrolment=enrolment, kind=Claim.Kind.FULL_AWARD, by=assessor
        )

    def test_a_claim_on_the_portfolio_page_is_a_units_claim(self, client, login, admin, c4):
        portfolio = PortfolioFactory(status=Portfolio.Status.VERIFIED)
        login(admin)

        client.post(reverse("claim", args=[portfolio.pk]), {"reference": "OCR-1"})

        claim = Claim.objects.get()
        assert (claim.kind, claim.reference, claim.enrolment) == (
            "units",
            "OCR-1",
            portfolio.enrolment,
        )
        assert list(claim.portfolios.all()) == [portfolio]

    def test_the_portfolio_page_warns_that_a_unit_claimed_on_its_own_rules_out_the_award(
        self, client, login, admin, enrolment, c4
    ):
        c4_unit = units(enrolment)["C4"]
        verify(c4_unit)
        single = PortfolioFactory(status=Portfolio.Status.VERIFIED)
        login(admin)

        on_qualification = client.get(c4_unit.get_absolute_url()).text
        on_single_units = client.get(single.get_absolute_url()).text

        assert (
            "once it is claimed, Pat Lee can never be claimed for the full award of OCR "
            "qualification Q100"
        ) in on_qualification
        assert "can never be claimed for the full award" not in on_single_units
        assert "Claim several units at once" in on_single_units

    def test_a_reference_given_later_is_recorded_on_the_claim_and_its_units(self, enrolment, admin):
        verify(*units(enrolment).values())
        claim = quality.claim_record(enrolment=enrolment, kind=Claim.Kind.FULL_AWARD, by=admin)
        assert {p.claim_reference for p in units(enrolment).values()} == {""}

        quality.claim_reference_record(claim=claim, reference=" OCR-2026-5 ", by=admin)

        claim.refresh_from_db()
        assert claim.reference == "OCR-2026-5"
        assert {p.claim_reference for p in units(enrolment).values()} == {"OCR-2026-5"}
        entry = AuditEntry.objects.get(action="claim.reference_recorded")
        assert entry.data["reference"] == "OCR-2026-5"
        with pytest.raises(ValidationError):
            quality.claim_reference_record(claim=claim, reference=" ", by=admin)


class TestTheClaimPage:
    def test_it_offers_the_full_award_once_achieved_and_records_it(
        self, client, login, admin, enrolment
    ):
        login(admin)
        url = reverse("enrolment_claim", args=[enrolment.pk])
        page = client.get(url)
        assert "The qualification is not achieved yet" in page.text
        assert 'value="full_award"' not in page.text
        verify(*units(enrolment).values())

        page = client.get(url)
        assert 'value="full_award"' in page.text
        answer = client.post(url, {"kind": "full_award", "reference": ""})

        assert answer.status_code == 302
        assert Claim.objects.get().kind == "full_award"
        page = client.get(url)
        assert "Record the reference" in page.text
        client.post(reverse("claim_reference", args=[Claim.objects.get().pk]), {"reference": "R-1"})
        assert Claim.objects.get().reference == "R-1"
        refused = client.post(
            reverse("claim_reference", args=[Claim.objects.get().pk]),
            {"reference": "R" * 101},
            follow=True,
        )
        assert "A claim reference is at most 100 characters; this one has 101." in refused.text
        assert Claim.objects.get().reference == "R-1"

    def test_it_claims_the_units_ticked(self, client, login, admin, enrolment):
        c4 = units(enrolment)["C4"]
        verify(c4)
        login(admin)
        url = reverse("enrolment_claim", args=[enrolment.pk])

        refused = client.post(url, {"kind": "units"})
        assert refused.status_code == 400
        assert "Tick at least one unit" in refused.text
        client.post(url, {"kind": "units", "units": [c4.pk]})

        assert list(Claim.objects.get().portfolios.all()) == [c4]
        refused = client.post(url, {"kind": "full_award"})
        assert "That claim cannot be made now" in refused.text

    def test_it_warns_when_the_uln_or_date_of_birth_is_missing_or_invalid(
        self, client, login, admin, enrolment
    ):
        login(admin)
        url = reverse("enrolment_claim", args=[enrolment.pk])

        page = client.get(url).text
        assert "No Unique Learner Number is recorded." in page
        assert "No date of birth is recorded." in page
        # A number stored before it was checked, say by a data import.
        User.objects.filter(pk=enrolment.learner_id).update(
            uln="1234567890", date_of_birth=datetime.date(2008, 4, 30)
        )
        page = client.get(url).text
        assert "its check digit should be 9" in page
        assert "No date of birth" not in page
        User.objects.filter(pk=enrolment.learner_id).update(uln="9276308686")
        assert "will lack" not in client.get(url).text


# The claims list and its CSV ----------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_beginning_with_what_starts_a_formula_is_neutralised(start):
    assert spreadsheet_safe(f'{start}HYPERLINK("http://x")') == f'\'{start}HYPERLINK("http://x")'


@pytest.mark.parametrize("text", ["Lee", "O'Neil", "9276308686", "", "2026-09-01", "a=b"])
def test_any_other_cell_is_kept_as_it_is(text):
    assert spreadsheet_safe(text) == text


def csv_rows(export) -> list[list[str]]:
    with export.file.open("rb") as handle:
        text = handle.read().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def claimed_on(claim, day):
    when = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
    Claim.objects.filter(pk=claim.pk).update(claimed_at=when)
    Portfolio.objects.filter(claim=claim).update(claimed_at=when)


class TestTheClaimsList:
    @pytest.fixture
    def claims(self, enrolment, admin, c4):
        """A full-award claim on 1 March, whose learner typed a formula as their name, and a
        single-unit claim on 1 April."""
        User.objects.filter(pk=enrolment.learner_id).update(
            first_name="=cmd|' /C calc'!A0",
            last_name="@SUM(1+1)",
            uln="9276308686",
            date_of_birth=datetime.date(2008, 4, 30),
        )
        verify(*units(enrolment).values())
        for portfolio in units(enrolment).values():
            Signature.objects.create(
                portfolio=portfolio,
                kind=Signature.Kind.IQA_COUNTERSIGNATURE,
                signer=portfolio.iqa,
                signer_name=str(portfolio.iqa),
                role="iqa",
                statement="-",
                signed_at=timezone.make_aware(
                    datetime.datetime(2026, 2, 11 if portfolio.unit.code == "C5" else 10, 9)
                ),
                manifest={},
                digest="0" * 64,
            )
        award = quality.claim_record(
            enrolment=enrolment, kind=Claim.Kind.FULL_AWARD, reference="+44", by=admin
        )
        claimed_on(award, datetime.date(2026, 3, 1))
        single = PortfolioFactory(
            status=Portfolio.Status.VERIFIED, learner__first_name="Sam", learner__last_name="Roy"
        )
        unit = quality.portfolio_claim(portfolio=single, reference="", by=admin)
        claimed_on(unit, datetime.date(2026, 4, 1))
        return award, unit

    def test_it_lists_the_claims_between_the_days_chosen(self, client, login, admin, claims):
        login(admin)

        every = client.get(reverse("claims")).text
        march = client.get(reverse("claims"), {"start": "2026-03-01", "end": "2026-03-31"}).text

        assert "2 claims" in every
        assert "Sam Roy" in every
        assert "1 claim" in march
        assert "Sam Roy" not in march
        wrong = client.get(reverse("claims"), {"start": "2026-03-31", "end": "2026-03-01"})
        assert wrong.status_code == 400
        assert "The last day comes before the first" in wrong.text

    def test_it_is_linked_from_the_centres_home(self, client, login, admin):
        login(admin)
        assert f'href="{reverse("claims")}"' in client.get(reverse("centre_home")).text

    def test_the_export_builds_a_safe_csv_of_the_days_asked_in_the_background(
        self, client, login, admin, claims
    ):
        login(admin)

        answer = client.post(reverse("claims"), {"start": "2026-03-01", "end": "2026-03-31"})

        export = Export.objects.get(kind=Export.Kind.CLAIMS)
        assert answer.url == export.get_absolute_url()
        assert export.parameters == {"from": "2026-03-01", "to": "2026-03-31"}
        assert export.status == Export.Status.QUEUED
        build_export.call(export.pk)
        export.refresh_from_db()
        assert export.status == Export.Status.DONE
        header, row = csv_rows(export)
        assert header == COLUMNS
        assert dict(zip(header, row, strict=True)) == {
            "Surname": "'@SUM(1+1)",
            "Forenames": "'=cmd|' /C calc'!A0",
            "ULN": "9276308686",
            "Date of birth": "2008-04-30",
            "Awarding body": "OCR",
            "Qualification code": "Q100",
            "Claim kind": "Full award",
            "Unit codes": "C4;C5",
            "Start date": "2026-09-01",
            "Date achieved": "2026-02-11",
            "Claim date": "2026-03-01",
            "Reference": "'+44",
        }
        assert sorted(export.portfolio_ids) == sorted(p.pk for p in claims[0].portfolios.all())
        page = client.get(export.get_absolute_url())
        assert "Download the CSV file" in page.text

        download = client.get(reverse("export_download", args=[export.pk]))

        assert download["Content-Type"] == "text/csv; charset=utf-8"
        assert "claims-2026-03-01-to-2026-03-31.csv" in download["Content-Disposition"]
        assert AuditEntry.objects.filter(action="export.downloaded").count() == 1

    def test_a_single_unit_claim_has_no_qualification_code(self, client, login, admin, claims):
        export = record_services.export_request(
            kind=Export.Kind.CLAIMS, by=admin, parameters={"from": "2026-04-01", "to": ""}
        )
        build_export.call(export.pk)
        export.refresh_from_db()

        _, row = csv_rows(export)

        cells = dict(zip(COLUMNS, row, strict=True))
        assert (cells["Surname"], cells["Qualification code"], cells["Claim kind"]) == (
            "Roy",
            "",
            "Units",
        )
        assert (cells["Unit codes"], cells["ULN"], cells["Reference"]) == ("C4", "", "")

    def test_asking_twice_for_the_same_days_gives_the_one_under_way(self, admin):
        asked = {"from": "2026-03-01", "to": ""}
        first = record_services.export_request(kind=Export.Kind.CLAIMS, by=admin, parameters=asked)
        again = record_services.export_request(kind=Export.Kind.CLAIMS, by=admin, parameters=asked)
        other = record_services.export_request(
            kind=Export.Kind.CLAIMS, by=admin, parameters={"from": "", "to": ""}
        )

        assert again == first
        assert other != first

    def test_only_the_centre_administrator_may_download_it(self, client, login, admin, claims):
        export = record_services.export_request(kind=Export.Kind.CLAIMS, by=admin)
        build_export.call(export.pk)
        User.objects.filter(pk=admin.pk).update(is_centre_admin=False, is_assessor=True)
        login(User.objects.get(pk=admin.pk))

        assert client.get(reverse("export_download", args=[export.pk])).status_code == 404
        assert client.post(reverse("claims")).status_code == 403

    def test_the_purge_removes_a_claims_list_holding_the_learner(
        self, admin, claims, django_capture_on_commit_callbacks
    ):
        export = record_services.export_request(kind=Export.Kind.CLAIMS, by=admin)
        build_export.call(export.pk)
        single = claims[1].portfolios.get()
        Portfolio.objects.filter(pk=single.pk).update(retain_until="2020-01-01")

        with django_capture_on_commit_callbacks(execute=True):
            purge(Portfolio.objects.get(pk=single.pk))

        export.refresh_from_db()
        assert export.status == Export.Status.REMOVED


# The migration ------------------------------------------------------------------------------

BEFORE = [("portfolio", "0024_notification_kinds"), ("audit", "0002_keyed_chains")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_every_claimed_portfolio_a_units_claim_of_its_own(c4, c5):
    admin = UserFactory(centre_admin=True)
    recorded = PortfolioFactory(unit=c4)
    unknown = PortfolioFactory(unit=c5)
    open_one = PortfolioFactory(unit=c4, status=Portfolio.Status.VERIFIED)
    record("portfolio.claimed", actor=admin, obj=recorded, portfolio=recorded, summary="claimed")
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("portfolio", "Portfolio")
    when = timezone.make_aware(datetime.datetime(2025, 6, 1, 10))
    old.objects.filter(pk__in=[recorded.pk, unknown.pk]).update(
        status="claimed", claimed_at=when, claim_reference="OCR-OLD"
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    claims = {p.pk: p.claim for p in Portfolio.objects.select_related("claim")}
    assert claims[open_one.pk] is None
    for pk, by in ((recorded.pk, admin.pk), (unknown.pk, None)):
        claim = claims[pk]
        assert (claim.kind, claim.reference, claim.claimed_at) == ("units", "OCR-OLD", when)
        assert claim.claimed_by_id == by
        assert claim.enrolment_id == Portfolio.objects.get(pk=pk).enrolment_id
    assert claims[recorded.pk] != claims[unknown.pk]
    assert Claim.objects.count() == 2
