"""What a signature binds, stored: for each portfolio the manifest of its signable records and
file hashes, and that manifest's digest.

The stored record is brought up to date inside the transaction of every change to what it covers:
receivers on each covered model's saves, deletions and many-to-many changes recompute it
(``connect``). A change made without signals (``QuerySet.update``, ``bulk_create``) calls
``refresh`` itself. Signatures, pages and the PDF read it (``stored``) rather than rebuilding it.
An action that changes many covered rows wraps itself in ``portfolio.signable.batched()``, so the
manifest is recomputed once, when the block ends, instead of after each row."""

import hashlib
import json
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch
from django.db.models.signals import m2m_changed, post_delete, post_save

from assessments.models import (
    CriterionDecision,
    Mapping,
    ObservationRecord,
    Review,
    SignableRecord,
)
from portfolio import signable
from portfolio.models import EvidenceFile, EvidenceItem, Portfolio, WitnessTestimony, Workplace
from portfolio.signable import batched, changed
from units.models import Criterion, EvidenceContext


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def digest_of(manifest: dict[str, Any]) -> str:
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


# The version of the manifest below that a new signature's digest is of; each signature records
# the version it was made with (``Signature.digest_version``).
DIGEST_VERSION = 1


def manifest_for(portfolio: Portfolio) -> dict[str, Any]:
    """Everything a signature on ``portfolio`` vouches for, drafts excepted, in a fixed order:
    the evidence that counts in its unit, with the learner's claims and the assessor's mappings
    in that unit only, so a signature in one unit covers nothing of another's."""
    unit_id = portfolio.unit_id
    counting = EvidenceItem.objects.counting_in(portfolio).exclude(status=EvidenceItem.Status.DRAFT)
    items = (
        counting.select_related("answers_question", "testimony", "observation")
        .prefetch_related(
            Prefetch("contexts", EvidenceContext.objects.filter(unit_id=unit_id)),
            Prefetch("claimed_criteria", Criterion.objects.filter(unit_id=unit_id)),
            Prefetch("files", EvidenceFile.objects.ready()),  # never one being checked
        )
        .order_by("pk")
    )
    evidence = []
    for item in items:
        testimony = getattr(item, "testimony", None)
        observation = getattr(item, "observation", None)
        evidence.append(
            {
                "id": item.pk,
                "title": item.title,
                "method": item.method,
                "occurred_on": item.occurred_on.isoformat(),
                "status": item.status,
                "setting": item.setting,
                "customer": item.customer,
                "customer_reference": item.customer_reference,
                "account_sha256": _sha(item.account),
                "contexts": sorted(c.letter for c in item.contexts.all()),
                "claims": sorted(c.nos_code for c in item.claimed_criteria.all()),
                "declared_at": item.declared_at.isoformat() if item.declared_at else None,
                "files": [
                    {"id": f.pk, "name": f.original_name, "sha256": f.sha256}
                    for f in sorted(item.files.all(), key=lambda f: f.pk)
                ],
                "witness": {
                    "status": testimony.status,
                    "statement_sha256": _sha(testimony.statement),
                    "confirmed_name": testimony.confirmed_name,
                }
                if testimony
                else None,
                "observation": {
                    "place": observation.place,
                    "duration_minutes": observation.duration_minutes,
                }
                if observation
                else None,
            }
        )
    mappings = [
        [m.evidence_id, m.criterion.nos_code, _sha(m.note), m.recording_seconds]
        for m in Mapping.objects.filter(evidence__in=counting, criterion__unit_id=unit_id)
        .select_related("criterion")
        .order_by("evidence_id", "criterion__position")
    ]
    decisions = [
        [d.criterion.nos_code, d.decided_by_id, sorted(e.pk for e in d.cited.all())]
        for d in CriterionDecision.objects.active()
        .filter(portfolio=portfolio)
        .select_related("criterion")
        .prefetch_related("cited")
        .order_by("criterion__position")
    ]
    reviews = list(
        Review.objects.filter(evidence__in=counting)
        .order_by("pk")
        .values_list("pk", "evidence_id", "outcome")
    )
    return {
        "portfolio": {
            "id": portfolio.pk,
            "learner": portfolio.learner_id,
            "unit": f"{portfolio.unit.awarding_body} {portfolio.unit.code}",
            "unit_version": portfolio.unit.version,
            # The workplace's since it became a record (0.2), under the keys and with the values
            # the portfolio's own text had, so that signatures made before still hold.
            "organisation": portfolio.workplace.organisation,
            "sector": portfolio.workplace.sector,
            "job_role": portfolio.job_role,
        },
        "evidence": evidence,
        "mappings": mappings,
        "decisions": decisions,
        "reviews": [list(review) for review in reviews],
    }


def refresh(portfolio_id: int, *, create: bool = True) -> SignableRecord | None:
    """Recompute and store the portfolio's signable record; None if the portfolio is gone (or
    has no record and ``create`` is false)."""
    portfolio = (
        Portfolio.objects.select_related("unit", "workplace").filter(pk=portfolio_id).first()
    )
    if portfolio is None:
        return None
    manifest = manifest_for(portfolio)
    values = {"manifest": manifest, "digest": digest_of(manifest)}
    if not create:
        SignableRecord.objects.filter(portfolio=portfolio).update(**values)
        return None
    record, _ = SignableRecord.objects.update_or_create(portfolio=portfolio, defaults=values)
    return record


