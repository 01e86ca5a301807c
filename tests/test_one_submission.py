"""One submission is one item: the same new-evidence form posted again (a double tap, a retry on
a bad connection) goes to the item it made, and stores none of its files again."""

import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from portfolio.models import EvidenceFile, EvidenceItem
from tests import samples
from tests.factories import evidence_form_data

pytestmark = pytest.mark.django_db


def stored_files() -> list[Path]:
    return sorted(path for path in Path(settings.PRIVATE_FILES_ROOT).rglob("*") if path.is_file())


def test_the_form_carries_a_one_time_key(client, login, portfolio):
    login(portfolio.learner)
    first = client.get(f"/portfolios/{portfolio.pk}/evidence/new/")
    second = client.get(f"/portfolios/{portfolio.pk}/evidence/new/")

    keys = [r.context["form"]["submission_key"].value() for r in (first, second)]
    assert all(uuid.UUID(key) for key in keys)
    assert keys[0] != keys[1]
    assert f'name="submission_key" value="{keys[0]}"' in first.text


def test_posting_the_same_form_twice_makes_one_item(client, login, portfolio):
    login(portfolio.learner)
    data = {**evidence_form_data(portfolio), "submission_key": str(uuid.uuid4())}
    url = f"/portfolios/{portfolio.pk}/evidence/new/"

    first = client.post(url, {**data, "files": [samples.upload("desk.jpg", samples.jpeg())]})
    on_disk = stored_files()
    again = client.post(
        url, {**data, "files": [samples.upload("desk.jpg", samples.jpeg())]}, follow=True
    )

    evidence = EvidenceItem.objects.get()
    assert first.status_code == 302
    assert again.redirect_chain == [(evidence.get_absolute_url(), 302)]
    assert f"'{evidence.title}' was already saved from this form; it was not added again." in [
        str(m) for m in again.context["messages"]
    ]
    assert EvidenceFile.objects.count() == 1
    assert stored_files() == on_disk  # the repeat's photo was not stored


def test_each_form_shown_makes_its_own_item(client, login, portfolio):
    login(portfolio.learner)
    url = f"/portfolios/{portfolio.pk}/evidence/new/"
    for _ in range(2):
        client.post(url, {**evidence_form_data(portfolio), "submission_key": str(uuid.uuid4())})

    assert EvidenceItem.objects.count() == 2


def test_an_assessors_record_posted_twice_is_one_record(client, login, portfolio):
    unit = portfolio.unit
    login(portfolio.assessor)
    data = {
        "title": "Observed at the returns desk",
        "occurred_on": timezone.localdate().isoformat(),
        "place": "Returns desk",
        "duration_minutes": "45",
        "contexts": [unit.contexts.get(letter="b").pk],
        "setting": "real_paid",
        "customer": "external",
        "customer_reference": "Customer 9",
        "account": "Handled three upset customers in a long queue.",
        "submission_key": str(uuid.uuid4()),
    }
    url = f"/portfolios/{portfolio.pk}/observations/new/"

    client.post(url, data)
    again = client.post(url, data, follow=True)

    evidence = EvidenceItem.objects.get()
    assert again.redirect_chain == [(evidence.get_absolute_url(), 302)]
    assert "was already saved from this form; it was not added again." in again.text


def test_the_witness_form_posted_twice_at_once_makes_one_testimony(portfolio):
    from portfolio import services
    from portfolio.forms import WitnessTestimonyForm
    from portfolio.models import WitnessTestimony
    from tests.factories import EvidenceFactory

    evidence = EvidenceFactory(portfolio=portfolio, method="witness")
    witness = {
        "witness_name": "Sam Okafor",
        "witness_job_title": "Duty manager",
        "relationship": "My line manager",
        "not_a_relative": "on",
        "witness_email": "sam.okafor@example.org",
        "statement": "I saw the learner calm an upset customer at the returns desk.",
    }
    # Both posts read the item before either had saved its witness.
    forms = [WitnessTestimonyForm(witness, instance=None) for _ in range(2)]
    assert all(form.is_valid() for form in forms)

    for form in forms:
        services.witness_save(form=form, evidence=evidence, by=portfolio.learner)

    assert WitnessTestimony.objects.filter(evidence=evidence).count() == 1


def test_a_key_replayed_to_another_portfolio_saves_the_item_without_it(
    client, login, portfolio, c4
):
    from tests.factories import PortfolioFactory

    other = PortfolioFactory()
    login(portfolio.learner)
    key = str(uuid.uuid4())
    client.post(
        f"/portfolios/{portfolio.pk}/evidence/new/",
        {**evidence_form_data(portfolio), "submission_key": key},
    )
    login(other.learner)  # the same form's body, sent again by someone else

    response = client.post(
        f"/portfolios/{other.pk}/evidence/new/",
        {**evidence_form_data(other), "submission_key": key},
    )

    assert response.status_code == 302
    assert EvidenceItem.objects.get(portfolio=portfolio).submission_key == uuid.UUID(key)
    assert EvidenceItem.objects.get(portfolio=other).submission_key is None
