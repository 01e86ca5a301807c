import datetime
import hashlib
import io
import json
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import dateformat, timezone

from assessments import quality, sampling
from assessments.models import (
    ActionPoint,
    CriterionDecision,
    EqaReview,
    EqaVisit,
    IqaSample,
    Mapping,
    SampleRate,
    SamplingPlan,
    Signature,
)
from assessments.services import unit_sign_off
from assessments.signatures import signature_rows
from audit.models import AuditEntry
from portfolio.files import atomic_with_files, prepare_upload, store_file
from portfolio.models import EvidenceFile, EvidenceItem, Portfolio, User
from records.models import Export
from records.tasks import build_export
from tests import samples
from tests.assessing import sufficient
from tests.factories import PASSWORD, EvidenceFactory, PortfolioFactory

pytestmark = pytest.mark.django_db

TOMORROW = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()


@pytest.fixture
def assessed(portfolio):
    """A portfolio the assessor has signed off, waiting for its summative sample."""
    sufficient(portfolio)
    unit_sign_off(portfolio=portfolio, by=portfolio.assessor)
    portfolio.refresh_from_db()
    return portfolio


def sample_data(portfolio, **changes):
    first = EvidenceItem.objects.filter(portfolio=portfolio).first()
    decision = CriterionDecision.objects.filter(portfolio=portfolio).first()
    data = {
        "stage": "summative",
        "outcome": "agree",
        "comment": "Sound judgements throughout.",
        f"look_e{first.pk}": "on",
        f"note_e{first.pk}": "Clear mapping",
        "password": PASSWORD,
    }
    if decision:
        data[f"look_d{decision.pk}"] = "on"
    data.update(changes)
    return data


class TestSamplingPlans:
    def test_the_target_follows_the_assessors_risk_rating(self, c4, make_user):
        iqa, assessor = make_user(iqa=True), make_user(assessor=True)
        portfolios = PortfolioFactory.create_batch(4, iqa=iqa, assessor=assessor)
        for portfolio in portfolios[:2]:
            IqaSample.objects.create(
                portfolio=portfolio, iqa=iqa, assessor=assessor, stage="interim", outcome="agree"
            )

        [new] = sampling.sampling_plans(iqa)
        assert (new.rating, new.percent, new.portfolios, new.sampled) == ("new", 100, 4, 2)
        assert new.target == 4
        assert not new.on_track

        SamplingPlan.objects.create(iqa=iqa, assessor=assessor, rating="experienced")
        [experienced] = sampling.sampling_plans(iqa)
        assert (experienced.percent, experienced.target) == (20, 1)
        assert experienced.on_track

        SampleRate.objects.filter(rating="experienced").update(percent=75)
        [changed] = sampling.sampling_plans(iqa)
        assert (changed.target, changed.on_track) == (3, False)

    def test_the_iqa_sets_the_rating_on_their_home_page(self, client, login, portfolio):
        login(portfolio.iqa)

        client.post(f"/iqa/plans/{portfolio.assessor.pk}/", {"rating": "standard"})

        assert SamplingPlan.objects.get().rating == "standard"
        entry = AuditEntry.objects.get(action="sampling_plan.saved")
        assert (entry.actor, entry.data["rating"]) == (portfolio.iqa, "standard")
        page = client.get("/iqa/").text
        assert "50% of 1 = 1" in page
        assert "Behind" in page

    def test_interim_suggestions_cover_what_is_not_sampled(self, portfolio):
        item = EvidenceFactory(portfolio=portfolio, status="accepted", contexts="b", claims=["P1"])
        for code in ("P8", "P1"):
            Mapping.objects.create(
                evidence=item,
                criterion=portfolio.unit.criteria.get(nos_code=code),
                note="",
                assessor=portfolio.assessor,
            )

        suggestions = sampling.interim_suggestions(portfolio.iqa)

        assert suggestions.items == [item]
        assert suggestions.criteria == ["1.1 (P1)", "2.1 (P8)"]
        assert suggestions.contexts == ["b"]
        assert suggestions.methods == ["Reflective account"]
        assert suggestions.assessors == [str(portfolio.assessor)]


