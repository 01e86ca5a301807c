"""The assessor's workflows: reviews, mappings, records, decisions and the signed sign-off.

Every one of them writes the audit trail, in the same transaction as the change it records."""

from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import get_text_list

from assessments.models import (
    AssessmentPlan,
    CriterionDecision,
    InitialAssessment,
    Mapping,
    ObservationRecord,
    PriorLearning,
    ProgressReview,
    Review,
    Signature,
    StartingPoint,
)
from assessments.signable import DIGEST_VERSION, digest_of, stored
from assessments.sufficiency import coverage_for
from audit.chain import record
from portfolio.files import PreparedFile, atomic_with_files, store_file
from portfolio.models import EvidenceFile, EvidenceItem, Notification, Portfolio, Role, User
from portfolio.services import (
    AlreadySaved,
    file_stored,
    fresh_key,
    notify,
    once,
    refuse_if_signed_elsewhere,
    saved_from,
)
from portfolio.signable import batched
from units.models import Criterion, LearningOutcome

SIGN_OFF_STATEMENT = (
    "I confirm that the evidence in this portfolio is valid, authentic, current and sufficient, "
    "that I have assessed it against every criterion of the unit, and that the learner has met "
    "them all."
)
LEARNER_DECLARATION = (
    "I declare that the evidence in this portfolio is my own work, that it comes from my dealings "
    "with real customers, and that I have removed customers' personal details."
)


def _open_for_assessing(portfolio_id: int, by: User) -> Portfolio:
    """Lock the portfolio for the rest of the transaction, as the sign-off does, and check its
    records may still change: a change racing the sign-off lands before it or not at all, so
    what the assessor signed stays what is there."""
    portfolio = Portfolio.objects.locked(portfolio_id)
    if not portfolio.may_assess(by):
        if portfolio.status == Portfolio.Status.IN_PROGRESS:
            raise ValidationError(
                f"Only the assessor of {portfolio.unit.label} judges its criteria."
            )
        raise ValidationError("The unit is signed off, so its records can no longer change.")
    return portfolio


def _unit_portfolio(evidence: EvidenceItem, criterion: Criterion, by: User) -> Portfolio:
    """The portfolio of the criterion's unit in the enrolment the evidence belongs to, where a
    mapping of it is a judgement: locked (as ``_open_for_assessing``), and refused unless ``by``
    assesses that unit while it is open."""
    portfolio_id = (
        Portfolio.objects.filter(
            enrolment__portfolios=evidence.portfolio_id, unit_id=criterion.unit_id
        )
        .values_list("pk", flat=True)
        .first()
    )
    if portfolio_id is None:
        raise ValidationError(
            f"{criterion.label} is in a unit this learner is not enrolled on: "
            "choose a criterion of one of their units."
        )
    portfolio = Portfolio.objects.select_related("unit").locked(portfolio_id)
    # Another unit's assessor is told whose judgement it is, not that the unit is signed off.
    if portfolio.assessor_id != by.pk:
        raise ValidationError(
            f"You do not assess {portfolio.unit.label} for this learner, so you cannot confirm "
            "or remove its criteria."
        )
    if not portfolio.may_assess(by):
        raise ValidationError("The unit is signed off, so its records can no longer change.")
    return portfolio


def evidence_review(
    *,
    evidence: EvidenceItem,
    by: User,
    accept: bool,
    feedback: str,
    site_url: str,
    proposed: dict[Criterion, str] | None = None,
) -> Review:
    """Accept submitted evidence (it is then locked) or refer it back with feedback; referred
    back, the criteria the assessor had ticked (``proposed``) are kept with the review."""
    if not accept and not feedback.strip():
        raise ValidationError("Say what the learner needs to do: feedback is required.")
    outcome = Review.Outcome.ACCEPTED if accept else Review.Outcome.REFERRED_BACK
    with transaction.atomic(), batched():
        _open_for_assessing(evidence.portfolio_id, by)
        evidence = EvidenceItem.objects.get(pk=evidence.pk)
        if evidence.status not in EvidenceItem.AWAITING_REVIEW:
            raise ValidationError("This evidence is no longer waiting for review.")
        refuse_if_signed_elsewhere(evidence)
        if accept and (problem := evidence.witness_problem()):
            raise ValidationError(problem)
        evidence.status = (
            EvidenceItem.Status.ACCEPTED if accept else EvidenceItem.Status.REFERRED_BACK
        )
        evidence.save(update_fields=["status", "updated_at"])
        review = Review.objects.create(
            evidence=evidence,
            outcome=outcome,
            feedback=feedback.strip(),
            assessor=by,
            proposed_mappings=[] if accept else [[c.pk, n] for c, n in (proposed or {}).items()],
        )
        verb = "accepted" if accept else "referred back"
        record(
            f"evidence.{outcome}",
            actor=by,
            obj=evidence,
            portfolio=evidence.portfolio,
            summary=f"{by} {verb} '{evidence.title}'",
            data={"feedback": review.feedback},
        )
        notify(
            evidence.portfolio.learner,
            f"{by} {verb} '{evidence.title}'",
            kind=Notification.Kind.EVIDENCE_ACCEPTED
            if accept
            else Notification.Kind.EVIDENCE_REFERRED_BACK,
            evidence=evidence,
            link=site_url + evidence.get_absolute_url(),
        )
    return review


