import datetime
import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from assessments.quality import portfolio_unlock
from assessments.services import unit_sign_off
from assessments.signatures import signature_rows
from audit.models import AuditEntry
from portfolio import services
from portfolio.forms import WitnessTestimonyForm
from portfolio.models import EvidenceItem, WitnessTestimony
from tests.assessing import sufficient
from tests.factories import EvidenceFactory

pytestmark = pytest.mark.django_db

WITNESS = {
    "witness_name": "Sam Okafor",
    "witness_job_title": "Duty manager",
    "relationship": "My line manager",
    "not_a_relative": "on",
    "witness_email": "sam.okafor@example.org",
    "statement": "I saw the learner calm an upset customer at the returns desk on a Saturday.",
}


@pytest.fixture
def evidence(portfolio):
    return EvidenceFactory(portfolio=portfolio, method="witness")


@pytest.fixture
def invite(client, login, evidence, django_capture_on_commit_callbacks):
    """The learner writes the statement and e-mails it; returns the link's path."""

    def send(**changes):
        login(evidence.portfolio.learner)
        client.post(f"/evidence/{evidence.pk}/witness/", {**WITNESS, **changes})
        with django_capture_on_commit_callbacks(execute=True):
            client.post(f"/evidence/{evidence.pk}/witness/send/")
        client.logout()
        return re.search(r"http://testserver(/witness/[^/]+/)", mail.outbox[-1].body).group(1)

    return send


def opened(client, link: str) -> str:
    """Open the e-mailed link as the witness does (the page, then its button); returns the page
    it leads to."""
    assert "Open the statement" in client.get(link).text
    response = client.post(link)
    assert response.status_code == 302
    return response.url


def test_the_witness_gets_an_email_with_a_link(invite, evidence):
    link = invite()

    message = mail.outbox[-1]
    assert message.to == ["sam.okafor@example.org"]
    assert "Sam Okafor" in message.body
    assert "The link works once and until" in message.body
    testimony = evidence.testimony
    assert testimony.status == "sent"
    assert testimony.expires_at - testimony.sent_at == datetime.timedelta(days=14)
    assert link.split("/")[2] not in testimony.token_hash  # only a hash of the token is kept


def test_the_witness_needs_no_account_and_sees_the_statement(client, invite):
    page = client.post(invite(), follow=True)

    assert page.status_code == 200
    assert "I saw the learner calm an upset customer" in page.text
    assert "Confirm the statement" in page.text


def test_the_witness_confirms_with_their_name_and_the_declaration(client, invite, evidence):
    page = opened(client, invite())

    response = client.post(
        page,
        {"confirm": "1", "confirm-typed_name": " sam  okafor ", "confirm-declaration": "on"},
        REMOTE_ADDR="203.0.113.9",
    )

    assert "Thank you" in response.text
    testimony = WitnessTestimony.objects.get()
    assert testimony.status == "confirmed"
    assert testimony.confirmed_name == "sam okafor"
    assert testimony.response_ip == "203.0.113.9"
    assert testimony.responded_at is not None
    entry = AuditEntry.objects.get(action="witness.confirmed")
    assert entry.actor_label == "Witness Sam Okafor"
    assert entry.data["ip"] == "203.0.113.9"


def test_the_link_cannot_be_used_twice(client, invite):
    link = invite()
    page = opened(client, link)
    answer = {"confirm": "1", "confirm-typed_name": "Sam Okafor", "confirm-declaration": "on"}
    client.post(page, answer)

    again = client.get(link)
    reloaded = client.get(page)
    repost = client.post(page, {"decline": "1", "decline-reason": "Changed my mind"})

    assert again.status_code == reloaded.status_code == 410
    assert "This link has been used" in again.text
    assert "This link has been used" in reloaded.text
    assert repost.status_code == 410
    assert WitnessTestimony.objects.get().status == "confirmed"


def test_an_expired_link_says_so(client, invite):
    link = invite()
    page = opened(client, link)
    WitnessTestimony.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    response = client.post(
        page, {"confirm": "1", "confirm-typed_name": "Sam Okafor", "confirm-declaration": "on"}
    )
    again = client.get(link)

    assert response.status_code == again.status_code == 410
    assert "This link has expired" in response.text
    assert "This link has expired" in again.text
    assert WitnessTestimony.objects.get().status == "sent"


def test_an_unknown_link_says_so(client, db):
    response = client.get("/witness/not-a-real-token/")

    assert response.status_code == 404
    assert "This link is not valid" in response.text


def test_a_wrong_name_or_missing_declaration_is_explained(client, invite):
    page = opened(client, invite())

    response = client.post(page, {"confirm": "1", "confirm-typed_name": "Someone Else"})

    assert "Type your name as the learner gave it (Sam Okafor)" in response.text
    assert "Tick the declaration to confirm the statement." in response.text
    assert WitnessTestimony.objects.get().status == "sent"


