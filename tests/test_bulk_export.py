import datetime
import io
import zipfile
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from assessments.models import AuditEntry
from portfolio.models import BulkExport
from tests.factories import PortfolioFactory, c4_unit

pytestmark = pytest.mark.django_db


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", stdout=StringIO(), stderr=StringIO())


@pytest.mark.django_db(transaction=True)  # the worker closes its connection when it is done
def test_an_eqa_exports_the_granted_portfolios_as_one_zip(client, login, make_grant):
    c4_unit()
    granted = PortfolioFactory.create_batch(2)
    hidden = PortfolioFactory()
    grant = make_grant(portfolios=granted)
    login(grant.eqa)

    response = client.post("/exports/", {"portfolios": [granted[0].pk, granted[1].pk, hidden.pk]})

    export = BulkExport.objects.get()
    assert response.url == f"/exports/{export.pk}/"
    assert sorted(export.portfolio_ids) == sorted(p.pk for p in granted)  # never the hidden one
    waiting = client.get(f"/exports/{export.pk}/")
    assert "0 of 2 done" in waiting.text
    assert 'http-equiv="refresh"' in waiting.text

    run_worker()

    done = client.get(f"/exports/{export.pk}/")
    assert "2 of 2 done" in done.text
    assert "Download the ZIP" in done.text
    download = client.get(f"/exports/{export.pk}/download/")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    names = sorted(archive.namelist())
    assert len(names) == 2
    assert all(archive.read(name).startswith(b"%PDF") for name in names)
    assert AuditEntry.objects.filter(action="export.finished").exists()


def test_only_eqas_and_administrators_export_in_bulk(client, login, portfolio):
    login(portfolio.learner)

    assert client.get("/exports/").status_code == 403


def test_an_export_belongs_to_whoever_asked_for_it(client, login, c4, make_user):
    admin = make_user(centre_admin=True)
    export = BulkExport.objects.create(requested_by=admin, portfolio_ids=[PortfolioFactory().pk])
    login(make_user(centre_admin=True))

    assert client.get(f"/exports/{export.pk}/").status_code == 404
    assert client.get(f"/exports/{export.pk}/download/").status_code == 404


def test_choosing_nothing_is_explained(client, login, make_user, db):
    login(make_user(centre_admin=True))

    response = client.post("/exports/", {}, follow=True)

    assert "Choose at least one portfolio to export." in response.text
    assert not BulkExport.objects.exists()


def test_a_large_centre_chooses_portfolios_by_search_and_page(client, login, make_user, c4):
    from portfolio.views import EXPORT_PAGE_SIZE

    admin = make_user(centre_admin=True)
    PortfolioFactory.create_batch(EXPORT_PAGE_SIZE + 5, status="verified")
    wanted = PortfolioFactory(organisation="Hallam Rail", status="assessed")
    login(admin)

    first = client.get("/exports/")
    assert len(first.context["page"]) == EXPORT_PAGE_SIZE
    assert f"1 to {EXPORT_PAGE_SIZE} of {EXPORT_PAGE_SIZE + 6}" in first.text

    second = client.get("/exports/", {"status": "verified", "page": 2})
    assert len(second.context["page"]) == 5
    assert 'href="?status=verified&amp;page=1"' in second.text  # the filter is kept

    found = client.get("/exports/", {"q": "hallam"})
    assert [p.pk for p in found.context["page"]] == [wanted.pk]
    assert client.get("/exports/", {"q": "nowhere"}).context["page"].paginator.count == 0


def test_an_export_is_refused_once_the_eqa_grant_expires(client, login, c4, make_grant):
    grant = make_grant(portfolios=[PortfolioFactory()])
    export = BulkExport.objects.create(
        requested_by=grant.eqa, portfolio_ids=[grant.portfolios.get().pk], status="done"
    )
    login(grant.eqa)
    assert client.get(f"/exports/{export.pk}/").status_code == 200

    grant.expires_at = timezone.now() - datetime.timedelta(seconds=1)
    grant.save()

    assert client.get(f"/exports/{export.pk}/").status_code == 404
    assert client.get(f"/exports/{export.pk}/download/").status_code == 404
