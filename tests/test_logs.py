"""No log holds the secret of a link that opens something without a password: a witness's
statement, a password reset, an invitation."""

import io
import logging

import pytest

from config.logs import HideSecretLinks, hide_secret_links


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        (
            '"GET /witness/Zm9vYmFy-_baz123/ HTTP/1.1" 200',
            '"GET /witness/[hidden]/ HTTP/1.1" 200',
        ),
        ("POST /witness/Zm9vYmFy?x=1", "POST /witness/[hidden]?x=1"),
        # The page the token is exchanged for opens nothing by itself: it stays readable.
        ("GET /witness/respond/42/", "GET /witness/respond/42/"),
        ("GET /accounts/reset/MTI/cz1abc-0123456789abcdef/", "GET /accounts/reset/MTI/[hidden]/"),
        ("GET /accounts/reset/MTI/set-password/", "GET /accounts/reset/MTI/set-password/"),
        ("GET /people/invitation/MTI/cz1abc-0123/", "GET /people/invitation/MTI/[hidden]/"),
        ("GET /people/invitation/MTI/set-password/", "GET /people/invitation/MTI/set-password/"),
        ("GET /evidence/12/witness/", "GET /evidence/12/witness/"),
        ("GET /learner/", "GET /learner/"),
    ],
)
def test_a_links_secret_is_hidden_and_nothing_else(line, shown):
    assert hide_secret_links(line) == shown


def test_the_applications_log_hides_them(client, db):
    # The console handler the settings configure, which every logger reaches.
    console = next(
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, HideSecretLinks) for f in handler.filters)
    )
    written = io.StringIO()
    before = console.setStream(written)
    try:
        client.get("/witness/secret-looking-token/")
    finally:
        console.setStream(before)

    assert "Not Found: /witness/[hidden]/" in written.getvalue()
    assert "secret-looking-token" not in written.getvalue()


def test_the_settings_put_the_filter_on_every_handler(settings):
    handlers = settings.LOGGING["handlers"]
    assert handlers
    for handler in handlers.values():
        assert "secret_links" in handler["filters"]
    assert settings.LOGGING["filters"]["secret_links"]["()"] == "config.logs.HideSecretLinks"
