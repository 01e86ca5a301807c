"""The same file added twice to a portfolio is pointed out, not kept twice."""

import datetime

import pytest
from django.core.files.storage import storages
from django.utils import timezone
from django.utils.formats import date_format

from portfolio.files import atomic_with_files, prepare_upload, store_file
from portfolio.models import EvidenceFile, EvidenceItem
from tests import samples
from tests.factories import EvidenceFactory, PortfolioFactory, evidence_form_data

pytestmark = pytest.mark.django_db


def stored(evidence, name, data):
    with atomic_with_files() as written:
        return store_file(
            evidence,
            prepare_upload(samples.upload(name, data)),
            by=evidence.portfolio.learner,
            written=written,
        )


def post_new(client, portfolio, *files, **changes):
    return client.post(
        f"/portfolios/{portfolio.pk}/evidence/new/",
        {**evidence_form_data(portfolio, **changes), "files": list(files)},
    )


def test_a_file_already_in_the_portfolio_is_refused_with_where_it_is(client, login, portfolio):
    photo = samples.jpeg()
    earlier = EvidenceFactory(portfolio=portfolio, title="Angry caller")
    first = stored(earlier, "desk.jpg", photo)
    first_day = timezone.localtime(first.uploaded_at).date()
    login(portfolio.learner)

    response = post_new(
        client, portfolio, samples.upload("desk again.jpg", photo), account="Kept as typed"
    )

    assert response.status_code == 200
    day = date_format(first_day, "j F")
    assert (
        f"desk again.jpg is already uploaded to &#x27;Angry caller&#x27; on {day}; it was not "
        "added again." in response.text
    )
    assert "Kept as typed" in response.text
    assert EvidenceItem.objects.count() == 1
    assert EvidenceFile.objects.count() == 1


def test_a_file_from_another_year_is_shown_with_its_year(client, login, portfolio):
    earlier = EvidenceFactory(portfolio=portfolio, title="Last year")
    first = stored(earlier, "note.pdf", samples.pdf())
    long_ago = timezone.now() - datetime.timedelta(days=400)
    EvidenceFile.objects.filter(pk=first.pk).update(uploaded_at=long_ago)
    login(portfolio.learner)

    response = post_new(client, portfolio, samples.upload("note.pdf", samples.pdf()))

    day = date_format(timezone.localtime(long_ago), "j F Y")
    assert f"on {day}; it was not added again." in response.text


def test_a_stored_photo_downloaded_and_added_again_is_refused(client, login, portfolio):
    earlier = EvidenceFactory(portfolio=portfolio, title="Angry caller")
    first = stored(earlier, "desk.jpg", samples.jpeg())
    with storages["evidence"].open(first.file.name, "rb") as handle:
        as_stored = handle.read()  # re-encoded: not the bytes the learner sent
    assert first.uploaded_sha256 != first.sha256
    login(portfolio.learner)

    response = post_new(client, portfolio, samples.upload("downloaded.jpg", as_stored))

    assert "downloaded.jpg is already uploaded to" in response.text
    assert EvidenceFile.objects.count() == 1


def test_the_same_file_chosen_twice_at_once_is_pointed_out(client, login, portfolio):
    login(portfolio.learner)
    data = samples.pdf()

    response = post_new(
        client, portfolio, samples.upload("a.pdf", data), samples.upload("b.pdf", data)
    )

    assert response.status_code == 200
    assert "b.pdf is the same file as a.pdf, chosen twice; choose it once." in response.text
    assert EvidenceItem.objects.count() == 0


def test_the_same_file_in_another_portfolio_is_added(client, login, portfolio):
    other = EvidenceFactory(portfolio=PortfolioFactory(unit=portfolio.unit))
    stored(other, "note.pdf", samples.pdf())
    login(portfolio.learner)

    response = post_new(client, portfolio, samples.upload("note.pdf", samples.pdf()))

    assert response.status_code == 302
    assert EvidenceFile.objects.filter(evidence__portfolio=portfolio).count() == 1