def test_the_witness_may_decline_with_a_reason(client, invite):
    page = opened(client, invite())

    client.post(page, {"decline": "1", "decline-reason": "I was not on shift that day."})

    testimony = WitnessTestimony.objects.get()
    assert testimony.status == "declined"
    assert testimony.decline_reason == "I was not on shift that day."


def test_sending_again_makes_the_old_link_stop_working(client, invite):
    first = invite()
    page = opened(client, first)
    second = invite()

    assert client.get(first).status_code == 404
    assert client.get(page).status_code == 404  # opened from the first link
    assert opened(client, second) == page
    assert client.get(page).status_code == 200


def test_changing_a_sent_statement_means_sending_it_again(client, login, invite, evidence):
    link = invite()
    login(evidence.portfolio.learner)

    client.post(f"/evidence/{evidence.pk}/witness/", {**WITNESS, "statement": "Something else"})

    assert WitnessTestimony.objects.get().status == "not_sent"
    client.logout()
    assert client.get(link).status_code == 404


def test_a_page_opened_before_the_statement_changed_records_no_answer(invite, evidence):
    witness = Client()
    page = opened(witness, invite())
    learner = Client()
    learner.force_login(evidence.portfolio.learner)
    answer = {"confirm": "1", "confirm-typed_name": "Sam Okafor", "confirm-declaration": "on"}

    learner.post(f"/evidence/{evidence.pk}/witness/", {**WITNESS, "statement": "I saw it all."})
    response = witness.post(page, answer)

    assert response.status_code == 404
    testimony = WitnessTestimony.objects.get()
    assert testimony.status == "not_sent"
    assert testimony.opened_at is None
    assert not AuditEntry.objects.filter(action="witness.confirmed").exists()


def test_an_answer_racing_a_new_link_is_refused(client, invite, evidence):
    page = opened(client, invite())
    key = client.session["witness_links"][page.rstrip("/").split("/")[-1]]
    seen = WitnessTestimony.objects.select_related("evidence__portfolio").get()
    invite()  # sent again, between the page being shown and the answer being recorded

    problem = services.witness_respond(
        testimony=seen, confirmed=True, typed_name="Sam Okafor", ip=None, browser_key=key
    )

    assert problem == "replaced"
    assert WitnessTestimony.objects.get().status == "sent"


def test_a_relative_cannot_be_a_witness(client, login, evidence):
    login(evidence.portfolio.learner)
    data = {**WITNESS}
    del data["not_a_relative"]

    response = client.post(f"/evidence/{evidence.pk}/witness/", data)

    assert "A relative cannot be your witness" in response.text
    assert not WitnessTestimony.objects.exists()


def test_a_confirmed_statement_cannot_change(client, login, invite, evidence):
    page = opened(client, invite())
    client.post(
        page, {"confirm": "1", "confirm-typed_name": "Sam Okafor", "confirm-declaration": "on"}
    )
    login(evidence.portfolio.learner)

    client.post(f"/evidence/{evidence.pk}/witness/", {**WITNESS, "statement": "Rewritten"})

    assert WitnessTestimony.objects.get().statement == WITNESS["statement"]


def test_a_statement_changed_on_a_page_read_before_the_witness_answered_is_refused(
    client, invite, evidence
):
    page = opened(client, invite())
    # The learner opened the statement to change it; meanwhile the witness confirms it.
    form = WitnessTestimonyForm(
        {**WITNESS, "statement": "A different statement."},
        instance=WitnessTestimony.objects.get(),
    )
    assert form.is_valid(), form.errors
    client.post(
        page, {"confirm": "1", "confirm-typed_name": "Sam Okafor", "confirm-declaration": "on"}
    )

    with pytest.raises(ValidationError, match="The witness has answered"):
        services.witness_save(form=form, evidence=evidence, by=evidence.portfolio.learner)

    testimony = WitnessTestimony.objects.get()
    assert testimony.status == "confirmed"
    assert testimony.statement == WITNESS["statement"]


def test_the_link_s_token_is_exchanged_for_this_browser_and_leaves_the_address(client, invite):
    link = invite()
    token = link.split("/")[2]

    page = opened(client, link)
    elsewhere = Client().get(page)

    assert token not in page
    assert page == f"/witness/respond/{WitnessTestimony.objects.get().pk}/"
    assert client.get(page).status_code == 200
    assert elsewhere.status_code == 404
    assert "Open the link in your e-mail" in elsewhere.text
    assert "Confirm the statement" not in elsewhere.text