def mapping_save(
    *,
    evidence: EvidenceItem,
    criterion: Criterion,
    note: str,
    by: User,
    recording_seconds: int | None = None,
) -> Mapping:
    """Confirm that accepted evidence shows a criterion of any unit of its enrolment, and where;
    a second call updates it. It is a judgement in the criterion's unit, whose assessor makes it
    while that unit is open."""
    with transaction.atomic(), batched():
        portfolio = _unit_portfolio(evidence, criterion, by)
        if evidence.status != EvidenceItem.Status.ACCEPTED:
            raise ValidationError("Only accepted evidence is mapped to criteria.")
        mapping, created = Mapping.objects.update_or_create(
            evidence=evidence,
            criterion=criterion,
            defaults={"note": note, "assessor": by, "recording_seconds": recording_seconds},
        )
        record(
            "mapping.added" if created else "mapping.changed",
            actor=by,
            obj=mapping,
            portfolio=portfolio,
            summary=f"{by} confirmed {criterion.label} on '{evidence.title}'",
            data={"criterion": criterion.nos_code, "note": note, "seconds": recording_seconds},
        )
    return mapping


def mapping_remove(*, mapping: Mapping, by: User) -> None:
    with transaction.atomic(), batched():
        portfolio = _unit_portfolio(mapping.evidence, mapping.criterion, by)
        if (
            CriterionDecision.objects.active()
            .filter(
                portfolio=portfolio,
                criterion=mapping.criterion_id,
                cited=mapping.evidence_id,
            )
            .exists()
        ):
            raise ValidationError(
                f"The decision that {mapping.criterion.label} is met cites this evidence: "
                "withdraw the decision first."
            )
        record(
            "mapping.removed",
            actor=by,
            obj=mapping,
            portfolio=portfolio,
            summary=f"{by} removed {mapping.criterion.label} from '{mapping.evidence.title}'",
            data={"criterion": mapping.criterion.nos_code},
        )
        mapping.delete()


def evidence_assess(
    *,
    evidence: EvidenceItem,
    by: User,
    accept: bool | None,
    feedback: str,
    mappings: dict[Criterion, str],
    removed: list[Criterion],
    site_url: str,
) -> tuple[Review | None, int]:
    """The review in one screen, all of it or none: accept or refer back (``accept`` None for
    evidence already accepted), then confirm each criterion in ``mappings`` where its note says
    and stop confirming those ``removed``, each in its own unit (``mapping_save``). Returns the
    review and how many criteria changed."""
    with transaction.atomic(), batched():
        review = None
        if accept is not None:
            review = evidence_review(
                evidence=evidence,
                by=by,
                accept=accept,
                feedback=feedback,
                site_url=site_url,
                proposed=mappings,
            )
            if not accept:
                return review, 0
            evidence = review.evidence  # accepted now
        existing = {m.criterion_id: m for m in Mapping.objects.filter(evidence=evidence)}
        changed = 0
        for criterion in removed:
            if mapping := existing.get(criterion.pk):
                mapping_remove(mapping=mapping, by=by)
                changed += 1
        for criterion, note in mappings.items():
            mapping = existing.get(criterion.pk)
            if mapping is not None and mapping.note == note:
                continue
            mapping_save(
                evidence=evidence,
                criterion=criterion,
                note=note,
                by=by,
                # A discussion's times in its recording stay as they were.
                recording_seconds=mapping.recording_seconds if mapping else None,
            )
            changed += 1
    return review, changed


