import hashlib
import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import CommandError, call_command

from assessments.signatures import signature_rows
from audit.chain import record, verify_chains
from portfolio.files import atomic_with_files, prepare_upload, store_file
from portfolio.models import EvidenceFile, EvidenceItem, Portfolio, User
from records.backup import backed_up_models
from records.models import Export
from tests import samples
from tests.factories import EvidenceFactory

# Restoring empties tables, which PostgreSQL does only outside a transaction with pending checks.
pytestmark = pytest.mark.django_db(transaction=True)


def attach(item, name, data):
    with atomic_with_files() as written:
        return store_file(
            item, prepare_upload(samples.upload(name, data)), by=item.portfolio.learner,
            written=written,
        )  # fmt: skip


def run(command, *args, **options):
    out = StringIO()
    call_command(command, *map(str, args), stdout=out, **options)
    return out.getvalue()


def every_row() -> dict[str, list]:
    """Each backed-up table's rows, and each many-to-many link, as comparable values (content
    types and permissions by name, as migrate gives them ids of its own)."""
    rows = {}
    for model in backed_up_models():
        skip = {f.attname for f in model._meta.concrete_fields if f.related_model is ContentType}
        rows[model._meta.label_lower] = [
            {k: v for k, v in row.items() if k not in skip}
            for row in model._default_manager.order_by("pk").values()
        ]
        for m2m in model._meta.many_to_many:
            links = getattr(model, m2m.name).through.objects.all()
            source, target = m2m.m2m_field_name(), m2m.m2m_reverse_field_name()
            target += "__codename" if m2m.related_model is Permission else "_id"
            rows[f"{model._meta.label_lower}.{m2m.name}"] = sorted(
                links.values_list(f"{source}_id", target)
            )
    return rows


def stored_hashes() -> dict[str, str]:
    root = Path(settings.PRIVATE_FILES_ROOT)
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file()
    }


def empty_the_file_store():
    root = Path(settings.PRIVATE_FILES_ROOT)
    shutil.rmtree(root)
    root.mkdir()


@pytest.fixture
def centre(c4):
    """The demo centre (learner1 signed, declared and countersigned, learner2 half way on the
    example qualification, with photos), plus a PDF, a finished bulk export's ZIP, a group and a
    permission."""
    run("seed_demo")
    draft = EvidenceItem.objects.filter(portfolio__learner__username="learner3").first()
    attach(draft, "letter.pdf", samples.pdf())
    admin = User.objects.get(username="admin")
    export = Export.objects.create(
        requested_by=admin, portfolio_ids=[1], status=Export.Status.DONE, size=3
    )
    export.file.name = storages["evidence"].save(f"exports/{export.pk}.zip", ContentFile(b"zip"))
    export.save()
    group = Group.objects.create(name="Centre office")
    group.permissions.add(Permission.objects.get(codename="view_portfolio"))
    admin.groups.add(group)
    admin.user_permissions.add(Permission.objects.get(codename="view_evidenceitem"))
    return Portfolio.objects.get(learner__username="learner1")


