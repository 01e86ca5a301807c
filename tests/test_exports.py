"""Records made in the background: a portfolio's PDF and a person's own data, like bulk exports,
are asked for by a POST, built by the worker with their progress, reused while unchanged, and
noticed when their worker dies."""

import datetime
import io
import json
import time
import zipfile
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from audit.chain import proof_for, record
from audit.models import AuditEntry
from portfolio.files import atomic_with_files, prepare_upload, store_file
from records import services
from records.models import Export
from records.tasks import build_export
from tests import samples
from tests.factories import EvidenceFactory, PortfolioFactory

pytestmark = pytest.mark.django_db


def no_rendering(*args, **kwargs):
    raise AssertionError("the PDF was rendered")


@pytest.fixture
def quick_pdf(monkeypatch):
    """Rendering counted, and fast: what matters here is when and how often it happens."""
    rendered = []

    def render(portfolio):
        rendered.append(portfolio.pk)
        return b"%PDF-1.7\n" + str(len(rendered)).encode()

    monkeypatch.setattr("records.exports.render_portfolio_pdf", render)
    return rendered


def look_too_early(monkeypatch) -> None:
    """The next request looks for one under way before the one already made had saved itself:
    it finds none the first time it looks."""
    real = services._unfinished
    looked = []

    def too_early(*args):
        looked.append(args)
        return None if len(looked) == 1 else real(*args)

    monkeypatch.setattr(services, "_unfinished", too_early)


def run(export: Export) -> Export:
    """What the worker does with the export's task."""
    build_export.call(export.pk)
    export.refresh_from_db()
    return export


def download(client, export: Export) -> bytes:
    response = client.get(f"/exports/{export.pk}/download/")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