class TestSampling:
    def test_a_summative_agree_countersigns_and_verifies(self, client, login, assessed):
        login(assessed.iqa)

        response = client.post(f"/portfolios/{assessed.pk}/samples/new/", sample_data(assessed))

        sample = IqaSample.objects.get()
        assert response.url == f"/samples/{sample.pk}/"
        assessed.refresh_from_db()
        assert assessed.status == "verified"
        kinds = [row.signature.kind for row in signature_rows(assessed)]
        assert kinds == ["assessor_sign_off", "iqa_sample", "iqa_countersignature"]
        assert all(row.valid for row in signature_rows(assessed))
        assert sample.items.count() == 2
        assert AuditEntry.objects.filter(action="portfolio.verified").exists()

    def test_an_interim_sample_changes_nothing_but_the_record(self, client, login, portfolio):
        EvidenceFactory(portfolio=portfolio, status="accepted")
        login(portfolio.iqa)

        client.post(
            f"/portfolios/{portfolio.pk}/samples/new/", sample_data(portfolio, stage="interim")
        )

        assert IqaSample.objects.get().stage == "interim"
        portfolio.refresh_from_db()
        assert portfolio.status == "in_progress"

    def test_a_summative_sample_waits_for_the_sign_off(self, client, login, portfolio):
        EvidenceFactory(portfolio=portfolio, status="accepted")
        login(portfolio.iqa)

        response = client.post(f"/portfolios/{portfolio.pk}/samples/new/", sample_data(portfolio))

        assert "A summative sample is made after the assessor signs the unit off" in response.text
        assert not IqaSample.objects.exists()

    def test_the_password_and_a_look_are_required(self, client, login, assessed):
        login(assessed.iqa)
        data = sample_data(assessed, password="wrong")
        data = {k: v for k, v in data.items() if not k.startswith("look_")}

        response = client.post(f"/portfolios/{assessed.pk}/samples/new/", data)

        assert "Tick the evidence or decisions you looked at." in response.text
        assert "That is not your password" in response.text
        assert "Sound judgements throughout." in response.text  # nothing typed is lost

    def test_an_iqa_can_never_sample_a_portfolio_they_assessed(self, client, login, c4, make_user):
        both = make_user(assessor=True, iqa=True)
        portfolio = PortfolioFactory(assessor=both, iqa=both)
        EvidenceFactory(portfolio=portfolio, status="accepted")
        login(both)

        assert client.get(f"/portfolios/{portfolio.pk}/samples/new/").status_code == 403
        with pytest.raises(ValidationError, match="You assessed this portfolio"):
            quality.sample_record(
                portfolio=portfolio,
                iqa=both,
                stage="interim",
                outcome="agree",
                comment="",
                items=[(portfolio.evidence.first(), None, "")],
                actions=[],
            )

    def test_refer_back_returns_the_portfolio_with_action_points(self, client, login, assessed):
        login(assessed.iqa)
        data = sample_data(
            assessed, outcome="refer_back", action1="Map P3 more precisely", due1=TOMORROW
        )

        client.post(f"/portfolios/{assessed.pk}/samples/new/", data)

        assessed.refresh_from_db()
        assert assessed.status == "in_progress"
        sign_off = signature_rows(assessed)[0]
        assert not sign_off.valid
        assert sign_off.reasons[0].startswith(f"Referred back by the IQA {assessed.iqa} on ")
        action = ActionPoint.objects.get()
        assert action.text == "Map P3 more precisely"

        login(assessed.assessor)
        client.post(f"/actions/{action.pk}/close/", {"response": "Remapped P3 to item 2"})
        action.refresh_from_db()
        assert action.closed_by == assessed.assessor
        page = client.get(f"/samples/{action.sample_id}/").text
        assert "Map P3 more precisely" in page  # the history stays
        assert "Remapped P3 to item 2" in page
        assert AuditEntry.objects.filter(action="action.closed").exists()

    def test_refer_back_needs_an_action_point_with_a_date(self, client, login, assessed):
        login(assessed.iqa)

        response = client.post(
            f"/portfolios/{assessed.pk}/samples/new/",
            sample_data(assessed, outcome="refer_back", action2="Do something"),
        )

        assert "Referring back needs at least one action point." in response.text
        assert "Give the date this action is due." in response.text
        assert not IqaSample.objects.exists()


