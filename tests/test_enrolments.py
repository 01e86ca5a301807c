"""Enrolments: a learner entered for a qualification (its units chosen under the rules of
combination) or for single units, the choice changed while no unit is signed off, and the pages
that show and change it."""

from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEntry
from portfolio.enrolments import (
    NewUnitDetails,
    enrolment_create,
    enrolment_qualification_change,
    enrolment_units_save,
)
from portfolio.models import Enrolment, Portfolio, Workplace
from tests.factories import EvidenceFactory, PortfolioFactory, UserFactory
from tests.test_qualifications import listed, stub_unit_spec
from units.models import Unit
from units.qualification_importer import import_qualification_file

pytestmark = pytest.mark.django_db

CERTIFICATE = Path(__file__).resolve().parent / "specs" / "certificate.yaml"
# Meets the certificate's rules: 8 mandatory credits and 21 optional, one from each optional
# group, 16 of them at Level 2 or above.
VALID = ["M1", "M2", "O2", "O3", "O4", "O6"]


def load_units(tmp_path, codes, spec=CERTIFICATE):
    for code, unit in listed(spec).items():
        if code in codes:
            path = tmp_path / f"{code}.yaml"
            data = stub_unit_spec(code, unit["title"], unit["level"], unit["credits"])
            path.write_text(yaml.safe_dump(data))
            call_command("import_unit", str(path), stdout=StringIO())


@pytest.fixture
def certificate(tmp_path):
    """The certificate with every unit loaded but O7."""
    qualification = import_qualification_file(CERTIFICATE).qualification
    load_units(tmp_path, set(listed(CERTIFICATE)) - {"O7"})
    return qualification


def units(*codes):
    found = {u.code: u for u in Unit.objects.filter(code__in=codes)}
    return [found[code] for code in codes]


def centre_people() -> dict:
    """A centre administrator, a learner, an assessor and an IQA."""
    return {
        "admin": UserFactory(centre_admin=True),
        "learner": UserFactory(learner=True),
        "assessor": UserFactory(assessor=True),
        "iqa": UserFactory(iqa=True),
    }


@pytest.fixture
def people():
    return centre_people()


def details(people):
    return NewUnitDetails(
        assessor=people["assessor"],
        iqa=people["iqa"],
        workplace=Workplace.objects.matching(
            organisation="Northgate Leisure Centre", sector=Portfolio.Sector.PUBLIC
        ),
        job_role="Receptionist",
    )


def enrol(qualification, people, codes=VALID):
    """``people``'s learner entered for ``qualification`` (None: single units) with ``codes``."""
    return enrolment_create(
        learner=people["learner"],
        qualification=qualification,
        units=units(*codes),
        start_date="2026-09-01",
        details=details(people),
        by=people["admin"],
    )


def test_a_learner_entered_for_a_qualification_has_one_portfolio_per_chosen_unit(
    certificate, people
):
    enrolment = enrol(certificate, people)

    portfolios = enrolment.portfolios.select_related("unit").order_by("unit__code")
    assert [p.unit.code for p in portfolios] == sorted(VALID)
    assert {(p.learner, p.assessor, p.iqa, p.workplace.organisation) for p in portfolios} == {
        (people["learner"], people["assessor"], people["iqa"], "Northgate Leisure Centre")
    }
    entry = AuditEntry.objects.get(action="enrolment.created")
    assert entry.chain == f"learner-{people['learner'].pk}"
    assert entry.data["units"] == sorted(f"OCR {code}" for code in VALID)


@pytest.mark.parametrize(
    ("codes", "problem"),
    [
        (
            ["M1", "O2", "O3", "O4", "O6"],
            "Unit M2 Work with others in customer service is mandatory",
        ),
        (["M1", "M2", "O4", "O5", "O6"], "Choose at least one unit from Group B"),
        (["M1", "M2", "O1", "O4", "O5", "O6"], "optional credits must be at Level 2 or above"),
    ],
)
def test_a_choice_against_the_rules_is_refused_in_plain_words_and_saves_nothing(
    certificate, people, codes, problem
):
    with pytest.raises(ValidationError) as refused:
        enrol(certificate, people, codes)

    assert any(problem in message for message in refused.value.messages), refused.value.messages
    assert not Enrolment.objects.exists()
    assert not Portfolio.objects.exists()


def test_a_unit_not_loaded_yet_is_not_offered_and_is_named_as_waiting(certificate, people, client):
    client.force_login(people["admin"])

    page = client.get(reverse("learner_new"), {"qualification": certificate.pk})

    offered = {
        value: label
        for group, options in page.context["form"].fields["units"].choices
        for value, label in options
    }
    assert "Unit O7" not in " ".join(offered.values())
    assert "Unit O7: Develop customer relationships" in page.text
    assert "not offered until their unit files are imported" in page.text


