"""E-mail is sent by the background worker, with a time limit and tries again; an e-mail that
cannot be sent is shown to the centre administrator, never dropped unseen."""

import datetime
import smtplib
from io import StringIO

import pytest
from django.core import mail
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from audit.models import AuditEntry
from portfolio import services
from portfolio.models import OutgoingEmail

pytestmark = pytest.mark.django_db


class FailingBackend(BaseEmailBackend):
    """A mail server that drops the connection."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.fixture
def queued(settings):
    """E-mail queued for the worker in the database, as in production."""
    settings.EMAIL_TASK_BACKEND = "default"


@pytest.fixture
def failing(settings):
    settings.EMAIL_BACKEND = "tests.test_email.FailingBackend"


def tell(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        services.notify(user, "Your evidence was accepted", evidence=None, link="http://x/e/1/")
    return OutgoingEmail.objects.get(status=OutgoingEmail.Status.QUEUED)


def sending_tasks():
    return DBTaskResult.objects.filter(task_path="portfolio.tasks.send_email")


def test_the_request_queues_the_email_and_does_not_send_it(
    queued, make_user, django_capture_on_commit_callbacks
):
    user = make_user(email="pat@example.org")

    email = tell(user, django_capture_on_commit_callbacks)

    assert mail.outbox == []
    assert email.status == OutgoingEmail.Status.QUEUED
    assert email.to == "pat@example.org"
    [task] = sending_tasks()
    assert task.args_kwargs == {"args": [email.pk], "kwargs": {}}


def test_a_change_rolled_back_sends_nothing(queued, make_user, django_capture_on_commit_callbacks):
    user = make_user(email="pat@example.org")

    def change_that_fails():
        with transaction.atomic():
            services.notify(user, "Accepted", evidence=None, link="http://x/")
            raise RuntimeError

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        change_that_fails()

    assert callbacks == []
    assert not sending_tasks().exists()
    assert not OutgoingEmail.objects.exists()


@pytest.mark.django_db(transaction=True)  # the worker closes its connection when it is done
def test_the_worker_sends_it_and_keeps_nothing_of_it(settings, make_user):
    settings.EMAIL_TASK_BACKEND = "default"
    user = make_user(email="pat@example.org")
    with transaction.atomic():
        services.notify(user, "Your evidence was accepted", evidence=None, link="http://x/e/1/")
    assert mail.outbox == []

    call_command("db_worker", "--batch", "--no-startup-delay", stdout=StringIO(), stderr=StringIO())

    [message] = mail.outbox
    assert message.to == ["pat@example.org"]
    assert "http://x/e/1/" in message.body
    assert not OutgoingEmail.objects.exists()


def test_the_mail_server_is_given_a_time_limit(settings):
    assert settings.EMAIL_TIMEOUT == 10
    assert get_connection("django.core.mail.backends.smtp.EmailBackend").timeout == 10


def test_a_failed_send_is_tried_again_later(
    queued, failing, make_user, django_capture_on_commit_callbacks
):
    email = tell(make_user(email="pat@example.org"), django_capture_on_commit_callbacks)
    before = timezone.now()

    services.email_send(email_id=email.pk)

    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.QUEUED
    assert email.attempts == 1
    assert "Connection unexpectedly closed" in email.error
    assert email.body  # kept for the next try
    retry = sending_tasks().order_by("enqueued_at").last()
    assert retry.args_kwargs["args"] == [email.pk]
    assert retry.run_after >= before + datetime.timedelta(minutes=1)


def test_the_tries_wait_longer_each_time(
    queued, failing, make_user, django_capture_on_commit_callbacks
):
    email = tell(make_user(email="pat@example.org"), django_capture_on_commit_callbacks)
    waits = []

    for _ in range(3):
        before = timezone.now()
        services.email_send(email_id=email.pk)
        waits.append(sending_tasks().order_by("enqueued_at").last().run_after - before)

    assert [round(wait.total_seconds() / 60) for wait in waits] == [1, 5, 30]


def test_after_the_last_try_the_email_is_given_up_and_shown_to_the_administrator(
    queued, failing, client, login, make_user, django_capture_on_commit_callbacks
):
    email = tell(make_user(email="pat@example.org"), django_capture_on_commit_callbacks)

    for _ in range(4):
        services.email_send(email_id=email.pk)

    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.FAILED
    assert email.attempts == 4
    assert email.body == ""
    assert sending_tasks().count() == 4  # the first and three more tries: no fifth
    entry = AuditEntry.objects.get(action="email.failed")
    assert entry.data == {"email": email.pk, "error": "SMTPServerDisconnected", "smtp_code": None}
    assert "example.org" not in entry.summary + str(entry.data)  # the chain names no one
    assert "accepted" not in entry.summary
    login(make_user(centre_admin=True))
    home = client.get("/centre/")
    assert "1 e-mail could not be sent in the last 14 days" in home.text
    assert "pat@example.org" in home.text
    assert "Your evidence was accepted" in home.text
    services.email_send(email_id=email.pk)  # a stray task finds it given up
    assert AuditEntry.objects.filter(action="email.failed").count() == 1


def test_an_email_given_up_is_listed_for_two_weeks(
    queued, failing, client, login, make_user, django_capture_on_commit_callbacks
):
    old = OutgoingEmail.objects.create(
        to="old@example.org", subject="Old", status=OutgoingEmail.Status.FAILED, attempts=4
    )
    OutgoingEmail.objects.filter(pk=old.pk).update(
        finished_at=timezone.now() - datetime.timedelta(days=15)
    )
    login(make_user(centre_admin=True))
    assert "old@example.org" not in client.get("/centre/").text
    email = tell(make_user(email="pat@example.org"), django_capture_on_commit_callbacks)

    for _ in range(4):
        services.email_send(email_id=email.pk)

    assert list(OutgoingEmail.objects.values_list("to", flat=True)) == ["pat@example.org"]


def test_the_centre_home_says_nothing_while_every_email_is_sent(client, login, make_user):
    login(make_user(centre_admin=True))

    assert "could not be sent" not in client.get("/centre/").text


def test_a_password_reset_email_goes_through_the_same_queue(
    queued, client, make_user, django_capture_on_commit_callbacks
):
    user = make_user(email="pat@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password_reset/", {"email": user.email})

    assert response.status_code == 302
    assert mail.outbox == []
    email = OutgoingEmail.objects.get()
    assert email.to == "pat@example.org"
    assert "/accounts/reset/" in email.body
    assert sending_tasks().count() == 1


@pytest.mark.django_db(transaction=True)  # the worker closes its connection when it is done
def test_an_email_whose_task_was_lost_or_left_running_is_queued_again(
    queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lost, stuck, waiting = (
            services.email_queue(to=f"{name}@example.org", subject="Accepted", body="Well done")
            for name in ("pat", "sam", "kim")
        )
    long_ago = timezone.now() - datetime.timedelta(minutes=60)
    OutgoingEmail.objects.update(created_at=long_ago)
    sending_tasks().filter(args_kwargs__args=[lost.pk]).delete()
    sending_tasks().filter(args_kwargs__args=[stuck.pk]).update(
        status="RUNNING", started_at=long_ago
    )
    out = StringIO()

    call_command("restart_stopped_work", stdout=out)

    assert f"Queued again: e-mail #{lost.pk}" in out.getvalue()
    assert f"Queued again: e-mail #{stuck.pk}" in out.getvalue()
    assert f"e-mail #{waiting.pk}" not in out.getvalue()  # its task is still waiting
    call_command("db_worker", "--batch", "--no-startup-delay", stdout=StringIO(), stderr=StringIO())
    assert sorted(m.to[0] for m in mail.outbox) == [
        "kim@example.org", "pat@example.org", "sam@example.org"
    ]  # fmt: skip
    assert not OutgoingEmail.objects.exists()
