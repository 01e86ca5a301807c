"""Password resets are throttled per address and per e-mail address, telling nobody whether an
account has that e-mail address."""

import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone

from portfolio.models import PasswordResetRequest

pytestmark = pytest.mark.django_db


@pytest.fixture
def ask(client, django_capture_on_commit_callbacks):
    def ask(email, address="192.0.2.10"):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/accounts/password_reset/", {"email": email}, REMOTE_ADDR=address)

    return ask


def test_a_few_resets_for_one_account_are_sent_and_then_refused(ask, make_user, settings):
    user = make_user(email="pat@example.org")

    answers = [ask("pat@example.org", address=f"192.0.2.{n}") for n in range(4)]

    assert [a.status_code for a in answers] == [302, 302, 302, 429]
    assert len(mail.outbox) == 3
    refused = answers[-1]
    assert "Too many password resets have been asked for this e-mail address" in refused.text
    assert 'value="pat@example.org"' in refused.text  # what was typed is kept
    assert user.email == "pat@example.org"


def page(response, email: str) -> str:
    """The page without what differs between any two: the e-mail typed and the CSRF token."""
    text = response.text.replace(email, "EMAIL")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)


def test_the_answer_is_the_same_whether_or_not_the_account_exists(ask, make_user):
    make_user(email="pat@example.org")

    known = [ask("pat@example.org") for _ in range(4)]
    unknown = [ask("nobody@example.org", address="192.0.2.99") for _ in range(4)]

    assert [a.status_code for a in known] == [a.status_code for a in unknown]
    assert [a.url for a in known[:3]] == [a.url for a in unknown[:3]]
    assert page(known[-1], "pat@example.org") == page(unknown[-1], "nobody@example.org")
    assert len(mail.outbox) == 3  # only the real account was ever sent anything


def test_one_address_asking_for_many_accounts_is_refused(ask, settings):
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = 5

    answers = [ask(f"person{n}@example.org") for n in range(6)]

    assert [a.status_code for a in answers] == [302] * 5 + [429]
    assert "Too many password resets have been asked for from this connection" in answers[-1].text
    assert ask("person0@example.org", address="192.0.2.77").status_code == 302


def test_the_count_starts_again_after_an_hour(ask, make_user):
    make_user(email="pat@example.org")
    for _ in range(3):
        ask("pat@example.org")
    PasswordResetRequest.objects.update(created_at=timezone.now() - datetime.timedelta(hours=2))

    assert ask("pat@example.org").status_code == 302
    assert PasswordResetRequest.objects.count() == 1  # the old ones are gone


def test_the_address_counted_is_the_one_the_lock_out_uses(ask, client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = 2

    def through_proxy(email, visitor):
        return client.post(
            "/accounts/password_reset/",
            {"email": email},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=visitor,
        )

    assert through_proxy("a@example.org", "203.0.113.1").status_code == 302
    assert through_proxy("b@example.org", "203.0.113.1").status_code == 302
    assert through_proxy("c@example.org", "203.0.113.1").status_code == 429
    assert through_proxy("c@example.org", "203.0.113.2").status_code == 302
    assert set(PasswordResetRequest.objects.values_list("address", flat=True)) == {
        "203.0.113.1",
        "203.0.113.2",
    }


def test_an_ipv6_visitor_is_counted_by_their_64_network(ask, settings):
    # A household or phone is given a whole /64: changing the last 64 bits costs nothing, so
    # each address in it counts as the same visitor; another /64 is another visitor.
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = 3

    answers = [ask(f"person{n}@example.org", address=f"2001:db8:1:2::{n + 1:x}") for n in range(4)]
    elsewhere = ask("person9@example.org", address="2001:db8:1:3::1")

    assert [a.status_code for a in answers] == [302, 302, 302, 429]
    assert elsewhere.status_code == 302
    assert set(PasswordResetRequest.objects.values_list("address", flat=True)) == {
        "2001:db8:1:2::",
        "2001:db8:1:3::",
    }


def test_an_ipv4_address_written_as_ipv6_is_counted_as_itself(ask, settings):
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = 1

    assert ask("a@example.org", address="::ffff:192.0.2.10").status_code == 302
    assert ask("b@example.org", address="192.0.2.10").status_code == 429
    assert ask("c@example.org", address="::ffff:192.0.2.11").status_code == 302
