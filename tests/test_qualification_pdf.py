"""The PDF of an enrolment: every unit its reader may see, each with its matrix, decisions,
signatures and claim, then each item of evidence once with the units it counts in, made in the
background like a portfolio's PDF."""

import datetime
import io

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from pypdf import PdfReader

from assessments.services import unit_sign_off
from assessments.signable import stored
from audit.chain import record
from audit.models import AuditEntry
from portfolio.models import Claim, Portfolio
from records import services
from records.exports import document_key
from records.models import Export
from records.pdf import _context, render_enrolment_pdf, render_portfolio_pdf
from records.retention import purge
from records.tasks import build_export
from tests import samples
from tests.assessing import sufficient
from tests.factories import EvidenceFactory, PortfolioFactory
from tests.test_exports import look_too_early
from tests.test_pdf import attach, outline_titles, text_of
from units.models import Qualification

pytestmark = pytest.mark.django_db


@pytest.fixture
def a(c4):
    """Unit C4 of an enrolment on a qualification, where the shared evidence is kept."""
    portfolio = PortfolioFactory()
    portfolio.enrolment.qualification = Qualification.objects.create(
        awarding_body="OCR",
        code="CS2-CERT",
        title="Level 2 NVQ Certificate in Customer Service",
        level=2,
        total_credits=28,
        version=1,
    )
    portfolio.enrolment.save()
    return portfolio


@pytest.fixture
def b(a, c5):
    """Unit C5 of the same enrolment, with its own assessor and IQA."""
    return PortfolioFactory(learner=a.learner, unit=c5, enrolment=a.enrolment)


@pytest.fixture
def items(a, b):
    """One item kept in C4 and claimed in C5 too, and one of each unit's own."""
    shared = EvidenceFactory(
        portfolio=a, title="The refund queue", status="submitted", contexts="a", claims=["P1"]
    )
    shared.claimed_criteria.add(b.unit.criteria.get(nos_code="P2"))
    shared.contexts.add(b.unit.contexts.get(letter="c"))
    only_a = EvidenceFactory(
        portfolio=a, title="The broken till", status="submitted", claims=["P3"]
    )
    only_b = EvidenceFactory(
        portfolio=b, title="The lost parcel", status="submitted", claims=["P4"]
    )
    return {"shared": shared, "only_a": only_a, "only_b": only_b}


def flat(text: str) -> str:
    return " ".join(text.split())


def pdf_text(data: bytes) -> str:
    return flat(text_of(PdfReader(io.BytesIO(data))))


