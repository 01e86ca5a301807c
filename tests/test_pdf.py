import hashlib
import io
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from assessments.services import unit_sign_off
from audit.models import AuditEntry
from portfolio.files import atomic_with_files, prepare_upload, store_file
from portfolio.models import EvidenceFile, EvidenceItem
from portfolio.services import file_check
from records.pdf import PortfolioFetcher, RefusedURL, render_portfolio_pdf
from tests import samples
from tests.assessing import sufficient
from tests.factories import EvidenceFactory, PortfolioFactory

pytestmark = pytest.mark.django_db


def attach(item, name, data):
    prepared = prepare_upload(samples.upload(name, data))
    with atomic_with_files() as written:
        stored = store_file(item, prepared, by=item.portfolio.learner, written=written)
    if prepared.checked_later:  # as the background worker does
        file_check(file_id=stored.pk)
        stored.refresh_from_db()
    return stored


@pytest.fixture
def complete(portfolio, settings):
    sufficient(portfolio)
    first = EvidenceItem.objects.filter(portfolio=portfolio, answers_question=None).first()
    photo = attach(first, "desk.jpg", samples.jpeg(800, 600))
    letter = attach(first, "letter.pdf", samples.pdf())
    big = attach(first, "recording.wav", samples.wav())
    settings.PDF_ATTACHMENT_MAX_BYTES = 30_000  # the recording is over the cap
    assert big.size > settings.PDF_ATTACHMENT_MAX_BYTES
    assert big.is_ready
    unit_sign_off(portfolio=portfolio, by=portfolio.assessor)
    portfolio.files = {"photo": photo, "letter": letter, "big": big}
    return portfolio


@pytest.fixture
def reader(complete):
    return PdfReader(io.BytesIO(render_portfolio_pdf(complete)))


