"""Background work of the learner's side: the check of a file whose cleaning takes seconds, and
the smaller copies of a photo, and sending e-mail."""

from django_tasks import task


@task()
def check_evidence_file(file_id: int, site_url: str = "") -> None:
    """Clean and hash a file stored as being checked (``portfolio.services.file_check``)."""
    # The workflow enqueues this task, so it is found when the task runs, not at import.
    from portfolio.services import file_check

    file_check(file_id=file_id, site_url=site_url)


@task()
def make_evidence_file_renditions(file_id: int) -> None:
    """Make a stored photo's screen and print renditions (``services.file_renditions``)."""
    from portfolio.services import file_renditions

    file_renditions(file_id=file_id)


@task()
def send_email(email_id: int) -> None:
    """Send a queued e-mail, or plan the next try (``portfolio.services.email_send``)."""
    from portfolio.services import email_send

    email_send(email_id=email_id)