class TestEqa:
    def test_the_eqa_sees_what_was_granted_read_only_and_is_recorded(
        self, client, login, assessed, make_grant
    ):
        sample = quality.sample_record(
            portfolio=assessed,
            iqa=assessed.iqa,
            stage="summative",
            outcome="agree",
            comment="",
            items=[(assessed.evidence.first(), None, "")],
            actions=[],
        )
        eqa = make_grant(portfolios=[assessed]).eqa
        login(eqa)

        assert client.get(f"/portfolios/{assessed.pk}/").status_code == 200
        assert client.get(f"/samples/{sample.pk}/").status_code == 200
        assert "signed the unit off" in client.get(f"/portfolios/{assessed.pk}/audit/").text
        item = assessed.evidence.first()
        assert client.post(f"/evidence/{item.pk}/edit/", {}).status_code == 403
        assert set(EqaVisit.objects.filter(eqa=eqa).values_list("path", flat=True)) >= {
            f"/portfolios/{assessed.pk}/",
            f"/samples/{sample.pk}/",
            f"/evidence/{item.pk}/edit/",
        }

    def test_the_eqa_records_a_review(self, client, login, portfolio, make_grant):
        eqa = make_grant(whole_centre=True).eqa
        login(eqa)

        client.post(
            f"/portfolios/{portfolio.pk}/eqa-review/",
            {"outcome": "satisfactory", "report": "Well-evidenced sample."},
        )

        review = EqaReview.objects.get()
        assert (review.eqa, review.outcome) == (eqa, "satisfactory")
        assert "Well-evidenced sample." in client.get(f"/portfolios/{portfolio.pk}/").text

    def test_an_expired_grant_opens_nothing(self, client, login, portfolio, make_grant):
        grant = make_grant(portfolios=[portfolio])
        grant.expires_at = timezone.now() - datetime.timedelta(seconds=1)
        grant.save()
        login(grant.eqa)

        assert client.get(f"/portfolios/{portfolio.pk}/").status_code == 404
        assert client.get(f"/portfolios/{portfolio.pk}/audit/").status_code == 404
        response = client.post(
            f"/portfolios/{portfolio.pk}/eqa-review/", {"outcome": "satisfactory", "report": "x"}
        )
        assert response.status_code == 404
        assert not EqaReview.objects.exists()


class TestCentreAdministrator:
    @pytest.fixture
    def admin(self, make_user):
        return make_user(centre_admin=True)

    def test_only_a_verified_portfolio_is_claimed(self, client, login, assessed, admin):
        login(admin)

        client.post(f"/portfolios/{assessed.pk}/claim/", {"reference": "OCR-2026-117"})
        assessed.refresh_from_db()
        assert assessed.status == "assessed"

        Portfolio.objects.filter(pk=assessed.pk).update(status="verified")
        client.post(f"/portfolios/{assessed.pk}/claim/", {"reference": "OCR-2026-117"})
        assessed.refresh_from_db()
        assert assessed.status == "claimed"
        assert assessed.claim_reference == "OCR-2026-117"
        today = timezone.localdate()
        assert assessed.retain_until == today.replace(year=today.year + settings.RETENTION_YEARS)

    def test_unlocking_breaks_the_signatures_with_the_reason(self, client, login, assessed, admin):
        login(admin)

        client.post(f"/portfolios/{assessed.pk}/unlock/", {"reason": ""})
        assessed.refresh_from_db()
        assert assessed.status == "assessed"

        client.post(f"/portfolios/{assessed.pk}/unlock/", {"reason": "Wrong learner's photo"})
        assessed.refresh_from_db()
        assert assessed.status == "in_progress"
        [row] = signature_rows(assessed)
        assert not row.valid
        when = dateformat.format(timezone.localtime(row.signature.revoked_at), r"j F Y \a\t H:i")
        # One sentence: who, when and why.
        assert row.reasons[0] == f"Unlocked by {admin} on {when}: Wrong learner's photo."
        page = client.get(f"/portfolios/{assessed.pk}/")
        assert f"Unlocked by {admin} on {when}: Wrong learner&#x27;s photo." in page.text
        assert "unlocked: unlocked" not in page.text.lower()
        assert "Broken: " not in page.text
        assert AuditEntry.objects.get(action="portfolio.unlocked").data["reason"] == (
            "Wrong learner's photo"
        )
        # The assessor can sign again once the records are put right.
        unit_sign_off(portfolio=assessed, by=assessed.assessor)
        assert Signature.objects.filter(revoked_at__isnull=True).count() == 1

    def test_the_administrator_sees_what_eqas_opened(self, client, login, admin, make_grant):
        eqa = make_grant(whole_centre=True).eqa
        login(eqa)
        client.get("/eqa/")
        login(admin)

        page = client.get("/centre/eqa-visits/").text

        assert "GET /eqa/" in page


