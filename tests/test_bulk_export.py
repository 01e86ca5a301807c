import datetime
import io
import zipfile
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEntry
from portfolio.models import Portfolio
from records.models import Export
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

    export = Export.objects.get()
    assert response.url == f"/exports/{export.pk}/"
    assert sorted(export.portfolio_ids) == sorted(p.pk for p in granted)  # never the hidden one
    waiting = client.get(f"/exports/{export.pk}/")
    assert "0 of 2 done" in waiting.text
    assert "data-refresh-seconds" in waiting.text

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
    downloaded = AuditEntry.objects.get(action="export.downloaded")  # each download is audited
    assert downloaded.actor == grant.eqa
    assert downloaded.data["kind"] == "bulk"
    assert sorted(downloaded.data["portfolios"]) == sorted(p.pk for p in granted)
    export.refresh_from_db()
    assert downloaded.data["bytes"] == export.size > 0


def test_only_eqas_and_administrators_export_in_bulk(client, login, portfolio):
    login(portfolio.learner)

    assert client.get("/exports/").status_code == 403


def test_an_export_belongs_to_whoever_asked_for_it(client, login, c4, make_user):
    admin = make_user(centre_admin=True)
    export = Export.objects.create(requested_by=admin, portfolio_ids=[PortfolioFactory().pk])
    login(make_user(centre_admin=True))

    assert client.get(f"/exports/{export.pk}/").status_code == 404
    assert client.get(f"/exports/{export.pk}/download/").status_code == 404


def test_choosing_nothing_is_explained(client, login, make_user, db):
    login(make_user(centre_admin=True))

    response = client.post("/exports/", {}, follow=True)

    assert "Choose at least one portfolio to export." in response.text
    assert not Export.objects.exists()


def test_a_large_centre_chooses_portfolios_by_search_and_page(client, login, make_user, c4):
    from records.views import EXPORT_PAGE_SIZE

    admin = make_user(centre_admin=True)
    PortfolioFactory.create_batch(EXPORT_PAGE_SIZE + 5, status="verified")
    wanted = PortfolioFactory(workplace__organisation="Hallam Rail", status="assessed")
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
    export = Export.objects.create(
        requested_by=grant.eqa, portfolio_ids=[grant.portfolios.get().pk], status="done"
    )
    login(grant.eqa)
    assert client.get(f"/exports/{export.pk}/").status_code == 200

    grant.expires_at = timezone.now() - datetime.timedelta(seconds=1)
    grant.save()

    assert client.get(f"/exports/{export.pk}/").status_code == 404
    assert client.get(f"/exports/{export.pk}/download/").status_code == 404


class TestKeepingReadyZips:
    @pytest.fixture
    def ready(self, c4, make_user):
        """A ready export of ``portfolios``, finished ``days_ago``, its ZIP in the store."""
        admin = make_user(centre_admin=True)

        def make(portfolios, days_ago):
            export = Export.objects.create(
                requested_by=admin,
                portfolio_ids=[p.pk for p in portfolios],
                status="done",
                done=len(portfolios),
                finished_at=timezone.now() - datetime.timedelta(days=days_ago),
            )
            export.file.name = storages["evidence"].save(
                f"exports/{export.pk}.zip", ContentFile(b"PK zip")
            )
            export.save()
            return export

        return make

    def purge(self, *options):
        out = StringIO()
        call_command("purge_expired", *options, stdout=out)
        return out.getvalue()

    def test_a_zip_is_removed_once_kept_its_days(
        self, client, login, ready, django_capture_on_commit_callbacks
    ):
        old, young = ready([PortfolioFactory()], 8), ready([PortfolioFactory()], 6)
        old_name = old.file.name

        listed = self.purge()

        assert f"1 export file(s) kept over 7 days:\n  export #{old.pk}:" in listed
        assert "Nothing was changed" in listed
        assert storages["evidence"].exists(old_name)
        with django_capture_on_commit_callbacks(execute=True):
            self.purge("--yes")
        old.refresh_from_db()
        assert (old.status, old.file.name) == ("removed", "")
        assert old.removed_at is not None
        assert not storages["evidence"].exists(old_name)
        entry = AuditEntry.objects.get(action="export.removed")
        assert entry.data["reason"] == "kept for 7 days once ready"
        young.refresh_from_db()
        assert young.status == "done"
        assert storages["evidence"].exists(young.file.name)
        login(old.requested_by)
        page = client.get(f"/exports/{old.pk}/")
        assert "The file was removed on" in page.text
        assert "A ready file is kept for 7 days" in page.text
        assert "refreshes itself" not in page.text
        assert client.get(f"/exports/{old.pk}/download/").status_code == 404
        assert "It is kept for 7 days once ready, until" in client.get(f"/exports/{young.pk}/").text

    def test_the_days_are_a_setting(self, ready, settings):
        settings.BULK_EXPORT_KEEP_DAYS = 30
        ready([PortfolioFactory()], 8)

        assert "Nothing is past its retention date." in self.purge()

    def test_purging_a_portfolio_removes_the_zips_it_is_in_at_once(
        self, ready, django_capture_on_commit_callbacks
    ):
        expired, other = PortfolioFactory(), PortfolioFactory()
        Portfolio.objects.filter(pk=expired.pk).update(
            status="claimed",
            claimed_at=timezone.now() - datetime.timedelta(days=4 * 365),
            retain_until=timezone.localdate() - datetime.timedelta(days=1),
        )
        with_it, without_it = ready([other, expired], 1), ready([other], 1)

        with django_capture_on_commit_callbacks(execute=True):
            self.purge("--yes")

        with_it.refresh_from_db()
        without_it.refresh_from_db()
        assert with_it.status == "removed"
        assert not storages["evidence"].exists(f"exports/{with_it.pk}.zip")
        assert AuditEntry.objects.get(action="export.removed").data["reason"] == (
            f"portfolio #{expired.pk} in it was purged"
        )
        assert without_it.status == "done"