def assessor_record_save(
    *,
    form,
    portfolio: Portfolio,
    by: User,
    criteria: list[tuple[Criterion, str, int | None]],
    files: list[PreparedFile],
    place: str = "",
    duration_minutes: int | None = None,
) -> EvidenceItem:
    """An observation or professional discussion record: accepted evidence written by the
    assessor, with the criteria it shows already confirmed. Made once per form: the same form
    saved again raises AlreadySaved, storing nothing."""
    key = form.cleaned_data.get("submission_key")
    if existing := saved_from(portfolio, key):
        raise AlreadySaved(existing)
    key = fresh_key(portfolio, key)
    with once(portfolio, key), atomic_with_files() as written:
        _open_for_assessing(portfolio.pk, by)
        evidence = form.save(commit=False)
        evidence.portfolio = portfolio
        evidence.submission_key = key
        evidence.recorded_by = by
        evidence.status = EvidenceItem.Status.ACCEPTED
        evidence.submitted_at = timezone.now()
        evidence.save()
        form.save_m2m()
        if evidence.method == EvidenceItem.Method.OBSERVATION:
            ObservationRecord.objects.create(
                evidence=evidence, place=place, duration_minutes=duration_minutes
            )
        # The files are stored before anything is audited, as the learner's are.
        stored = [store_file(evidence, prepared, by=by, written=written) for prepared in files]
        kind = evidence.get_method_display().lower()
        record(
            "record.created",
            actor=by,
            obj=evidence,
            portfolio=portfolio,
            summary=f"{by} recorded a {kind}: '{evidence.title}'",
            data={"method": evidence.method, "place": place, "minutes": duration_minutes},
        )
        for prepared, evidence_file in zip(files, stored, strict=True):
            file_stored(evidence, prepared, evidence_file, by=by, site_url="")
        for criterion, note, seconds in criteria:
            mapping_save(
                evidence=evidence, criterion=criterion, note=note, by=by, recording_seconds=seconds
            )
        if evidence.method == EvidenceItem.Method.OBSERVATION:
            message = f"{by} recorded an observation, '{evidence.title}': read it and confirm it"
        else:
            message = f"{by} recorded a {kind}, '{evidence.title}': read what was recorded"
        notify(
            portfolio.learner,
            message,
            kind=Notification.Kind.RECORD_TO_CONFIRM,
            evidence=evidence,
            link=evidence.get_absolute_url(),
        )
    return evidence


def observation_confirm(*, evidence: EvidenceItem, by: User) -> None:
    """The learner confirms the assessor's record of an observation they were part of."""
    with transaction.atomic(), batched():
        observation = ObservationRecord.objects.select_for_update().get(evidence=evidence)
        if observation.learner_confirmed_at:
            return
        observation.learner_confirmed_at = timezone.now()
        observation.save(update_fields=["learner_confirmed_at"])
        record(
            "observation.confirmed",
            actor=by,
            obj=evidence,
            portfolio=evidence.portfolio,
            summary=f"{by} confirmed the observation record '{evidence.title}'",
        )


@dataclass(frozen=True)
class PriorClaim:
    """A row of prior learning as the assessor leaves it: the row it changes (``pk``, None for
    a new one), what was learnt before, and the evidence item that shows it (or None yet)."""

    pk: int | None
    description: str
    evidence: EvidenceItem | None


