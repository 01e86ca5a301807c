"""What people read: each fault found in a full journey, checked where it was seen (a rendered
page or the PDF's text)."""

import html
import io
import re

import pytest
from django.utils import dateformat, timezone
from pypdf import PdfReader

from assessments.models import ObservationRecord
from assessments.quality import portfolio_unlock
from assessments.services import unit_sign_off
from portfolio.models import EvidenceItem
from records.pdf import render_portfolio_pdf
from tests import samples
from tests.assessing import sufficient
from tests.factories import EvidenceFactory, UserFactory, evidence_form_data

pytestmark = pytest.mark.django_db


def text(response) -> str:
    """The page's words, without its markup or its spacing."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_the_pdf_names_the_nos_suite_once(portfolio):
    sufficient(portfolio)
    unit_sign_off(portfolio=portfolio, by=portfolio.assessor)

    reader = PdfReader(io.BytesIO(render_portfolio_pdf(portfolio)))
    cover = " ".join(reader.pages[0].extract_text().split())

    assert "NOS NOS" not in cover
    assert cover.count("NOS for Operational Delivery Contact Centre roles") == 1


def test_a_threshold_passed_is_said_to_be_met(client, login, portfolio):
    sufficient(portfolio)  # four occasions and customers over 55 days, all accepted
    login(portfolio.assessor)

    page = text(client.get(f"/portfolios/{portfolio.pk}/matrix/"))

    assert "First occasion to last: 55 days, at least 28 needed: met" in page
    assert "Different customers: 4, at least 3 needed: met" in page
    assert "of 28 days needed" not in page
    assert "4 of 3 needed" not in page


def test_a_threshold_not_reached_says_what_is_needed(client, login, portfolio):
    EvidenceFactory(portfolio=portfolio, status="accepted", claims=["P1"], contexts="a")
    login(portfolio.learner)

    page = text(client.get(f"/portfolios/{portfolio.pk}/"))

    assert "First occasion to last: 0 days, at least 28 needed" in page
    assert "0 days, at least 28 needed: met" not in page


def test_the_learner_is_told_which_evidence_each_count_is_of(client, login, portfolio):
    # Submitted evidence in context a, none accepted: the two panels count differently.
    EvidenceFactory(portfolio=portfolio, status="submitted", claims=["P1"], contexts="a")
    login(portfolio.learner)

    page = text(client.get(f"/portfolios/{portfolio.pk}/"))

    assert "Counting the evidence put forward: submitted, waiting for review or accepted." in page
    assert "Contexts in the evidence put forward: ✓ a Routine" in page
    assert "Counting only evidence the assessor has accepted." in page
    assert "Contexts in accepted evidence: a not shown yet" in page
    assert "Contexts shown:" not in page


def test_a_refused_file_says_what_was_kept_and_what_to_choose_again(client, login, portfolio):
    login(portfolio.learner)

    response = client.post(
        f"/portfolios/{portfolio.pk}/evidence/new/",
        {**evidence_form_data(portfolio), "files": [samples.upload("notes.exe", b"MZ\x90\0")]},
    )

    page = text(response)
    assert (
        "Nothing is saved yet. What you typed is kept below, but the files you chose are not: "
        "choose them again before saving." in page
    )
    assert "nothing was lost" not in page
    assert 'value="Refund complaint at the desk"' in response.content.decode()
    assert not EvidenceItem.objects.exists()


def test_a_form_sent_back_without_files_does_not_ask_for_them_again(client, login, portfolio):
    login(portfolio.learner)

    response = client.post(
        f"/portfolios/{portfolio.pk}/evidence/new/", evidence_form_data(portfolio, title="")
    )

    page = text(response)
    assert "Nothing is saved yet. What you typed is kept below." in page
    assert "choose them again" not in page
    assert "Title: This field is required." in page


def test_the_forms_errors_are_summarised_at_the_top_and_shown_beside_their_field(
    client, login, portfolio
):
    login(portfolio.learner)
    p1 = portfolio.unit.criteria.get(nos_code="P1")

    response = client.post(
        f"/portfolios/{portfolio.pk}/evidence/new/",
        evidence_form_data(portfolio, setting="simulation", contexts=[], claimed_criteria=[p1.pk]),
    )

    page = response.content.decode()
    summary = page[page.index('id="form-errors"') : page.index("</div>", page.index("form-errors"))]
    assert '<a class="alert-link" href="#div_id_contexts">' in summary
    assert '<a class="alert-link" href="#div_id_claimed_criteria">' in summary
    assert "There is a problem" in summary
    # Each error sits under its question, before the first option, not after the last.
    contexts_error = page.index('id="id_contexts_error"')
    assert contexts_error < page.index('id="id_contexts_0"')
    criteria_error = page.index('id="id_claimed_criteria_error"')
    assert criteria_error < page.index(f'value="{p1.pk}"', page.index('name="claimed_criteria"'))
    assert "simulated evidence cannot claim 1.1 (P1)" in page[criteria_error:]
    # No option is marked invalid, so the labels keep their colour.
    assert "form-check-input is-invalid" not in page


def test_the_assessors_observation_form_speaks_of_the_learner(client, login, portfolio):
    login(portfolio.assessor)

    page = text(client.get(f"/portfolios/{portfolio.pk}/observations/new/"))

    assert "b during a busy time in the learner's job" in page
    assert "d when people, systems or resources have let the learner down" in page
    assert "your job" not in page


def test_the_learner_still_reads_the_contexts_in_the_units_own_words(client, login, portfolio):
    login(portfolio.learner)

    page = text(client.get(f"/portfolios/{portfolio.pk}/evidence/new/"))

    assert "b during a busy time in your job" in page


def test_a_broken_signature_after_an_unlock_says_who_when_and_why_once(client, login, portfolio):
    sufficient(portfolio)
    unit_sign_off(portfolio=portfolio, by=portfolio.assessor)
    admin = UserFactory(first_name="Cara", last_name="Admin", centre_admin=True)
    portfolio_unlock(portfolio=portfolio, reason="The wrong photo was attached", by=admin)
    login(admin)

    page = text(client.get(f"/portfolios/{portfolio.pk}/"))

    revoked = portfolio.signatures.get().revoked_at
    when = dateformat.format(timezone.localtime(revoked), r"j F Y \a\t H:i")
    assert page.count(f"Unlocked by Cara Admin on {when}: The wrong photo was attached.") == 1
    assert "Broken: unlocked" not in page
    assert "unlocked: unlocked" not in page


def test_an_assessors_observation_asks_the_learner_to_confirm_not_to_declare(
    client, login, portfolio
):
    record = EvidenceFactory(
        portfolio=portfolio,
        method="observation",
        status="accepted",
        recorded_by=portfolio.assessor,
        declared_at=None,
    )
    ObservationRecord.objects.create(evidence=record, place="Returns desk", duration_minutes=30)
    login(portfolio.learner)

    page = text(client.get(f"/evidence/{record.pk}/"))

    assert "it is made on submitting" not in page
    assert page.count("Recorded by") == 1
    assert "You are asked to confirm the record (above), not to declare it." in page
    assert "I confirm this record of my observation" in page
    login(portfolio.assessor)
    assert "The learner is asked to confirm the record, not to declare it." in text(
        client.get(f"/evidence/{record.pk}/")
    )


def test_every_page_names_a_criterion_by_its_number_then_its_nos_code(client, login, portfolio):
    login(portfolio.learner)

    page = text(client.get(f"/portfolios/{portfolio.pk}/knowledge/"))

    assert "3.1 (K1)" in page
    assert "K1 (3.1)" not in page


def test_staff_read_what_is_missing_of_the_learner_and_the_learner_reads_it_to_them(
    client, login, portfolio
):
    EvidenceFactory(
        portfolio=portfolio,
        method="questioning",
        answers_question=portfolio.unit.criteria.get(nos_code="K2"),
        setting="",
        customer="",
        customer_reference="",
    )

    login(portfolio.assessor)
    staff = text(client.get(f"/portfolios/{portfolio.pk}/"))
    login(portfolio.learner)
    learner = text(client.get(f"/portfolios/{portfolio.pk}/"))

    assert "No evidence yet for context b (during a busy time in the learner's job)." in staff
    assert "The answer for 3.2 (K2) is a draft, not yet submitted." in staff
    assert "your" not in staff.split("Still missing")[1].split("Sufficiency")[0].lower()
    assert "No evidence yet during a busy time in your job (context b)." in learner
    assert "Your answer for 3.2 (K2) is a draft: submit it." in learner
    # The sufficiency panel speaks in the same voice as the rest of each one's page.
    assert "No accepted performance evidence yet during a busy time in your job" in learner
    assert "Not yet marked met by your assessor: 1.1 (P1)" in learner
    assert "the learner's job" not in learner
    assert "Not yet marked met by the assessor: 1.1 (P1)" in staff


def test_a_declaration_left_unticked_is_named_in_the_summary_without_its_full_stop(
    client, login, portfolio
):
    login(portfolio.learner)
    evidence = EvidenceFactory(portfolio=portfolio)

    page = text(client.post(f"/evidence/{evidence.pk}/submit/", {}))

    assert (
        "removed customers' personal details: Tick the declaration to submit this evidence."
    ) in page
    assert "personal details.:" not in page