def test_the_centre_administrator_enters_a_learner_from_the_page(certificate, people, client):
    client.force_login(people["admin"])
    chosen = units(*VALID)

    answer = client.post(
        reverse("learner_new"),
        {
            "qualification": certificate.pk,
            "learner": people["learner"].pk,
            "start_date": "2026-09-01",
            "units": [u.pk for u in chosen],
            "assessor": people["assessor"].pk,
            "iqa": people["iqa"].pk,
            "organisation": "Northgate Leisure Centre",
            "sector": "public",
            "job_role": "Receptionist",
        },
    )

    enrolment = Enrolment.objects.get()
    assert answer.status_code == 302
    assert answer.url == enrolment.get_absolute_url()
    assert enrolment.qualification == certificate
    assert enrolment.portfolios.count() == len(VALID)


def test_the_old_address_of_entering_a_learner_leads_to_registering_one(people, client):
    client.force_login(people["admin"])

    answer = client.get("/enrolments/new/?qualification=7")

    assert answer.status_code == 301
    assert answer.url == "/people/learners/new/?qualification=7"


def test_a_refused_choice_on_the_page_keeps_what_was_typed(certificate, people, client):
    client.force_login(people["admin"])

    answer = client.post(
        reverse("learner_new"),
        {
            "qualification": certificate.pk,
            "learner": people["learner"].pk,
            "start_date": "2026-09-01",
            "units": [u.pk for u in units("M1", "M2")],
            "organisation": "Northgate Leisure Centre",
            "sector": "public",
            "job_role": "Receptionist",
        },
    )

    assert answer.status_code == 400
    assert "Choose at least one unit from Group B" in answer.text
    assert 'value="Northgate Leisure Centre"' in answer.text
    assert not Enrolment.objects.exists()


def test_single_units_are_any_units_of_the_catalogue(certificate, people):
    enrolment = enrol(None, people, ["O3"])

    assert enrolment.entered_for == "single units"
    assert [p.unit.code for p in enrolment.portfolios.all()] == ["O3"]


def test_a_unit_is_taken_once_even_across_enrolments(certificate, people):
    enrol(certificate, people)

    with pytest.raises(ValidationError, match="already has a portfolio for OCR unit O3"):
        enrol(None, people, ["O3"])


def test_the_choice_changes_while_no_unit_is_signed_off(certificate, people):
    enrolment = enrol(certificate, people)

    added, removed = enrolment_units_save(
        enrolment=enrolment,
        units=units("M1", "M2", "O2", "O3", "O5", "O6"),
        details=details(people),
        by=people["admin"],
    )

    assert [u.code for u in added] == ["O5"]
    assert [u.code for u in removed] == ["O4"]
    assert sorted(enrolment.portfolios.values_list("unit__code", flat=True)) == [
        "M1", "M2", "O2", "O3", "O5", "O6"
    ]  # fmt: skip
    assert AuditEntry.objects.get(action="enrolment.units_changed").data == {
        "added": ["OCR O5"],
        "removed": ["OCR O4"],
    }

    signed = enrolment.portfolios.get(unit__code="M1")
    signed.status = Portfolio.Status.ASSESSED
    signed.save()
    with pytest.raises(ValidationError, match="Unit M1 is signed off"):
        enrolment_units_save(
            enrolment=enrolment, units=units(*VALID), details=details(people), by=people["admin"]
        )
    assert enrolment.portfolios.filter(unit__code="O5").exists()


def test_a_unit_holding_evidence_is_not_taken_away(certificate, people):
    enrolment = enrol(certificate, people)
    EvidenceFactory(portfolio=enrolment.portfolios.get(unit__code="O4"))

    with pytest.raises(ValidationError, match="Unit O4 cannot be taken away"):
        enrolment_units_save(
            enrolment=enrolment,
            units=units("M1", "M2", "O2", "O3", "O5", "O6"),
            details=details(people),
            by=people["admin"],
        )
    assert enrolment.portfolios.filter(unit__code="O4").exists()
    assert not enrolment.portfolios.filter(unit__code="O5").exists()


def enter(enrolment, qualification, people, codes=VALID):
    """``enrolment`` entered for ``qualification`` instead, with ``codes``, by the admin."""
    return enrolment_qualification_change(
        enrolment=enrolment,
        qualification=qualification,
        units=units(*codes),
        details=details(people),
        by=people["admin"],
    )