class TestTheDocument:
    def test_each_unit_has_its_matrix_over_the_items_counting_in_it(self, a, b, items):
        context = _context(a, b, whole=True)

        numbers = {item.title: item.number for item in context["items"]}
        assert [part.unit.code for part in context["parts"]] == ["C4", "C5"]
        c4, c5 = context["parts"]
        shared = numbers["The refund queue"]
        # The same number in both matrices, and each unit's own contexts over it.
        assert [(i.number, letters) for _, cols in c4.matrix_pages for i, letters in cols] == [
            (n, letters) for n, letters in sorted([(shared, "a"), (numbers["The broken till"], "")])
        ]
        assert [(i.number, letters) for _, cols in c5.matrix_pages for i, letters in cols] == [
            (n, letters) for n, letters in sorted([(shared, "c"), (numbers["The lost parcel"], "")])
        ]
        p2 = next(c for o in c5.outcomes for c in o.criteria_list if c.nos_code == "P2")
        assert p2.marks[[i.number for i in c5.items].index(shared)] == "claimed"

    def test_it_shows_each_shared_item_once_with_the_units_it_counts_in(self, a, b, items):
        attach(items["shared"], "desk.jpg", samples.jpeg(400, 300))
        reader = PdfReader(io.BytesIO(render_enrolment_pdf([a, b])))
        text = flat(text_of(reader))

        assert "Tracking matrix: C4" in text
        assert "Tracking matrix: C5" in text
        for item in items.values():
            assert text.count(item.title) == 1
        assert text.count("Counts in C4, C5") == 1
        assert text.count("Counts in C4 ") == 1  # the broken till
        assert text.count("Counts in C5 ") == 1  # the lost parcel
        # Criteria of several units are named with their unit.
        assert "Claimed by the learner C4 1.1 (P1), C5 1.2 (P2)" in text
        titles = outline_titles(reader.outline)
        assert titles.count("OCR unit C4: Deliver customer service to difficult customers") == 1
        assert sum(title.endswith(". The refund queue") for title in titles) == 1
        [photo] = items["shared"].files.all()
        assert list(reader.attachments) == [f"{photo.pk}-desk.jpg"]
        assert len(reader.attachments[f"{photo.pk}-desk.jpg"]) == 1
        assert reader.metadata.title == (f"{a.learner}: OCR qualification CS2-CERT portfolio")
        assert "Level 2 NVQ Certificate in Customer Service" in text

    def test_each_unit_has_its_own_signatures(self, a, b, items):
        sufficient(a)
        unit_sign_off(portfolio=a, by=a.assessor)

        text = pdf_text(render_enrolment_pdf([a, b]))

        c4, c5 = text.index("Signatures: C4"), text.index("Signatures: C5")
        assert c4 < text.index("Assessor's unit sign-off: VALID", c4) < c5
        assert text.index("No signatures yet.", c5) < text.index("Claim: C5")
        assert text.count("Assessor's unit sign-off") == 1

    def test_each_unit_shows_its_claim(self, a, b, items):
        Portfolio.objects.filter(pk=a.pk).update(
            status=Portfolio.Status.CLAIMED,
            claimed_at=timezone.make_aware(datetime.datetime(2026, 11, 20, 10)),
            claim_reference="OCR-2026-0042",
        )

        text = pdf_text(render_enrolment_pdf([a, b]))

        c4, c5 = text.index("Claim: C4"), text.index("Claim: C5")
        assert (
            text.index(
                "Claimed from the awarding body on 20 November 2026, reference OCR-2026-0042", c4
            )
            < c5
        )
        assert "Not claimed yet." in text[c5:]

    @pytest.mark.parametrize(
        ("kind", "words"),
        [
            (Claim.Kind.FULL_AWARD, "with the full award of OCR qualification CS2-CERT"),
            (Claim.Kind.UNITS, "as a unit on its own"),
        ],
    )
    def test_a_claim_says_whether_it_was_the_full_award_or_the_unit(self, a, b, items, kind, words):
        claim = Claim.objects.create(
            enrolment=a.enrolment, kind=kind, claimed_at=timezone.now(), reference="R1"
        )
        Portfolio.objects.filter(pk=a.pk).update(
            status=Portfolio.Status.CLAIMED,
            claim=claim,
            claimed_at=timezone.make_aware(datetime.datetime(2026, 11, 20, 10)),
            claim_reference="R1",
        )

        # Words as read back from the PDF: a line may break after "CS2-".
        text = " ".join(pdf_text(render_enrolment_pdf([a, b])).split()).replace("- ", "-")

        assert f"Claimed from the awarding body on 20 November 2026 {words}, reference R1" in text

    def test_it_ends_with_each_units_records_digest(self, a, b, items):
        text = pdf_text(render_enrolment_pdf([a, b])).replace(" ", "")

        proof = text.index("Proofofthisrecord")
        for portfolio in (a, b):
            unit = portfolio.unit.code
            assert text.index(f"Recordsdigest:{unit}{stored(portfolio).digest}") > proof

    def test_a_document_of_some_units_says_how_many_are_not_in_it(self, a, b, items):
        text = pdf_text(render_enrolment_pdf([a]))

        assert "Tracking matrix: C4" in text
        assert "Tracking matrix: C5" not in text
        assert "The lost parcel" not in text
        assert "Counts in C4, C5" in text
        assert "1 more unit of this enrolment, not open to the person who asked for it" in text

    def test_one_units_document_names_the_other_units_a_shared_item_counts_in(self, a, b, items):
        reader = PdfReader(io.BytesIO(render_portfolio_pdf(a)))
        text = flat(text_of(reader))

        assert "Counts in C4, C5" in text
        assert "The lost parcel" not in text
        assert "Not in it" not in text  # one unit's document, not the enrolment's
        assert reader.metadata.title == f"{a.learner}: OCR unit C4 portfolio"


