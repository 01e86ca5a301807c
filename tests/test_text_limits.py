"""Every text a person types has a length limit: shown on the form, checked by the server with
what was typed kept, and kept in one place (portfolio/limits.py)."""

import urllib.parse

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models

from assessments.forms import DiscussionForm, EvidenceReviewForm, SampleForm
from assessments.portfolio_views import with_judgements
from portfolio import limits
from portfolio.forms import EvidenceForm
from portfolio.models import EvidenceItem
from records.pdf import render_portfolio_pdf
from tests.factories import EvidenceFactory, evidence_form_data

pytestmark = pytest.mark.django_db

# Texts the application writes itself, never a person: the statement a signer agrees to, a
# failed export's error, an e-mail the application composed and why sending it failed.
WRITTEN_BY_THE_APPLICATION = {
    ("assessments", "signature", "statement"),
    ("records", "export", "error"),
    ("portfolio", "outgoingemail", "body"),
    ("portfolio", "outgoingemail", "error"),
}


def test_every_text_a_person_types_has_a_limit():
    unbounded = [
        f"{model._meta.label}.{field.name}"
        for app in ("portfolio", "assessments", "records")
        for model in apps.get_app_config(app).get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, models.TextField)
        and field.max_length is None
        and (model._meta.app_label, model._meta.model_name, field.name)
        not in WRITTEN_BY_THE_APPLICATION
    ]
    assert unbounded == []


def test_the_form_shows_the_limit(client, login, portfolio):
    login(portfolio.learner)

    response = client.get(f"/portfolios/{portfolio.pk}/evidence/new/")

    assert f'maxlength="{limits.ACCOUNT}"' in response.text
    assert "Up to 20,000 characters." in response.text


def test_a_longer_text_is_refused_with_what_was_typed_kept(client, login, portfolio):
    login(portfolio.learner)
    account = "I listened." * 1819  # 20,009 characters

    response = client.post(
        f"/portfolios/{portfolio.pk}/evidence/new/",
        evidence_form_data(portfolio, title="Kept as typed", account=account),
    )

    assert response.status_code == 200
    assert (
        f"Ensure this value has at most 20000 characters (it has {len(account)})." in response.text
    )
    assert "Kept as typed" in response.text
    assert account in response.text
    assert not EvidenceItem.objects.exists()


def test_a_line_break_counts_as_one_character_as_the_browser_counts_it(portfolio):
    account = "a" * 9_999 + "\r\n" + "b" * 10_000  # 20,000 characters in the text area

    form = EvidenceForm(evidence_form_data(portfolio, account=account), portfolio=portfolio)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["account"] == "a" * 9_999 + "\n" + "b" * 10_000


def test_the_assessors_forms_have_their_limits_too():
    item = EvidenceFactory(status="submitted")
    review = EvidenceReviewForm(
        {"decision": "refer_back", "feedback": "x" * (limits.COMMENT + 1)},
        evidence=with_judgements(item.pk),
        user=item.portfolio.assessor,
        reviewing=True,
    )

    assert not review.is_valid()
    assert review.errors["feedback"] == [
        f"Ensure this value has at most {limits.COMMENT} characters (it has {limits.COMMENT + 1})."
    ]
    assert "Up to 5,000 characters." in str(review["feedback"].help_text)


def test_text_saved_before_the_limit_still_shows_and_prints(client, login, portfolio):
    longer = "An account written before the limit. " * 1000  # 37,000 characters
    evidence = EvidenceFactory(portfolio=portfolio, account=longer)
    login(portfolio.learner)

    assert client.get(evidence.get_absolute_url()).status_code == 200
    assert render_portfolio_pdf(portfolio).startswith(b"%PDF")


def test_the_longest_form_fits_in_a_request(portfolio):
    """Every text of the discussion record at its limit, in four-byte characters, sent as a
    form sends them (each byte as %XX), fits under DATA_UPLOAD_MAX_MEMORY_SIZE."""
    form = DiscussionForm(portfolio=portfolio)
    widest = "😀"
    data = {
        name: widest * field.max_length
        for name, field in form.fields.items()
        if getattr(field, "max_length", None)
    }
    body = urllib.parse.urlencode(data)

    assert (
        sum(f.max_length for f in form.fields.values() if getattr(f, "max_length", None)) > 30_000
    )
    assert len(body) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE < 2.5 * 1024 * 1024  # less than Django's default


def test_a_samples_comments_show_their_limit(portfolio):
    evidence = EvidenceFactory(portfolio=portfolio, status=EvidenceItem.Status.SUBMITTED)
    form = SampleForm(evidence=[evidence], decisions=[], request=type("R", (), {"user": None})())

    assert form.fields[f"note_e{evidence.pk}"].max_length == limits.NOTE