def initial_assessment_save(
    *,
    portfolio: Portfolio,
    by: User,
    starting_points: dict[int, tuple[str, str]],
    notes: str,
    prior_learning: list[PriorClaim],
    removed: list[int] | tuple = (),
) -> tuple[InitialAssessment, list[str]]:
    """Where the learner starts on the unit, saved whole or not at all by its assessor while the
    unit is open: a starting point (level and note) for every learning outcome, by its id; the
    overall notes; and the prior learning claimed (rows changed or added, and those
    ``removed`` by id), each with the learner's evidence item of method "recognition of prior
    learning" that shows it, assessed like any other. Returns the record and what changed
    ("starting points", "prior learning", "notes"); when nothing did, nothing is written."""
    with transaction.atomic():
        portfolio = _open_for_assessing(portfolio.pk, by)
        outcomes = {
            outcome.pk: outcome
            for outcome in LearningOutcome.objects.filter(unit_id=portfolio.unit_id)
        }
        if set(starting_points) != set(outcomes) or any(
            level not in StartingPoint.Level.values for level, _ in starting_points.values()
        ):
            raise ValidationError(
                "Give a starting point for every learning outcome of the unit, and only for its "
                "outcomes."
            )
        for claim in prior_learning:
            if not claim.description.strip():
                raise ValidationError("Describe each piece of prior learning claimed.")
            item = claim.evidence
            if item is not None and (
                item.portfolio.enrolment_id != portfolio.enrolment_id
                or item.method != EvidenceItem.Method.PRIOR_LEARNING
            ):
                raise ValidationError(
                    f"'{item.title}' is not evidence of recognition of prior learning in "
                    f"{portfolio.learner}'s enrolment."
                )
        assessment = InitialAssessment.objects.filter(portfolio=portfolio).first()
        created = assessment is None
        notes_changed = notes != (assessment.notes if assessment else "")
        if created:
            assessment = InitialAssessment.objects.create(
                portfolio=portfolio, notes=notes, recorded_by=by
            )
        changed = []
        points = {point.outcome_id: point for point in assessment.starting_points.all()}
        if _starting_points_save(assessment, points, starting_points):
            changed.append("starting points")
        rows = {row.pk: row for row in assessment.prior_learning.all()}
        if _prior_learning_save(assessment, rows, prior_learning, removed):
            changed.append("prior learning")
        if notes_changed:
            changed.append("notes")
        if not changed and not created:
            return assessment, []
        assessment.notes = notes
        assessment.save(update_fields=["notes", "updated_at"])
        levels = {
            str(outcomes[pk].number): level for pk, (level, _) in sorted(starting_points.items())
        }
        record(
            "initial_assessment.recorded" if created else "initial_assessment.changed",
            actor=by,
            obj=assessment,
            portfolio=portfolio,
            summary=(
                f"{by} recorded the initial assessment of {portfolio.unit.label}"
                if created
                else f"{by} changed the initial assessment of {portfolio.unit.label}: "
                f"{get_text_list(changed, 'and')}"
            ),
            data={
                "starting_points": levels,
                "prior_learning": [
                    {"id": row.pk, "evidence": row.evidence_id}
                    for row in assessment.prior_learning.all()
                ],
                "changed": changed,
            },
        )
    return assessment, changed


def _starting_points_save(
    assessment: InitialAssessment,
    points: dict[int, StartingPoint],
    wanted: dict[int, tuple[str, str]],
) -> bool:
    changed = False
    for outcome_id, (level, note) in wanted.items():
        point = points.get(outcome_id)
        if point is None:
            StartingPoint.objects.create(
                initial_assessment=assessment, outcome_id=outcome_id, level=level, note=note
            )
            changed = True
        elif (point.level, point.note) != (level, note):
            point.level, point.note = level, note
            point.save(update_fields=["level", "note"])
            changed = True
    return changed


def _prior_learning_save(
    assessment: InitialAssessment,
    rows: dict[int, PriorLearning],
    claims: list[PriorClaim],
    removed,
) -> bool:
    changed = False
    gone = [pk for pk in removed if pk in rows]
    unknown = [c.pk for c in claims if c.pk is not None and c.pk not in rows] + [
        pk for pk in removed if pk not in rows
    ]
    if unknown:
        raise ValidationError(
            "Some of the prior learning on the page was removed meanwhile: open the page again."
        )
    if gone:
        PriorLearning.objects.filter(pk__in=gone).delete()
        changed = True
    for claim in claims:
        evidence_id = claim.evidence.pk if claim.evidence else None
        row = rows.get(claim.pk) if claim.pk is not None else None
        if row is None:
            PriorLearning.objects.create(
                initial_assessment=assessment,
                description=claim.description,
                evidence_id=evidence_id,
            )
            changed = True
        elif claim.pk not in gone and (row.description, row.evidence_id) != (
            claim.description,
            evidence_id,
        ):
            row.description, row.evidence_id = claim.description, evidence_id
            row.save(update_fields=["description", "evidence"])
            changed = True
    return changed


def decision_mark_met(
    *, portfolio: Portfolio, criterion: Criterion, cited: list[EvidenceItem], by: User
) -> CriterionDecision:
    """Mark a criterion met, citing accepted evidence on which it is confirmed."""
    return decisions_mark_met(portfolio=portfolio, chosen=[(criterion, cited)], by=by)[0]


def decision_withdraw(*, decision: CriterionDecision, reason: str, by: User) -> None:
    if not reason.strip():
        raise ValidationError("Give the reason for withdrawing the decision.")
    with transaction.atomic(), batched():
        _open_for_assessing(decision.portfolio_id, by)
        decision = CriterionDecision.objects.get(pk=decision.pk)
        if decision.withdrawn_at:
            raise ValidationError("This decision is already withdrawn.")
        decision.withdrawn_at = timezone.now()
        decision.withdrawn_by = by
        decision.withdrawal_reason = reason.strip()
        decision.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
        record(
            "decision.withdrawn",
            actor=by,
            obj=decision,
            portfolio=decision.portfolio,
            summary=f"{by} withdrew the decision that {decision.criterion.label} is met",
            data={"criterion": decision.criterion.nos_code, "reason": decision.withdrawal_reason},
        )


