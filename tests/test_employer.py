"""The employer (line manager): registered and invited with the workplaces they manage at, a
workplace's contact invited in one step, the centre's choice to let them see the evidence, their
own pages (the learners they follow, one learner's progress, plan and reviews, and files only
where allowed), and the witness form filled from the workplace's contacts."""

import datetime
import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import get_resolver, reverse
from django.utils import timezone

from assessments.models import ProgressReview, Signature
from assessments.progress import progress_for
from assessments.reviews import review_manifest
from assessments.services import content_sign
from audit.models import AuditEntry
from people import services
from portfolio.files import atomic_with_files, prepare_upload, store_file
from portfolio.models import Enrolment, Role, User, WitnessTestimony, WorkplaceContact
from tests import samples
from tests.factories import (
    ActivityFactory,
    EvidenceFactory,
    PlanFactory,
    PortfolioFactory,
    UserFactory,
    WorkplaceContactFactory,
    WorkplaceFactory,
)

pytestmark = pytest.mark.django_db

SITE = "http://testserver"


@pytest.fixture
def workplace(db):
    return WorkplaceFactory(organisation="Harbour Hotels", site="Quay Street")


@pytest.fixture
def employer(workplace):
    user = UserFactory(first_name="Morag", last_name="Sutherland", is_employer=True)
    WorkplaceContactFactory(workplace=workplace, name="Morag Sutherland", user=user)
    return user


@pytest.fixture
def followed(c4, workplace):
    return PortfolioFactory(
        workplace=workplace, learner__first_name="Kit", learner__last_name="Marlowe"
    )


@pytest.fixture
def elsewhere(c4):
    return PortfolioFactory(learner__first_name="Ned", learner__last_name="Alleyn")


@pytest.fixture
def admin_user(db):
    return UserFactory(centre_admin=True)


def store(evidence, name: str = "till.pdf", data: bytes | None = None):
    with atomic_with_files() as written:
        return store_file(
            evidence,
            prepare_upload(samples.upload(name, data or samples.pdf())),
            by=evidence.portfolio.learner,
            written=written,
        )


def assessor_signs(review: ProgressReview) -> Signature:
    return content_sign(
        target=review,
        kind=Signature.Kind.REVIEW_ASSESSOR,
        manifest=review_manifest(review, Signature.Kind.REVIEW_ASSESSOR),
        by=review.written_by,
        role="assessor",
        statement="This review is a true record.",
    )


def review_of(portfolio, **fields) -> ProgressReview:
    values = {
        "enrolment": portfolio.enrolment,
        "held_on": timezone.localdate() - datetime.timedelta(days=1),
        "period_from": portfolio.enrolment.start_date,
        "went_well": "Handled a complaint calmly.",
        "targets": "An observation at a busy time.",
        "written_by": portfolio.assessor,
        **fields,
    }
    return ProgressReview.objects.create(**values)


def portfolio_links(page: str) -> list[str]:
    """Links to the pages of portfolios, evidence, files and enrolments as the staff see them."""
    pattern = r'(?:href|src|action)="(/(?:portfolios|evidence|files|enrolments)/[^"]*)"'
    return re.findall(pattern, page)


# The employer's home ---------------------------------------------------------------------


def test_the_home_lists_each_learner_they_follow_with_their_progress(
    client, login, employer, followed, elsewhere
):
    login(employer)

    page = client.get("/employer/").text

    assert "Kit Marlowe" in page
    assert f'href="/employer/enrolments/{followed.enrolment_id}/"' in page
    assert "0 of 1 unit signed off" in page
    assert "Unit C4: 27 criteria still to be met" in page
    assert "Ned Alleyn" not in page
    assert portfolio_links(page) == []


