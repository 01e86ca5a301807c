"""The learner's work in fewer posts: a knowledge answer written, declared and submitted at once;
several drafts submitted with one declaration; evidence saved and submitted, a witness saved and
e-mailed, in one post each; and the evidence form's criteria grouped and folded."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments.models import Review
from audit.models import AuditEntry
from portfolio import services
from portfolio.models import EvidenceFile, EvidenceItem, Notification, OutgoingEmail
from tests import samples
from tests.factories import (
    EvidenceFactory,
    PortfolioFactory,
    edit_form_data,
    evidence_form_data,
)
from tests.test_witness import WITNESS

pytestmark = pytest.mark.django_db


@pytest.fixture
def learner_client(client, login, portfolio):
    login(portfolio.learner)
    return client


def actions(evidence) -> list[str]:
    return list(
        AuditEntry.objects.filter(object_id=str(evidence.pk), action__startswith="evidence.")
        .order_by("sequence")
        .values_list("action", flat=True)
    )


def checking_file(evidence, name="clip.mp4") -> EvidenceFile:
    """A file on ``evidence`` still being checked in the background."""
    return EvidenceFile.objects.create(
        evidence=evidence,
        file=f"checking/{name}",
        original_name=name,
        content_type="video/mp4",
        kind=EvidenceFile.Kind.VIDEO,
        size=10,
        sha256="0" * 64,
        uploaded_sha256="0" * 64,
        uploaded_by=evidence.portfolio.learner,
        status=EvidenceFile.Status.CHECKING,
    )


def text(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


# A knowledge answer in one post


class TestKnowledgeAnswerInOnePost:
    def url(self, portfolio, code):
        criterion = portfolio.unit.criteria.get(nos_code=code)
        return f"/portfolios/{portfolio.pk}/knowledge/{criterion.pk}/"

    def test_it_is_saved_declared_and_submitted_then_the_next_question_opens(
        self, learner_client, portfolio
    ):
        response = learner_client.post(
            self.url(portfolio, "K1"),
            {"answer": "Shouting and swearing.", "declaration": "on", "submit": ""},
        )

        assert response.status_code == 302
        assert response.url == self.url(portfolio, "K2")
        answer = EvidenceItem.objects.get()
        assert answer.status == "submitted"
        assert answer.declared_at is not None
        assert answer.submitted_at == answer.declared_at
        assert actions(answer) == ["evidence.created", "evidence.submitted"]
        # The assessor is told as by a separate submit: in the app and by e-mail.
        notification = Notification.objects.get(recipient=portfolio.assessor)
        assert notification.evidence == answer
        assert OutgoingEmail.objects.filter(to=portfolio.assessor.email).count() == 1
        page = text(learner_client.get(response.url))
        assert "Your answer for 3.1 (K1) is submitted to your assessor." in page
        assert "Next, the question for 3.2 (K2)." in page

    def test_without_the_declaration_it_comes_back_as_typed_and_nothing_is_saved(
        self, learner_client, portfolio
    ):
        response = learner_client.post(
            self.url(portfolio, "K1"), {"answer": "Shouting and swearing.", "submit": ""}
        )

        assert response.status_code == 400
        page = text(response)
        assert "Tick the declaration to submit your answer" in page
        assert "Shouting and swearing." in page
        assert not EvidenceItem.objects.exists()
        assert not AuditEntry.objects.filter(action__startswith="evidence.").exists()

    def test_a_draft_needs_no_declaration(self, learner_client, portfolio):
        response = learner_client.post(
            self.url(portfolio, "K1"), {"answer": "Shouting.", "save": ""}
        )

        assert response.url == f"/portfolios/{portfolio.pk}/knowledge/"
        answer = EvidenceItem.objects.get()
        assert answer.status == "draft"
        assert answer.declared_at is None

    def test_the_next_question_skips_answers_put_forward_and_goes_round(
        self, learner_client, portfolio
    ):
        # K6 to K10 are with the assessor; K1 is not answered yet.
        for code in ["K6", "K7", "K8", "K9", "K10"]:
            EvidenceFactory(
                portfolio=portfolio,
                answers_question=portfolio.unit.criteria.get(nos_code=code),
                method="questioning",
                status="submitted",
            )

        response = learner_client.post(
            self.url(portfolio, "K5"), {"answer": "Empathy.", "declaration": "on", "submit": ""}
        )

        assert response.url == self.url(portfolio, "K1")

    def test_after_the_last_question_the_learner_goes_to_the_list(self, learner_client, portfolio):
        for criterion in portfolio.unit.criteria.filter(kind="knowledge").exclude(nos_code="K3"):
            EvidenceFactory(
                portfolio=portfolio,
                answers_question=criterion,
                method="questioning",
                status="accepted",
            )

        response = learner_client.post(
            self.url(portfolio, "K3"), {"answer": "A manager.", "declaration": "on", "submit": ""}
        )

        assert response.url == f"/portfolios/{portfolio.pk}/knowledge/"
        assert "3.3 (K3) is submitted" in text(learner_client.get(response.url))

    def test_an_answer_referred_back_is_resubmitted_in_one_post(self, learner_client, portfolio):
        k1 = portfolio.unit.criteria.get(nos_code="K1")
        answer = EvidenceFactory(
            portfolio=portfolio, answers_question=k1, method="questioning", status="referred_back"
        )

        learner_client.post(
            self.url(portfolio, "K1"), {"answer": "Better.", "declaration": "on", "submit": ""}
        )

        answer.refresh_from_db()
        assert (answer.status, answer.account) == ("resubmitted", "Better.")
        assert actions(answer) == ["evidence.updated", "evidence.resubmitted"]

    def test_the_page_offers_the_declaration_and_both_buttons(self, learner_client, portfolio):
        page = text(learner_client.get(self.url(portfolio, "K1")))

        assert "I declare that this evidence is my own work" in page
        assert 'name="submit"' in page
        assert "Submit for assessment" in page
        assert 'name="save"' in page
        assert "Save draft" in page


# Several drafts submitted together


@pytest.fixture
def waiting(portfolio):
    """Two drafts and an item referred back that can be submitted, and two that cannot yet."""
    ready = EvidenceFactory(portfolio=portfolio, title="Refund at the desk")
    second = EvidenceFactory(portfolio=portfolio, title="Queue at the till")
    referred = EvidenceFactory(portfolio=portfolio, title="Angry caller", status="referred_back")
    checking = EvidenceFactory(portfolio=portfolio, title="Filmed at the desk")
    checking_file(checking)
    empty = EvidenceFactory(portfolio=portfolio, title="Nothing yet", account="")
    EvidenceFactory(portfolio=portfolio, title="Already submitted", status="submitted")
    return {
        "ready": ready,
        "second": second,
        "referred": referred,
        "checking": checking,
        "empty": empty,
    }


def submit_many(client, portfolio, *items, declaration=True):
    data = {"evidence": [item.pk for item in items]}
    if declaration:
        data["declaration"] = "on"
    return client.post(f"/portfolios/{portfolio.pk}/submit/", data)


class TestSubmittingTogether:
    def test_an_item_referred_back_and_unchanged_since_is_not_ticked_until_it_changes(
        self, learner_client, portfolio, waiting
    ):
        referred = waiting["referred"]
        Review.objects.create(
            evidence=referred,
            outcome=Review.Outcome.REFERRED_BACK,
            feedback="Say what you said.",
            assessor=portfolio.assessor,
        )
        url = f"/portfolios/{portfolio.pk}/submit/"

        before = text(learner_client.get(url))
        referred.account = "I said: I can see why this is frustrating."
        referred.save()
        after = text(learner_client.get(url))

        assert f'id="id_evidence_{referred.pk}">' in before  # offered, not ticked
        assert "Not changed since your assessor referred it back" in before
        assert f'id="id_evidence_{referred.pk}" checked' in after
        assert "Not changed since your assessor referred it back" not in after

    def test_the_page_ticks_what_can_be_submitted_and_says_why_the_rest_cannot(
        self, learner_client, portfolio, waiting
    ):
        page = text(learner_client.get(f"/portfolios/{portfolio.pk}/submit/"))

        for name in ["ready", "second", "referred"]:
            item = waiting[name]
            assert re.search(rf'value="{item.pk}" id="id_evidence_{item.pk}" checked', page)
        for name in ["checking", "empty"]:
            assert f'value="{waiting[name].pk}"' not in page
        assert "Cannot be submitted yet: clip.mp4 is still being checked." in page
        assert "Cannot be submitted yet: there is nothing to assess yet" in page
        assert "Already submitted" not in page
        assert page.count("I declare that this evidence is my own work") == 1

    def test_the_ticked_items_are_submitted_each_declared_and_audited(
        self, learner_client, portfolio, waiting
    ):
        ready, second, referred = waiting["ready"], waiting["second"], waiting["referred"]

        response = submit_many(learner_client, portfolio, ready, referred)

        assert response.url == portfolio.get_absolute_url()
        for item in (ready, second, referred):
            item.refresh_from_db()
        assert (ready.status, referred.status, second.status) == (
            "submitted",
            "resubmitted",
            "draft",
        )
        assert ready.declared_at is not None
        assert referred.declared_at is not None
        assert second.declared_at is None
        assert actions(ready) == ["evidence.submitted"]
        assert actions(referred) == ["evidence.resubmitted"]
        entry = AuditEntry.objects.get(action="evidence.submitted")
        assert entry.data["declared_at"] == ready.declared_at.isoformat()
        # The assessor hears of each in the app, and of both in one e-mail.
        assert set(
            Notification.objects.filter(recipient=portfolio.assessor).values_list(
                "evidence", flat=True
            )
        ) == {ready.pk, referred.pk}
        email = OutgoingEmail.objects.get(to=portfolio.assessor.email)
        assert "Refund at the desk" in email.body
        assert "Angry caller" in email.body
        # Listed, and named, newest first.
        page = text(learner_client.get(response.url))
        assert (
            "2 items submitted to your assessor: 'Angry caller' and 'Refund at the desk'." in page
        )

    def test_without_the_declaration_nothing_is_submitted_and_the_ticks_are_kept(
        self, learner_client, portfolio, waiting
    ):
        ready, second = waiting["ready"], waiting["second"]

        response = submit_many(learner_client, portfolio, ready, declaration=False)

        assert response.status_code == 400
        page = text(response)
        assert "Tick the declaration to submit the evidence: nothing was submitted." in page
        assert re.search(rf'value="{ready.pk}" id="id_evidence_{ready.pk}" checked', page)
        assert re.search(rf'value="{second.pk}" id="id_evidence_{second.pk}">', page)
        assert not EvidenceItem.objects.filter(declared_at__isnull=False).exists()

    def test_nothing_ticked_is_refused(self, learner_client, portfolio, waiting):
        response = submit_many(learner_client, portfolio)

        assert response.status_code == 400
        assert "nothing is ticked, so nothing was submitted" in text(response)
        assert not EvidenceItem.objects.filter(declared_at__isnull=False).exists()

    def test_an_item_of_someone_else_refuses_the_whole_post(
        self, learner_client, portfolio, waiting
    ):
        theirs = EvidenceFactory(portfolio=PortfolioFactory())

        response = submit_many(learner_client, portfolio, waiting["ready"], theirs)

        assert response.status_code == 400
        assert "Nothing was submitted: one of the ticked items is not a draft" in text(response)
        assert not EvidenceItem.objects.filter(declared_at__isnull=False).exists()
        assert not AuditEntry.objects.filter(action="evidence.submitted").exists()

    def test_an_item_that_cannot_be_submitted_refuses_the_whole_post(
        self, learner_client, portfolio, waiting
    ):
        response = submit_many(learner_client, portfolio, waiting["ready"], waiting["checking"])

        assert response.status_code == 400
        page = text(response)
        assert "'Filmed at the desk' cannot be submitted yet: clip.mp4 is still being" in page
        assert "Nothing was submitted" in page
        assert not EvidenceItem.objects.filter(declared_at__isnull=False).exists()

    def test_an_item_refused_as_it_is_submitted_leaves_every_item_as_it_was(
        self, portfolio, waiting
    ):
        # A file added from another tab after the page was read: found under the lock.
        ready, second = waiting["ready"], waiting["second"]
        checking_file(second, "late.mp4")

        with pytest.raises(ValidationError, match=r"late\.mp4 is still being checked"):
            services.evidence_submit_many(
                evidence=[ready, second], by=portfolio.learner, site_url=""
            )

        assert set(
            EvidenceItem.objects.filter(pk__in=[ready.pk, second.pk]).values_list(
                "status", flat=True
            )
        ) == {"draft"}
        assert not AuditEntry.objects.filter(action="evidence.submitted").exists()
        assert not Notification.objects.exists()

    def test_the_page_comes_back_when_the_submission_is_refused(
        self, learner_client, portfolio, waiting, monkeypatch
    ):
        def refuse(**kwargs):
            raise ValidationError("'Refund at the desk' is already submitted.")

        monkeypatch.setattr(services, "evidence_submit_many", refuse)

        response = submit_many(learner_client, portfolio, waiting["ready"])

        assert response.status_code == 400
        page = text(response)
        assert "'Refund at the desk' is already submitted." in page
        assert "Nothing was submitted." in page

    def test_with_nothing_waiting_the_page_says_so(self, learner_client, portfolio):
        page = text(learner_client.get(f"/portfolios/{portfolio.pk}/submit/"))

        assert "Nothing is waiting to be submitted" in page
        assert "I declare" not in page

    def test_the_portfolio_page_the_home_and_a_drafts_page_lead_to_it(
        self, learner_client, portfolio
    ):
        draft = EvidenceFactory(portfolio=portfolio)
        EvidenceFactory(portfolio=portfolio)
        link = f'href="/portfolios/{portfolio.pk}/submit/"'

        assert f"{link}>Submit 2 drafts</a>" in text(
            learner_client.get(f"/portfolios/{portfolio.pk}/")
        )
        assert f"{link}>Submit 2 drafts</a>" in text(learner_client.get("/learner/"))
        assert link in text(learner_client.get(f"/evidence/{draft.pk}/"))

    def test_no_link_is_offered_when_nothing_waits(self, learner_client, portfolio):
        EvidenceFactory(portfolio=portfolio, status="submitted")

        assert '/submit/">Submit' not in text(learner_client.get(f"/portfolios/{portfolio.pk}/"))
        assert '/submit/">Submit' not in text(learner_client.get("/learner/"))


# Evidence saved and submitted in one post


class TestSaveAndSubmit:
    def test_new_evidence_is_saved_and_submitted(self, learner_client, portfolio):
        data = {**evidence_form_data(portfolio), "declaration": "on", "submit": ""}

        response = learner_client.post(f"/portfolios/{portfolio.pk}/evidence/new/", data)

        evidence = EvidenceItem.objects.get()
        assert response.url == evidence.get_absolute_url()
        assert evidence.status == "submitted"
        assert evidence.declared_at is not None
        assert actions(evidence) == ["evidence.created", "evidence.submitted"]
        assert Notification.objects.filter(recipient=portfolio.assessor).count() == 1
        assert "is saved and submitted to your assessor" in text(learner_client.get(response.url))

    def test_without_the_declaration_nothing_is_saved_and_the_files_must_be_chosen_again(
        self, learner_client, portfolio
    ):
        data = {
            **evidence_form_data(portfolio),
            "submit": "",
            "files": [samples.upload("note.pdf", samples.pdf())],
        }

        response = learner_client.post(f"/portfolios/{portfolio.pk}/evidence/new/", data)

        assert response.status_code == 400
        page = text(response)
        assert "Tick the declaration to submit this evidence, or choose Save draft" in page
        assert "but the files you chose are not: choose them again" in page
        assert "A customer was shouting about a refund" in page
        assert not EvidenceItem.objects.exists()
        assert not EvidenceFile.objects.exists()

    def test_evidence_that_cannot_be_submitted_yet_is_kept_as_a_draft_saying_why(
        self, learner_client, portfolio
    ):
        data = {
            **evidence_form_data(portfolio),
            "declaration": "on",
            "submit": "",
            "files": [samples.upload("clip.mp4", samples.mp4())],
        }

        response = learner_client.post(f"/portfolios/{portfolio.pk}/evidence/new/", data)

        evidence = EvidenceItem.objects.get()
        assert evidence.status == "draft"
        assert evidence.declared_at is None
        page = text(learner_client.get(response.url))
        assert "is saved as a draft but not submitted: 'Refund complaint at the desk'" in page
        assert "clip.mp4 is still being checked" in page
        assert "Submit it from this page, or with your other drafts from 'Submit drafts'" in page

    def test_a_draft_is_still_saved_without_the_declaration(self, learner_client, portfolio):
        data = {**evidence_form_data(portfolio), "save": ""}

        learner_client.post(f"/portfolios/{portfolio.pk}/evidence/new/", data)

        assert EvidenceItem.objects.get().status == "draft"

    def test_evidence_referred_back_is_changed_and_resubmitted(self, learner_client, portfolio):
        evidence = EvidenceFactory(
            portfolio=portfolio, status="referred_back", contexts="a", claims=["P1"]
        )
        data = {**edit_form_data(evidence, title="Put right"), "declaration": "on", "submit": ""}

        learner_client.post(f"/evidence/{evidence.pk}/edit/", data)

        evidence.refresh_from_db()
        assert (evidence.title, evidence.status) == ("Put right", "resubmitted")
        assert evidence.declared_at is not None
        assert actions(evidence) == ["evidence.updated", "evidence.resubmitted"]

    def test_editing_without_the_declaration_changes_nothing(self, learner_client, portfolio):
        evidence = EvidenceFactory(portfolio=portfolio, contexts="a", claims=["P1"])
        data = {**edit_form_data(evidence, title="Put right"), "submit": ""}

        response = learner_client.post(f"/evidence/{evidence.pk}/edit/", data)

        assert response.status_code == 400
        assert "Put right" in text(response)
        evidence.refresh_from_db()
        assert evidence.title != "Put right"
        assert actions(evidence) == []


# A witness saved and e-mailed in one post


def test_the_witness_is_saved_and_e_mailed_in_one_post(learner_client, portfolio):
    evidence = EvidenceFactory(portfolio=portfolio, method="witness")

    response = learner_client.post(f"/evidence/{evidence.pk}/witness/", {**WITNESS, "send": ""})

    assert response.url == evidence.get_absolute_url()
    testimony = evidence.testimony
    assert testimony.status == "sent"
    assert testimony.expires_at is not None
    assert list(
        AuditEntry.objects.filter(action__startswith="witness.")
        .order_by("sequence")
        .values_list("action", flat=True)
    ) == ["witness.saved", "witness.invited"]
    email = OutgoingEmail.objects.get(to="sam.okafor@example.org")
    assert "/witness/" in email.body
    assert "e-mailed to Sam Okafor at sam.okafor@example.org" in text(
        learner_client.get(response.url)
    )


def test_a_witness_form_with_a_mistake_sends_nothing(learner_client, portfolio):
    evidence = EvidenceFactory(portfolio=portfolio, method="witness")

    learner_client.post(
        f"/evidence/{evidence.pk}/witness/", {**WITNESS, "witness_email": "", "send": ""}
    )

    assert not OutgoingEmail.objects.exists()
    assert not hasattr(EvidenceItem.objects.get(pk=evidence.pk), "testimony")


# The evidence form's criteria, grouped and folded


def test_the_criteria_are_grouped_by_outcome_with_performance_and_knowledge_apart(
    learner_client, portfolio
):
    page = text(learner_client.get(f"/portfolios/{portfolio.pk}/evidence/new/"))

    assert page.count("<details") == 3  # C4: two outcomes of performance, one of knowledge
    assert page.count("data-criteria-group>") == 3  # all folded
    performance = page.index("Performance: what you did")
    knowledge = page.index("Knowledge: what you know and understand")
    assert performance < page.index("1 Recognise when customers may be difficult") < knowledge
    assert page.index("3 Understand how to deliver customer service") > knowledge
    assert page.count("0 claimed") == 3
    assert page.count('type="checkbox" class="form-check-input" name="claimed_criteria"') == 27
    assert "js/criteria-groups.js" in page


def test_a_group_holding_a_claim_starts_open(learner_client, portfolio):
    evidence = EvidenceFactory(portfolio=portfolio, contexts="a", claims=["P1", "P2"])

    page = text(learner_client.get(f"/evidence/{evidence.pk}/edit/"))

    assert page.count("data-criteria-group open>") == 1
    assert "2 claimed" in page


def test_groups_with_an_error_open_and_keep_their_ticks(learner_client, portfolio):
    data = evidence_form_data(portfolio, setting="simulation")

    response = learner_client.post(f"/portfolios/{portfolio.pk}/evidence/new/", data)

    page = text(response)
    assert "does not allow simulation for performance evidence" in page
    # P1 and P8 claimed: their two outcomes' groups open, each with one claimed.
    assert page.count("data-criteria-group open>") == 2
    assert page.count("1 claimed") == 2


def test_the_submit_together_page_runs_as_many_queries_for_many_items(learner_client, portfolio):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert learner_client.get(f"/portfolios/{portfolio.pk}/submit/").status_code == 200
        return len(captured)

    EvidenceFactory.create_batch(2, portfolio=portfolio)
    few = queries()
    EvidenceFactory.create_batch(6, portfolio=portfolio)
    checking_file(EvidenceFactory(portfolio=portfolio))

    assert queries() == few