def test_a_learner_on_single_units_is_entered_for_the_qualification_keeping_their_unit(
    certificate, people
):
    enrolment = enrol(None, people, ["O3"])
    kept = enrolment.portfolios.get()
    item = EvidenceFactory(portfolio=kept)

    added, removed = enter(enrolment, certificate, people)

    enrolment.refresh_from_db()
    assert enrolment.qualification == certificate
    assert sorted(u.code for u in added) == ["M1", "M2", "O2", "O4", "O6"]
    assert removed == []
    assert enrolment.portfolios.get(unit__code="O3") == kept
    assert list(kept.evidence.all()) == [item]
    entry = AuditEntry.objects.get(action="enrolment.qualification_changed")
    assert entry.data == {
        "from": "single units",
        "to": "OCR qualification CS2-CERT",
        "added": ["OCR M1", "OCR M2", "OCR O2", "OCR O4", "OCR O6"],
        "removed": [],
    }
    assert entry.summary.endswith("for OCR qualification CS2-CERT instead of single units")
    assert not AuditEntry.objects.filter(action="enrolment.units_changed").exists()


def test_entering_for_a_qualification_is_refused_by_its_rules_changing_nothing(certificate, people):
    enrolment = enrol(None, people, ["O3"])

    with pytest.raises(ValidationError) as refused:
        enter(enrolment, certificate, people, ["O3"])

    assert "Unit M1 Handle customers is mandatory" in refused.value.messages
    enrolment.refresh_from_db()
    assert enrolment.qualification is None
    assert [p.unit.code for p in enrolment.portfolios.all()] == ["O3"]
    assert (
        not AuditEntry.objects.filter(action__startswith="enrolment.")
        .exclude(action="enrolment.created")
        .exists()
    )


def test_entering_for_a_qualification_is_refused_once_a_unit_is_signed_off(certificate, people):
    enrolment = enrol(None, people, ["O3"])
    enrolment.portfolios.update(status=Portfolio.Status.ASSESSED)

    with pytest.raises(ValidationError, match="Unit O3 is signed off"):
        enter(enrolment, certificate, people)
    enrolment.refresh_from_db()
    assert enrolment.qualification is None


def test_the_enrolment_page_shows_each_person_the_units_they_may_see(certificate, people, client):
    enrolment = enrol(certificate, people)
    other_assessor = UserFactory(assessor=True)
    Portfolio.objects.filter(enrolment=enrolment, unit__code="O6").update(assessor=other_assessor)

    client.force_login(other_assessor)
    page = client.get(enrolment.get_absolute_url())
    assert page.status_code == 200
    assert [u.portfolio.unit.code for u in page.context["progress"].units] == ["O6"]
    assert "5 more units of this enrolment are not yours to see" in page.text

    client.force_login(people["learner"])
    page = client.get(enrolment.get_absolute_url())
    assert len(page.context["progress"].units) == len(VALID)
    assert page.context["problems"] == []
    assert "Change the units chosen" not in page.text

    client.force_login(UserFactory(learner=True))
    assert client.get(enrolment.get_absolute_url()).status_code == 404


def test_the_enrolment_page_says_what_the_choice_still_lacks(certificate, people, client):
    enrolment = enrol(certificate, people)
    # A choice made before the rules were checked, or under an earlier version of them.
    enrolment.portfolios.filter(unit__code__in=["O4", "O6"]).delete()
    client.force_login(people["admin"])

    page = client.get(enrolment.get_absolute_url())

    assert "Choose at least one unit from Group C" in page.text
    assert "Change the units chosen" in page.text


def test_an_existing_portfolio_is_a_single_unit_enrolment(people):
    portfolio = PortfolioFactory(learner=people["learner"])

    assert portfolio.enrolment.learner == people["learner"]
    assert portfolio.enrolment.qualification is None
    assert list(portfolio.enrolment.portfolios.all()) == [portfolio]


def _enrolled_on(count: int, tmp_path, people) -> Enrolment:
    codes = [f"Z{n}" for n in range(count)]
    tmp_path.mkdir()
    for code in codes:
        path = tmp_path / f"{code}.yaml"
        path.write_text(yaml.safe_dump(stub_unit_spec(code, f"Stub {code}", 2, 3)))
        call_command("import_unit", str(path), stdout=StringIO())
    return enrol(None, people, codes)


# What each page runs for a single-unit enrolment, whatever its number of units (counting the
# unread messages for the menu among them); the enrolment page's progress adds every unit, the
# units the reader sees with their people, and their coverage (8).
# The enrolment page: as the units page, with its progress, where its plan stands, its breaks in
# learning and its last progress review held.
PAGE_QUERIES = {"enrolment_detail": 20, "enrolment_units": 14}


@pytest.mark.parametrize("name", ["enrolment_detail", "enrolment_units"])
def test_the_enrolment_pages_run_as_many_queries_for_ten_units_as_for_two(
    name, people, client, tmp_path
):
    client.force_login(people["admin"])
    counts = []
    for count in (2, 10):
        enrolment = _enrolled_on(count, tmp_path / str(count), people)
        client.get(reverse(name, args=[enrolment.pk]))  # the session and caches warmed
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(name, args=[enrolment.pk])).status_code == 200
        counts.append(len(queries))
        Portfolio.objects.filter(enrolment=enrolment).delete()
    assert counts == [PAGE_QUERIES[name]] * 2, counts