def test_the_home_shows_the_plan_the_next_review_and_the_reviews_to_sign(
    client, login, employer, followed
):
    plan = PlanFactory(enrolment=followed.enrolment, status="accepted")
    ActivityFactory(plan=plan, target_date=timezone.localdate() - datetime.timedelta(days=2))
    waiting = review_of(followed)
    assessor_signs(waiting)
    signed = review_of(followed, held_on=timezone.localdate() - datetime.timedelta(days=30))
    assessor_signs(signed)
    content_sign(
        target=signed,
        kind=Signature.Kind.REVIEW_EMPLOYER,
        manifest=review_manifest(signed, Signature.Kind.REVIEW_EMPLOYER),
        by=employer,
        role="employer",
        statement="I have read this review.",
    )
    unsigned = review_of(followed, held_on=timezone.localdate())  # not by the assessor yet
    login(employer)

    page = client.get("/employer/").text

    assert "Version 1: accepted; <strong>1 activity overdue</strong>" in page
    due = waiting.held_on + datetime.timedelta(weeks=12)
    assert f"Due by {due:%-d %B %Y}" in page
    waiting_link, *others = (
        reverse("progress_review_detail", args=[r.pk]) for r in (waiting, signed, unsigned)
    )
    assert page.count(f'href="{waiting_link}"') == 2  # in the list to sign, and beside them
    assert not [link for link in others if link in page]


def test_someone_without_the_employer_role_follows_no_one(client, login, workplace, followed):
    assessor = UserFactory(assessor=True)
    WorkplaceContactFactory(workplace=workplace, user=assessor)
    login(assessor)

    assert client.get("/employer/").status_code == 403
    assert not Enrolment.objects.followed_by(assessor).exists()


@pytest.mark.parametrize("count", [1, 6])
def test_the_home_runs_a_fixed_number_of_queries(
    client, login, employer, workplace, django_assert_num_queries, c4, count
):
    for portfolio in PortfolioFactory.create_batch(count, workplace=workplace):
        EvidenceFactory(portfolio=portfolio, status="submitted", claims=["P1"])
        ActivityFactory(plan=PlanFactory(enrolment=portfolio.enrolment))
        assessor_signs(review_of(portfolio))
    login(employer)
    client.get("/employer/")  # the chosen role is saved in the session once

    # Expect 25 queries: the session, the session user; the enrolments followed with their
    # learners and qualifications; progress: every unit of the enrolments (single units, so no
    # qualification's structure), the units followed with their people and workplace; coverage:
    # criteria, contexts, evidence, claims, evidence contexts, mappings, decisions, cited
    # evidence; the plans in force; overdue: the plans in force, the breaks, the plans'
    # activities, their accepted evidence; the next review: the last review held, the breaks;
    # the reviews waiting for the employer's signature with their learners; counting unread
    # messages for the menu; saving the session (a savepoint, the update, the release)
    with django_assert_num_queries(25):
        response = client.get("/employer/")
    assert response.status_code == 200


# One learner's page --------------------------------------------------------------------------


def test_the_learner_page_shows_progress_the_plan_and_reviews_but_no_evidence(
    client, login, employer, followed
):
    item = EvidenceFactory(portfolio=followed, title="Refund at the bar", status="accepted")
    store(item)
    plan = PlanFactory(enrolment=followed.enrolment, status="accepted")
    activity = ActivityFactory(plan=plan, title="Observation at check-in")
    activity.evidence.add(item)
    assessor_signs(review_of(followed))
    login(employer)

    response = client.get(f"/employer/enrolments/{followed.enrolment_id}/")

    page = response.text
    assert response.status_code == 200
    assert "Each unit at your workplace" in page
    assert "0 of 27" in page  # criteria confirmed met
    assert "Observation at check-in" in page
    assert "Done" in page
    assert "waiting for your signature" in page
    assert "Refund at the bar" not in page
    assert "/employer/files/" not in page
    assert portfolio_links(page) == []


def test_a_learner_not_followed_is_not_found(client, login, employer, elsewhere):
    login(employer)

    assert client.get(f"/employer/enrolments/{elsewhere.enrolment_id}/").status_code == 404


def test_where_the_workplace_allows_it_the_evidence_is_listed_with_its_files(
    client, login, employer, followed
):
    followed.workplace.employer_sees_evidence = True
    followed.workplace.save()
    item = EvidenceFactory(portfolio=followed, title="Refund at the bar", status="submitted")
    stored = store(item)
    EvidenceFactory(portfolio=followed, title="A draft kept to the learner")
    login(employer)

    page = client.get(f"/employer/enrolments/{followed.enrolment_id}/").text

    assert "Refund at the bar" in page
    assert f'href="/employer/files/{stored.pk}/"' in page
    assert "A draft kept to the learner" not in page
    assert portfolio_links(page) == []
    response = client.get(f"/employer/files/{stored.pk}/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_a_file_is_not_found_unless_its_workplace_allows_it(
    client, login, employer, followed, elsewhere
):
    stored = store(EvidenceFactory(portfolio=followed, status="submitted"))
    elsewhere.workplace.employer_sees_evidence = True
    elsewhere.workplace.save()
    other = store(EvidenceFactory(portfolio=elsewhere, status="submitted"))
    login(employer)

    assert client.get(f"/employer/files/{stored.pk}/").status_code == 404
    assert client.get(f"/employer/files/{other.pk}/").status_code == 404