class TestThePortfolioPdf:
    def test_the_request_only_queues_it(self, client, login, portfolio, monkeypatch):
        monkeypatch.setattr("records.pdf.render_portfolio_pdf", no_rendering)
        monkeypatch.setattr("records.exports.render_portfolio_pdf", no_rendering)
        login(portfolio.assessor)

        response = client.post(f"/portfolios/{portfolio.pk}/export.pdf")

        export = Export.objects.get()
        assert response.status_code == 302
        assert response.url == f"/exports/{export.pk}/"
        assert (export.kind, export.status, export.portfolio) == ("pdf", "queued", portfolio)
        [task] = DBTaskResult.objects.all()
        assert task.task_path == "records.tasks.build_export"
        assert task.args_kwargs["args"] == [export.pk]
        page = client.get(response.url)
        assert "0 of 1 done" in page.text
        assert "data-refresh-seconds" in page.text

    def test_a_task_that_cannot_be_queued_leaves_no_export_waiting(self, portfolio, monkeypatch):
        def refused(*args):
            raise IntegrityError("the task queue refused it")

        monkeypatch.setattr("records.services.build_export", SimpleNamespace(enqueue=refused))

        with pytest.raises(IntegrityError):
            services.export_request(kind="pdf", by=portfolio.assessor, portfolio=portfolio)

        assert not Export.objects.exists()  # so the next request is not held behind it
        assert not AuditEntry.objects.filter(action="export.requested").exists()

    def test_the_worker_builds_it_and_each_download_is_audited(
        self, client, login, portfolio, quick_pdf
    ):
        login(portfolio.assessor)
        export = Export.objects.get(pk=self.post(client, portfolio))

        assert run(export).status == "done"

        page = client.get(f"/exports/{export.pk}/")
        assert "1 of 1 done" in page.text
        assert "Download the PDF" in page.text
        assert "data-refresh-seconds" not in page.text
        response = client.get(f"/exports/{export.pk}/download/")
        assert response["Content-Type"] == "application/pdf"
        name = f"portfolio-{portfolio.learner.username}-{portfolio.unit.code}.pdf"
        assert response["Content-Disposition"] == f'attachment; filename="{name}"'
        assert b"".join(response.streaming_content).startswith(b"%PDF")
        download(client, export)
        exported = AuditEntry.objects.filter(action="portfolio.exported")
        assert [(e.actor, e.portfolio) for e in exported] == [(portfolio.assessor, portfolio)] * 2
        assert AuditEntry.objects.filter(action="export.finished").count() == 1

    def post(self, client, portfolio) -> int:
        response = client.post(f"/portfolios/{portfolio.pk}/export.pdf")
        assert response.status_code == 302, response
        return int(response.url.strip("/").split("/")[-1])

    def test_an_old_bookmark_shows_the_page_that_starts_it(self, client, login, portfolio):
        login(portfolio.learner)

        page = client.get(f"/portfolios/{portfolio.pk}/export.pdf")

        assert page.status_code == 200
        assert f'<form method="post" action="/portfolios/{portfolio.pk}/export.pdf">' in page.text
        assert "Make the PDF" in page.text
        assert not Export.objects.exists()
        assert not DBTaskResult.objects.exists()

    def test_the_portfolio_page_asks_for_it_by_post(self, client, login, portfolio):
        login(portfolio.assessor)

        page = client.get(f"/portfolios/{portfolio.pk}/").text

        assert f'<form action="/portfolios/{portfolio.pk}/export.pdf" method="post"' in page
        assert f'href="/portfolios/{portfolio.pk}/export.pdf"' not in page

    def test_a_person_without_access_starts_nothing(self, client, login, portfolio, make_user):
        login(make_user(learner=True))

        assert client.post(f"/portfolios/{portfolio.pk}/export.pdf").status_code == 404
        assert not Export.objects.exists()

    def test_a_second_request_goes_to_the_one_under_way(self, client, login, portfolio):
        login(portfolio.assessor)

        first, second = self.post(client, portfolio), self.post(client, portfolio)

        assert first == second
        assert Export.objects.count() == 1
        assert DBTaskResult.objects.count() == 1
        # Someone else's request for the same portfolio is their own.
        login(portfolio.iqa)
        assert self.post(client, portfolio) != first

    def test_two_requests_at_the_same_moment_make_one(self, portfolio, monkeypatch):
        # The second request looked for one under way before the first had saved its own.
        first = services.export_request(kind="pdf", by=portfolio.assessor, portfolio=portfolio)
        look_too_early(monkeypatch)

        second = services.export_request(kind="pdf", by=portfolio.assessor, portfolio=portfolio)

        assert second == first
        assert Export.objects.count() == 1
        with pytest.raises(IntegrityError), transaction.atomic():
            Export.objects.create(kind="pdf", requested_by=portfolio.assessor, portfolio=portfolio)

    def test_an_unchanged_portfolio_gets_the_same_file_without_rendering_again(
        self, client, login, portfolio, quick_pdf, monkeypatch
    ):
        login(portfolio.assessor)
        first = run(Export.objects.get(pk=self.post(client, portfolio)))
        first_bytes = download(client, first)
        login(portfolio.iqa)  # another person, who may see it too

        second = Export.objects.get(pk=self.post(client, portfolio))

        assert second.pk != first.pk
        assert second.status == "done"  # at once, with no task
        assert DBTaskResult.objects.count() == 1
        assert download(client, second) == first_bytes
        assert quick_pdf == [portfolio.pk]
        assert second.requested_by == portfolio.iqa
        exported = AuditEntry.objects.filter(action="portfolio.exported")
        assert [e.actor for e in exported] == [portfolio.assessor, portfolio.iqa]

    @pytest.mark.parametrize("change", ["evidence", "audited"])
    def test_any_change_makes_a_new_one(self, client, login, portfolio, quick_pdf, change):
        login(portfolio.assessor)
        first = run(Export.objects.get(pk=self.post(client, portfolio)))
        if change == "evidence":
            EvidenceFactory(portfolio=portfolio, status="submitted", contexts="a", claims=["P1"])
        else:
            record("portfolio.viewed", actor=portfolio.iqa, portfolio=portfolio, summary="x")

        second = Export.objects.get(pk=self.post(client, portfolio))

        assert second.status == "queued"
        assert run(second).reuse_key != first.reuse_key
        assert download(client, second) != download(client, first)
        assert quick_pdf == [portfolio.pk, portfolio.pk]

    def test_the_worker_reuses_a_file_made_meanwhile(self, portfolio, quick_pdf):
        first = services.export_request(kind="pdf", by=portfolio.assessor, portfolio=portfolio)
        second = services.export_request(kind="pdf", by=portfolio.iqa, portfolio=portfolio)

        run(first), run(second)

        assert second.file.name == first.file.name
        assert quick_pdf == [portfolio.pk]

    def test_a_failed_build_says_why_and_may_be_started_again(
        self, client, login, portfolio, monkeypatch
    ):
        monkeypatch.setattr("records.exports.render_portfolio_pdf", no_rendering)
        login(portfolio.assessor)
        export = Export.objects.get(pk=self.post(client, portfolio))

        with pytest.raises(AssertionError):
            build_export.call(export.pk)

        export.refresh_from_db()
        assert (export.status, export.error) == ("failed", "the PDF was rendered")
        page = client.get(f"/exports/{export.pk}/").text
        assert "It failed: the PDF was rendered" in page
        assert "Start it again" in page
        assert self.post(client, portfolio) != export.pk


