"""One photo uploaded once, counting in two units of the learner's enrolment, in Chromium."""

import datetime

import pytest
import yaml
from django.utils import timezone

from assessments import services as assessor_services
from assessments.models import Mapping
from assessments.signatures import signature_rows
from portfolio.models import EvidenceItem
from tests import samples
from tests.assessing import sufficient
from tests.factories import C4_SPEC, PortfolioFactory, c4_unit
from units.importer import import_unit_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def units(tmp_path):
    """The learner's C4 (A) and C5 (B) in one enrolment, both assessed by the same person."""
    spec = yaml.safe_load(C4_SPEC.read_text())
    spec["unit"]["code"] = "C5"
    spec["unit"]["title"] = "Deliver customer service in a simulated setting"
    path = tmp_path / "ocr-c5.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    c4, c5 = c4_unit(), import_unit_file(path).unit
    a = PortfolioFactory(unit=c4)
    b = PortfolioFactory(learner=a.learner, unit=c5, enrolment=a.enrolment, assessor=a.assessor)
    return a, b


def test_one_photo_counts_in_two_units(open_page, live_server, units, tmp_path):
    a, b = units
    a_p1 = a.unit.criteria.get(nos_code="P1")
    b_p2 = b.unit.criteria.get(nos_code="P2")

    # The learner uploads one photo in A's form, claiming a criterion of each unit.
    photo = tmp_path / "IMG_0042.jpg"
    photo.write_bytes(samples.jpeg(640, 480))
    learner = open_page(f"/portfolios/{a.pk}/evidence/new/", user=a.learner)
    assert learner.get_by_text("Unit C5: 1 ").count() == 1  # B's criteria, grouped under B
    learner.get_by_label("Title").fill("Refund at the returns desk")
    learner.get_by_label("Reflective account").check()
    day = timezone.localdate() - datetime.timedelta(days=2)
    learner.get_by_label("Date it happened").fill(day.isoformat())
    for unit in (a.unit, b.unit):
        pk = unit.contexts.get(letter="b").pk
        learner.locator(f"input[name=contexts][value='{pk}']").check()
    learner.get_by_label("Real job (paid)").check()
    learner.get_by_label("External customer").check()
    learner.get_by_label("Customer reference").fill("Customer 7")
    learner.get_by_label("What happened").fill("A customer shouted about a refund; I listened.")
    for criterion in (a_p1, b_p2):
        learner.locator(f"input[name=claimed_criteria][value='{criterion.pk}']").check()
    learner.get_by_label("Add files").set_input_files(str(photo))
    learner.get_by_role("button", name="Save draft").click()
    learner.get_by_role("link", name="Submit for assessment").click()
    learner.get_by_label("I declare that this evidence is my own work").check()
    learner.get_by_role("button", name="Submit for assessment").click()
    learner.get_by_text("is submitted to your assessor").wait_for()
    item = EvidenceItem.objects.get()
    assert item.portfolio == a
    assert item.files.count() == 1

    # The assessor of both units accepts it and confirms a criterion of each.
    assessor = open_page(f"/evidence/{item.pk}/", user=a.assessor)
    assessor.get_by_label("Accept").check()
    for criterion in (a_p1, b_p2):
        assessor.locator(f"#id_map_{criterion.pk}").check()  # the learner's claims, offered first
    assessor.get_by_label("Where it is shown", exact=True).fill("Second paragraph")
    assessor.get_by_role("button", name="Save the review").click()
    assessor.get_by_text("is accepted, with 2 criteria confirmed").wait_for()
    for label in ("C4 1.1 (P1)", "C5 1.2 (P2)"):
        assert assessor.locator(f"#mapping .criterion-code:text-is('{label}')").count() == 1
    assert set(Mapping.objects.values_list("criterion", flat=True)) == {a_p1.pk, b_p2.pk}

    # Both units' matrices show it.
    for portfolio in (a, b):
        assessor.goto(f"{live_server.url}/portfolios/{portfolio.pk}/matrix/")
        assert assessor.get_by_text("Refund at the returns desk").count() >= 1

    # A is made sufficient in the database and signed off; B stays in progress.
    sufficient(a)
    assessor_services.unit_sign_off(portfolio=a, by=a.assessor)
    assessor.goto(f"{live_server.url}/portfolios/{b.pk}/")
    assert "Refund at the returns desk" in assessor.content()
    assert assessor.locator(".signature-broken").count() == 0
    assessor.goto(f"{live_server.url}/portfolios/{a.pk}/")
    assert assessor.locator(".signature-valid").count() == 1
    assert assessor.locator(".signature-broken").count() == 0
    [row] = signature_rows(a)
    assert row.valid, row.reasons
