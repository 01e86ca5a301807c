import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.models import AuditEntry
from portfolio import services
from portfolio.forms import EvidenceForm
from portfolio.models import EvidenceItem, Notification
from tests import samples
from tests.factories import EvidenceFactory, evidence_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def learner_client(client, login, portfolio):
    login(portfolio.learner)
    return client


def test_a_learner_adds_evidence_as_a_draft(learner_client, portfolio):
    response = learner_client.post(
        f"/portfolios/{portfolio.pk}/evidence/new/",
        {**evidence_form_data(portfolio), "files": [samples.upload("desk.jpg", samples.jpeg())]},
    )

    evidence = EvidenceItem.objects.get()
    assert response.url == f"/evidence/{evidence.pk}/"
    assert evidence.status == "draft"
    assert sorted(evidence.claimed_criteria.values_list("nos_code", flat=True)) == ["P1", "P8"]
    assert list(evidence.contexts.values_list("letter", flat=True)) == ["b"]
    assert evidence.files.count() == 1
    assert list(AuditEntry.objects.values_list("action", flat=True)) == [
        "evidence.created",
        "file.added",
    ]


def test_the_form_is_shown_with_the_units_criteria_and_contexts(learner_client, portfolio):
    response = learner_client.get(f"/portfolios/{portfolio.pk}/evidence/new/")

    assert "1.1 (P1) Recognise types of customer behaviour" in response.text
    assert "b during a busy time in your job" in response.text
    assert 'accept="image/*,audio/*,video/*,' in response.text
    assert 'enctype="multipart/form-data"' in response.text


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"occurred_on": (timezone.localdate() + datetime.timedelta(days=1)).isoformat()},
            "occurred_on",
            "The date it happened cannot be in the future.",
        ),
        (
            {"setting": "simulation"},
            "claimed_criteria",
            "This unit does not allow simulation for performance evidence, so simulated "
            "evidence cannot claim 1.1 (P1) and 2.1 (P8).",
        ),
        (
            {"contexts": []},
            "contexts",
            "Evidence that claims performance criteria must show at least one context; this "
            "claims 1.1 (P1) and 2.1 (P8).",
        ),
        ({"setting": ""}, "setting", "Say where this happened"),
        ({"customer": ""}, "customer", "Say whether the customer was internal or external."),
        ({"customer_reference": ""}, "customer_reference", "Give the customer a reference"),
        (
            {"customer_reference": "jo.bloggs@example.com"},
            "customer_reference",
            "not their e-mail address or phone number",
        ),
        (
            {"customer_reference": "07700 900123"},
            "customer_reference",
            "not their e-mail address or phone number",
        ),
        ({"title": ""}, "title", "This field is required."),
    ],
)
def test_each_rule_is_explained_and_nothing_typed_is_lost(
    learner_client, portfolio, changes, field, message
):
    data = evidence_form_data(portfolio, **changes)

    response = learner_client.post(f"/portfolios/{portfolio.pk}/evidence/new/", data)

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert "A customer was shouting about a refund" in response.text  # what was typed stays
    assert not EvidenceItem.objects.exists()


def test_simulation_may_evidence_knowledge_but_not_performance(learner_client, portfolio):
    k1 = portfolio.unit.criteria.get(nos_code="K1")
    data = evidence_form_data(
        portfolio, setting="simulation", contexts=[], claimed_criteria=[k1.pk]
    )

    response = learner_client.post(f"/portfolios/{portfolio.pk}/evidence/new/", data)

    assert response.status_code == 302


def test_a_simulated_performance_claim_is_allowed_where_the_unit_allows_it(
    learner_client, portfolio
):
    portfolio.unit.simulation_allowed_for_performance = True
    portfolio.unit.save()

    response = learner_client.post(
        f"/portfolios/{portfolio.pk}/evidence/new/",
        evidence_form_data(portfolio, setting="simulation"),
    )

    assert response.status_code == 302


def test_a_criterion_of_another_unit_cannot_be_claimed(learner_client, portfolio):
    data = evidence_form_data(portfolio, claimed_criteria=[999_999])

    response = learner_client.post(f"/portfolios/{portfolio.pk}/evidence/new/", data)

    assert "Select a valid choice" in str(response.context["form"].errors["claimed_criteria"])


def test_a_draft_is_edited_and_a_submitted_item_is_locked(learner_client, portfolio):
    evidence = EvidenceFactory(portfolio=portfolio, contexts="a", claims=["P1"])
    data = evidence_form_data(portfolio, title="A better title")

    learner_client.post(f"/evidence/{evidence.pk}/edit/", data)
    evidence.refresh_from_db()
    assert evidence.title == "A better title"

    evidence.status = "submitted"
    evidence.save()
    assert learner_client.post(f"/evidence/{evidence.pk}/edit/", data).status_code == 403
    assert learner_client.get(f"/evidence/{evidence.pk}/delete/").status_code == 403


def test_a_draft_is_deleted_with_its_files(
    learner_client, portfolio, django_capture_on_commit_callbacks
):
    evidence = EvidenceFactory(portfolio=portfolio)
    learner_client.post(
        f"/evidence/{evidence.pk}/edit/",
        {**evidence_form_data(portfolio), "files": [samples.upload("a.pdf", samples.pdf())]},
    )
    path = evidence.files.get().file.path

    with django_capture_on_commit_callbacks(execute=True):
        response = learner_client.post(f"/evidence/{evidence.pk}/delete/")

    assert response.url == f"/portfolios/{portfolio.pk}/"
    assert not EvidenceItem.objects.exists()
    assert not __import__("os").path.exists(path)
    assert AuditEntry.objects.filter(action="evidence.deleted").exists()