class TestTheProofLeavesOutCopies:
    def test_exporting_moves_neither_the_proof_nor_the_audit_trail_the_pdf_shows(
        self, client, login, portfolio, quick_pdf
    ):
        from records.pdf import _context

        before = proof_for(portfolio.learner_id, leaving_out_copies=True)
        shown = list(_context(portfolio)["audit_entries"])
        login(portfolio.assessor)
        export = run(Export.objects.get(pk=TestThePortfolioPdf().post(client, portfolio)))
        download(client, export)
        assert AuditEntry.objects.filter(action="portfolio.exported", portfolio=portfolio)

        assert proof_for(portfolio.learner_id, leaving_out_copies=True) == before
        assert list(_context(portfolio)["audit_entries"]) == shown
        # The live heads did move: the proof is as of the last entry that is not a copy.
        live = proof_for(portfolio.learner_id)
        assert live[0].sequence > before[0].sequence
        page = client.get(f"/portfolios/{portfolio.pk}/audit/").text
        assert before[0].seal in page
        assert live[0].seal not in page
        assert "exported the portfolio as a PDF" in page  # the trail page still lists it

    def test_the_proof_of_a_past_entry_is_sealed_as_its_head_was(self, portfolio):
        record("portfolio.viewed", actor=None, portfolio=portfolio, summary="x")
        sealed = proof_for(portfolio.learner_id)

        record("portfolio.exported", actor=None, portfolio=portfolio, summary="copy")
        record("export.finished", actor=None, summary="copy")

        assert proof_for(portfolio.learner_id, leaving_out_copies=True) == sealed
        assert proof_for(portfolio.learner_id) != sealed