@pytest.mark.parametrize("count", [1, 12])
def test_the_document_runs_a_fixed_number_of_queries(a, b, django_assert_num_queries, count):
    for _ in range(count):
        item = EvidenceFactory(portfolio=a, status="accepted", contexts="ab", claims=["P1"])
        item.claimed_criteria.add(b.unit.criteria.get(nos_code="P2"))
        EvidenceFactory(portfolio=b, status="accepted", contexts="a", claims=["P3"])

    # Expect 32 queries: the enrolment's units; the evidence with its contexts, claims, files,
    # mappings and reviews (6); the decisions; the criteria, the outcomes and the contexts; the
    # samples and the EQA reviews; coverage (8); the planning: initial assessments, breaks in
    # learning, plans, progress reviews (none here); each unit's signatures and stored record (2
    # each); the audit trail, and the learner's and the centre's chain (one query each)
    with django_assert_num_queries(32):
        render_enrolment_pdf([a, b])


@pytest.fixture
def quick_pdf(monkeypatch):
    """Rendering counted, and fast: what matters here is who gets what, when and how often."""
    rendered = []

    def render(portfolios):
        rendered.append(sorted(p.pk for p in portfolios))
        return b"%PDF-1.7\n" + str(len(rendered)).encode()

    monkeypatch.setattr("records.exports.render_enrolment_pdf", render)
    return rendered


def ask(client, enrolment) -> Export:
    response = client.post(f"/enrolments/{enrolment.pk}/export.pdf")
    assert response.status_code == 302, response
    return Export.objects.get(pk=int(response.url.strip("/").split("/")[-1]))


def run(export: Export) -> Export:
    build_export.call(export.pk)
    export.refresh_from_db()
    return export


def download(client, export: Export):
    return client.get(f"/exports/{export.pk}/download/")