class TestRetention:
    @pytest.fixture
    def expired(self, assessed, django_capture_on_commit_callbacks):
        item = EvidenceItem.objects.filter(portfolio=assessed).first()
        with atomic_with_files() as written:
            store_file(
                item,
                prepare_upload(samples.upload("p.jpg", samples.jpeg())),
                by=assessed.learner,
                written=written,
            )
        Portfolio.objects.filter(pk=assessed.pk).update(
            status="claimed",
            claimed_at=timezone.now() - datetime.timedelta(days=4 * 365),
            retain_until=timezone.localdate() - datetime.timedelta(days=1),
        )
        return assessed

    def test_a_dry_run_lists_and_changes_nothing(self, expired):
        out = StringIO()
        call_command("purge_expired", stdout=out)

        assert f"#{expired.pk} {expired.learner}" in out.getvalue()
        assert "Nothing was changed. Run again with --yes" in out.getvalue()
        assert EvidenceFile.objects.get().purged_at is None
        assert any(Path(settings.PRIVATE_FILES_ROOT).rglob("*.jpg"))

    def test_yes_removes_files_and_anonymises_but_keeps_decisions(
        self, expired, django_capture_on_commit_callbacks
    ):
        learner_pk = expired.learner_id
        with django_capture_on_commit_callbacks(execute=True):
            call_command("purge_expired", "--yes", stdout=StringIO())

        assert not any(Path(settings.PRIVATE_FILES_ROOT).rglob("*.jpg"))
        stored = EvidenceFile.objects.get()
        assert stored.purged_at is not None
        assert len(stored.sha256) == 64  # the hash is kept
        learner = User.objects.get(pk=learner_pk)
        assert (learner.username, learner.email, learner.is_active) == (
            f"former-learner-{learner_pk}",
            "",
            False,
        )
        assert not learner.has_usable_password()
        assert CriterionDecision.objects.filter(portfolio=expired).count() == 27
        assert AuditEntry.objects.filter(action="portfolio.purged").exists()
        out = StringIO()
        call_command("purge_expired", stdout=out)
        assert "Nothing is past its retention date." in out.getvalue()

    def test_the_learners_name_goes_from_the_audit_trail_and_it_still_verifies(
        self, expired, django_capture_on_commit_callbacks
    ):
        from audit.chain import record

        learner = expired.learner
        names = [learner.first_name, learner.last_name]
        # A centre-wide entry about the learner's account, as a change in the admin writes.
        record(
            "admin.changed",
            actor=expired.assessor,
            obj=learner,
            summary=f"{expired.assessor} changed user '{learner}' in the admin",
            data={"changes": {"first_name": {"from": learner.first_name, "to": "X"}}},
        )

        def mentions():
            rows = AuditEntry.objects.values_list("actor_label", "summary", "data")
            text = "\n".join(
                f"{label} {summary} {json.dumps(data)}" for label, summary, data in rows
            )
            return [name for name in names if name in text]

        assert mentions() == names
        with django_capture_on_commit_callbacks(execute=True):
            call_command("purge_expired", "--yes", stdout=StringIO())

        assert mentions() == []
        erasure = AuditEntry.objects.get(action="audit.personal_details_erased")
        assert erasure.chain == "centre"
        assert erasure.data["learner"] == learner.pk
        assert erasure.data["entries"][f"learner-{learner.pk}"]
        out = StringIO()
        call_command("verify_audit", stdout=out)
        assert "The audit trail is intact" in out.getvalue()


def test_a_learner_downloads_everything_held_about_them(client, login, portfolio):
    item = EvidenceFactory(portfolio=portfolio, title="Angry caller")
    data = samples.pdf()
    with atomic_with_files() as written:
        stored = store_file(
            item, prepare_upload(samples.upload("letter.pdf", data)), by=portfolio.learner,
            written=written,
        )  # fmt: skip
    login(portfolio.learner)

    started = client.post("/me/data/")
    export = Export.objects.get(requested_by=portfolio.learner)
    assert started.url == f"/exports/{export.pk}/"
    assert not AuditEntry.objects.filter(action="data.exported").exists()
    build_export.call(export.pk)  # as the worker does
    response = client.get(f"/exports/{export.pk}/download/")

    assert response["Content-Disposition"].startswith("attachment;")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    records = json.loads(archive.read("records.json"))
    assert records["account"]["username"] == portfolio.learner.username
    assert [e["title"] for e in records["evidence"]] == ["Angry caller"]
    [listed] = records["files"]
    content = archive.read(listed["in_this_zip"])
    assert hashlib.sha256(content).hexdigest() == stored.sha256
    assert AuditEntry.objects.filter(action="data.exported").exists()