class TestMyData:
    @pytest.fixture
    def with_files(self, portfolio):
        item = EvidenceFactory(portfolio=portfolio, title="Angry caller")
        stored = []
        with atomic_with_files() as written:
            for name in ("letter.pdf", "gone.pdf"):
                upload = prepare_upload(samples.upload(name, samples.pdf()))
                stored.append(store_file(item, upload, by=portfolio.learner, written=written))
        return stored

    def test_it_is_built_in_the_worker_and_audited_once_done(
        self, client, login, portfolio, with_files, monkeypatch
    ):
        monkeypatch.setattr("records.exports.personal_data_zip", no_rendering)
        login(portfolio.learner)

        response = client.post("/me/data/")

        monkeypatch.undo()

        export = Export.objects.get()
        assert response.url == f"/exports/{export.pk}/"
        assert (export.kind, export.status) == ("data", "queued")
        assert not AuditEntry.objects.filter(action="data.exported").exists()
        assert DBTaskResult.objects.get().args_kwargs["args"] == [export.pk]
        assert run(export).status == "done"
        assert export.total == 3  # each file, then the records
        assert AuditEntry.objects.get(action="data.exported").actor == portfolio.learner
        archive = zipfile.ZipFile(io.BytesIO(download(client, export)))
        records = json.loads(archive.read("records.json"))
        assert records["account"]["username"] == portfolio.learner.username
        assert [e["title"] for e in records["evidence"]] == ["Angry caller"]
        assert records["enrolments"] == [
            {
                "id": portfolio.enrolment_id,
                "entered_for": "single units",
                "start_date": str(portfolio.enrolment.start_date),
                "portfolios": [portfolio.pk],
            }
        ]
        assert "MISSING.txt" not in archive.namelist()
        for listed, stored in zip(records["files"], with_files, strict=True):
            assert (
                archive.read(listed["in_this_zip"])
                == storages["evidence"].open(stored.file.name).read()
            )

    def test_a_missing_file_is_listed_not_fatal(self, client, login, portfolio, with_files):
        _letter, gone = with_files
        storages["evidence"].delete(gone.file.name)
        login(portfolio.learner)
        client.post("/me/data/")

        export = run(Export.objects.get())

        assert export.status == "done"
        archive = zipfile.ZipFile(io.BytesIO(download(client, export)))
        missing = archive.read("MISSING.txt").decode()
        assert f"gone.pdf (evidence {gone.evidence_id}, file {gone.pk}" in missing
        assert "letter.pdf" not in missing
        listed = {f["name"]: f for f in json.loads(archive.read("records.json"))["files"]}
        assert listed["gone.pdf"]["in_this_zip"] is None
        assert "could not be read" in listed["gone.pdf"]["missing"]
        assert "missing" not in listed["letter.pdf"]
        assert archive.read(listed["letter.pdf"]["in_this_zip"]).startswith(b"%PDF")
        assert AuditEntry.objects.filter(action="data.exported").exists()

    def test_a_failed_export_is_not_audited_as_exported(self, portfolio, monkeypatch):
        monkeypatch.setattr("records.exports.personal_data_zip", no_rendering)
        export = services.export_request(kind="data", by=portfolio.learner)

        with pytest.raises(AssertionError):
            build_export.call(export.pk)

        assert Export.objects.get().status == "failed"
        assert not AuditEntry.objects.filter(action="data.exported").exists()

    def test_only_whoever_asked_downloads_it(self, client, login, portfolio, make_user):
        export = run(services.export_request(kind="data", by=portfolio.learner))
        for other in (make_user(learner=True), portfolio.assessor, make_user(centre_admin=True)):
            login(other)
            assert client.get(f"/exports/{export.pk}/").status_code == 404
            assert client.get(f"/exports/{export.pk}/download/").status_code == 404
        login(portfolio.learner)
        assert client.get(f"/exports/{export.pk}/download/").status_code == 200
        downloaded = AuditEntry.objects.get(action="export.downloaded")
        assert (downloaded.actor, downloaded.data["kind"]) == (portfolio.learner, "data")

    def test_a_second_request_goes_to_the_one_under_way(self, client, login, portfolio):
        login(portfolio.learner)

        first, second = client.post("/me/data/"), client.post("/me/data/")

        assert first.url == second.url
        assert Export.objects.count() == DBTaskResult.objects.count() == 1

    def test_the_menu_asks_for_it_by_post(self, client, login, portfolio):
        login(portfolio.learner)

        page = client.get("/notifications/").text

        assert '<form method="post" action="/me/data/">' in page
        assert 'href="/me/data/"' not in page
        assert client.get("/me/data/").status_code == 200
        assert not Export.objects.exists()