class TestTheExport:
    def test_the_enrolment_and_portfolio_pages_ask_for_it_by_post(self, client, login, a, b):
        login(a.assessor)
        url = f"/enrolments/{a.enrolment_id}/export.pdf"

        assert (
            f'<form method="post" action="{url}"'
            in client.get(f"/enrolments/{a.enrolment_id}/").text
        )
        assert f'<form action="{url}" method="post">' in client.get(f"/portfolios/{a.pk}/").text
        assert client.get(url).status_code == 405
        assert not Export.objects.exists()

    def test_a_portfolio_entered_for_single_units_offers_only_its_own_pdf(self, client, login):
        portfolio = PortfolioFactory()
        login(portfolio.assessor)

        page = client.get(f"/portfolios/{portfolio.pk}/").text

        assert f"/enrolments/{portfolio.enrolment_id}/export.pdf" not in page
        assert f"/portfolios/{portfolio.pk}/export.pdf" in page

    def test_the_request_queues_the_units_the_person_may_see(
        self, client, login, a, b, make_grant, quick_pdf
    ):
        eqa = make_grant(portfolios=[a]).eqa
        login(eqa)

        export = ask(client, a.enrolment)

        assert (export.kind, export.status, export.enrolment) == (
            "qualification",
            "queued",
            a.enrolment,
        )
        assert export.portfolio_ids == [a.pk]
        [task] = DBTaskResult.objects.all()
        assert task.args_kwargs["args"] == [export.pk]
        assert run(export).status == "done"
        assert quick_pdf == [[a.pk]]
        page = client.get(f"/exports/{export.pk}/").text
        assert "PDF of OCR qualification CS2-CERT" in page
        assert "Download the PDF" in page
        response = download(client, export)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        name = f"qualification-{a.learner.username}-CS2-CERT.pdf"
        assert response["Content-Disposition"] == f'attachment; filename="{name}"'

    def test_every_unit_the_centre_administrator_sees_is_in_theirs(
        self, client, login, a, b, make_user
    ):
        login(make_user(centre_admin=True))

        assert ask(client, a.enrolment).portfolio_ids == sorted([a.pk, b.pk])

    def test_a_person_without_access_starts_nothing(self, client, login, a, make_user):
        login(make_user(learner=True))

        assert client.post(f"/enrolments/{a.enrolment_id}/export.pdf").status_code == 404
        assert not Export.objects.exists()

    def test_a_second_request_goes_to_the_one_under_way(self, client, login, a, b):
        login(a.learner)

        first, second = ask(client, a.enrolment), ask(client, a.enrolment)

        assert first == second
        assert DBTaskResult.objects.count() == 1
        with pytest.raises(IntegrityError), transaction.atomic():
            Export.objects.create(
                kind="qualification", requested_by=a.learner, enrolment=a.enrolment
            )

    def test_two_requests_at_the_same_moment_make_one(self, a, b, monkeypatch):
        asking = {"kind": "qualification", "by": a.learner, "enrolment": a.enrolment}
        first = services.export_request(**asking, portfolio_ids=[a.pk, b.pk])
        look_too_early(monkeypatch)

        assert services.export_request(**asking, portfolio_ids=[a.pk, b.pk]) == first
        assert Export.objects.count() == 1

    def test_a_unit_added_to_the_enrolment_unseen_by_the_reader_makes_a_new_file(self, a, c5):
        # The cover counts the units left out, so the same units shown are not the same file.
        key = document_key([a])

        PortfolioFactory(learner=a.learner, unit=c5, enrolment=a.enrolment)

        assert document_key([a]) != key

    def test_an_unchanged_enrolment_gets_the_same_file_and_any_change_a_new_one(
        self, client, login, a, b, make_user, quick_pdf
    ):
        login(a.learner)
        first = run(ask(client, a.enrolment))
        login(make_user(centre_admin=True))  # another person, seeing the same units

        second = ask(client, a.enrolment)

        assert second.status == "done"  # at once, with no task
        assert second.file.name == first.file.name
        assert quick_pdf == [[a.pk, b.pk]]
        record("portfolio.viewed", actor=b.iqa, portfolio=b, summary="x")
        login(a.learner)
        third = ask(client, a.enrolment)
        assert third.status == "queued"
        assert run(third).reuse_key != first.reuse_key
        assert len(quick_pdf) == 2

    def test_each_download_is_audited_as_an_export_of_each_unit(
        self, client, login, a, b, quick_pdf
    ):
        login(a.learner)
        export = run(ask(client, a.enrolment))

        assert download(client, export).status_code == 200

        exported = AuditEntry.objects.filter(action="portfolio.exported").order_by("pk")
        assert [(e.actor, e.portfolio) for e in exported] == [(a.learner, a), (a.learner, b)]
        assert exported[0].summary == (
            f"{a.learner} exported the portfolio in the PDF of OCR qualification CS2-CERT"
        )

    def test_a_unit_no_longer_granted_keeps_the_file_from_the_eqa(
        self, client, login, a, b, make_grant, quick_pdf
    ):
        grant = make_grant(portfolios=[a, b])
        login(grant.eqa)
        export = run(ask(client, a.enrolment))
        assert download(client, export).status_code == 200

        grant.portfolios.set([a])

        assert client.get(f"/exports/{export.pk}/").status_code == 404
        assert download(client, export).status_code == 404

    def test_purging_one_of_its_units_removes_it(
        self, client, login, a, b, quick_pdf, django_capture_on_commit_callbacks
    ):
        login(a.learner)
        ready = run(ask(client, a.enrolment))
        Portfolio.objects.filter(pk=b.pk).update(status="claimed", retain_until="2020-01-01")

        with django_capture_on_commit_callbacks(execute=True):
            purge(Portfolio.objects.get(pk=b.pk))

        ready.refresh_from_db()
        assert ready.status == "removed"

    def test_a_failed_build_may_be_started_again_from_its_page(
        self, client, login, a, b, monkeypatch
    ):
        def broken(portfolios):
            raise RuntimeError("the fonts are missing")

        monkeypatch.setattr("records.exports.render_enrolment_pdf", broken)
        login(a.learner)
        export = ask(client, a.enrolment)

        with pytest.raises(RuntimeError):
            build_export.call(export.pk)

        page = client.get(f"/exports/{export.pk}/").text
        assert "It failed: the fonts are missing" in page
        assert f'<form method="post" action="/enrolments/{a.enrolment_id}/export.pdf">' in page
        assert ask(client, a.enrolment) != export