def stored(portfolio: Portfolio, *, save: bool = True) -> SignableRecord:
    """The portfolio's signable record as stored; made once for a portfolio that has none yet
    (one created before records were stored, or loaded in bulk): saved, or with ``save`` false
    (inside a read-only transaction) only computed."""
    signable.flush(portfolio.pk)
    record = SignableRecord.objects.filter(portfolio=portfolio).first()
    if record is not None:
        return record
    if not save:
        manifest = manifest_for(portfolio)
        return SignableRecord(portfolio=portfolio, manifest=manifest, digest=digest_of(manifest))
    with transaction.atomic():
        Portfolio.objects.locked(portfolio.pk)
        return SignableRecord.objects.filter(portfolio=portfolio).first() or refresh(portfolio.pk)


# Drafts are in no manifest, and an item never becomes a draft again: a change to a draft, or to
# what belongs to one, changes nothing signable.
DRAFT = EvidenceItem.Status.DRAFT


def _portfolios_of_evidence(evidence_id: int | None, criteria=()) -> set[int]:
    """The portfolios whose manifest names the (non-draft) item: those it counts in, and the
    units of ``criteria`` in its enrolment (where a claim or mapping just removed made it count)."""
    if evidence_id is None:
        return set()
    item = EvidenceItem.objects.filter(pk=evidence_id).exclude(status=DRAFT)
    found = set(Portfolio.objects.counting(evidence_id).filter(Exists(item)).values_list("pk"))
    if criteria:
        found |= set(
            Portfolio.objects.filter(
                Exists(item.filter(portfolio__enrolment_id=OuterRef("enrolment_id"))),
                unit__criteria__in=criteria,
            ).values_list("pk")
        )
    return {pk for (pk,) in found}


def _changed(portfolio_ids, *, deleting: bool = False) -> None:
    for portfolio_id in sorted(portfolio_ids):
        changed(portfolio_id, deleting=deleting)


def _on_portfolio(sender, instance, **kwargs) -> None:
    changed(instance.pk)


def _on_workplace(sender, instance, **kwargs) -> None:
    # A workplace is shared: a change to it is a change to every portfolio at it, each locked
    # (in order) as any change to a portfolio's records locks it, so that a change racing it
    # lands before or after, never half-way.
    at_workplace = (
        Portfolio.objects.filter(workplace=instance)
        .select_for_update(no_key=True, of=("self",))
        .order_by("pk")
    )
    with transaction.atomic(), batched():
        for portfolio_id in at_workplace.values_list("pk", flat=True):
            changed(portfolio_id)


def _on_decision(sender, instance, signal, **kwargs) -> None:
    changed(instance.portfolio_id, deleting=signal is post_delete)


def _on_evidence(sender, instance, signal, **kwargs) -> None:
    if instance.status == DRAFT:
        return
    if signal is post_delete:
        # Its claims and mappings are gone with it: every unit of its enrolment may have named it.
        enrolment = Portfolio.objects.filter(pk=instance.portfolio_id).values("enrolment_id")
        _changed(
            Portfolio.objects.filter(enrolment_id__in=enrolment).values_list("pk", flat=True)
            or [instance.portfolio_id],
            deleting=True,
        )
        return
    _changed(_portfolios_of_evidence(instance.pk))


# A file's fields that no manifest names: its renditions and the marks of its checks.
UNSIGNED_FILE_FIELDS = {"screen", "print_version", "pixels", "checked_at", "storage_problem"}


def _on_evidence_part(sender, instance, signal, update_fields=None, **kwargs) -> None:
    if sender is EvidenceFile and update_fields and set(update_fields) <= UNSIGNED_FILE_FIELDS:
        return
    # Deleted with its evidence item, this finds no item: the item's own deletion follows.
    criteria = [instance.criterion_id] if sender is Mapping else ()
    _changed(
        _portfolios_of_evidence(instance.evidence_id, criteria), deleting=signal is post_delete
    )


def _on_many(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
    if not action.startswith("post_"):
        return
    claims = sender is EvidenceItem.claimed_criteria.through
    if isinstance(instance, CriterionDecision):
        changed(instance.portfolio_id)
    elif not reverse:  # an item's contexts or claims
        if instance.status == DRAFT:
            return
        if claims and action == "post_clear":  # which claims went is not told
            criteria = Criterion.objects.filter(
                unit__portfolios__enrolment__portfolios__evidence=instance
            )
        else:
            criteria = pk_set if claims else ()
        _changed(_portfolios_of_evidence(instance.pk, criteria))
    elif model is EvidenceItem:  # from the other side (a criterion's or context's items)
        criteria = [instance.pk] if claims else ()
        for item in model.objects.filter(pk__in=pk_set or ()).exclude(status=DRAFT):
            _changed(_portfolios_of_evidence(item.pk, criteria))
    else:  # a decision's citing, from an item
        for portfolio_id in set(
            model.objects.filter(pk__in=pk_set or ()).values_list("portfolio_id", flat=True)
        ):
            changed(portfolio_id)


def connect() -> None:
    """Connect the receivers; called once, from the app's ready()."""
    signable.REFRESH[:] = [refresh]
    post_save.connect(_on_portfolio, sender=Portfolio, dispatch_uid="signable-portfolio")
    post_save.connect(_on_workplace, sender=Workplace, dispatch_uid="signable-workplace")
    for signal in (post_save, post_delete):
        signal.connect(_on_evidence, sender=EvidenceItem, dispatch_uid="signable-EvidenceItem")
        signal.connect(
            _on_decision, sender=CriterionDecision, dispatch_uid="signable-CriterionDecision"
        )
    for model in (EvidenceFile, WitnessTestimony, ObservationRecord, Mapping, Review):
        for signal in (post_save, post_delete):
            signal.connect(
                _on_evidence_part, sender=model, dispatch_uid=f"signable-{model.__name__}"
            )
    for through in (
        EvidenceItem.contexts.through,
        EvidenceItem.claimed_criteria.through,
        CriterionDecision.cited.through,
    ):
        m2m_changed.connect(_on_many, sender=through, dispatch_uid=f"signable-{through.__name__}")