class TestADeadWorker:
    @pytest.fixture
    def running(self, portfolio, settings):
        settings.EXPORT_STALE_MINUTES = 10

        def make(minutes_silent, **fields):
            defaults = {"kind": "pdf", "portfolio": portfolio, "requested_by": portfolio.assessor}
            export = Export.objects.create(status="running", **(defaults | fields))
            Export.objects.filter(pk=export.pk).update(
                heartbeat_at=timezone.now() - datetime.timedelta(minutes=minutes_silent)
            )
            return export

        return make

    def test_its_page_says_the_worker_stopped_and_stops_refreshing(
        self, client, login, portfolio, running
    ):
        dead, alive = running(11), running(9, kind="data", portfolio=None)
        login(portfolio.assessor)

        page = client.get(f"/exports/{dead.pk}/").text

        dead.refresh_from_db()
        assert (dead.status, dead.error) == ("failed", Export.STOPPED)
        assert "It failed: the worker stopped while building it; start it again." in page
        assert "data-refresh-seconds" not in page
        assert "Start it again" in page
        assert AuditEntry.objects.get(action="export.finished").data["status"] == "failed"
        alive.refresh_from_db()
        assert alive.status == "running"

    def test_the_scheduled_command_notices_it_for_every_kind(self, portfolio, running, make_user):
        dead_pdf = running(30)
        dead_bulk = running(30, kind="bulk", portfolio=None, portfolio_ids=[portfolio.pk])
        Export.objects.filter(pk=dead_bulk.pk).update(heartbeat_at=None)  # from before heartbeats
        Export.objects.filter(pk=dead_bulk.pk).update(
            created_at=timezone.now() - datetime.timedelta(hours=2)
        )
        alive = running(1, requested_by=portfolio.iqa)
        out = StringIO()

        call_command("purge_expired", stdout=out)

        assert f"Export #{dead_pdf.pk}" in out.getvalue()
        assert f"Export #{dead_bulk.pk}" in out.getvalue()
        statuses = dict(Export.objects.values_list("pk", "status"))
        assert statuses == {dead_pdf.pk: "failed", dead_bulk.pk: "failed", alive.pk: "running"}

    def test_the_frequent_command_fails_the_dead_and_names_the_long_waiting(
        self, portfolio, running, settings
    ):
        dead = running(30)
        waiting = services.export_request(kind="data", by=portfolio.learner)
        Export.objects.filter(pk=waiting.pk).update(
            created_at=timezone.now() - datetime.timedelta(minutes=30)
        )
        out = StringIO()

        call_command("restart_stopped_work", stdout=out)

        assert f"Export #{dead.pk}" in out.getvalue()
        assert f"Export #{waiting.pk}" in out.getvalue()
        assert "is it running?" in out.getvalue()
        statuses = dict(Export.objects.values_list("pk", "status"))
        assert statuses == {dead.pk: "failed", waiting.pk: "queued"}

    def test_a_worker_that_was_only_slow_leaves_nothing_behind(
        self, portfolio, running, monkeypatch
    ):
        export = Export.objects.create(
            kind="pdf", requested_by=portfolio.assessor, portfolio=portfolio
        )

        def render_then_found_dead(portfolio):
            Export.objects.filter(pk=export.pk).update(status="failed", error=Export.STOPPED)
            return b"%PDF-1.7\n"

        monkeypatch.setattr("records.exports.render_portfolio_pdf", render_then_found_dead)

        build_export.call(export.pk)

        export.refresh_from_db()
        assert (export.status, export.file.name) == ("failed", "")
        assert not storages["evidence"].exists(f"exports/{export.pk}.pdf")

    def test_a_long_wait_to_start_asks_whether_the_worker_runs(
        self, client, login, portfolio, settings
    ):
        export = services.export_request(kind="pdf", by=portfolio.assessor, portfolio=portfolio)
        login(portfolio.assessor)
        assert "is it running?" not in client.get(f"/exports/{export.pk}/").text

        Export.objects.filter(pk=export.pk).update(
            created_at=timezone.now()
            - datetime.timedelta(minutes=settings.EXPORT_STALE_MINUTES + 1)
        )
        page = client.get(f"/exports/{export.pk}/").text

        assert "Still waiting for the background worker: is it running?" in page
        assert "data-refresh-seconds" in page
        assert Export.objects.get().status == "queued"