def record_urls(scene: dict) -> list[str]:
    """Every address of the site that opens a portfolio, an item of evidence, a file, a sample
    or an enrolment, filled with the records of ``scene``."""
    urls = []
    for pattern in get_resolver().url_patterns:
        for inner in getattr(pattern, "url_patterns", [pattern]):
            route = str(inner.pattern) if inner is pattern else f"{pattern.pattern}{inner.pattern}"
            kind = route.split("/", 1)[0]
            if kind not in scene or "<int:pk>" not in route:
                continue
            names = re.findall(r"<int:(\w+)>", route)
            if names != ["pk"]:
                continue  # a second record in the address (a criterion): its unit's pages
            urls.append("/" + route.replace("<int:pk>", str(scene[kind])))
    return urls


@pytest.mark.parametrize("allowed", [False, True])
def test_no_page_of_a_portfolio_evidence_or_file_opens_to_the_employer(
    client, login, employer, followed, allowed
):
    followed.workplace.employer_sees_evidence = allowed
    followed.workplace.save()
    item = EvidenceFactory(portfolio=followed, status="accepted")
    stored = store(item)
    scene = {
        "portfolios": followed.pk,
        "evidence": item.pk,
        "files": stored.pk,
        "enrolments": followed.enrolment_id,
        "workplaces": followed.workplace_id,
    }
    login(employer)
    urls = record_urls(scene)
    assert len(urls) > 30

    for url in urls:
        assert client.get(url).status_code in {403, 404, 405}, url
        assert client.post(url).status_code in {403, 404}, url


def test_progress_details_the_units_an_employer_follows_without_making_them_visible(
    employer, followed
):
    progress = progress_for([followed.enrolment], follower=employer)[followed.enrolment_id]

    assert [unit.portfolio for unit in progress.units] == [followed]
    assert progress.units[0].coverage is not None
    assert progress_for([followed.enrolment], viewer=employer)[followed.enrolment_id].units == []


# Registered and invited ----------------------------------------------------------------------


def staff_post(workplaces, **changes):
    return {
        "first_name": "Morag",
        "last_name": "Sutherland",
        "email": "Morag@Harbour.example",
        "roles": ["employer"],
        "is_active": "on",
        "workplaces": [w.pk for w in workplaces],
        **changes,
    }


def test_an_employer_is_registered_with_their_workplaces_and_invited(
    client, login, admin_user, workplace, django_capture_on_commit_callbacks
):
    known = WorkplaceContactFactory(
        workplace=workplace, name="M. Sutherland", email="morag@harbour.example"
    )
    second = WorkplaceFactory(organisation="Harbour Hotels", site="Dock Road")
    login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/people/staff/new/", staff_post([workplace, second]))

    assert response.status_code == 302
    employer = User.objects.get(email="Morag@Harbour.example")
    assert employer.roles == [Role.EMPLOYER]
    known.refresh_from_db()
    assert known.user == employer  # the contact with their address, linked
    added = WorkplaceContact.objects.get(workplace=second)
    assert (added.name, added.email, added.user) == (
        "Morag Sutherland",
        "Morag@Harbour.example",
        employer,
    )
    assert mail.outbox[-1].to == ["Morag@Harbour.example"]
    centre = AuditEntry.objects.filter(chain="centre").order_by("pk")
    assert list(centre.values_list("action", flat=True)) == [
        "person.created",
        "workplace.contact_linked",
        "workplace.contact_linked",
        "person.invited",
    ]


def test_an_employer_needs_a_workplace_and_only_an_employer_has_one(
    client, login, admin_user, workplace
):
    login(admin_user)

    response = client.post("/people/staff/new/", staff_post([]))
    assert response.status_code == 400
    assert "Choose the workplace where they are a line manager." in response.text
    assert 'value="Morag@Harbour.example"' in response.text  # nothing typed is lost

    response = client.post("/people/staff/new/", staff_post([workplace], roles=["assessor"]))
    assert response.status_code == 400
    assert "Only an employer is a line manager at a workplace" in response.text
    assert not User.objects.filter(email__iexact="morag@harbour.example").exists()