def decisions_mark_met(
    *,
    portfolio: Portfolio,
    chosen: list[tuple[Criterion, list[EvidenceItem]]],
    by: User,
) -> list[CriterionDecision]:
    """Mark each chosen criterion of the portfolio's unit met, citing accepted evidence counting
    in the portfolio on which it is confirmed; one decision and one audit entry each. All in one
    transaction: if any is refused, none is marked, and the error gives every reason."""
    if not chosen:
        raise ValidationError("Choose at least one criterion to mark met.")
    with transaction.atomic(), batched():
        _open_for_assessing(portfolio.pk, by)
        criteria = [criterion for criterion, _ in chosen]
        confirmed = defaultdict(set)  # criterion id -> evidence it may cite
        for criterion_id, evidence_id in Mapping.objects.filter(
            criterion__in=criteria,
            evidence__in=EvidenceItem.objects.counting_in(portfolio),
            evidence__status=EvidenceItem.Status.ACCEPTED,
        ).values_list("criterion_id", "evidence_id"):
            confirmed[criterion_id].add(evidence_id)
        already = set(
            CriterionDecision.objects.active()
            .filter(portfolio=portfolio, criterion__in=criteria)
            .values_list("criterion_id", flat=True)
        )
        problems, seen = [], set()
        for criterion, cited in chosen:
            if criterion.unit_id != portfolio.unit_id:
                problems.append(
                    f"{criterion.label_with_unit} is not a criterion of {portfolio.unit.label}: "
                    "it is decided in its own unit."
                )
            elif criterion.pk in already or criterion.pk in seen:
                problems.append(f"{criterion.label} is already marked met.")
            elif not cited:
                problems.append(
                    f"Cite at least one piece of accepted evidence that shows {criterion.label}."
                )
            elif any(item.pk not in confirmed[criterion.pk] for item in cited):
                problems.append(f"Cite only evidence on which {criterion.label} is confirmed.")
            seen.add(criterion.pk)
        if problems:
            raise ValidationError(problems)
        decisions = []
        for criterion, cited in chosen:
            decision = CriterionDecision.objects.create(
                portfolio=portfolio, criterion=criterion, decided_by=by
            )
            decision.cited.set(cited)
            record(
                "decision.met",
                actor=by,
                obj=decision,
                portfolio=portfolio,
                summary=f"{by} marked {criterion.label} met",
                data={"criterion": criterion.nos_code, "cited": [item.pk for item in cited]},
            )
            decisions.append(decision)
    return decisions


def portfolio_sign(
    *, portfolio: Portfolio, by: User, kind: Signature.Kind, role: Role, statement: str
) -> Signature:
    """Sign the portfolio as it is now: the signature keeps a manifest of every record and file
    hash and its digest, and the audit trail says who signed what. The one way anything is
    signed; call it inside the workflow's transaction, with the portfolio locked."""
    current = stored(portfolio)
    signature = Signature.objects.create(
        portfolio=portfolio,
        kind=kind,
        signer=by,
        signer_name=str(by),
        role=role.value,
        statement=statement,
        signed_at=timezone.now(),
        manifest=current.manifest,
        digest=current.digest,
        digest_version=DIGEST_VERSION,
    )
    record(
        f"signature.{kind}",
        actor=by,
        obj=signature,
        portfolio=portfolio,
        summary=f"{by} signed the {signature.get_kind_display().lower()}",
        data={"digest": signature.digest, "statement": statement, "role": role.value},
    )
    return signature


