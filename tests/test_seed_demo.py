from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from assessments.planning import overdue_activities
from demo.management.commands.seed_demo import DEMO_PASSWORD
from portfolio.models import Portfolio, User, Workplace

pytestmark = pytest.mark.django_db


def seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_it_creates_the_demo_centre_and_prints_the_log_ins(c4):
    output = seed()

    usernames = set(User.objects.values_list("username", flat=True))
    assert usernames == {
        "admin", "assessor1", "iqa1", "eqa1", "employer1", "learner1", "learner2", "learner3"
    }  # fmt: skip
    assert Portfolio.objects.filter(unit=c4).count() == 3
    assert f"password {DEMO_PASSWORD}" in output
    for username in usernames:
        assert f"  {username}" in output or username.startswith("learner")


def test_the_demo_people_hold_their_roles_and_assignments(c4):
    seed()

    learner1 = Portfolio.objects.get(learner__username="learner1")
    assert learner1.assessor.username == "assessor1"
    assert learner1.iqa.username == "iqa1"
    assert learner1.start_date < Portfolio.objects.get(learner__username="learner3").start_date
    admin = User.objects.get(username="admin")
    assert admin.is_centre_admin
    assert admin.is_staff
    assert User.objects.get(username="eqa1").roles == ["eqa"]


@pytest.mark.parametrize(
    "username", ["admin", "assessor1", "iqa1", "eqa1", "employer1", "learner1"]
)
def test_each_demo_log_in_works(client, c4, username):
    seed()

    response = client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(username=username).pk)


def test_two_demo_learners_share_a_workplace_with_a_site(c4):
    seed()

    first, second, third = (
        Portfolio.objects.select_related("workplace").get(learner__username=f"learner{n}", unit=c4)
        for n in (1, 2, 3)
    )
    assert first.workplace == second.workplace != third.workplace
    assert str(first.workplace) == "Northgate Leisure, Northgate Pool"
    assert first.job_role != second.job_role  # the role is each learner's own
    manager = first.workplace.contacts.get()  # the line manager, with an account
    assert (manager.job_title, manager.user.username) == ("Duty manager", "employer1")
    seed()
    assert Workplace.objects.filter(organisation="Northgate Leisure").count() == 1


def test_running_it_again_changes_nothing(c4):
    seed()
    before = list(User.objects.values_list("pk", "password", "last_name"))

    output = seed()

    assert "0 people, 0 portfolios and 0 evidence items added" in output
    assert list(User.objects.values_list("pk", "password", "last_name")) == before


def test_a_large_centre_has_assessors_and_iqas_in_proportion(c4):
    seed("--learners", "120")

    assert User.objects.filter(is_learner=True).count() == 120
    assert User.objects.filter(is_assessor=True).count() == 3
    assert User.objects.filter(is_iqa=True).count() == 1
    caseloads = Portfolio.objects.filter(unit=c4).values_list("assessor__username", flat=True)
    assert {name: list(caseloads).count(name) for name in set(caseloads)} == {
        "assessor1": 40,
        "assessor2": 40,
        "assessor3": 40,
    }


def test_it_asks_for_the_unit_first(db):
    with pytest.raises(CommandError, match="Unit OCR C4 is not loaded"):
        seed()


def test_it_refuses_a_nonsense_count(c4):
    with pytest.raises(CommandError, match="--learners must be at least 1"):
        seed("--learners", "0")


def test_the_demo_people_have_different_names(c4):
    seed()

    names = [str(user) for user in User.objects.exclude(username="admin")]
    assert len(set(names)) == len(names), names