def test_a_workplace_taken_away_leaves_the_contact_without_the_account(
    client, login, admin_user, employer, workplace
):
    other = WorkplaceFactory(organisation="Harbour Hotels", site="Dock Road")
    login(admin_user)

    client.post(
        f"/people/{employer.pk}/edit/",
        staff_post(
            [other],
            first_name=employer.first_name,
            last_name=employer.last_name,
            email=employer.email,
        ),
    )

    contact = WorkplaceContact.objects.get(workplace=workplace)
    assert contact.name == "Morag Sutherland"
    assert contact.user is None
    assert WorkplaceContact.objects.get(workplace=other).user == employer
    assert set(AuditEntry.objects.values_list("action", flat=True)) == {
        "workplace.contact_unlinked",
        "workplace.contact_linked",
    }
    page = client.get(f"/people/{employer.pk}/edit/").text
    assert re.search(rf'value="{other.pk}"[^>]*checked', page)
    assert not re.search(rf'value="{workplace.pk}"[^>]*checked', page)


def test_a_contact_is_invited_as_a_line_manager_in_one_step(
    client, login, admin_user, workplace, django_capture_on_commit_callbacks
):
    contact = WorkplaceContactFactory(
        workplace=workplace, name="Rhiannon Pryce", email="rhiannon@harbour.example"
    )
    login(admin_user)
    page = client.get(f"/workplaces/{workplace.pk}/").text
    assert f'action="/people/contacts/{contact.pk}/invite/"' in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/people/contacts/{contact.pk}/invite/", follow=True)

    contact.refresh_from_db()
    person = contact.user
    assert (person.first_name, person.last_name, person.roles) == (
        "Rhiannon",
        "Pryce",
        [Role.EMPLOYER],
    )
    assert mail.outbox[-1].to == ["rhiannon@harbour.example"]
    assert "Line manager with an account" in response.text
    assert "invited by e-mail to rhiannon@harbour.example" in response.text
    assert list(AuditEntry.objects.order_by("pk").values_list("action", flat=True)) == [
        "person.created",
        "workplace.contact_linked",
        "person.invited",
    ]


def test_a_contact_known_by_their_address_is_given_the_role_and_linked(admin_user, workplace):
    someone = UserFactory(assessor=True, email="rhiannon@harbour.example")
    contact = WorkplaceContactFactory(workplace=workplace, email="Rhiannon@Harbour.example")

    services.contact_invite(contact=contact, by=admin_user, site_url=SITE)

    someone.refresh_from_db()
    assert someone.roles == [Role.ASSESSOR, Role.EMPLOYER]
    contact.refresh_from_db()
    assert contact.user == someone
    assert mail.outbox == []  # they have a password already


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": ""}, "has no e-mail address"),
        ({"name": "Rhiannon"}, "recorded by one name only"),
    ],
)
def test_a_contact_invitation_is_refused_with_the_reason(admin_user, workplace, fields, message):
    contact = WorkplaceContactFactory(workplace=workplace, **fields)

    with pytest.raises(ValidationError, match=message):
        services.contact_invite(contact=contact, by=admin_user, site_url=SITE)

    assert not User.objects.filter(is_employer=True).exists()
    assert AuditEntry.objects.count() == 0


def test_letting_line_managers_see_the_evidence_is_audited_on_the_centre_chain(
    client, login, admin_user, workplace
):
    login(admin_user)

    response = client.post(
        f"/people/workplaces/{workplace.pk}/evidence/", {"employer_sees_evidence": "on"}
    )
    assert response.status_code == 302
    workplace.refresh_from_db()
    assert workplace.employer_sees_evidence
    client.post(f"/people/workplaces/{workplace.pk}/evidence/", {})
    client.post(f"/people/workplaces/{workplace.pk}/evidence/", {})  # no change: not audited

    workplace.refresh_from_db()
    assert not workplace.employer_sees_evidence
    entries = AuditEntry.objects.order_by("pk")
    assert [(e.chain, e.action) for e in entries] == [
        ("centre", "workplace.evidence_shown"),
        ("centre", "workplace.evidence_hidden"),
    ]


