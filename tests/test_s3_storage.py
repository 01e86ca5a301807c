"""Evidence on S3-compatible object storage, against moto's S3 server on the loopback address,
with the storage configured from the environment exactly as a deployment does."""

import hashlib
import importlib
import io
import random
import zipfile
from io import StringIO
from pathlib import Path

import boto3
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from moto.server import ThreadedMotoServer
from pypdf import PdfReader
from storages.backends.s3 import S3File

from portfolio.files import atomic_with_files, prepare_upload, store_file
from portfolio.models import EvidenceFile, Portfolio
from records.models import Export
from records.retention import purge
from records.tasks import build_export
from tests import samples
from tests.assessing import sufficient
from tests.factories import EvidenceFactory, edit_form_data
from tests.servers import free_port

BUCKET = "centre-evidence"


@pytest.fixture(scope="module")
def s3_server():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_server, settings, monkeypatch):
    """An empty private bucket, and the settings a deployment gets from these variables."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")
    environment = {
        "EVIDENCE_S3_BUCKET": BUCKET,
        "EVIDENCE_S3_ENDPOINT_URL": s3_server,
        "EVIDENCE_S3_REGION": "eu-west-2",
        "EVIDENCE_S3_ACCESS_KEY_ID": "centre-key",
        "EVIDENCE_S3_SECRET_ACCESS_KEY": "centre-secret",
        "EVIDENCE_S3_ADDRESSING_STYLE": "path",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    deployed = importlib.reload(importlib.import_module("config.settings"))
    s3 = boto3.resource(
        "s3",
        endpoint_url=s3_server,
        region_name="eu-west-2",
        aws_access_key_id="centre-key",
        aws_secret_access_key="centre-secret",
    )
    bucket = s3.Bucket(BUCKET)
    if bucket.creation_date is None:
        bucket.create(CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    bucket.objects.all().delete()
    settings.STORAGES = {
        **settings.STORAGES,
        **{k: deployed.STORAGES[k] for k in ("default", "evidence")},
    }
    yield bucket
    bucket.objects.all().delete()


def objects(bucket) -> dict[str, str]:
    return {o.key: hashlib.sha256(o.get()["Body"].read()).hexdigest() for o in bucket.objects.all()}


def local_files() -> list[Path]:
    return [p for p in Path(settings.PRIVATE_FILES_ROOT).rglob("*") if p.is_file()]


def upload(client, draft, *files):
    """The learner adds files to a draft through its edit form."""
    response = client.post(f"/evidence/{draft.pk}/edit/", edit_form_data(draft, files=list(files)))
    assert response.status_code == 302, response.context["form"].errors
    return response


def test_the_settings_keep_the_bucket_private(bucket, settings):
    options = settings.STORAGES["evidence"]["OPTIONS"]
    assert settings.STORAGES["evidence"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert settings.STORAGES["default"] == settings.STORAGES["evidence"]
    assert options["default_acl"] is None
    assert options["querystring_auth"] is True
    assert options["bucket_name"] == BUCKET
    assert options["addressing_style"] == "path"


@pytest.mark.django_db
def test_an_upload_goes_to_the_bucket_and_is_served_only_through_the_view(
    bucket, client, login, portfolio, make_user
):
    draft = EvidenceFactory(portfolio=portfolio, contexts="a", claims=["P1"])
    login(portfolio.learner)
    photo, letter = samples.jpeg(800, 600), samples.pdf()

    upload(client, draft, samples.upload("desk.jpg", photo), samples.upload("letter.pdf", letter))

    stored = {f.original_name: f for f in EvidenceFile.objects.filter(evidence=draft)}
    in_bucket = objects(bucket)
    assert in_bucket[stored["letter.pdf"].file.name] == hashlib.sha256(letter).hexdigest()
    assert in_bucket[stored["desk.jpg"].file.name] == stored["desk.jpg"].sha256
    assert stored["desk.jpg"].screen.name in in_bucket
    assert stored["desk.jpg"].print_version.name in in_bucket
    assert not local_files()
    for key in in_bucket:
        grants = bucket.Object(key).Acl().grants
        assert not [g for g in grants if g["Grantee"].get("URI")], "no public or group grant"

    response = client.get(f"/files/{stored['letter.pdf'].pk}/")
    assert response.status_code == 200  # streamed, never a redirect to the bucket
    assert b"".join(response.streaming_content) == letter
    assert response["Content-Type"] == "application/pdf"
    screen = client.get(f"/files/{stored['desk.jpg'].pk}/screen/")
    assert b"".join(screen.streaming_content).startswith(b"\xff\xd8")
    login(make_user())
    assert client.get(f"/files/{stored['letter.pdf'].pk}/").status_code == 404


def test_a_file_is_streamed_from_the_bucket_as_it_arrives(
    bucket, client, login, portfolio, monkeypatch
):
    draft = EvidenceFactory(portfolio=portfolio, contexts="a", claims=["P1"])
    login(portfolio.learner)
    # Larger than one block of the response: a page with 3 MB of content that does not compress.
    noise = random.Random(7).randbytes(3 * 1024 * 1024)
    letter = samples.pdf(
        lambda document: setattr(document.pages[0], "Contents", document.make_stream(noise))
    )
    upload(client, draft, samples.upload("letter.pdf", letter))
    stored = EvidenceFile.objects.get()

    def copied_whole(self):
        raise AssertionError("the object was copied to a temporary file before serving")

    # django-storages' file downloads the whole object into a temporary file on first read.
    monkeypatch.setattr(S3File, "file", property(copied_whole))
    response = client.get(f"/files/{stored.pk}/")

    assert response.status_code == 200
    assert int(response["Content-Length"]) == len(letter)
    chunks = list(response.streaming_content)
    assert len(chunks) > 1
    assert b"".join(chunks) == letter


@pytest.mark.django_db
def test_the_pdf_embeds_files_read_from_the_bucket(bucket, client, login, portfolio):
    sufficient(portfolio)
    item = portfolio.evidence.filter(answers_question=None).first()
    letter = samples.pdf()
    with atomic_with_files() as written:
        for name, data in [("desk.jpg", samples.jpeg(800, 600)), ("letter.pdf", letter)]:
            prepared = prepare_upload(samples.upload(name, data))
            store_file(item, prepared, by=portfolio.learner, written=written)
    photo, pdf = (
        item.files.get(original_name="desk.jpg"),
        item.files.get(original_name="letter.pdf"),
    )
    assert not local_files()
    login(portfolio.learner)

    client.post(f"/portfolios/{portfolio.pk}/export.pdf")
    export = Export.objects.get()
    build_export.call(export.pk)  # as the worker does
    assert Export.objects.get().file.name in objects(bucket)
    response = client.get(f"/exports/{export.pk}/download/")

    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(b"".join(response.streaming_content)))
    attached = {name: content for name, [content] in reader.attachments.items()}
    assert attached[f"{pdf.pk}-letter.pdf"] == letter
    assert hashlib.sha256(attached[f"{photo.pk}-desk.jpg"]).hexdigest() == photo.sha256
    images = [image for page in reader.pages for image in page.images]
    assert images, "the photo's print rendition is laid out in the document"


@pytest.mark.django_db
def test_removing_a_file_and_purging_a_portfolio_delete_from_the_bucket(
    bucket, client, login, portfolio, django_capture_on_commit_callbacks
):
    draft = EvidenceFactory(portfolio=portfolio, contexts="a", claims=["P1"])
    login(portfolio.learner)
    upload(client, draft, samples.upload("desk.jpg", samples.jpeg()),
           samples.upload("letter.pdf", samples.pdf()))  # fmt: skip
    photo = draft.files.get(original_name="desk.jpg")

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/files/{photo.pk}/remove/")

    assert sorted(objects(bucket)) == [draft.files.get().file.name]
    Portfolio.objects.filter(pk=portfolio.pk).update(
        status=Portfolio.Status.CLAIMED, retain_until="2020-01-01"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert purge(portfolio) == 1
    assert objects(bucket) == {}


@pytest.mark.django_db(transaction=True)  # the worker and the restore need their own transactions
def test_a_bulk_export_a_backup_and_a_restore_work_through_the_bucket(
    bucket, client, login, portfolio, make_grant, tmp_path
):
    draft = EvidenceFactory(portfolio=portfolio, contexts="a", claims=["P1"])
    login(portfolio.learner)
    upload(client, draft, samples.upload("desk.jpg", samples.jpeg()),
           samples.upload("letter.pdf", samples.pdf()))  # fmt: skip
    grant = make_grant(portfolios=[portfolio])
    login(grant.eqa)
    client.post("/exports/", {"portfolios": [portfolio.pk]})
    call_command("db_worker", "--batch", "--no-startup-delay", stdout=StringIO(), stderr=StringIO())

    export = Export.objects.get()
    assert export.file.name in objects(bucket)  # so any web process can hand it out
    download = client.get(f"/exports/{export.pk}/download/")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert [archive.read(n)[:4] for n in archive.namelist()] == [b"%PDF"]
    assert not local_files()
    before = objects(bucket)

    call_command("backup", str(tmp_path / "backup"), stdout=StringIO())
    call_command("flush", interactive=False)
    bucket.objects.all().delete()
    output = StringIO()
    call_command("restore", str(tmp_path / "backup"), stdout=output)

    assert "everything is intact" in output.getvalue()
    assert objects(bucket) == before
    assert not local_files()


@pytest.mark.django_db
def test_sweep_storage_finds_and_removes_objects_no_row_names(bucket, client, login, portfolio):
    draft = EvidenceFactory(portfolio=portfolio, contexts="a", claims=["P1"])
    login(portfolio.learner)
    upload(client, draft, samples.upload("letter.pdf", samples.pdf()))
    kept = EvidenceFile.objects.get(evidence=draft)
    bucket.put_object(Key="evidence/9/9/left-behind.jpg", Body=b"partial")
    lost = EvidenceFile.objects.create(
        evidence=draft,
        file="evidence/9/9/gone.pdf",
        original_name="gone.pdf",
        content_type="application/pdf",
        kind=EvidenceFile.Kind.PDF,
        size=1,
        sha256="0" * 64,
        uploaded_sha256="0" * 64,
        uploaded_by=portfolio.learner,
    )
    out = StringIO()

    with pytest.raises(CommandError, match="1 records' files are missing"):
        call_command("sweep_storage", "--remove", "--grace-hours", "0", stdout=out)

    assert "Removed (no record names it): evidence/9/9/left-behind.jpg" in out.getvalue()
    assert (
        f"Missing from the store: EvidenceFile {lost.pk} file: {lost.file.name}" in out.getvalue()
    )
    assert set(objects(bucket)) == {kept.file.name}
