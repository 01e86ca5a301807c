"""A learner builds their portfolio from a phone, in a real browser."""

import pytest

from portfolio.models import EvidenceFile, EvidenceItem
from portfolio.services import file_renditions
from tests import samples
from tests.browser.conftest import PHONE, has_horizontal_scroll
from tests.factories import EvidenceFactory, PortfolioFactory, WitnessFactory, c4_unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def portfolio():
    c4_unit()
    return PortfolioFactory()


def test_a_learner_adds_a_photo_and_submits_it_from_a_phone(open_page, portfolio, tmp_path):
    photo = tmp_path / "IMG_2041.jpg"
    photo.write_bytes(samples.jpeg(400, 300))
    page = open_page(
        f"/portfolios/{portfolio.pk}/evidence/new/", user=portfolio.learner, viewport=PHONE
    )
    assert not has_horizontal_scroll(page)

    page.get_by_label("Title").fill("Customer upset about a delivery")
    page.get_by_label("Reflective account").check()
    page.get_by_label("Date it happened").fill("2026-11-01")
    page.get_by_label("b during a busy time in your job").check()
    page.get_by_label("Real job (paid)").check()
    page.get_by_label("External customer").check()
    page.get_by_label("Customer reference").fill("Customer 12")
    page.get_by_label("What happened").fill("She was angry; I listened and agreed a new slot.")
    # On a phone the criteria are folded by learning outcome.
    page.locator("summary", has_text="Deal with difficult customers").click()
    page.get_by_label("2.1 (P8) Listen patiently").check()
    page.get_by_label("Add files").set_input_files(str(photo))
    page.get_by_role("button", name="Save draft").click()

    page.get_by_role("heading", name="Customer upset about a delivery").wait_for()
    assert not has_horizontal_scroll(page)
    # Accepted at once; its preview is made by the worker, here as it would.
    assert page.get_by_role("status").filter(has_text="Preparing preview…").is_visible()
    file_renditions(file_id=EvidenceFile.objects.get().pk)
    page.reload()
    image = page.get_by_role("img", name="Customer upset about a delivery: IMG_2041.jpg")
    # Served through the access check; wait for the picture to arrive before measuring it.
    assert image.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0

    page.get_by_role("link", name="Submit for assessment").click()
    assert not has_horizontal_scroll(page)
    page.get_by_label("I declare that this evidence is my own work").check()
    page.get_by_role("button", name="Submit for assessment").click()
    page.get_by_text("is submitted to your assessor").wait_for()

    evidence = EvidenceItem.objects.get()
    assert evidence.status == "submitted"
    assert evidence.files.get().original_name == "IMG_2041.jpg"


def test_a_mistake_is_explained_on_the_phone_and_nothing_typed_is_lost(open_page, portfolio):
    page = open_page(
        f"/portfolios/{portfolio.pk}/evidence/new/", user=portfolio.learner, viewport=PHONE
    )
    page.get_by_label("Title").fill("Busy till")
    page.get_by_label("Reflective account").check()
    page.get_by_label("Date it happened").fill("2099-01-01")
    page.get_by_label("What happened").fill("Long queue, angry customer.")
    page.get_by_role("button", name="Save draft").click()

    page.get_by_text("The date it happened cannot be in the future.", exact=True).wait_for()
    summary = page.locator("#form-errors")
    assert summary.get_by_role("link", name="Date it happened: The date it happened").count() == 1
    assert page.get_by_label("What happened").input_value() == "Long queue, angry customer."
    assert not has_horizontal_scroll(page)
    assert not EvidenceItem.objects.exists()


def test_every_learner_page_fits_a_phone(open_page, portfolio):
    evidence = EvidenceFactory(portfolio=portfolio, contexts="abcd", claims=["P1", "P8", "P17"])
    WitnessFactory(evidence=evidence, witness_email="sam.okafor.with.a.long.address@example.org")
    k1 = portfolio.unit.criteria.get(nos_code="K1")
    paths = [
        "/learner/",
        f"/portfolios/{portfolio.pk}/",
        f"/portfolios/{portfolio.pk}/evidence/new/",
        f"/portfolios/{portfolio.pk}/knowledge/",
        f"/portfolios/{portfolio.pk}/knowledge/{k1.pk}/",
        f"/evidence/{evidence.pk}/",
        f"/evidence/{evidence.pk}/edit/",
        f"/evidence/{evidence.pk}/submit/",
        f"/evidence/{evidence.pk}/witness/",
        f"/portfolios/{portfolio.pk}/workplace/",
    ]
    page = open_page(paths[0], user=portfolio.learner, viewport=PHONE)
    for path in paths:
        page.goto(page.url.split("/", 3)[0] + "//" + page.url.split("/")[2] + path)
        assert page.locator("main h1").is_visible(), path
        assert not has_horizontal_scroll(page), path
