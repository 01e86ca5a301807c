import datetime

import pytest
from django.core import mail
from django.utils import timezone

from assessments.models import CriterionDecision, Mapping, ObservationRecord, Review, Signature
from assessments.signatures import signature_rows
from audit.models import AuditEntry
from portfolio.models import EvidenceFile, EvidenceItem, Notification, Portfolio
from records.integrity import verify_records
from tests import samples
from tests.assessing import sufficient
from tests.factories import PASSWORD, EvidenceFactory, PortfolioFactory, WitnessFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def assessor_client(client, login, portfolio):
    login(portfolio.assessor)
    return client


@pytest.fixture
def submitted(portfolio):
    return EvidenceFactory(
        portfolio=portfolio, status="submitted", contexts="b", claims=["P1", "P8"]
    )


class TestReviewing:
    def test_the_page_shows_the_account_files_and_claims(self, assessor_client, submitted):
        page = assessor_client.get(f"/evidence/{submitted.pk}/").text

        assert submitted.account in page
        assert "1.1 (P1)" in page
        assert page.index("Save the review") > page.index(submitted.account)  # read, then judge
        assert f"<title>{submitted.title} ·" in page

    def test_accepting_locks_the_evidence_and_tells_the_learner(
        self, assessor_client, submitted, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = assessor_client.post(
                f"/evidence/{submitted.pk}/review/", {"decision": "accept", "feedback": "Good."}
            )

        assert response.status_code == 302
        submitted.refresh_from_db()
        assert submitted.status == "accepted"
        assert Notification.objects.get().recipient == submitted.portfolio.learner
        assert mail.outbox[0].to == [submitted.portfolio.learner.email]
        assert AuditEntry.objects.filter(action="evidence.accepted").exists()

    @pytest.mark.parametrize(
        ("witness", "message"),
        [
            (None, "This is witness testimony, but no statement has been sent to a witness"),
            ("not_sent", "This is witness testimony, but no statement has been sent to a witness"),
            ("sent", "This is witness testimony and Sam Okafor has not confirmed the statement"),
            ("expired", "Sam Okafor&#x27;s link expired without an answer: refer it back"),
            ("declined", "Sam Okafor declined the statement: refer it back."),
        ],
    )
    def test_witness_testimony_is_accepted_only_once_the_witness_confirms(
        self, assessor_client, submitted, witness, message
    ):
        EvidenceItem.objects.filter(pk=submitted.pk).update(method="witness")
        if witness:
            expires = timezone.now() + datetime.timedelta(days=-1 if witness == "expired" else 1)
            WitnessFactory(
                evidence=submitted,
                status="sent" if witness == "expired" else witness,
                expires_at=expires,
            )

        response = assessor_client.post(
            f"/evidence/{submitted.pk}/review/", {"decision": "accept"}, follow=True
        )

        assert message in response.text
        submitted.refresh_from_db()
        assert submitted.status == "submitted"
        assert not AuditEntry.objects.filter(action="evidence.accepted").exists()
        # Referring it back still works.
        assessor_client.post(
            f"/evidence/{submitted.pk}/review/",
            {"decision": "refer_back", "feedback": "Ask your witness again."},
        )
        submitted.refresh_from_db()
        assert submitted.status == "referred_back"

    @pytest.mark.parametrize("method", ["witness", "reflective"])
    def test_evidence_with_a_confirmed_or_a_supporting_witness_is_accepted(
        self, assessor_client, submitted, method
    ):
        EvidenceItem.objects.filter(pk=submitted.pk).update(method=method)
        WitnessFactory(
            evidence=submitted,
            status="confirmed" if method == "witness" else "sent",
            expires_at=timezone.now() + datetime.timedelta(days=1),
        )

        assessor_client.post(f"/evidence/{submitted.pk}/review/", {"decision": "accept"})

        submitted.refresh_from_db()
        assert submitted.status == "accepted"

    def test_referring_back_needs_feedback_and_keeps_what_was_typed(
        self, assessor_client, submitted
    ):
        response = assessor_client.post(
            f"/evidence/{submitted.pk}/review/", {"decision": "refer_back", "feedback": " "}
        )

        assert response.status_code == 400
        assert "Say what the learner needs to do: feedback is required." in response.text
        submitted.refresh_from_db()
        assert submitted.status == "submitted"

        response = assessor_client.post(
            f"/evidence/{submitted.pk}/review/", {"feedback": "Add the date of the call."}
        )
        assert response.status_code == 400
        assert "Add the date of the call." in response.text

    def test_a_referral_reaches_the_learner_who_fixes_and_resubmits(
        self, client, login, assessor_client, submitted
    ):
        assessor_client.post(
            f"/evidence/{submitted.pk}/review/",
            {"decision": "refer_back", "feedback": "Say what you said to the customer."},
        )
        login(submitted.portfolio.learner)

        page = client.get(f"/evidence/{submitted.pk}/").text
        assert "Say what you said to the customer." in page
        assert "Referred back" in page
        assert "Resubmit" in page
        assert "referred back" in client.get("/notifications/").text

        client.post(f"/evidence/{submitted.pk}/submit/", {"declaration": "on"})
        submitted.refresh_from_db()
        assert submitted.status == "resubmitted"
        assert Review.objects.get().outcome == "referred_back"  # the history stays

    def test_only_evidence_awaiting_review_can_be_reviewed(self, assessor_client, portfolio):
        draft = EvidenceFactory(portfolio=portfolio)
        accepted = EvidenceFactory(portfolio=portfolio, status="accepted")

        assert assessor_client.post(f"/evidence/{draft.pk}/review/", {}).status_code == 404
        # Accepted, it is no longer judged, only mapped: a decision posted is not one.
        response = assessor_client.post(
            f"/evidence/{accepted.pk}/review/", {"decision": "refer_back"}
        )
        assert response.status_code == 400
        assert "Tick the criteria this evidence shows." in response.text
        accepted.refresh_from_db()
        assert accepted.status == "accepted"


class TestMapping:
    def test_the_assessor_confirms_a_criterion_with_a_note(self, assessor_client, portfolio):
        evidence = EvidenceFactory(portfolio=portfolio, status="accepted", claims=["P1"])
        p8 = portfolio.unit.criteria.get(nos_code="P8")

        assessor_client.post(
            f"/evidence/{evidence.pk}/review/",
            {f"map_{p8.pk}": "on", f"note_{p8.pk}": "Third paragraph: let her finish"},
        )

        mapping = Mapping.objects.get()
        assert (mapping.criterion, mapping.note) == (p8, "Third paragraph: let her finish")
        assert list(evidence.claimed_criteria.values_list("nos_code", flat=True)) == ["P1"]

    def test_a_note_is_required(self, assessor_client, portfolio):
        evidence = EvidenceFactory(portfolio=portfolio, status="accepted")
        p8 = portfolio.unit.criteria.get(nos_code="P8")

        response = assessor_client.post(
            f"/evidence/{evidence.pk}/review/", {f"map_{p8.pk}": "on", f"note_{p8.pk}": " "}
        )

        assert response.status_code == 400
        assert (
            "Say where 2.1 (P8) is shown, here or once under &#x27;Where it is shown&#x27;."
            in response.text
        )
        assert not Mapping.objects.exists()

    def test_evidence_referred_back_is_not_mapped(self, assessor_client, submitted, portfolio):
        p8 = portfolio.unit.criteria.get(nos_code="P8")

        response = assessor_client.post(
            f"/evidence/{submitted.pk}/review/",
            {
                "decision": "refer_back",
                "feedback": "Add the date.",
                f"map_{p8.pk}": "on",
                f"note_{p8.pk}": "x",
            },
        )

        assert response.status_code == 302
        assert not Mapping.objects.exists()

    def test_a_mapping_cited_by_a_decision_cannot_be_removed(self, assessor_client, portfolio):
        sufficient(portfolio)
        mapping = Mapping.objects.filter(criterion__nos_code="P1").first()

        # Every criterion confirmed on it stays ticked but P1's.
        data = {
            f"{field}_{m.criterion_id}": value
            for m in mapping.evidence.mappings.exclude(pk=mapping.pk)
            for field, value in (("map", "on"), ("note", m.note))
        }
        response = assessor_client.post(f"/evidence/{mapping.evidence_id}/review/", data)

        assert response.status_code == 400
        assert "withdraw the decision first" in response.text
        assert Mapping.objects.filter(pk=mapping.pk).exists()


class TestRecords:
    def test_an_observation_is_recorded_and_confirmed_by_the_learner(
        self, client, login, assessor_client, portfolio
    ):
        unit = portfolio.unit
        response = assessor_client.post(
            f"/portfolios/{portfolio.pk}/observations/new/",
            {
                "title": "Observed at the returns desk",
                "occurred_on": "2026-11-02",
                "place": "Returns desk, Northgate store",
                "duration_minutes": "45",
                "contexts": [unit.contexts.get(letter="b").pk],
                "setting": "real_paid",
                "customer": "external",
                "customer_reference": "Customer 9",
                "account": "Handled three upset customers in a long queue.",
                "criteria": [c.pk for c in unit.criteria.filter(nos_code__in=["P8", "P17"])],
                "note": "Seen directly during the visit",
            },
        )

        evidence = EvidenceItem.objects.get()
        assert response.url == f"/evidence/{evidence.pk}/"
        assert (evidence.method, evidence.status) == ("observation", "accepted")
        assert evidence.recorded_by == portfolio.assessor
        assert ObservationRecord.objects.get().duration_minutes == 45
        assert sorted(Mapping.objects.values_list("criterion__nos_code", flat=True)) == [
            "P17",
            "P8",
        ]
        login(portfolio.learner)
        client.post(f"/evidence/{evidence.pk}/confirm-observation/")
        assert ObservationRecord.objects.get().learner_confirmed_at is not None

    def test_a_discussion_keeps_the_recording_and_the_time_of_each_criterion(
        self, assessor_client, portfolio
    ):
        response = assessor_client.post(
            f"/portfolios/{portfolio.pk}/discussions/new/",
            {
                "title": "Discussion about safety",
                "occurred_on": "2026-11-03",
                "account": "We talked about when to call security.",
                "recording": samples.upload("discussion.m4a", samples.m4a()),
                "discussed": "K10 03:15\nk5 1:02:07\n",
            },
        )

        assert response.status_code == 302
        evidence = EvidenceItem.objects.get()
        assert evidence.method == "discussion"
        assert EvidenceFile.objects.get(evidence=evidence).kind == "audio"
        times = dict(Mapping.objects.values_list("criterion__nos_code", "recording_seconds"))
        assert times == {"K10": 195, "K5": 3727}

    @pytest.mark.parametrize(
        ("recording", "discussed", "message"),
        [
            ("talk.m4a", "K99 03:15", "Line 1: K99 is not a criterion of this unit."),
            ("talk.m4a", "K6 at three", "Line 1: write the code then the time"),
            ("notes.pdf", "K6 03:15", "notes.pdf is not an audio recording"),
        ],
    )
    def test_a_bad_discussion_is_explained(
        self, assessor_client, portfolio, recording, discussed, message
    ):
        data = samples.m4a() if recording.endswith("m4a") else samples.pdf()
        response = assessor_client.post(
            f"/portfolios/{portfolio.pk}/discussions/new/",
            {
                "title": "Discussion",
                "occurred_on": "2026-11-03",
                "account": "Talked.",
                "recording": samples.upload(recording, data),
                "discussed": discussed,
            },
        )

        assert response.status_code == 200
        assert message in response.text
        assert not EvidenceItem.objects.exists()

    def test_a_recording_sent_with_folders_in_its_name_is_refused(self, assessor_client, portfolio):
        fields = {
            "title": "Discussion",
            "occurred_on": "2026-11-03",
            "account": "Talked.",
            "discussed": "K6 03:15",
        }
        response = assessor_client.post(
            f"/portfolios/{portfolio.pk}/discussions/new/",
            **samples.multipart(fields, {"recording": (b"../../talk.m4a", samples.m4a())}),
        )

        assert response.status_code == 200
        assert "../../talk.m4a includes folders" in response.text
        assert not EvidenceItem.objects.exists()
        assert not EvidenceFile.objects.exists()


class TestDecisions:
    def test_a_criterion_is_marked_met_citing_confirmed_evidence(self, assessor_client, portfolio):
        evidence = EvidenceFactory(portfolio=portfolio, status="accepted")
        p1 = portfolio.unit.criteria.get(nos_code="P1")
        Mapping.objects.create(
            evidence=evidence, criterion=p1, note="x", assessor=portfolio.assessor
        )

        assessor_client.post(
            f"/portfolios/{portfolio.pk}/criteria/{p1.pk}/", {"cited": [evidence.pk]}
        )

        decision = CriterionDecision.objects.get()
        assert list(decision.cited.all()) == [evidence]
        assert AuditEntry.objects.filter(action="decision.met").exists()

    def test_evidence_not_confirmed_for_the_criterion_cannot_be_cited(
        self, assessor_client, portfolio
    ):
        other = EvidenceFactory(portfolio=portfolio, status="accepted")
        p1 = portfolio.unit.criteria.get(nos_code="P1")

        response = assessor_client.post(
            f"/portfolios/{portfolio.pk}/criteria/{p1.pk}/", {"cited": [other.pk]}
        )

        assert response.status_code == 200
        assert not CriterionDecision.objects.exists()

    def test_a_decision_is_withdrawn_with_a_reason(self, assessor_client, portfolio):
        sufficient(portfolio)
        decision = CriterionDecision.objects.get(criterion__nos_code="P3")

        assessor_client.post(f"/decisions/{decision.pk}/withdraw/", {"reason": ""})
        decision.refresh_from_db()
        assert decision.withdrawn_at is None

        assessor_client.post(f"/decisions/{decision.pk}/withdraw/", {"reason": "Weak evidence"})
        decision.refresh_from_db()
        assert decision.withdrawal_reason == "Weak evidence"
        assert AuditEntry.objects.filter(action="decision.withdrawn").exists()


class TestSigningOff:
    def test_an_insufficient_unit_is_refused(self, assessor_client, portfolio):
        sufficient(portfolio, decide=False)

        page = assessor_client.get(f"/portfolios/{portfolio.pk}/sign-off/")
        assert "The unit cannot be signed off until everything above is met." in page.text
        response = assessor_client.post(
            f"/portfolios/{portfolio.pk}/sign-off/", {"password": PASSWORD}, follow=True
        )

        assert "The unit cannot be signed off yet:" in response.text
        assert "Not yet marked met by the assessor: 1.1 (P1)" in response.text
        portfolio.refresh_from_db()
        assert portfolio.status == "in_progress"
        assert not Signature.objects.exists()

    def test_the_password_is_asked_again(self, assessor_client, portfolio):
        sufficient(portfolio)

        response = assessor_client.post(
            f"/portfolios/{portfolio.pk}/sign-off/", {"password": "wrong"}
        )

        assert "That is not your password. Nothing was signed." in response.text
        assert not Signature.objects.exists()

    def test_sign_off_signs_the_records_and_locks_them(
        self, client, login, assessor_client, portfolio
    ):
        sufficient(portfolio)

        assessor_client.post(f"/portfolios/{portfolio.pk}/sign-off/", {"password": PASSWORD})

        portfolio.refresh_from_db()
        assert portfolio.status == "assessed"
        signature = Signature.objects.get()
        assert (signature.signer, signature.role) == (portfolio.assessor, "assessor")
        assert len(signature.manifest["evidence"]) == 14
        assert len(signature.manifest["decisions"]) == 27
        [row] = signature_rows(portfolio)
        assert row.valid
        # Locked: nothing more to review, map, decide or edit.
        accepted = EvidenceItem.objects.filter(status="accepted").first()
        p1 = portfolio.unit.criteria.get(nos_code="P1")
        assert (
            assessor_client.post(
                f"/evidence/{accepted.pk}/review/", {f"map_{p1.pk}": "on", f"note_{p1.pk}": "x"}
            ).status_code
            == 403
        )
        assert assessor_client.get(f"/portfolios/{portfolio.pk}/sign-off/").status_code == 403
        login(portfolio.learner)
        assert client.get(f"/portfolios/{portfolio.pk}/evidence/new/").status_code == 403

    def test_a_file_hash_changed_in_the_database_breaks_the_signature_once_checked(
        self, assessor_client, client, portfolio
    ):
        sufficient(portfolio)
        item = EvidenceItem.objects.filter(status="accepted").first()
        EvidenceFile.objects.create(
            evidence=item,
            file="evidence/x.jpg",
            original_name="desk.jpg",
            content_type="image/jpeg",
            kind="image",
            size=10,
            sha256="a" * 64,
            uploaded_sha256="a" * 64,
            uploaded_by=portfolio.learner,
        )
        assessor_client.post(f"/portfolios/{portfolio.pk}/sign-off/", {"password": PASSWORD})

        # Changed outside the application: no save, so nothing recomputes the stored record until
        # the nightly check recomputes every portfolio's and finds it differs.
        EvidenceFile.objects.update(sha256="b" * 64)
        assert verify_records() == [portfolio.pk]

        [row] = signature_rows(portfolio)
        assert not row.valid
        assert row.reasons == [f"The file 'desk.jpg' of '{item.title}' has changed."]
        page = assessor_client.get(f"/portfolios/{portfolio.pk}/").text
        assert "The file &#x27;desk.jpg&#x27;" in page
        entry = AuditEntry.objects.get(action="portfolio.records_changed_outside")
        assert entry.portfolio_id == portfolio.pk
        assert verify_records() == []  # reported once

    def test_a_record_changed_in_the_database_breaks_the_signature_once_checked(
        self, assessor_client, portfolio
    ):
        sufficient(portfolio)
        assessor_client.post(f"/portfolios/{portfolio.pk}/sign-off/", {"password": PASSWORD})

        item = EvidenceItem.objects.filter(status="accepted").first()
        EvidenceItem.objects.filter(pk=item.pk).update(account="Rewritten after signing")
        verify_records()

        [row] = signature_rows(portfolio)
        assert row.reasons == [f"Evidence '{item.title}' has changed (account_sha256)."]

    def test_an_altered_signed_manifest_is_detected(self, assessor_client, portfolio):
        sufficient(portfolio)
        assessor_client.post(f"/portfolios/{portfolio.pk}/sign-off/", {"password": PASSWORD})
        signature = Signature.objects.get()
        signature.manifest["decisions"] = []
        signature.save()

        [row] = signature_rows(portfolio)
        assert row.reasons == ["The record of what was signed has been altered."]

    def test_the_learner_signs_the_declaration_after_the_sign_off(
        self, client, login, assessor_client, portfolio
    ):
        sufficient(portfolio)
        login(portfolio.learner)
        assert client.get(f"/portfolios/{portfolio.pk}/declaration/").status_code == 403

        login(portfolio.assessor)
        client.post(f"/portfolios/{portfolio.pk}/sign-off/", {"password": PASSWORD})
        login(portfolio.learner)
        assert "Sign the unit declaration" in client.get(f"/portfolios/{portfolio.pk}/").text
        client.post(f"/portfolios/{portfolio.pk}/declaration/", {"password": PASSWORD})

        kinds = sorted(Signature.objects.values_list("kind", flat=True))
        assert kinds == ["assessor_sign_off", "learner_declaration"]
        assert all(row.valid for row in signature_rows(portfolio))
        assert AuditEntry.objects.filter(action="signature.learner_declaration").exists()


class TestMatrix:
    def test_it_marks_confirmed_and_claimed_differently(self, assessor_client, portfolio):
        evidence = EvidenceFactory(
            portfolio=portfolio, status="accepted", contexts="ad", claims=["P1", "P2"]
        )
        Mapping.objects.create(
            evidence=evidence,
            criterion=portfolio.unit.criteria.get(nos_code="P1"),
            note="x",
            assessor=portfolio.assessor,
        )

        response = assessor_client.get(f"/portfolios/{portfolio.pk}/matrix/")

        rows = {row["criterion"].nos_code: row["marks"] for row in response.context["matrix"].rows}
        assert rows["P1"] == ["confirmed"]
        assert rows["P2"] == ["claimed"]
        assert rows["P3"] == [""]
        assert '<div class="matrix-contexts">ad</div>' in response.text
        assert "1 Recognise when customers may be difficult to deal with" in response.text

    @pytest.mark.parametrize("items", [1, 30])
    def test_it_runs_a_fixed_number_of_queries(
        self, assessor_client, portfolio, django_assert_num_queries, items
    ):
        EvidenceFactory.create_batch(
            items, portfolio=portfolio, status="accepted", contexts="ab", claims=["P1", "K1"]
        )
        assessor_client.get("/assessor/")

        # Expect 22 queries: the session, the session user, the portfolio with its people; the
        # units of its enrolment the assessor sees, the evidence counting in each; the evidence,
        # its contexts, claims and mappings; the criteria with their outcomes; coverage: criteria,
        # contexts, evidence, claims, evidence contexts, mappings, decisions, cited evidence;
        # counting unread submissions for the menu; saving the session (a savepoint, the update,
        # the release)
        with django_assert_num_queries(22):
            assessor_client.get(f"/portfolios/{portfolio.pk}/matrix/")

    def test_it_stays_readable_with_a_hundred_evidence_items(self, assessor_client, portfolio):
        EvidenceFactory.create_batch(100, portfolio=portfolio, status="submitted", claims=["P1"])

        response = assessor_client.get(f"/portfolios/{portfolio.pk}/matrix/")

        assert len(response.context["matrix"].columns) == 100
        assert 'class="matrix-scroll" tabindex="0" role="region"' in response.text
        assert response.text.count('class="matrix-item"') == 100


class TestCaseload:
    def test_it_shows_waiting_work_and_progress(self, assessor_client, portfolio):
        EvidenceFactory.create_batch(2, portfolio=portfolio, status="submitted")
        sufficient(PortfolioFactory(assessor=portfolio.assessor))

        response = assessor_client.get("/assessor/?sort=waiting")

        first, second = response.context["rows"]
        assert first["portfolio"] == portfolio
        assert first["portfolio"].awaiting == 2
        assert first["waited_days"] is not None
        assert len(second["coverage"].confirmed) == 27

    @pytest.mark.parametrize("sort", ["waiting", "oldest", "activity"])
    def test_learners_with_nothing_waiting_sort_last(self, assessor_client, portfolio, sort):
        idle = PortfolioFactory(assessor=portfolio.assessor)
        EvidenceFactory(portfolio=portfolio, status="submitted")

        rows = assessor_client.get(f"/assessor/?sort={sort}").context["rows"]

        assert [row["portfolio"] for row in rows] == [portfolio, idle]

    def test_it_filters_and_sorts(self, assessor_client, portfolio):
        other = PortfolioFactory(assessor=portfolio.assessor, workplace__organisation="Hallam Rail")
        EvidenceFactory(portfolio=portfolio, status="submitted")

        waiting = assessor_client.get("/assessor/?waiting=1").context["rows"]
        named = assessor_client.get("/assessor/?q=hallam").context["rows"]
        by_learner = assessor_client.get("/assessor/?sort=learner").context["rows"]

        assert [row["portfolio"] for row in waiting] == [portfolio]
        assert [row["portfolio"] for row in named] == [other]
        assert len(by_learner) == 2

    def test_it_lists_only_the_assessors_own_learners(self, assessor_client, portfolio):
        PortfolioFactory()

        rows = assessor_client.get("/assessor/").context["rows"]

        assert [row["portfolio"] for row in rows] == [portfolio]


def test_portfolio_status_follows_the_sign_off(portfolio):
    from assessments.services import unit_sign_off

    sufficient(portfolio)
    unit_sign_off(portfolio=portfolio, by=portfolio.assessor)

    assert Portfolio.objects.get().status == "assessed"
    assert AuditEntry.objects.filter(action="portfolio.assessed").exists()
