"""Purging what is past its retention date: files removed, the learner anonymised, the
assessment decisions kept; and the files made in the background (PDFs, ZIPs) removed once they
have been kept long enough."""

import datetime

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone

from assessments.models import AssessmentPlan, BreakInLearning, ProgressReview, Signature
from audit.chain import erase_personal_details, record
from portfolio.models import EvidenceFile, EvidenceItem, Portfolio, WitnessTestimony
from records.models import Export
from records.tasks import export_fail

REMOVED = "[removed after the retention period]"


def due_for_purge(today=None):
    today = today or timezone.localdate()
    return Portfolio.objects.filter(
        status=Portfolio.Status.CLAIMED, retain_until__lt=today, purged_at__isnull=True
    ).select_related("learner", "unit")


def released_evidence(portfolio: Portfolio) -> list[int]:
    """The evidence counting in the portfolio that no other unit still holds: an item shared
    with a unit not yet purged stays until that unit's purge, wherever it is kept."""
    return [
        pk
        for pk in EvidenceItem.objects.counting_in(portfolio).values_list("pk", flat=True)
        if not Portfolio.objects.counting(pk)
        .exclude(pk=portfolio.pk)
        .filter(purged_at=None)
        .exists()
    ]


def purge(portfolio: Portfolio) -> int:
    """Remove the files of the evidence counting in the portfolio (``released_evidence``) and
    anonymise its learner, and with the enrolment's last unit the people's details in its
    planning (``_remove_planning_details``); returns the files removed. Decisions, mappings,
    signatures and the audit trail stay."""
    storage = storages["evidence"]
    now = timezone.now()
    with transaction.atomic():
        released = released_evidence(portfolio)
        files = list(EvidenceFile.objects.filter(evidence__in=released, purged_at=None))
        names = [name for f in files for name in f.stored_names()]
        EvidenceFile.objects.filter(pk__in=[f.pk for f in files]).update(purged_at=now)
        EvidenceItem.objects.filter(pk__in=released).update(account=REMOVED)
        WitnessTestimony.objects.filter(evidence__in=released).update(
            witness_name=REMOVED,
            witness_email="removed@invalid",
            statement=REMOVED,
            confirmed_name="",
            response_ip=None,
        )
        enrolment_kept = (
            Portfolio.objects.filter(enrolment_id=portfolio.enrolment_id, purged_at=None)
            .exclude(pk=portfolio.pk)
            .exists()
        )
        if not enrolment_kept:
            _remove_planning_details(portfolio.enrolment_id)
        learner = portfolio.learner
        if not learner.portfolios.exclude(pk=portfolio.pk).filter(purged_at=None).exists():
            learner.username = f"former-learner-{learner.pk}"
            learner.first_name, learner.last_name = "Former", "learner"
            learner.email = ""
            learner.uln, learner.date_of_birth = "", None
            learner.is_active = False
            learner.password = make_password(None)
            learner.save()
            # Their name goes from the audit trail too; the chains still verify.
            erase_personal_details(learner_id=learner.pk, user_type=learner._meta.label_lower)
        # The workplace stays: it is the employer's, shared with other learners, not the
        # learner's personal data. Their job role is theirs.
        portfolio.job_role = REMOVED
        portfolio.purged_at = now
        portfolio.save(update_fields=["job_role", "purged_at", "updated_at"])
        record(
            "portfolio.purged",
            actor=None,
            actor_label="purge_expired",
            obj=portfolio,
            portfolio=portfolio,
            summary=f"Retention ended: {len(files)} files removed and the learner anonymised",
            data={"files": [f.sha256 for f in files], "retain_until": portfolio.retain_until},
        )
        transaction.on_commit(lambda: [storage.delete(name) for name in names])
        # Copies of its PDF and of its learner's data go with it, however young they are.
        for export in Export.objects.filter(status=Export.Status.DONE):
            if _holds(export, portfolio, learner):
                remove_export(export, reason=f"portfolio #{portfolio.pk} in it was purged")
        # One still being made would hold what was just removed: it is stopped, and a worker
        # finishing it afterwards keeps nothing (only a running export's file is kept).
        for export in Export.objects.filter(
            status__in=[Export.Status.QUEUED, Export.Status.RUNNING]
        ):
            if _holds(export, portfolio, learner):
                export_fail(
                    export,
                    error="a portfolio in it reached the end of its retention and was purged",
                )
    return len(files)


def _remove_planning_details(enrolment_id: int) -> None:
    """With the last unit of an enrolment, what its plans, reviews and breaks hold of people
    rather than of the assessment: the learner's and the employer's words, the employer's
    contact and the address their link signed from (as a witness's are), and the reasons for
    breaks (often their health). The assessor's records and every signature stay."""
    reviews = ProgressReview.objects.filter(enrolment_id=enrolment_id)
    reviews.exclude(learner_comments="").update(learner_comments=REMOVED)
    reviews.exclude(employer_comments="").update(employer_comments=REMOVED)
    reviews.exclude(employer_name="").update(employer_name=REMOVED)
    # and the employer's link answers nothing any more (``portfolio.links.link_cancel``)
    reviews.update(
        employer_email="", token_hash="", opened_at=None, browser_key_hash="", expires_at=None
    )
    Signature.objects.filter(progress_review__in=reviews).update(signed_from=None)
    AssessmentPlan.objects.filter(enrolment_id=enrolment_id).exclude(change_asked="").update(
        change_asked=REMOVED
    )
    BreakInLearning.objects.filter(enrolment_id=enrolment_id).update(reason=REMOVED)


def _holds(export: Export, portfolio, learner) -> bool:
    """Whether the export holds the portfolio, or is the learner's own data."""
    return (
        portfolio.pk in export.portfolio_ids
        or export.portfolio_id == portfolio.pk
        or (export.kind == Export.Kind.DATA and export.requested_by_id == learner.pk)
    )


def exports_due_for_removal(now=None):
    """Ready exports finished more than ``BULK_EXPORT_KEEP_DAYS`` ago."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.BULK_EXPORT_KEEP_DAYS)
    return Export.objects.filter(status=Export.Status.DONE, finished_at__lt=cutoff).select_related(
        "requested_by"
    )


def remove_export(export: Export, *, reason: str) -> None:
    """Remove an export's file, keeping its row (who asked for what) and auditing it. A file
    handed out again by other ready exports (an unchanged portfolio's PDF) stays until the last
    of them is removed."""
    name = export.file.name
    with transaction.atomic():
        export.status = Export.Status.REMOVED
        export.removed_at = timezone.now()
        export.file.name = ""
        export.save(update_fields=["status", "removed_at", "file"])
        record(
            "export.removed",
            actor=None,
            actor_label="purge_expired",
            obj=export,
            summary=f"The file of {export} was removed: {reason}",
            data={
                "kind": export.kind,
                "portfolios": export.portfolios_in,
                "reason": reason,
            },
        )
        shared = Export.objects.filter(status=Export.Status.DONE, file=name).exists()
        if name and not shared:
            transaction.on_commit(lambda: storages["evidence"].delete(name))
