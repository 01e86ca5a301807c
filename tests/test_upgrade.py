"""A database made by an earlier release upgrades in place: `migrate` on a copy of it applies
the migrations that reshape it and leaves none unapplied, loses or empties no table, moves the
moved models' content types (keeping their ids), and the new code then finds every signature
still valid, the audit chain intact and every stored file present with its recorded hash.

Each case is a fixture in tests/upgrade/: ``<name>.tar.xz`` holds ``db.sqlite3`` and ``files/``
(PRIVATE_FILES_ROOT) as that release left them, and ``<name>.json`` what that release's own
integrity check found. The upgrade always runs on a SQLite copy in a temporary folder, in
subprocesses with the real settings, whatever database the rest of the suite uses. A release
that reshapes models adds its own fixture, made by the release before it, and case to ``CASES``.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pytest

from audit.chain import chain_label

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "upgrade"


@dataclass(frozen=True)
class Moved:
    """A model that moved app (and may have been renamed since): its content type as it was, its
    label now, the table it keeps."""

    content_type: tuple[str, str]  # (app_label, model) in django_content_type before
    label: str  # "app.Model" in the new code
    table: str


@dataclass(frozen=True)
class UpgradeCase:
    fixture: str
    applies: frozenset[str]  # the migrations ("app.name") that reshape this release's database
    moved: tuple[Moved, ...] = ()
    chains: dict[str, int] = field(default_factory=dict)  # audit chain: its entries
    entry_version: int = 1  # the version of every audit entry it holds
    tamper: str = "centre"  # the chain whose seventh entry a test changes

    @property
    def entries(self) -> int:
        return sum(self.chains.values())

    def __str__(self) -> str:
        return self.fixture


CASES = [
    UpgradeCase(
        fixture="demo-centre-0.1",
        applies=frozenset(
            {
                "audit.0001_initial",
                "audit.0002_keyed_chains",
                "portfolio.0006_eqa_grant_from_assessments",
                "portfolio.0007_evidence_file_checking",
                "portfolio.0008_evidence_file_checked",
                "assessments.0007_signable_record",
                "assessments.0006_audit_and_eqa_grant_moved_out",
                "records.0001_initial",
                "portfolio.0019_workplace",
                "portfolio.0020_workplaces_from_portfolios",
                "portfolio.0021_portfolio_workplace_required",
                "portfolio.0024_notification_kinds",
                "portfolio.0025_uln_date_of_birth_and_claims",
                "portfolio.0026_claims_from_claimed_portfolios",
            }
        ),
        moved=(
            Moved(("assessments", "auditentry"), "audit.AuditEntry", "assessments_auditentry"),
            Moved(("assessments", "audithead"), "audit.AuditHead", "assessments_audithead"),
            Moved(("assessments", "eqagrant"), "portfolio.EqaGrant", "assessments_eqagrant"),
            Moved(("portfolio", "bulkexport"), "records.Export", "portfolio_bulkexport"),
        ),
        chains={"centre": 114},  # one chain, unkeyed, before chains were kept per learner
    ),
    UpgradeCase(
        fixture="demo-centre-be10aa0",
        applies=frozenset(
            {
                "portfolio.0015_enrolment",
                "portfolio.0016_enrolments_from_portfolios",
                "portfolio.0017_portfolio_enrolment_required",
                "portfolio.0018_enrolment_qualification",
                "portfolio.0019_workplace",
                "portfolio.0020_workplaces_from_portfolios",
                "portfolio.0021_portfolio_workplace_required",
                "assessments.0009_signature_digest_version",
                "assessments.0010_review_proposed_mappings",
                "units.0002_qualifications",
                "portfolio.0024_notification_kinds",
                "portfolio.0025_uln_date_of_birth_and_claims",
                "portfolio.0026_claims_from_claimed_portfolios",
            }
        ),
        chains={"centre": 4, "learner-4": 84, "learner-5": 24, "learner-6": 2},
        entry_version=2,
        tamper="learner-4",
    ),
]


@dataclass
class Snapshot:
    """What the database holds, read with sqlite3 alone (no Django, no model code)."""

    rows: dict[str, int]  # table -> row count, for every table but django_migrations
    content_types: dict[int, tuple[str, str]]  # id -> (app_label, model)
    migrations: set[str]  # "app.name"
    # each portfolio's workplace as text, (organisation, sector), while portfolios held it
    workplace_text: dict[int, tuple[str, str]]


def snapshot(database: Path) -> Snapshot:
    with sqlite3.connect(database) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        rows = {
            table: connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
            for table in tables
            if table != "django_migrations"
        }
        content_types = {
            pk: (app, model)
            for pk, app, model in connection.execute(
                "SELECT id, app_label, model FROM django_content_type"
            )
        }
        migrations = {
            f"{app}.{name}"
            for app, name in connection.execute("SELECT app, name FROM django_migrations")
        }
        columns = {row[1] for row in connection.execute('PRAGMA table_info("portfolio_portfolio")')}
        workplace_text = (
            {
                pk: (organisation, sector)
                for pk, organisation, sector in connection.execute(
                    "SELECT id, organisation, sector FROM portfolio_portfolio"
                )
            }
            if {"organisation", "sector"} <= columns
            else {}
        )
    connection.close()
    return Snapshot(rows, content_types, migrations, workplace_text)


def environment(folder: Path) -> dict[str, str]:
    """The real settings on the copy in ``folder``, and nothing of the suite's own database,
    file storage or settings module."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "DATABASE_", "EVIDENCE_S3_", "PRIVATE_FILES_"))
    }
    return {
        **inherited,
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "PRIVATE_FILES_ROOT": str(folder / "files"),
        "STATIC_ROOT": str(folder / "static"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "true",
        "DEMO": "false",
        "SECRET_KEY": "upgrade-test-only",
        "AUDIT_KEY": "upgrade-test-only",  # the key the fixtures' audit trails are sealed with
    }


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def output(result: subprocess.CompletedProcess) -> str:
    return f"exit status {result.returncode}\n{result.stdout}\n{result.stderr}".strip()


# Run by the new code on the upgraded copy; prints one JSON report. The arguments are the moved
# models' labels.
CHECK = """
import hashlib, io, json, sys

import django

django.setup()

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from assessments.models import Signature
from assessments.signatures import signature_rows
from portfolio.models import EvidenceFile, Portfolio
from records.backup import integrity
from records.models import Export


def exists(stored):
    return bool(stored.name) and stored.storage.exists(stored.name)


def sha256(stored):
    digest = hashlib.sha256()
    with stored.storage.open(stored.name, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


files = []
for evidence in EvidenceFile.objects.filter(purged_at__isnull=True).order_by("pk"):
    present = exists(evidence.file)
    files.append({
        "pk": evidence.pk,
        "name": evidence.file.name,
        "exists": present,
        "hash_matches": present and sha256(evidence.file) == evidence.sha256,
        "status": evidence.status,
        "missing_renditions": [  # named but not stored (a file without renditions names none)
            stored.name
            for stored in (evidence.screen, evidence.print_version)
            if stored.name and not exists(stored)
        ],
    })

models = {}
for label in sys.argv[1:]:
    model = apps.get_model(label)
    tables = {model._meta.db_table: model.objects.count()}
    for m2m in model._meta.local_many_to_many:
        through = m2m.remote_field.through
        tables[through._meta.db_table] = through.objects.count()
    models[label] = {
        "app_label": model._meta.app_label,
        "content_type": ContentType.objects.get_for_model(model).pk,
        "tables": tables,
    }

# makemigrations --check --dry-run, in this process rather than a Django of its own.
changes = io.StringIO()
try:
    call_command("makemigrations", check=True, dry_run=True, stdout=changes, stderr=changes)
    changes = ""
except SystemExit:
    changes = changes.getvalue() or "makemigrations --check found changes"

found_integrity = integrity()
signatures = {
    str(row.signature.pk): row.valid
    for portfolio in Portfolio.objects.filter(signatures__isnull=False).distinct()
    for row in signature_rows(portfolio)
}
# Every stored file re-read and every signable record recomputed, then rolled back: the checks
# write to the audit trail, which other tests count.
from django.db import transaction

from records.integrity import verify_files, verify_records


class RolledBack(Exception):
    pass


try:
    with transaction.atomic():
        checked = verify_files()
        file_check = {
            "checked": checked.checked,
            "problems": checked.problems,
            "records_changed_outside": verify_records(),
        }
        raise RolledBack
except RolledBack:
    pass

executor = MigrationExecutor(connection)
print(json.dumps({
    "integrity": found_integrity,
    "signatures": signatures,
    "file_check": file_check,
    "evidence_files": files,
    "purged_files": EvidenceFile.objects.filter(purged_at__isnull=False).count(),
    "exports": [
        {"pk": export.pk, "status": export.status, "name": export.file.name,
         "exists": exists(export.file)}
        for export in Export.objects.order_by("pk")
    ],
    "export_table": Export._meta.db_table,
    "digest_versions": sorted(
        set(Signature.objects.values_list("digest_version", flat=True))
    ),
    "enrolments": [
        {"portfolio": p.pk, "learner": p.learner_id, "enrolled": p.enrolment.learner_id,
         "started": str(p.enrolment.start_date), "start_date": str(p.start_date),
         "units": p.enrolment.portfolios.count()}
        for p in Portfolio.objects.select_related("enrolment").order_by("pk")
    ],
    "workplaces": {
        str(pk): workplace for pk, workplace in Portfolio.objects.values_list("pk", "workplace")
    },
    "models": models,
    "unapplied": [
        f"{migration.app_label}.{migration.name}"
        for migration, _ in executor.migration_plan(executor.loader.graph.leaf_nodes())
    ],
    "model_changes": changes,
}))
"""


@dataclass
class Upgrade:
    case: UpgradeCase
    expected: dict  # what the old release's integrity check found
    before: Snapshot
    after: Snapshot
    migrate_output: str
    checked: subprocess.CompletedProcess  # CHECK run on the upgraded copy
    folder: Path  # the upgraded copy

    @cached_property
    def report(self) -> dict:
        """What the new code finds on the upgraded copy."""
        if self.checked.returncode != 0:
            pytest.fail(f"the new code could not check the upgraded copy:\n{output(self.checked)}")
        return json.loads(self.checked.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module", params=CASES, ids=str)
def upgrade(request, tmp_path_factory) -> Upgrade:
    """A copy of the case's fixture, snapshotted, migrated by the new code, then checked by it
    (a failed check fails only the tests that need its report)."""
    case: UpgradeCase = request.param
    folder = tmp_path_factory.mktemp(case.fixture)
    with tarfile.open(FIXTURES / f"{case.fixture}.tar.xz") as archive:
        archive.extractall(folder, filter="data")
    expected = json.loads((FIXTURES / f"{case.fixture}.json").read_text())
    env = environment(folder)

    before = snapshot(folder / "db.sqlite3")
    migrated = run(env, "manage.py", "migrate", "--no-input")
    if migrated.returncode != 0:
        pytest.fail(f"migrate failed on a copy of {case.fixture}:\n{output(migrated)}")
    after = snapshot(folder / "db.sqlite3")

    checked = run(env, "-c", CHECK, *(moved.label for moved in case.moved))
    return Upgrade(case, expected, before, after, migrated.stdout, checked, folder)


def test_the_upgrade_applies_the_moves_and_leaves_no_migration_unapplied(upgrade):
    applied = upgrade.after.migrations - upgrade.before.migrations
    assert upgrade.before.migrations <= upgrade.after.migrations, "migrations were unrecorded"
    assert upgrade.case.applies <= applied, (
        f"expected but not applied: {sorted(upgrade.case.applies - applied)}\n"
        f"{upgrade.migrate_output}"
    )
    assert upgrade.report["unapplied"] == [], "migrations left unapplied"


# Django's own bookkeeping, to which a later release's new models add rows (none is lost: the
# content types are checked one by one below).
GROWS = {"django_content_type", "auth_permission"}


def test_every_table_keeps_exactly_its_rows(upgrade):
    changed = {}
    for table, rows in upgrade.before.rows.items():
        now = upgrade.after.rows.get(table, "table gone")
        if now == "table gone" or (now < rows if table in GROWS else now != rows):
            changed[table] = f"{rows} rows before, now {now}"
    assert not changed, f"tables lost, emptied or changed by the upgrade: {changed}"


def test_the_moved_models_content_types_keep_their_ids_under_their_new_apps(upgrade):
    before, after = upgrade.before.content_types, upgrade.after.content_types
    moved = {}
    for model in upgrade.case.moved:
        (pk,) = [pk for pk, row in before.items() if row == model.content_type]
        new_app, new_name = model.label.lower().split(".")
        moved[pk] = (new_app, new_name)
        assert after.get(pk) == moved[pk], f"content type {pk} of {model.label}: {after.get(pk)}"
        assert upgrade.report["models"][model.label]["content_type"] == pk, (
            f"Django finds another content type for {model.label} than {pk}, the one it had"
        )
    unmoved = {pk: row for pk, row in before.items() if pk not in moved}
    assert {pk: after.get(pk) for pk in unmoved} == unmoved, "other content types changed"
    added = {row for pk, row in after.items() if pk not in before}
    assert not added & {model.content_type for model in upgrade.case.moved}, (
        "a moved model's old content type was made again"
    )
    assert not added & set(moved.values()), "a moved model got a second content type"


def test_the_moved_models_reach_their_kept_tables_through_their_new_apps(upgrade):
    for model in upgrade.case.moved:
        found = upgrade.report["models"][model.label]
        assert found["app_label"] == model.label.split(".")[0]
        assert model.table in found["tables"], f"{model.label} no longer uses {model.table}"
        for table, count in found["tables"].items():
            assert table in upgrade.before.rows, f"{model.label} uses {table}, a new table"
            assert count == upgrade.before.rows[table], (
                f"{model.label} sees {count} rows in {table}, "
                f"which had {upgrade.before.rows[table]}"
            )


def test_every_portfolio_has_a_workplace_shared_by_those_with_the_same_text(upgrade):
    workplaces = {int(pk): found for pk, found in upgrade.report["workplaces"].items()}
    assert len(workplaces) == upgrade.before.rows["portfolio_portfolio"]
    assert all(workplaces.values()), f"portfolios without a workplace: {workplaces}"
    if not upgrade.before.workplace_text:
        return  # made by a release that already had workplaces
    groups: dict[tuple[str, str], set[int]] = {}
    for pk, (organisation, sector) in upgrade.before.workplace_text.items():
        groups.setdefault((organisation, sector), set()).add(workplaces[pk])
    assert all(len(found) == 1 for found in groups.values()), f"the same text split: {groups}"
    assert len(set(workplaces.values())) == len(groups), f"different text joined: {groups}"


def test_every_signature_still_holds_and_the_audit_chain_is_intact(upgrade):
    found, expected = upgrade.report, upgrade.expected
    differs = {
        name: f"{expected.get(name)!r} before, {now!r} now"
        for name, now in found["integrity"].items()
        if now != expected.get(name)
    }
    assert not differs, f"the integrity check finds otherwise than before: {differs}"
    assert found["integrity"]["audit_chain_intact"] is True
    assert found["signatures"] == expected["signature_status"], "signatures' validity changed"
    assert all(found["signatures"].values()), "a signature no longer holds"


def test_every_evidence_file_and_export_is_still_stored_with_its_hash(upgrade):
    files = upgrade.report["evidence_files"]
    assert len(files) + upgrade.report["purged_files"] == upgrade.expected["evidence_files"]
    assert files, "the fixture has no evidence file to check"
    lost = [f for f in files if not (f["exists"] and f["hash_matches"]) or f["missing_renditions"]]
    assert not lost, f"evidence files missing, changed or without renditions: {lost}"
    exports = upgrade.report["exports"]
    assert len(exports) == upgrade.before.rows[upgrade.report["export_table"]]
    unreadable = [e for e in exports if e["status"] == "done" and not e["exists"]]
    assert not unreadable, f"finished exports whose ZIP is gone: {unreadable}"


def test_verify_files_finds_every_upgraded_file_and_record_as_signed(upgrade):
    # The signable records are made when first read after the upgrade (from the rows the
    # signatures were made from); verify_files then re-reads every file and recomputes them all.
    file_check = upgrade.report["file_check"]
    assert file_check["checked"] == len(upgrade.report["evidence_files"])
    assert file_check["problems"] == []
    assert file_check["records_changed_outside"] == []


def test_every_file_stored_before_the_upgrade_is_ready_not_being_checked(upgrade):
    # Files stored before files were checked in the background were checked when they came.
    files = upgrade.report["evidence_files"]
    assert {f["status"] for f in files} == {"ready"}


def test_every_signature_made_before_is_of_the_first_version_of_what_is_signed(upgrade):
    assert upgrade.report["digest_versions"] == [1]


def test_every_portfolio_becomes_a_single_unit_enrolment_of_its_learner(upgrade):
    enrolments = upgrade.report["enrolments"]
    assert len(enrolments) == upgrade.expected["portfolios"]
    for row in enrolments:
        assert row["enrolled"] == row["learner"], row
        assert row["started"] == row["start_date"], row
        assert row["units"] == 1, row


def test_the_upgraded_models_need_no_further_migrations(upgrade):
    assert upgrade.report["model_changes"] == "", upgrade.report["model_changes"]


# Run by the new code on a copy of the upgraded database: one entry on the centre's chain and one
# on a learner's, as the application writes them after the upgrade.
APPEND = """
import django

django.setup()

from audit.chain import record
from portfolio.models import Portfolio

portfolio = Portfolio.objects.order_by("pk").first()
record("test.after_upgrade", actor=None, summary="A centre entry after the upgrade")
record("test.after_upgrade", actor=None, portfolio=portfolio, summary="A learner's entry")
"""


def upgraded_copy(upgrade: Upgrade, folder: Path) -> dict[str, str]:
    """The environment of a copy of the upgraded database in ``folder``, to change at will."""
    shutil.copy(upgrade.folder / "db.sqlite3", folder / "db.sqlite3")
    return {**environment(upgrade.folder), "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}"}


def test_the_old_audit_entries_verify_and_new_ones_chain_after_them(upgrade, tmp_path):
    env = upgraded_copy(upgrade, tmp_path)
    entries = upgrade.expected["audit_entries"]

    verified = run(env, "manage.py", "verify_audit")
    assert verified.returncode == 0, output(verified)
    chains = len(upgrade.case.chains)
    assert (
        f"The audit trail is intact: {entries} entries on {chains} chain{'s' * (chains > 1)}"
        in verified.stdout
    )
    with sqlite3.connect(tmp_path / "db.sqlite3") as connection:
        versions = dict(
            connection.execute(
                "SELECT version, COUNT(*) FROM assessments_auditentry GROUP BY version"
            )
        )
        chains = dict(
            connection.execute("SELECT chain, COUNT(*) FROM assessments_auditentry GROUP BY chain")
        )
        first_learner = connection.execute(
            "SELECT learner_id FROM portfolio_portfolio ORDER BY id LIMIT 1"
        ).fetchone()[0]
    connection.close()
    assert versions == {upgrade.case.entry_version: entries}, "the old entries are not all kept"
    assert chains == {name: count for name, count in upgrade.case.chains.items() if count}

    appended = run(env, "-c", APPEND)
    assert appended.returncode == 0, output(appended)
    verified = run(env, "manage.py", "verify_audit")
    assert verified.returncode == 0, output(verified)
    after = len(upgrade.case.chains | {"centre": 1, f"learner-{first_learner}": 1})
    assert f"{entries + 2} entries on {after} chains" in verified.stdout


def test_an_old_audit_entry_changed_after_the_upgrade_is_reported(upgrade, tmp_path):
    env = upgraded_copy(upgrade, tmp_path)
    with sqlite3.connect(tmp_path / "db.sqlite3") as connection:
        connection.execute(
            "UPDATE assessments_auditentry SET action = action || '.changed' "
            "WHERE chain = ? AND sequence = 7",
            [upgrade.case.tamper],
        )
    connection.close()

    verified = run(env, "manage.py", "verify_audit")

    assert verified.returncode == 1, output(verified)
    chain = chain_label(upgrade.case.tamper)
    assert f"broken on the chain of {chain} at entry 7" in verified.stderr
    assert "its content was changed after it was written" in verified.stderr
    # The centre's chain is verified first, then each learner's.
    before = 6 + (upgrade.case.chains["centre"] if upgrade.case.tamper != "centre" else 0)
    assert f"{before} entries before it are intact" in verified.stderr


# Run by the new code on a copy upgraded from a release that claimed portfolios one by one.
CLAIMS = """
import json

import django

django.setup()

from portfolio.models import Claim, Portfolio

print(json.dumps([
    {"portfolio": p.pk, "status": p.status, "kind": p.claim.kind, "reference": p.claim.reference,
     "claimed_at": p.claim.claimed_at.isoformat(), "by": p.claim.claimed_by_id,
     "enrolment": p.claim.enrolment_id == p.enrolment_id,
     "units": list(p.claim.portfolios.values_list("pk", flat=True))}
    for p in Portfolio.objects.filter(claim__isnull=False).select_related("claim")
] + [{"claims": Claim.objects.count(), "unclaimed_with_claim": Portfolio.objects.exclude(
    status="claimed").filter(claim__isnull=False).count()}]))
"""


def test_a_portfolio_claimed_before_claims_were_kept_gets_a_units_claim_of_its_own(tmp_path):
    with tarfile.open(FIXTURES / "demo-centre-be10aa0.tar.xz") as archive:
        archive.extractall(tmp_path, filter="data")
    with sqlite3.connect(tmp_path / "db.sqlite3") as connection:
        (verified,) = connection.execute(
            "SELECT id FROM portfolio_portfolio WHERE status = 'verified'"
        ).fetchone()
        # As that release's claim left it (its audit entry aside: the chain is not rewritten).
        connection.execute(
            "UPDATE portfolio_portfolio SET status = 'claimed', claim_reference = 'OCR-2025-1', "
            "claimed_at = '2025-06-01 10:00:00' WHERE id = ?",
            [verified],
        )
    connection.close()
    env = environment(tmp_path)

    migrated = run(env, "manage.py", "migrate", "--no-input")
    assert migrated.returncode == 0, output(migrated)
    found = run(env, "-c", CLAIMS)
    assert found.returncode == 0, output(found)

    *claimed, totals = json.loads(found.stdout.strip().splitlines()[-1])
    assert claimed == [
        {
            "portfolio": verified,
            "status": "claimed",
            "kind": "units",
            "reference": "OCR-2025-1",
            "claimed_at": "2025-06-01T10:00:00+00:00",
            "by": None,  # no portfolio.claimed entry names who claimed it
            "enrolment": True,
            "units": [verified],
        }
    ]
    assert totals == {"claims": 1, "unclaimed_with_claim": 0}


# Run by the new code on a copy of the upgraded demo centre once seed_demo has run on it.
SEEDED = """
import json

import django

django.setup()

from assessments.signatures import signature_rows
from audit.chain import verify_chains
from portfolio.models import EvidenceItem, Portfolio

units = (
    Portfolio.objects.filter(learner__username="learner2")
    .select_related("unit", "enrolment__qualification")
    .order_by("unit__code")
)
print(json.dumps({
    "learner2": [
        {"pk": p.pk, "unit": p.unit.code, "enrolment": p.enrolment_id,
         "qualification": p.enrolment.qualification.code if p.enrolment.qualification else None,
         "counting": EvidenceItem.objects.counting_in(p).count()}
        for p in units
    ],
    "broken": str(verify_chains().broken or ""),
    "signatures": [
        row.valid
        for portfolio in Portfolio.objects.filter(signatures__isnull=False).distinct()
        for row in signature_rows(portfolio)
    ],
}))
"""


def test_the_demo_the_old_release_seeded_gains_the_example_qualification(upgrade, tmp_path):
    shutil.copy(upgrade.folder / "db.sqlite3", tmp_path / "db.sqlite3")
    shutil.copytree(upgrade.folder / "files", tmp_path / "files")
    env = {**environment(tmp_path), "DEMO": "true"}
    with sqlite3.connect(tmp_path / "db.sqlite3") as connection:
        c4, enrolment = connection.execute(
            "SELECT p.id, p.enrolment_id FROM portfolio_portfolio p "
            "JOIN portfolio_user u ON u.id = p.learner_id WHERE u.username = 'learner2'"
        ).fetchone()
        (kept,) = connection.execute(
            "SELECT COUNT(*) FROM portfolio_evidenceitem WHERE portfolio_id = ?", [c4]
        ).fetchone()
    connection.close()

    seeded = run(env, "manage.py", "seed_demo")

    assert seeded.returncode == 0, output(seeded)
    assert "Traceback" not in seeded.stderr, output(seeded)
    checked = run(env, "-c", SEEDED)
    assert checked.returncode == 0, output(checked)
    report = json.loads(checked.stdout.strip().splitlines()[-1])
    c4_now, example = report["learner2"]
    assert (c4_now["pk"], c4_now["unit"], c4_now["enrolment"]) == (c4, "C4", enrolment)
    assert c4_now["counting"] > kept  # its own evidence and the items it shares with EX1
    assert (example["unit"], example["enrolment"], example["counting"]) == ("EX1", enrolment, 3)
    assert c4_now["qualification"] == example["qualification"] == "EX-CS2"
    assert report["broken"] == ""
    assert report["signatures"], "the fixture has no signature to check"
    assert all(report["signatures"]), "a signature no longer holds"