def test_the_story_learners_are_at_their_stages(c4):
    from assessments.sufficiency import coverage_for
    from audit.chain import verify_chains

    seed()

    portfolios = {
        p.learner.username: p
        for p in Portfolio.objects.select_related("learner", "unit").filter(
            unit=c4, learner__username__in=["learner1", "learner2", "learner3"]
        )
    }
    coverage = coverage_for(list(portfolios.values()))
    complete = coverage[portfolios["learner1"].pk]
    assert len(complete.confirmed) == 27
    assert complete.missing == []
    half_way = coverage[portfolios["learner2"].pk]
    assert 0 < len(half_way.confirmed) < 27
    # d from the lost swimming booking, an item shared with the example unit
    assert half_way.contexts_covered == {"a", "b", "c", "d"}
    started = coverage[portfolios["learner3"].pk]
    assert started.drafts == 1
    assert started.claimed == set()
    photo = portfolios["learner1"].evidence.get(title__startswith="Refund").files.get()
    assert photo.is_image
    assert photo.screen
    assert photo.print_version
    assert portfolios["learner1"].evidence.get(title__startswith="Refund").testimony.status == (
        "confirmed"
    )
    assert verify_chains().broken is None
    signed = portfolios["learner1"]
    assert signed.status == "verified"
    assert complete.is_sufficient
    from assessments.signatures import signature_rows

    rows = signature_rows(signed)
    assert [row.signature.kind for row in rows] == [
        "assessor_sign_off",
        "learner_declaration",
        "iqa_sample",
        "iqa_countersignature",
    ]
    assert all(row.valid for row in rows)
    assert half_way.referred_back == 2
    assert not half_way.is_sufficient


def test_the_quality_records_of_the_demo_centre(c4):
    from assessments.models import IqaSample, StandardisationMeeting
    from portfolio.models import EqaGrant

    seed()
    seed()  # still only one of each

    grant = EqaGrant.objects.get()
    assert grant.eqa.username == "eqa1"
    assert [p.learner.username for p in grant.portfolios.all()] == ["learner1"]
    assert grant.is_active
    sample = IqaSample.objects.get()
    assert (sample.iqa.username, sample.stage, sample.outcome) == ("iqa1", "summative", "agree")
    assert StandardisationMeeting.objects.count() == 1


def test_a_large_centre_has_realistic_records_for_every_generated_learner(c4):
    from assessments.models import CriterionDecision, IqaSample, Mapping, Review
    from assessments.signatures import signature_rows
    from audit.chain import verify_chains
    from portfolio.models import EvidenceItem

    output = seed("--learners", "12")

    generated = Portfolio.objects.exclude(
        learner__username__in=["learner1", "learner2", "learner3"]
    )
    for portfolio in generated:
        items = portfolio.evidence.all()
        assert 30 <= items.count() <= 80
        # reviewed evidence has its review; accepted evidence is mapped to what it claims
        reviewed = items.filter(status__in=["accepted", "referred_back"])
        assert Review.objects.filter(evidence__in=reviewed).count() == reviewed.count()
        for item in items.filter(status="accepted")[:5]:
            assert set(item.mappings.values_list("criterion", flat=True)) == set(
                item.claimed_criteria.values_list("pk", flat=True)
            )
    # a decision cites accepted evidence mapped to its criterion in the same portfolio
    for decision in CriterionDecision.objects.filter(portfolio__in=generated)[:50]:
        for item in decision.cited.all():
            assert item.portfolio_id == decision.portfolio_id
            assert item.status == EvidenceItem.Status.ACCEPTED
            assert Mapping.objects.filter(evidence=item, criterion=decision.criterion).exists()
    # the IQA's samples are signed, and the signatures hold
    samples = IqaSample.objects.filter(portfolio__in=generated)
    assert samples.exists()
    for sample in samples:
        assert sample.iqa == sample.portfolio.iqa
        assert sample.items.count() == 3
        assert all(row.valid for row in signature_rows(sample.portfolio))
    # every change is in the audit trail, and the chain holds
    verified = verify_chains()
    checked, broken = verified.entries, verified.broken
    assert broken is None
    assert checked > EvidenceItem.objects.count()
    assert "12 learner(s)" in output


def test_the_volume_data_is_added_once(c4):
    from audit.models import AuditEntry
    from portfolio.models import EvidenceItem

    seed("--learners", "6")
    counts = (EvidenceItem.objects.count(), AuditEntry.objects.count())

    output = seed("--learners", "6")

    assert (EvidenceItem.objects.count(), AuditEntry.objects.count()) == counts
    assert "0 evidence items added" in output


# The example qualification -------------------------------------------------------------------


