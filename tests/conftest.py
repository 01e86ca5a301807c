import shutil
from pathlib import Path

import pytest

from tests.factories import PASSWORD, EqaGrantFactory, PortfolioFactory, UserFactory, c4_unit


@pytest.fixture
def c4(db):
    return c4_unit()


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
