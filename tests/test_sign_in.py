"""Signing in: repeated wrong passwords lock a username out from that address for a while."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from assessments.models import IqaSample, Signature
from portfolio.backends import client_ip
from tests.assessing import sufficient
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

HOME = "/learner/"


def sign_in(client, user, password=PASSWORD, address="192.0.2.10"):
    return client.post(
        "/accounts/login/",
        {"username": user.username, "password": password},
        REMOTE_ADDR=address,
    )


def fail(client, user, times, address="192.0.2.10"):
    return [sign_in(client, user, "not-the-password", address) for _ in range(times)][-1]


@pytest.fixture
def learner(make_user):
    return make_user(learner=True)


def test_a_wrong_password_is_explained_on_the_form(client, learner):
    response = sign_in(client, learner, "not-the-password")

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.text


def test_five_wrong_passwords_lock_the_username_out_even_with_the_right_one(client, learner):
    assert fail(client, learner, 4).status_code == 200
    assert fail(client, learner, 1).status_code == 429

    response = sign_in(client, learner)

    assert response.status_code == 429
    assert "Sign-in paused" in response.text
    assert "_auth_user_id" not in client.session
    assert client.get(HOME).status_code == 302  # still signed out


def test_the_lock_out_page_says_when_to_try_again_and_whom_to_ask(client, learner):
    fail(client, learner, 5)
    before = timezone.localtime()

    response = sign_in(client, learner)

    after = timezone.localtime()
    until = {
        (moment + datetime.timedelta(minutes=15)).strftime("until <strong>%H:%M</strong>")
        for moment in (before, after)
    }
    assert any(text in response.text for text in until)
    assert "ask your centre administrator" in response.text
    assert 'href="/accounts/password_reset/"' in response.text


def test_a_successful_sign_in_clears_the_count(client, learner):
    fail(client, learner, 4)
    assert sign_in(client, learner).status_code == 302
    client.logout()

    fail(client, learner, 4)

    assert sign_in(client, learner).status_code == 302


def test_other_people_can_still_sign_in_from_the_same_address(client, learner, make_user):
    fail(client, learner, 5)

    assert sign_in(client, make_user(assessor=True)).status_code == 302


def test_the_same_username_can_still_sign_in_from_another_address(client, learner):
    fail(client, learner, 5, address="192.0.2.10")

    assert sign_in(client, learner, address="198.51.100.7").status_code == 302


def test_the_lock_out_ends_after_the_cool_off(client, learner):
    fail(client, learner, 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=16))

    assert sign_in(client, learner).status_code == 302


def test_the_limit_and_cool_off_are_settings(client, learner, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = datetime.timedelta(hours=2)

    assert fail(client, learner, 2).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=90))
    assert sign_in(client, learner).status_code == 429


def test_an_administrator_lifts_a_lock_out_with_a_command(client, learner):
    fail(client, learner, 5)

    call_command("axes_reset_username", learner.username)

    assert sign_in(client, learner).status_code == 302


def test_the_admin_sign_in_is_locked_out_too(client, make_user):
    admin = make_user(centre_admin=True, is_staff=True)
    for _ in range(5):
        client.post("/admin/login/", {"username": admin.username, "password": "nope"})

    response = client.post("/admin/login/", {"username": admin.username, "password": PASSWORD})

    assert response.status_code == 429
    assert "Sign-in paused" in response.text


def test_the_centre_administrator_lifts_a_lock_out_in_the_admin_site(client, learner, make_user):
    fail(client, learner, 5)
    attempt = AccessAttempt.objects.get(username=learner.username)
    admin = Client()
    admin.force_login(make_user(centre_admin=True, is_staff=True))

    listed = admin.get("/admin/axes/accessattempt/")
    deleted = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})

    assert listed.status_code == 200
    assert learner.username in listed.text
    assert deleted.status_code == 302
    assert sign_in(client, learner).status_code == 302


def test_behind_a_proxy_the_visitor_s_own_address_is_locked_out(client, learner, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    proxy = "10.0.0.2"  # every request arrives from the proxy

    def attempt(forwarded, password="not-the-password"):
        return client.post(
            "/accounts/login/",
            {"username": learner.username, "password": password},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    for _ in range(5):
        # the visitor writes their own X-Forwarded-For; the proxy appends the real address
        response = attempt("198.51.100.1, 203.0.113.5")
    assert response.status_code == 429

    assert attempt("203.0.113.9", password=PASSWORD).status_code == 302
    assert attempt("198.51.100.1, 203.0.113.5", password=PASSWORD).status_code == 429


def test_a_visitor_reaching_the_web_process_directly_cannot_choose_their_address(
    client, learner, settings
):
    settings.TRUSTED_PROXIES = ["10.0.0.2"]

    def attempt(forwarded, password="not-the-password"):
        return client.post(
            "/accounts/login/",
            {"username": learner.username, "password": password},
            REMOTE_ADDR="198.51.100.7",  # not the proxy
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    for number in range(5):
        response = attempt(f"203.0.113.{number}")  # a new address claimed each time
    assert response.status_code == 429
    assert attempt("203.0.113.99", password=PASSWORD).status_code == 429


@pytest.mark.parametrize(
    ("remote", "forwarded", "seen"),
    [
        ("10.0.0.2", "198.51.100.1, 203.0.113.5", "203.0.113.5"),
        ("10.0.0.2", "198.51.100.1, 10.0.0.3, 203.0.113.5", "203.0.113.5"),
        ("10.0.0.2", "198.51.100.1, 203.0.113.5, 10.0.0.3", "203.0.113.5"),
        ("198.51.100.7", "203.0.113.5", "198.51.100.7"),
        ("10.0.0.2", "", "10.0.0.2"),
        ("", "203.0.113.5", "203.0.113.5"),  # a Unix socket: only the local proxy opens it
        ("10.0.0.2", "unknown", "10.0.0.2"),  # not an address: the proxy's stands
    ],
)
def test_the_visitor_s_address_is_read_through_trusted_proxies_only(
    rf, settings, remote, forwarded, seen
):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == seen


class TestPasswordsAskedAgainToSign:
    """The password asked again to sign a record counts towards the same lock-out."""

    @pytest.fixture
    def signer(self, client, portfolio):
        sufficient(portfolio)
        assert sign_in(client, portfolio.assessor).status_code == 302
        return portfolio.assessor

    def sign(self, client, portfolio, password, address="192.0.2.10"):
        return client.post(
            f"/portfolios/{portfolio.pk}/sign-off/", {"password": password}, REMOTE_ADDR=address
        )

    def test_five_wrong_passwords_pause_signing_and_sign_the_person_out(
        self, client, portfolio, signer
    ):
        for _ in range(4):
            response = self.sign(client, portfolio, "not-the-password")
            assert response.status_code == 200
            assert "That is not your password. Nothing was signed." in response.text

        response = self.sign(client, portfolio, "not-the-password")

        assert response.status_code == 429
        assert "Signing paused" in response.text
        assert "for safety you have been signed out" in response.text
        assert "_auth_user_id" not in client.session
        assert not Signature.objects.exists()
        # The username is locked out of signing in from that address too ...
        assert sign_in(client, signer).status_code == 429
        # ... but not from another.
        assert sign_in(Client(), signer, address="198.51.100.7").status_code == 302

    def test_a_locked_out_username_cannot_sign_even_with_the_right_password(
        self, client, portfolio, signer
    ):
        fail(Client(), signer, 5)  # someone else, from the same address

        response = self.sign(client, portfolio, PASSWORD)

        assert response.status_code == 429
        assert not Signature.objects.exists()
        portfolio.refresh_from_db()
        assert portfolio.status == "in_progress"

    def test_the_right_password_still_signs_below_the_limit(self, client, portfolio, signer):
        for _ in range(4):
            self.sign(client, portfolio, "not-the-password")

        response = self.sign(client, portfolio, PASSWORD)

        assert response.status_code == 302
        assert Signature.objects.get().signer == signer

    def test_an_iqa_s_sample_counts_too(self, client, portfolio):
        sufficient(portfolio)
        iqa = portfolio.iqa
        assert sign_in(client, iqa).status_code == 302
        url = f"/portfolios/{portfolio.pk}/samples/new/"

        for _ in range(5):
            response = client.post(
                url,
                {"stage": "interim", "outcome": "agree", "password": "x"},
                REMOTE_ADDR="192.0.2.10",
            )

        assert response.status_code == 429
        assert not IqaSample.objects.exists()
        assert AccessAttempt.objects.get(username=iqa.username).failures_since_start == 5
