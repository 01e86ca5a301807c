import shutil
from pathlib import Path

import pytest
import yaml
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.factories import (
    C4_SPEC,
    PASSWORD,
    EqaGrantFactory,
    PortfolioFactory,
    UserFactory,
    c4_unit,
)
from units.importer import import_unit_file


@pytest.fixture
def c4(db):
    return c4_unit()


@pytest.fixture
def c5(c4, tmp_path):
    """A second unit, C5, loaded from a copy of C4's file: unlike C4 it allows simulation."""
    spec = yaml.safe_load(C4_SPEC.read_text())
    spec["unit"]["code"] = "C5"
    spec["unit"]["title"] = "Deliver customer service in a simulated setting"
    spec["sufficiency"]["simulation_allowed_for_performance"] = True
    path = tmp_path / "ocr-c5.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return import_unit_file(path).unit


def migrate(targets):
    """Migrate the test database to ``targets``; the models as they were there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.fixture
def migrator(transactional_db):
    """Migrations run on the test database, ``migrator(targets)`` returning the models as they
    were there; it is left migrated to the end again."""
    yield migrate
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture
def portfolio(c4):
    return PortfolioFactory()


@pytest.fixture
def login(client):
    """Sign ``user`` in through the real sign-in form and return the client."""

    def sign_in(user):
        response = client.post(
            "/accounts/login/", {"username": user.username, "password": PASSWORD}
        )
        assert response.status_code == 302, "sign-in failed"
        return client

    return sign_in


@pytest.fixture
def make_user(db):
    return UserFactory


@pytest.fixture
def make_grant(db):
    return EqaGrantFactory


@pytest.fixture(autouse=True)
def empty_file_store(settings):
    """Each test starts with an empty private file store, so it can see what it left behind."""
    root = Path(settings.PRIVATE_FILES_ROOT)
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