def text_of(reader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def outline_titles(outline) -> list[str]:
    titles = []
    for entry in outline:
        if isinstance(entry, list):
            titles.extend(outline_titles(entry))
        else:
            titles.append(entry.title)
    return titles


def test_it_holds_every_criterion_with_both_codes(reader, complete):
    text = text_of(reader)

    for criterion in complete.unit.criteria.all():
        assert f"{criterion.number} ({criterion.nos_code})" in text
        assert f"NOS {criterion.nos_code}:" in text


def test_it_holds_the_contexts_evidence_signatures_and_audit_trail(reader, complete):
    text = " ".join(text_of(reader).split())

    for context in complete.unit.contexts.all():
        assert f"{context.letter} {context.staff_description}" in text
    for item in complete.evidence.exclude(status="draft"):
        assert item.title in text
    assert "Assessor's unit sign-off: VALID" in text
    assert "Sufficient: every condition for sign-off is met." in text
    packed = text.replace(" ", "")  # table cells wrap long lines anywhere
    for entry in AuditEntry.objects.filter(portfolio=complete).order_by("sequence"):
        assert entry.summary.replace(" ", "") in packed
    assert complete.files["photo"].sha256 in packed


def test_it_has_an_outline_page_numbers_and_metadata(reader, complete):
    titles = outline_titles(reader.outline)

    assert "1 Recognise when customers may be difficult to deal with" in titles
    assert "1.1 (P1)" in titles
    assert "3.10 (K10)" in titles
    first = complete.evidence.exclude(status="draft").order_by("occurred_on", "pk").first()
    assert f"1. {first.title}" in titles
    assert f"page 1 of {len(reader.pages)}" in reader.pages[0].extract_text()
    assert reader.metadata.title == f"{complete.learner}: OCR unit C4 portfolio"
    assert reader.metadata.author == "Demo Training Centre"


def test_files_are_attached_up_to_the_cap_with_matching_hashes(reader, complete):
    attachments = reader.attachments
    photo, letter, big = (complete.files[k] for k in ("photo", "letter", "big"))

    for stored in (photo, letter):
        [content] = attachments[f"{stored.pk}-{stored.original_name}"]
        assert hashlib.sha256(content).hexdigest() == stored.sha256
    assert f"{big.pk}-{big.original_name}" not in attachments
    assert "held by the centre" in " ".join(text_of(reader).split())


def test_a_file_still_being_checked_is_not_in_the_pdf(complete):
    evidence = complete.files["letter"].evidence
    prepared = prepare_upload(samples.upload("call.m4a", samples.m4a()))
    with atomic_with_files() as written:
        store_file(evidence, prepared, by=complete.learner, written=written)

    reader = PdfReader(io.BytesIO(render_portfolio_pdf(complete)))

    assert "call.m4a" not in " ".join(text_of(reader).split())
    assert not [name for name in reader.attachments if name.endswith("call.m4a")]
    assert "letter.pdf" in " ".join(text_of(reader).split())


def test_a_signature_broken_after_signing_shows_as_broken(complete):
    letter = EvidenceFile.objects.get(pk=complete.files["letter"].pk)
    letter.sha256 = "0" * 64
    letter.save()

    text = text_of(PdfReader(io.BytesIO(render_portfolio_pdf(complete))))

    assert "Assessor's unit sign-off: BROKEN" in text
    assert "The file 'letter.pdf'" in text


def test_learner_text_is_printed_never_obeyed(portfolio):
    EvidenceFactory(
        portfolio=portfolio,
        status="submitted",
        account='<b>bold</b><img src="file:///etc/passwd"><link rel=stylesheet href="http://127.0.0.1/">',
    )

    text = text_of(PdfReader(io.BytesIO(render_portfolio_pdf(portfolio))))

    assert '<img src="file:///etc/passwd">' in text.replace("\n", "")


class TestFetcher:
    @pytest.fixture
    def fetcher(self, complete):
        return PortfolioFetcher({f.pk: f for f in complete.files.values()})

    def test_it_reads_this_portfolios_files_and_our_static_files(self, fetcher, complete):
        photo = complete.files["photo"]

        assert fetcher.fetch(f"portfolio-file:{photo.pk}/print").headers["Content-Type"] == (
            "image/jpeg"
        )
        assert fetcher.fetch("static:pdf/portfolio.css").headers["Content-Type"] == "text/css"

    @pytest.mark.parametrize(
        "url",
        [
            "file:///etc/passwd",
            "http://127.0.0.1:8000/admin/",
            "http://[::1]/",
            "https://example.org/logo.png",
            "static:../../portfolio/settings.py",
            "static:pdf/../../../manage.py",
            "data:text/plain,hello",
        ],
    )
    def test_it_refuses_everything_else(self, fetcher, url):
        with pytest.raises(RefusedURL):
            fetcher.fetch(url)

    def test_it_refuses_another_portfolios_file(self, fetcher, c4):
        other = EvidenceFactory(portfolio=PortfolioFactory(), status="submitted")
        stranger = attach(other, "other.jpg", samples.jpeg())

        with pytest.raises(RefusedURL, match="not a file of this portfolio"):
            fetcher.fetch(f"portfolio-file:{stranger.pk}/print")


class TestExport:
    def test_everyone_entitled_gets_the_pdf_and_it_is_audited(
        self, client, login, portfolio, make_grant
    ):
        from records.models import Export
        from records.tasks import build_export

        people = [portfolio.learner, portfolio.assessor, portfolio.iqa]
        for person in [*people, make_grant(portfolios=[portfolio]).eqa]:
            login(person)
            started = client.post(f"/portfolios/{portfolio.pk}/export.pdf")
            export = Export.objects.get(requested_by=person)
            assert started.url == f"/exports/{export.pk}/"
            if export.status == "queued":
                build_export.call(export.pk)  # as the worker does
            response = client.get(f"/exports/{export.pk}/download/")
            assert response.status_code == 200
            assert response["Content-Type"] == "application/pdf"
            assert b"".join(response.streaming_content).startswith(b"%PDF")
        # Built once: the others had the same PDF of the unchanged portfolio.
        assert Export.objects.values("file").distinct().count() == 1
        assert AuditEntry.objects.filter(action="portfolio.exported").count() == 4

    def test_a_person_without_access_gets_no_pdf(self, client, login, portfolio, make_user):
        login(make_user(learner=True))

        assert client.get(f"/portfolios/{portfolio.pk}/export.pdf").status_code == 404
        assert client.post(f"/portfolios/{portfolio.pk}/export.pdf").status_code == 404

    def test_the_command_writes_the_pdf(self, complete, tmp_path):
        out = StringIO()
        target = tmp_path / "portfolio.pdf"

        call_command(
            "export_portfolio", complete.learner.username, "--output", str(target), stdout=out
        )

        assert target.read_bytes().startswith(b"%PDF")
        assert "Wrote" in out.getvalue()
        call_command("export_portfolio", str(complete.pk), "--output", str(target), stdout=out)
        with pytest.raises(CommandError, match="No portfolio for 'nobody'"):
            call_command("export_portfolio", "nobody", "--output", str(target))


@pytest.mark.parametrize("items", [1, 12])
def test_building_the_export_runs_a_fixed_number_of_queries(
    portfolio, django_assert_num_queries, items
):
    EvidenceFactory.create_batch(
        items, portfolio=portfolio, status="accepted", contexts="ab", claims=["P1"]
    )

    # Expect 30 queries: the portfolio; the evidence with its contexts, claims, files, mappings
    # and reviews (6); the criteria and the outcomes; the decisions; coverage (8); the unit's
    # contexts; the signatures; the stored signable record (its digest is printed); the samples,
    # the EQA reviews; the planning: initial assessments, breaks in learning, plans, progress
    # reviews (none here, so nothing of theirs is prefetched); the audit trail, and the
    # learner's and the centre's chain as of their last entry that records no copy (one query
    # each)
    with django_assert_num_queries(30):
        render_portfolio_pdf(portfolio)
