"""Progress reviews: what each party's signature on a review binds, whether it still holds, and
when each enrolment's next review falls due (``assessments.schedule``), paused by breaks in
learning."""

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Max, Q
from django.utils import timezone

from assessments.models import ProgressReview, Signature
from assessments.planning import pauses_of
from assessments.schedule import Due, review_due, review_weeks
from assessments.signatures import SignatureStatus, content_status
from portfolio.models import Enrolment

# The nouns of a review's manifest sections, for the sentences saying why a signature broke.
REVIEW_NOUNS = {"review": "review", "learner": "learner's part", "employer": "employer's part"}

# Each party's signature, and the part of the review that is theirs besides the assessor's.
PARTS = {
    Signature.Kind.REVIEW_ASSESSOR: None,
    Signature.Kind.REVIEW_LEARNER: "learner",
    Signature.Kind.REVIEW_EMPLOYER: "employer",
}


def review_manifest(
    review: ProgressReview, kind: Signature.Kind, signer_name: str = ""
) -> dict[str, Any]:
    """What ``kind`` of signature on the review binds: the assessor's part (the progress
    computed, what went well, the targets and the next review's date) for every party, and the
    signer's own comments (with the typed name of an employer signing through a link). So the
    learner's comments, added after the assessor signed, break nothing of the assessor's, while
    a change to the targets breaks every signature."""
    manifest: dict[str, Any] = {
        "review": {
            "id": review.pk,
            "enrolment": review.enrolment_id,
            "held_on": review.held_on.isoformat(),
            "period_from": review.period_from.isoformat(),
            "progress": review.progress,
            "went_well": review.went_well,
            "targets": review.targets,
            "next_review_on": review.next_review_on.isoformat() if review.next_review_on else None,
            "written_by": review.written_by_id,
        }
    }
    part = PARTS[kind]
    if part == "learner":
        manifest["learner"] = {"comments": review.learner_comments}
    elif part == "employer":
        manifest["employer"] = {"comments": review.employer_comments, "name": signer_name}
    return manifest


def review_signature_rows(review: ProgressReview) -> list[SignatureStatus]:
    """Every signature on the review with whether it still holds, and why not; a review
    loaded with its ``signatures`` prefetched (in order) asks nothing more."""
    cache = getattr(review, "_prefetched_objects_cache", {})
    if "signatures" in cache:
        signatures = list(cache["signatures"])
    else:
        signatures = list(
            Signature.objects.filter(progress_review=review).order_by("signed_at", "pk")
        )
    return content_status(
        signatures,
        lambda signature: review_manifest(review, signature.kind, signature.signer_name),
        REVIEW_NOUNS,
    )


# A review counts as held once the assessor has signed it.
HELD = Q(
    progress_reviews__signatures__kind=Signature.Kind.REVIEW_ASSESSOR,
    progress_reviews__signatures__revoked_at__isnull=True,
)


@dataclass(frozen=True)
class ReviewDue:
    """When an enrolment's next progress review falls due, and its last."""

    enrolment_id: int
    last_held_on: datetime.date | None
    due: Due


def review_dues(
    enrolments: list[Enrolment], *, today: datetime.date | None = None
) -> dict[int, ReviewDue]:
    """Each enrolment's next review: ``review_weeks`` after the last one held (or the start of
    the enrolment), moved on by breaks in learning. Two queries whatever the number of
    enrolments; their qualifications are to be loaded already (``select_related``)."""
    today = today or timezone.localdate()
    ids = [enrolment.pk for enrolment in enrolments]
    last_held = dict(
        Enrolment.objects.filter(pk__in=ids)
        .annotate(last=Max("progress_reviews__held_on", filter=HELD))
        .values_list("pk", "last")
    )
    pauses = pauses_of(ids)
    dues = {}
    for enrolment in enrolments:
        last = last_held.get(enrolment.pk)
        due = review_due(
            last=last or enrolment.start_date,
            weeks=review_weeks(enrolment.qualification),
            pauses=pauses[enrolment.pk],
            today=today,
        )
        dues[enrolment.pk] = ReviewDue(enrolment.pk, last, due)
    return dues