class TestSubmitting:
    def test_it_needs_the_declaration(self, learner_client, portfolio):
        evidence = EvidenceFactory(portfolio=portfolio)

        response = learner_client.post(f"/evidence/{evidence.pk}/submit/", {})

        assert "Tick the declaration to submit this evidence." in response.text
        evidence.refresh_from_db()
        assert evidence.status == "draft"

    def test_it_needs_a_file_or_an_account(self, learner_client, portfolio):
        evidence = EvidenceFactory(portfolio=portfolio, account="  ")

        response = learner_client.post(f"/evidence/{evidence.pk}/submit/", {"declaration": "on"})

        assert "Add a file or write what happened before submitting" in response.text
        evidence.refresh_from_db()
        assert evidence.status == "draft"

    def test_it_records_the_declaration_and_tells_the_assessor(
        self, learner_client, portfolio, django_capture_on_commit_callbacks
    ):
        evidence = EvidenceFactory(portfolio=portfolio, title="Queue at the counter")

        with django_capture_on_commit_callbacks(execute=True):
            learner_client.post(f"/evidence/{evidence.pk}/submit/", {"declaration": "on"})

        evidence.refresh_from_db()
        assert evidence.status == "submitted"
        assert evidence.declared_at is not None
        notification = Notification.objects.get()
        assert notification.recipient == portfolio.assessor
        assert "Queue at the counter" in notification.message
        assert mail.outbox[0].to == [portfolio.assessor.email]
        assert f"/evidence/{evidence.pk}/" in mail.outbox[0].body
        assert AuditEntry.objects.filter(action="evidence.submitted").exists()

    def test_referred_back_evidence_is_edited_and_resubmitted(self, learner_client, portfolio):
        evidence = EvidenceFactory(portfolio=portfolio, status="referred_back")

        learner_client.post(f"/evidence/{evidence.pk}/submit/", {"declaration": "on"})

        evidence.refresh_from_db()
        assert evidence.status == "resubmitted"


def test_the_assessor_sees_new_submissions_in_the_app(client, login, portfolio):
    evidence = EvidenceFactory(portfolio=portfolio, status="submitted")
    Notification.objects.create(
        recipient=portfolio.assessor, evidence=evidence, message="Ann submitted 'Refund'"
    )
    login(portfolio.assessor)

    page = client.get("/notifications/")
    assert "Ann submitted &#x27;Refund&#x27;" in page.text
    assert 'Messages <span class="badge text-bg-light">1<span' in page.text

    client.post("/notifications/")
    assert "Nothing new" not in client.get("/notifications/").text
    assert Notification.objects.get().read_at is not None


def test_drafts_are_the_learners_alone(client, login, portfolio):
    draft = EvidenceFactory(portfolio=portfolio, title="Half-written draft")
    submitted = EvidenceFactory(portfolio=portfolio, title="Finished piece", status="submitted")
    login(portfolio.assessor)

    page = client.get(f"/portfolios/{portfolio.pk}/")

    assert "Finished piece" in page.text
    assert "Half-written draft" not in page.text
    assert client.get(f"/evidence/{draft.pk}/").status_code == 404
    assert client.get(f"/evidence/{submitted.pk}/").status_code == 200


def test_claimed_and_confirmed_are_shown_apart(client, login, portfolio):
    from assessments.models import Mapping

    evidence = EvidenceFactory(
        portfolio=portfolio, status="accepted", contexts="a", claims=["P1", "P8"]
    )
    Mapping.objects.create(
        evidence=evidence,
        criterion=portfolio.unit.criteria.get(nos_code="P8"),
        note="Second paragraph: listened without interrupting",
        assessor=portfolio.assessor,
    )
    login(portfolio.learner)

    page = client.get(f"/evidence/{evidence.pk}/").text

    claimed, confirmed = page.split("Claimed by the learner")[1].split("Confirmed by the assessor")
    assert "(P1)" in claimed
    assert "(P8)" in claimed
    assert "(P1)" not in confirmed
    assert "(P8)" in confirmed
    assert "listened without interrupting" in confirmed


def test_learner_text_is_escaped(client, login, portfolio):
    evidence = EvidenceFactory(portfolio=portfolio, account="<script>alert('x')</script>")
    login(portfolio.learner)

    page = client.get(f"/evidence/{evidence.pk}/").text

    assert "<script>alert" not in page
    assert "&lt;script&gt;" in page


def test_a_change_read_before_the_item_was_submitted_is_refused(portfolio):
    evidence = EvidenceFactory(portfolio=portfolio, account="As submitted.")
    form = EvidenceForm(
        evidence_form_data(portfolio, account="Changed afterwards."),
        instance=EvidenceItem.objects.get(pk=evidence.pk),
        portfolio=portfolio,
    )
    assert form.is_valid(), form.errors
    services.evidence_submit(evidence=evidence, by=portfolio.learner, site_url="")

    with pytest.raises(ValidationError, match="was submitted while you were changing it"):
        services.evidence_save(form=form, by=portfolio.learner, files=[], created=False)

    evidence.refresh_from_db()
    assert (evidence.status, evidence.account) == ("submitted", "As submitted.")