def learner2_units():
    """learner2's portfolios by unit code."""
    return {
        p.unit.code: p
        for p in Portfolio.objects.filter(learner__username="learner2").select_related(
            "unit", "enrolment__qualification"
        )
    }


def test_the_example_unit_and_qualification_say_they_are_examples(c4):
    from units.models import Qualification, Unit

    seed()

    unit = Unit.objects.get(awarding_body="Example", code="EX1")
    assert "written for this demonstration" in unit.title
    assert "not an awarding body's specification" in unit.purpose
    assert (unit.criteria.count(), unit.contexts.count(), unit.outcomes.count()) == (13, 3, 3)
    qualification = Qualification.objects.with_structure().get()
    assert (qualification.awarding_body, qualification.code) == ("Example", "EX-CS2")
    assert "written for this demonstration" in qualification.title
    listings = [listing for group in qualification.groups.all() for listing in group.listings.all()]
    assert [(listing.awarding_body, listing.unit) for listing in listings] == [
        ("OCR", c4),
        ("Example", unit),
    ]


def test_learner2_is_on_the_example_qualification_with_c4_and_the_example_unit(c4):
    from audit.models import AuditEntry

    seed()

    units = learner2_units()
    assert set(units) == {"C4", "EX1"}
    assert units["C4"].enrolment == units["EX1"].enrolment
    assert units["C4"].enrolment.qualification.code == "EX-CS2"
    assert units["EX1"].assessor == units["C4"].assessor
    assert units["EX1"].iqa == units["C4"].iqa
    assert units["EX1"].workplace == units["C4"].workplace
    entry = AuditEntry.objects.get(action="enrolment.qualification_changed")
    assert entry.actor.username == "admin"
    assert entry.data["added"] == ["Example EX1"]
    # learner1 keeps the complete C4 on single units
    learner1 = Portfolio.objects.select_related("enrolment").get(learner__username="learner1")
    assert learner1.enrolment.qualification is None
    assert learner1.status == "verified"


def test_the_shared_items_count_in_both_units_as_claimed_and_confirmed(c4):
    from assessments.models import Mapping
    from assessments.sufficiency import coverage_for
    from demo.qualification import DECIDED, SHARED_ITEMS
    from portfolio.models import EvidenceItem

    seed()

    units = learner2_units()
    for spec in SHARED_ITEMS:
        item = EvidenceItem.objects.get(title=spec.title)
        assert item.portfolio == units[spec.kept_in]
        assert item.status == "accepted"
        assert set(Portfolio.objects.counting(item.pk)) == {units["C4"], units["EX1"]}
        for code, claim in spec.claims.items():
            claimed = item.claimed_criteria.filter(unit__code=code)
            confirmed = Mapping.objects.filter(evidence=item, criterion__unit__code=code)
            assert set(claimed.values_list("nos_code", flat=True)) == set(claim.notes)
            assert set(confirmed.values_list("criterion__nos_code", flat=True)) == set(claim.notes)
            assert {m.assessor for m in confirmed} == {units[code].assessor}
    coverage = coverage_for([units["C4"], units["EX1"]])
    example = coverage[units["EX1"].pk]
    assert {c.nos_code for c in example.criteria if c.pk in example.met} == set(DECIDED)
    assert example.contexts_covered == {"a", "b", "c"}
    assert not example.is_sufficient  # part way: criteria are still to be met
    assert units["EX1"].status == "in_progress"
    shared = {spec.title for spec in SHARED_ITEMS}
    in_c4 = set(EvidenceItem.objects.counting_in(units["C4"]).values_list("title", flat=True))
    assert shared <= in_c4


def test_the_example_qualification_is_seeded_once(c4):
    from audit.chain import verify_chains
    from audit.models import AuditEntry
    from portfolio.models import EvidenceItem
    from units.models import Qualification, UnitListing

    seed()
    before = (
        EvidenceItem.objects.count(),
        AuditEntry.objects.count(),
        list(UnitListing.objects.values()),
        list(Qualification.objects.values("pk", "version")),
        {code: p.pk for code, p in learner2_units().items()},
    )

    output = seed()

    assert "0 people, 0 portfolios and 0 evidence items added" in output
    assert (
        EvidenceItem.objects.count(),
        AuditEntry.objects.count(),
        list(UnitListing.objects.values()),
        list(Qualification.objects.values("pk", "version")),
        {code: p.pk for code, p in learner2_units().items()},
    ) == before
    assert verify_chains().broken is None