class TestKeepingMadeFiles:
    def test_every_kind_is_removed_once_kept_its_days(
        self, portfolio, django_capture_on_commit_callbacks
    ):
        storage = storages["evidence"]
        old = timezone.now() - datetime.timedelta(days=8)
        name = storage.save("exports/shared.pdf", ContentFile(b"%PDF"))
        pdf_old = Export.objects.create(
            kind="pdf", requested_by=portfolio.assessor, portfolio=portfolio, status="done",
            file=name, finished_at=old,
        )  # fmt: skip
        pdf_young = Export.objects.create(
            kind="pdf", requested_by=portfolio.iqa, portfolio=portfolio, status="done",
            file=name, finished_at=timezone.now(),
        )  # fmt: skip
        data_name = storage.save("exports/data.zip", ContentFile(b"PK"))
        data = Export.objects.create(
            kind="data", requested_by=portfolio.learner, status="done", file=data_name,
            finished_at=old,
        )  # fmt: skip

        with django_capture_on_commit_callbacks(execute=True):
            call_command("purge_expired", "--yes", stdout=StringIO())

        statuses = dict(Export.objects.values_list("pk", "status"))
        assert statuses == {pdf_old.pk: "removed", pdf_young.pk: "done", data.pk: "removed"}
        assert not storage.exists(data_name)
        assert storage.exists(name)  # still handed out by the younger one
        with django_capture_on_commit_callbacks(execute=True):
            from records.retention import remove_export

            remove_export(Export.objects.get(pk=pdf_young.pk), reason="test")
        assert not storage.exists(name)

    def test_purging_a_portfolio_removes_its_pdfs_and_its_learners_data(
        self, portfolio, django_capture_on_commit_callbacks
    ):
        from portfolio.models import Portfolio
        from records.retention import purge

        other = PortfolioFactory()
        kept = Export.objects.create(
            kind="pdf", requested_by=other.assessor, portfolio=other, status="done",
            file="exports/other.pdf", finished_at=timezone.now(),
        )  # fmt: skip
        made = [
            Export.objects.create(
                kind="pdf", requested_by=portfolio.assessor, portfolio=portfolio, status="done",
                file="exports/1.pdf", finished_at=timezone.now(),
            ),
            Export.objects.create(
                kind="data", requested_by=portfolio.learner, status="done",
                file="exports/2.zip", finished_at=timezone.now(),
            ),
        ]  # fmt: skip
        Portfolio.objects.filter(pk=portfolio.pk).update(
            status="claimed", retain_until="2020-01-01"
        )

        with django_capture_on_commit_callbacks(execute=True):
            purge(Portfolio.objects.get(pk=portfolio.pk))

        assert {e.status for e in Export.objects.filter(pk__in=[e.pk for e in made])} == {"removed"}
        kept.refresh_from_db()
        assert kept.status == "done"

    def test_purging_a_portfolio_stops_the_copies_still_being_made(self, portfolio, quick_pdf):
        from portfolio.models import Portfolio
        from records.retention import purge

        pdf = services.export_request(kind="pdf", by=portfolio.assessor, portfolio=portfolio)
        data = services.export_request(kind="data", by=portfolio.learner)
        Portfolio.objects.filter(pk=portfolio.pk).update(
            status="claimed", retain_until="2020-01-01"
        )

        purge(Portfolio.objects.get(pk=portfolio.pk))
        for export in (pdf, data):
            build_export.call(export.pk)  # the worker comes to them afterwards

        for export in (pdf, data):
            export.refresh_from_db()
            assert (export.status, export.file.name) == ("failed", "")
            assert "purged" in export.error
        assert quick_pdf == []  # nothing of the purged portfolio was rendered


@pytest.mark.django_db(transaction=True)  # the heartbeat is written from its own connection
def test_a_long_build_keeps_its_heartbeat_so_it_is_not_taken_for_a_stopped_one(
    portfolio, monkeypatch
):
    monkeypatch.setattr("records.tasks.heartbeat_seconds", lambda: 0.05)
    export = Export.objects.create(kind="pdf", requested_by=portfolio.assessor, portfolio=portfolio)
    started = []

    def render_slowly(portfolio):
        started.append(Export.objects.get(pk=export.pk).heartbeat_at)
        deadline = time.monotonic() + 5
        while Export.objects.get(pk=export.pk).heartbeat_at == started[0]:
            assert time.monotonic() < deadline, "the heartbeat never moved during the build"
            time.sleep(0.02)
        return b"%PDF-1.7\n"

    monkeypatch.setattr("records.exports.render_portfolio_pdf", render_slowly)

    build_export.call(export.pk)

    assert Export.objects.get(pk=export.pk).status == "done"


def test_downloading_an_export_whose_file_is_gone_says_so(client, login, portfolio, quick_pdf):
    export = run(services.export_request(kind="pdf", by=portfolio.assessor, portfolio=portfolio))
    storages["evidence"].delete(export.file.name)
    login(portfolio.assessor)

    response = client.get(f"/exports/{export.pk}/download/", follow=True)

    assert response.redirect_chain == [(f"/exports/{export.pk}/", 302)]
    assert "The file of this export is no longer stored; start it again." in response.text
    export.refresh_from_db()
    assert export.status == "failed"