def test_a_backup_restores_into_an_empty_database_exactly(centre, tmp_path):
    rows, files = every_row(), stored_hashes()
    signatures = {p.pk: [s.valid for s in signature_rows(p)] for p in Portfolio.objects.all()}
    assert signatures[centre.pk] == [True, True, True, True]  # sign-off, declaration, IQA's two
    assert EvidenceFile.objects.filter(evidence__portfolio=centre).exists()

    output = run("backup", tmp_path / "backup")
    # learner1's four, and the plans' and the review's: learner2's plan (the assessor's and the
    # learner's) and review (the same two), learner3's plan (the assessor's)
    assert "9 of 9 signatures valid" in output
    run("flush", interactive=False)
    empty_the_file_store()
    assert not User.objects.exists()
    assert not stored_hashes()

    output = run("restore", tmp_path / "backup")

    # learner1's C4, learner2's C4 and example unit EX1, learner3's C4
    assert "4 portfolios, 10 evidence files, 9 of 9 signatures valid" in output
    assert "everything is intact" in output
    assert every_row() == rows
    assert stored_hashes() == files
    for evidence_file in EvidenceFile.objects.all():
        with storages["evidence"].open(evidence_file.file.name, "rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == evidence_file.sha256
    assert {p.pk: [s.valid for s in signature_rows(p)] for p in Portfolio.objects.all()} == (
        signatures
    )
    assert Portfolio.objects.get(pk=centre.pk).status == Portfolio.Status.VERIFIED
    verified = verify_chains()
    checked, broken = verified.entries, verified.broken
    assert broken is None
    assert checked == len(rows["audit.auditentry"])
    # New rows take new ids: the sequences continue after the restored rows.
    newcomer = User.objects.create(username="newcomer")
    assert newcomer.pk > max(row["id"] for row in rows["portfolio.user"])
    record("test.after_restore", actor=newcomer, summary="The first entry after the restore")
    assert verify_chains().broken is None
    assert User.objects.get(username="admin").has_perm("portfolio.view_evidenceitem")


@pytest.fixture
def backed_up(portfolio, tmp_path):
    item = EvidenceFactory(portfolio=portfolio, status="submitted")
    attach(item, "letter.pdf", samples.pdf())
    attach(item, "photo.jpg", samples.jpeg(400, 300))
    run("backup", tmp_path / "backup")
    return tmp_path / "backup"


def test_a_non_empty_database_is_refused(backed_up):
    rows = every_row()

    with pytest.raises(CommandError, match=r"The database is not empty \(it holds 3 users, 1 "):
        run("restore", backed_up)

    assert every_row() == rows


def test_with_force_the_database_is_replaced(backed_up, make_user):
    rows = every_row()
    make_user(username="added-after-the-backup")

    output = run("restore", backed_up, force=True)

    assert "everything is intact" in output
    assert every_row() == rows
    assert not User.objects.filter(username="added-after-the-backup").exists()


def edit_a_photo(backup: Path):
    photo = next(p for p in (backup / "files").rglob("*.jpg") if "-" not in p.name)
    photo.write_bytes(photo.read_bytes()[:-10] + b"\0" * 10)
    return "has changed"


def remove_the_letter(backup: Path):
    next((backup / "files").rglob("*.pdf")).unlink()
    return "is missing"


def edit_a_database_file(backup: Path):
    dump = backup / "database" / "portfolio-evidencefile.json"
    rows = json.loads(dump.read_text())
    rows[0]["fields"]["sha256"] = "0" * 64
    dump.write_text(json.dumps(rows))
    return "database/portfolio-evidencefile.json has changed"


def remove_the_manifest(backup: Path):
    (backup / "manifest.json").unlink()
    return "holds no manifest.json, so it is not a complete backup"


@pytest.mark.parametrize(
    "tamper", [edit_a_photo, remove_the_letter, edit_a_database_file, remove_the_manifest]
)
def test_a_damaged_backup_restores_nothing(backed_up, tamper):
    expected = tamper(backed_up)
    run("flush", interactive=False)
    empty_the_file_store()

    with pytest.raises(CommandError, match="nothing was restored") as error:
        run("restore", backed_up)

    assert expected in str(error.value)
    assert not User.objects.exists()
    assert not stored_hashes()


def test_a_backup_from_another_release_is_refused(backed_up):
    manifest = json.loads((backed_up / "manifest.json").read_text())
    manifest["migrations"]["portfolio"].append("9999_from_the_future")
    (backed_up / "manifest.json").write_text(json.dumps(manifest))
    run("flush", interactive=False)

    with pytest.raises(CommandError, match="other database migrations than this one's"):
        run("restore", backed_up)


def test_a_backup_needs_a_new_folder(backed_up):
    with pytest.raises(CommandError, match="is not empty; give each backup a new folder"):
        run("backup", backed_up)


def test_a_file_missing_from_the_storage_is_reported_but_the_rest_is_backed_up(portfolio, tmp_path):
    item = EvidenceFactory(portfolio=portfolio)
    lost = attach(item, "letter.pdf", samples.pdf())
    kept = attach(item, "notes.txt", b"What the customer asked for.\n")
    storages["evidence"].delete(lost.file.name)

    with pytest.raises(
        CommandError, match=f"refers to were not in the evidence storage:\n  - {lost.file.name}"
    ):
        run("backup", tmp_path / "backup")

    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert [f["name"] for f in manifest["files"]] == [kept.file.name]
    assert manifest["missing_files"] == [lost.file.name]