def content_sign(
    *,
    target: AssessmentPlan | ProgressReview,
    kind: Signature.Kind,
    manifest: dict,
    by: User | None,
    role: str,
    statement: str,
    signer_name: str = "",
    ip: str | None = None,
) -> Signature:
    """Sign one version of an assessment plan or a progress review as it is now: ``manifest``
    is what the signature's kind binds (``planning.plan_manifest``,
    ``reviews.review_manifest``), kept with its digest, and the audit trail on the learner's
    chain says who signed what. ``by`` is None for a signature through a single-use link, made
    in the typed ``signer_name`` from the address ``ip``. Call it inside the workflow's
    transaction, with the plan or review locked."""
    target_field = "plan" if isinstance(target, AssessmentPlan) else "progress_review"
    name = str(by) if by is not None else signer_name
    signature = Signature.objects.create(
        **{target_field: target},
        kind=kind,
        signer=by,
        signer_name=name,
        role=role,
        statement=statement,
        signed_at=timezone.now(),
        signed_from=ip,
        manifest=manifest,
        digest=digest_of(manifest),
    )
    record(
        f"signature.{kind}",
        actor=by,
        actor_label=None if by is not None else f"{role.capitalize()} {name}",
        obj=signature,
        learner=target.enrolment.learner,
        summary=f"{name} signed the {signature.get_kind_display().lower()}",
        data={
            "digest": signature.digest,
            "statement": statement,
            "role": role,
            target_field: target.pk,
            **({"ip": ip} if by is None else {}),
        },
    )
    return signature


def unit_sign_off(
    *, portfolio: Portfolio, by: User, site_url: str = "", tell: bool = True
) -> Signature:
    """The assessor signs the unit off; refused while anything is insufficient. The portfolio
    becomes "assessed" and its records are locked; the learner is told, and the IQA that it
    waits for their sample (unless ``tell`` is false, as when the demo is seeded)."""
    with transaction.atomic(), batched():
        # One sign-off at a time per portfolio: a second request waits here, then finds it done.
        portfolio = Portfolio.objects.select_related("unit", "workplace").locked(portfolio.pk)
        if portfolio.status != Portfolio.Status.IN_PROGRESS or not portfolio.may_assess(by):
            raise ValidationError("This unit is already signed off.")
        unmet = coverage_for([portfolio])[portfolio.pk].unmet
        if unmet:
            raise ValidationError(["The unit cannot be signed off yet:", *unmet])
        # A file being checked would join what was signed once it is ready.
        checking = sorted(
            EvidenceFile.objects.filter(
                evidence__in=EvidenceItem.objects.counting_in(portfolio),
                status=EvidenceFile.Status.CHECKING,
            )
            .exclude(evidence__status=EvidenceItem.Status.DRAFT)
            .values_list("original_name", flat=True)
        )
        if checking:
            raise ValidationError(
                f"The unit cannot be signed off yet: {get_text_list(checking, 'and')} "
                f"{'is' if len(checking) == 1 else 'are'} still being checked. Sign it off once "
                "the check is done."
            )
        signature = portfolio_sign(
            portfolio=portfolio,
            by=by,
            kind=Signature.Kind.ASSESSOR_SIGN_OFF,
            role=Role.ASSESSOR,
            statement=SIGN_OFF_STATEMENT,
        )
        portfolio.status = Portfolio.Status.ASSESSED
        portfolio.save(update_fields=["status", "updated_at"])
        record(
            "portfolio.assessed",
            actor=by,
            obj=portfolio,
            portfolio=portfolio,
            summary=f"{by} signed the unit off: the portfolio is assessed",
        )
        if tell:
            notify(
                portfolio.learner,
                f"{by} signed off your unit {portfolio.unit.code}",
                kind=Notification.Kind.UNIT_SIGNED_OFF,
                link=site_url + portfolio.get_absolute_url(),
            )
        if tell and portfolio.iqa_id is not None:
            notify(
                portfolio.iqa,
                f"{portfolio.learner}'s unit {portfolio.unit.code} is signed off by {by} and "
                "waits for your sample",
                kind=Notification.Kind.AWAITING_SAMPLE,
                link=site_url + reverse("sample_new", args=[portfolio.pk]),
            )
    return signature


def learner_declaration_sign(*, portfolio: Portfolio, by: User) -> Signature:
    """The learner signs the unit declaration once the assessor has signed the unit off."""
    with transaction.atomic(), batched():
        portfolio = Portfolio.objects.locked(portfolio.pk)
        if not portfolio.may_declare(by):
            raise ValidationError("The declaration is signed after the assessor's sign-off.")
        if Signature.objects.filter(
            portfolio=portfolio,
            kind=Signature.Kind.LEARNER_DECLARATION,
            revoked_at__isnull=True,
        ).exists():
            raise ValidationError("You have already signed the declaration.")
        return portfolio_sign(
            portfolio=portfolio,
            by=by,
            kind=Signature.Kind.LEARNER_DECLARATION,
            role=Role.LEARNER,
            statement=LEARNER_DECLARATION,
        )