def test_one_browser_may_answer_several_statements(
    client, portfolio, invite, django_capture_on_commit_callbacks
):
    first = opened(client, invite())
    other = EvidenceFactory(portfolio=portfolio, method="witness")
    learner = Client()
    learner.force_login(portfolio.learner)
    learner.post(f"/evidence/{other.pk}/witness/", {**WITNESS, "witness_name": "Ana Silva"})
    with django_capture_on_commit_callbacks(execute=True):
        learner.post(f"/evidence/{other.pk}/witness/send/")
    second_link = re.search(r"http://testserver(/witness/[^/]+/)", mail.outbox[-1].body).group(1)
    second = opened(client, second_link)
    confirm = {"confirm": "1", "confirm-declaration": "on"}

    client.post(first, {**confirm, "confirm-typed_name": "Sam Okafor"})
    client.post(second, {**confirm, "confirm-typed_name": "Ana Silva"})

    assert first != second
    assert list(WitnessTestimony.objects.values_list("status", flat=True)) == ["confirmed"] * 2


def test_fetching_the_link_opens_nothing(client, invite, evidence):
    link = invite()

    fetched = [client.get(link), Client().get(link)]  # as a mail scanner fetches it first

    assert [page.status_code for page in fetched] == [200, 200]
    assert "Open the statement" in fetched[0].text
    assert "I saw the learner calm" not in fetched[0].text
    assert WitnessTestimony.objects.get().opened_at is None
    assert not AuditEntry.objects.filter(action="witness.opened").exists()


def test_the_link_is_spent_once_opened(client, invite, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    link = invite()
    page = opened(client, link)
    elsewhere = Client()

    reopened = client.get(link)
    from_the_log = [elsewhere.get(link), elsewhere.post(link)]

    assert reopened.status_code == 302  # the same browser goes on to the statement
    assert reopened.url == page
    assert [response.status_code for response in from_the_log] == [410, 410]
    assert "This link was opened in another browser" in from_the_log[1].text
    assert elsewhere.get(page).status_code == 404
    assert AuditEntry.objects.filter(action="witness.opened").count() == 1
    assert client.get(page).status_code == 200


def test_opening_the_link_is_audited_with_the_address(client, invite, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    link = invite()
    client.get(link)

    client.post(link, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9")

    entry = AuditEntry.objects.get(action="witness.opened")
    assert entry.actor_label == "Witness Sam Okafor"
    assert entry.data["ip"] == "203.0.113.9"


@pytest.mark.parametrize(
    ("remote", "forwarded", "recorded"),
    [
        ("10.0.0.2", "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # through the proxy
        ("198.51.100.7", "203.0.113.9", "198.51.100.7"),  # straight to the web process
    ],
)
def test_the_witness_s_address_is_the_one_the_lock_out_uses(
    client, invite, settings, remote, forwarded, recorded
):
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    page = opened(client, invite())

    client.post(
        page,
        {"confirm": "1", "confirm-typed_name": "Sam Okafor", "confirm-declaration": "on"},
        REMOTE_ADDR=remote,
        HTTP_X_FORWARDED_FOR=forwarded,
    )

    assert WitnessTestimony.objects.get().response_ip == recorded
    assert AuditEntry.objects.get(action="witness.confirmed").data["ip"] == recorded


class TestAfterTheSignOff:
    """A witness's answer would change what the sign-off signed, so the link closes with it."""

    CONFIRM = {"confirm": "1", "confirm-typed_name": "Sam Okafor", "confirm-declaration": "on"}

    @pytest.fixture
    def link(self, client, invite, evidence):
        """The witness's page, opened through the link before the sign-off."""
        link = opened(client, invite())
        # Submitted with the witness still to answer: among the records the sign-off signs.
        EvidenceItem.objects.filter(pk=evidence.pk).update(status="submitted")
        return link

    @pytest.fixture
    def signed(self, link, portfolio):
        sufficient(portfolio)
        unit_sign_off(portfolio=portfolio, by=portfolio.assessor)
        return portfolio

    def test_the_sign_off_page_names_the_witnesses_still_awaited(
        self, client, login, link, portfolio, evidence
    ):
        sufficient(portfolio)
        login(portfolio.assessor)

        page = client.get(f"/portfolios/{portfolio.pk}/sign-off/")

        assert "Still waiting for 1 witness:" in page.text
        assert f'Sam Okafor, on <a class="alert-link" href="/evidence/{evidence.pk}/">' in page.text
        assert "Once the unit is signed off their links close" in page.text

    def test_the_link_is_closed_and_the_signature_stands(self, client, link, signed):
        page = client.get(link)
        answer = client.post(link, self.CONFIRM)

        assert page.status_code == answer.status_code == 410
        assert "This statement is closed" in page.text
        assert "This statement is closed" in answer.text
        assert WitnessTestimony.objects.get().status == "sent"
        assert not AuditEntry.objects.filter(action="witness.confirmed").exists()
        [row] = signature_rows(signed)
        assert row.valid, row.reasons

    def test_the_link_opens_again_when_the_portfolio_is_reopened(
        self, client, link, signed, make_user
    ):
        portfolio_unlock(
            portfolio=signed, reason="A date was wrong", by=make_user(centre_admin=True)
        )

        response = client.post(link, self.CONFIRM)

        assert "Thank you" in response.text
        assert WitnessTestimony.objects.get().status == "confirmed"