def test_a_centre_seeded_before_the_example_qualification_gains_it(c4, monkeypatch):
    """The centre as the release before seeded it (learner2 on single units C4), then seeded
    again: learner2's C4 becomes a unit of the qualification, keeping everything in it."""
    from assessments.signatures import signature_rows
    from audit.chain import verify_chains
    from demo.management.commands import seed_demo
    from portfolio.models import EvidenceItem

    with monkeypatch.context() as before:
        before.setattr(seed_demo, "load_example_specs", lambda: None)
        before.setattr(seed_demo, "seed_example_qualification", lambda qualification: 0)
        seed()
    [c4_portfolio] = learner2_units().values()
    assert c4_portfolio.enrolment.qualification is None
    kept = set(c4_portfolio.evidence.values_list("pk", "status", "title"))

    output = seed()

    units = learner2_units()
    assert units["C4"].pk == c4_portfolio.pk
    assert units["C4"].enrolment == c4_portfolio.enrolment
    assert units["C4"].enrolment.qualification.code == "EX-CS2"
    assert kept < set(units["C4"].evidence.values_list("pk", "status", "title"))
    assert EvidenceItem.objects.counting_in(units["EX1"]).count() == 3
    assert "0 people, 0 portfolios and 3 evidence items added" in output
    assert verify_chains().broken is None
    learner1 = Portfolio.objects.get(learner__username="learner1")
    assert all(row.valid for row in signature_rows(learner1))


def test_the_log_ins_say_who_is_on_what(c4):
    output = seed()

    assert "learner1   learner: OCR unit C4 complete, on single units" in output
    assert "learner2   learner on the example qualification: C4 and unit EX1" in output


def test_volume_data_signed_over_a_record_stored_before_it_still_holds(c4, monkeypatch):
    """A generated learner's portfolio whose signable record was stored while it was empty (a
    page showed it) before the volume data filled it: the IQA's sample signs it as it is."""
    from assessments.models import IqaSample
    from assessments.signable import stored
    from assessments.signatures import signature_rows
    from demo.management.commands import seed_demo

    with monkeypatch.context() as before:
        before.setattr(seed_demo, "seed_volume", lambda unit, progress: 0)
        seed("--learners", "4")
    fourth = Portfolio.objects.get(learner__username="learner4")
    stored(fourth)

    seed("--learners", "4")

    assert IqaSample.objects.filter(portfolio=fourth).exists()
    rows = signature_rows(fourth)
    assert all(row.valid for row in rows), [row.reasons for row in rows]


def test_a_centre_of_one_learner_has_the_example_qualification_and_no_one_on_it(c4):
    from portfolio.models import Enrolment
    from units.models import Qualification

    seed("--learners", "1")

    assert Qualification.objects.get().code == "EX-CS2"
    assert not Enrolment.objects.filter(qualification__isnull=False).exists()


def test_the_demo_has_plans_a_review_and_an_initial_assessment(c4):
    seed()

    learner2 = User.objects.get(username="learner2").enrolments.get()
    (plan,) = learner2.plans.all()
    assert plan.status == "accepted"
    overdue = overdue_activities([learner2.pk])[learner2.pk]
    assert [o.activity.title for o in overdue] == [
        "Witness testimony from your line manager on a busy day"
    ]
    (review,) = learner2.progress_reviews.all()
    assert sorted(review.signatures.values_list("kind", flat=True)) == [
        "review_assessor", "review_learner"
    ]  # fmt: skip
    assert learner2.breaks.get().ends_on is not None
    learner3 = Portfolio.objects.get(learner__username="learner3", unit=c4)
    assert learner3.initial_assessment.starting_points.count() == c4.outcomes.count()
    assert learner3.enrolment.plans.get().status == "awaiting_learner"
    employer = User.objects.get(username="employer1")
    followed = Portfolio.objects.followed_by(employer).values_list("learner__username", flat=True)
    assert set(followed) == {"learner1", "learner2"}  # at Northgate Pool