def test_only_the_centre_administrator_sees_the_setting_and_the_invitations(
    client, login, workplace, followed
):
    WorkplaceContactFactory(workplace=workplace)
    login(followed.assessor)

    page = client.get(f"/workplaces/{workplace.pk}/").text

    assert "Line managers see the evidence" not in page
    assert "/people/contacts/" not in page


def test_the_admin_offers_the_employer_role(client, login, make_user):
    superuser = make_user(is_superuser=True, is_staff=True, centre_admin=True)
    login(superuser)

    assert 'name="is_employer"' in client.get("/admin/portfolio/user/add/").text


def test_the_navigation_names_the_employer_role(client, login, employer):
    employer.is_assessor = True
    employer.save()
    login(employer)

    page = client.get("/employer/").text

    assert "Acting as Employer (line manager)" in page
    assert ">Your staff</a>" in page


# The witness form --------------------------------------------------------------------------

WITNESS = {
    "witness_name": "",
    "witness_job_title": "",
    "relationship": "My line manager",
    "not_a_relative": "on",
    "witness_email": "",
    "statement": "I saw the learner calm an upset guest at the front desk.",
}


def test_the_witness_form_offers_the_workplace_contacts(client, login, employer, followed):
    item = EvidenceFactory(portfolio=followed, method="witness")
    contact = employer.workplace_contacts.get()
    login(followed.learner)

    page = client.get(f"/evidence/{item.pk}/witness/").text

    assert f'name="use_contact" value="{contact.pk}"' in page
    assert 'data-email="manager@example.org"' in page
    assert "js/witness-contacts.js" in page


def test_a_contact_fills_the_witness_details_keeping_what_was_typed(
    client, login, employer, followed
):
    item = EvidenceFactory(portfolio=followed, method="witness")
    contact = employer.workplace_contacts.get()
    login(followed.learner)

    response = client.post(
        f"/evidence/{item.pk}/witness/", {**WITNESS, "use_contact": str(contact.pk)}
    )

    page = response.text
    assert response.status_code == 200
    assert 'value="Morag Sutherland"' in page
    assert 'value="Line manager"' in page
    assert 'value="manager@example.org"' in page
    assert "I saw the learner calm an upset guest at the front desk." in page
    assert "is-invalid" not in page  # the form is filled, not judged
    assert not WitnessTestimony.objects.exists()


# The staff import ----------------------------------------------------------------------------


def test_the_staff_import_adds_employers_with_their_workplaces(
    client, login, admin_user, workplace, django_capture_on_commit_callbacks
):
    WorkplaceFactory(organisation="Lantern Books")
    known = WorkplaceContactFactory(workplace=workplace, email="rhiannon@harbour.example")
    rows = [
        ["first_name", "last_name", "email", "roles", "workplaces"],
        ["Rhiannon", "Pryce", "rhiannon@harbour.example", "line manager",
         "harbour hotels, quay street; Lantern Books"],
        ["Owain", "Glyn", "owain@harbour.example", "employer", ""],
        ["Sam", "Jones", "sam@harbour.example", "assessor", "Nowhere Ltd"],
    ]  # fmt: skip
    upload = SimpleUploadedFile(
        "staff.csv", "\n".join(",".join(f'"{c}"' for c in row) for row in rows).encode()
    )
    login(admin_user)

    outcome = client.post("/people/import/", {"kind": "staff", "file": upload}).context["outcome"]

    assert [row.problems for row in outcome.rows] == [
        [],
        ["Choose the workplace where they are a line manager."],
        [
            "No workplace is called Nowhere Ltd: write it as its page names it, or register a "
            "learner there first."
        ],
    ]
    good = SimpleUploadedFile(
        "staff.csv", "\n".join(",".join(f'"{c}"' for c in row) for row in rows[:2]).encode()
    )
    page = client.post("/people/import/", {"kind": "staff", "file": good})
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/people/import/confirm/", {"sealed": page.context["sealed"]})
    person = User.objects.get(email="rhiannon@harbour.example")
    assert person.roles == [Role.EMPLOYER]
    known.refresh_from_db()
    assert known.user == person
    assert WorkplaceContact.objects.get(workplace__organisation="Lantern Books").user == person
