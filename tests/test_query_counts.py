"""Every key page runs the same number of queries however big the centre is.

The centre is the demo centre with its volume data (``seed_demo --learners N``) at two sizes;
the pages are the benchmark's (``demo.benchmark.key_pages``), each opened by the person
who uses it on the busiest portfolio. A page that starts running a query per row fails here.
"""

import datetime
import io

import pytest
import yaml
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.quality import portfolio_claim
from demo.benchmark import FLOOR, LAYOUT, key_pages
from portfolio.enrolments import NewUnitDetails, enrolment_create
from portfolio.models import Portfolio, User, Workplace
from tests.factories import EvidenceFactory, PortfolioFactory, UserFactory
from tests.test_qualifications import stub_unit_spec
from units.models import Qualification, Unit
from units.qualification_importer import import_qualification_file

# Coverage of one or more portfolios is worked out in 8 queries: the unit's criteria and
# contexts, the evidence, its claims, its contexts, the mappings, the decisions, the evidence
# the decisions cite.
COVERAGE = 8
# The session and the session user; then saving the session, which moves its expiry on at
# every request: a savepoint, the update, its release.
SIGNED_IN = 2 + 3
UNREAD = 1  # counting the unread notifications in the header, in every role
# What waits for the person on their home (``portfolio/waiting.py``, ``assessments/waiting.py``):
# one query for each kind of thing listed
# evidence referred back, observation records to confirm, plans to accept, progress reviews to
# sign
WAITING_LEARNER = 4
WAITING_ASSESSOR = 3  # evidence awaiting review, open action points, plans to revise
WAITING_IQA = 2  # portfolios waiting for a sample, action points past due
WAITING_EQA = 1  # the grants open now
WAITING_ADMIN = 2  # e-mails given up, people never signed in
# Whether each signature still holds: the portfolio's stored signable record, and its files
# found changed or missing on storage.
SIGNED = 2
# Shown on the portfolio page: the records' digest now, and the files found changed on storage.
INTEGRITY = 2
# The portfolio page's initial assessment (none recorded in the demo, so nothing prefetched).
INITIAL_ASSESSMENT = 1
# The progress of enrolments: every unit of those listed, then (when one is on a qualification)
# the qualifications with their groups, listings with units, rules and the rules' groups. In the
# demo centre only learner2's enrolment is on a qualification (the example one), so the pages
# listing learner2 run the second.
UNITS = 1
QUALIFICATIONS = 5
PROGRESS = UNITS + QUALIFICATIONS
# The progress of the units the reader sees: those units with their people, then their coverage.
UNIT_PROGRESS = 1 + COVERAGE
# Where the assessment plan of each enrolment shown stands: the plans in force (then, only when
# there is one, the breaks in learning, the activities and their accepted evidence).
PLAN = 1
# As above where a plan is in force (the demo's learner2 and learner3): the breaks in learning,
# the activities and their accepted evidence too.
PLAN_IN_FORCE = PLAN + 3
# The next progress review of the enrolments listed: their last review held, their breaks in
# learning (the caseload; an enrolment's and a portfolio's page list the breaks too)
REVIEWS_DUE = 2
# The centre's reviews due and overdue: the enrolments in progress with their last review held,
# their breaks in learning
CENTRE_REVIEWS_DUE = 2
# The schedule of progress reviews per qualification, set on the progress of every enrolment
REVIEW_WEEKS = 1

PINNED = {
    # the database check
    FLOOR: SIGNED_IN + 1,
    # nothing: an anonymous visitor has no session yet
    LAYOUT: 0,
    # counting the learner's portfolios, the page of them, their enrolments' progress
    "learner: home": SIGNED_IN + 2 + UNITS + UNIT_PROGRESS + PLAN + UNREAD + WAITING_LEARNER,
    # the portfolio, its signatures, whether they hold, its coverage, counting its evidence, the
    # IQA samples with their action points, the EQA reviews, counting evidence awaiting review,
    # the contexts and criteria for the filters, the records' digest and files changed on storage,
    # the initial assessment, the plan, the breaks in learning and the last review held
    "learner: portfolio": (
        SIGNED_IN
        + 2
        + SIGNED
        + COVERAGE
        + 1
        + UNREAD
        + 3
        + 1
        + 2
        + INTEGRITY
        + INITIAL_ASSESSMENT
        + PLAN
        + REVIEWS_DUE
    ),
    # the item with its portfolio and who recorded it, the item again with its contexts, files,
    # claimed criteria, mappings, reviews, the witness testimony, the observation record, how
    # the background checks of its files ended (unread), the planned activities it fulfils
    "learner: evidence item": SIGNED_IN + 2 + 7 + 1 + UNREAD + 1,
    # the portfolio, its answers, the knowledge criteria
    "learner: knowledge questions": SIGNED_IN + 3 + UNREAD,
    # counting the caseload, counting what awaits review, the page's coverage, learner2's
    # qualification, the plans, the next reviews
    "assessor: caseload": (
        SIGNED_IN
        + 2
        + COVERAGE
        + QUALIFICATIONS
        + PLAN_IN_FORCE
        + UNREAD
        + WAITING_ASSESSOR
        + REVIEWS_DUE
    ),
    "assessor: caseload, waiting first": (
        SIGNED_IN
        + 2
        + COVERAGE
        + QUALIFICATIONS
        + PLAN_IN_FORCE
        + UNREAD
        + WAITING_ASSESSOR
        + REVIEWS_DUE
    ),
    # counting unread twice (header and page), the page of notifications
    "assessor: notifications": SIGNED_IN + UNREAD + 2,
    # as the learner's, whether another unit the item counts in is signed off (it may no longer
    # be reviewed then), and the criteria of the units of the enrolment the assessor assesses,
    # offered on the review form
    "assessor: evidence review": SIGNED_IN + 2 + 7 + 1 + UNREAD + 1 + 1 + 1,
    # the portfolio, the units of its enrolment the assessor sees, the evidence counting in each,
    # the evidence with its contexts, criteria and mappings, the criteria for the rows, then the
    # coverage
    "assessor: tracking matrix": SIGNED_IN + 8 + COVERAGE + UNREAD,
    "assessor: portfolio": (
        SIGNED_IN
        + 2
        + SIGNED
        + COVERAGE
        + 1
        + UNREAD
        + 3
        + 1
        + 2
        + INTEGRITY
        + INITIAL_ASSESSMENT
        + PLAN
        + REVIEWS_DUE
    ),
    # the workplace, its contacts, the portfolios there the assessor sees
    "assessor: workplace": SIGNED_IN + 3 + UNREAD,
    # the portfolio, the criterion, its mappings, its decisions, the evidence to cite
    "assessor: criterion": SIGNED_IN + 5 + UNREAD,
    # counting the list; plans: rates, ratings, portfolios, samples, assessors; suggestions:
    # what all accepted evidence shows and what the sampled evidence shows (8), the candidates,
    # their methods, contexts and mappings, the items, the criteria not sampled yet, by name
    # (every assessor has been sampled, so no assessors' names are looked up); the recent
    # samples, the waiting portfolios, the page of the list, learner2's qualification
    "iqa: home": SIGNED_IN + 1 + 5 + 14 + 3 + QUALIFICATIONS + UNREAD + WAITING_IQA,
    # the portfolio, whether the IQA has assessed it, its evidence, its decisions
    "iqa: new sample": SIGNED_IN + 4 + UNREAD,
    # the portfolio, counting its entries, the page of entries, the learner's and the centre's
    # chain as of their last entry that records no copy (one each), the stored signable record
    "iqa: audit trail": SIGNED_IN + 6 + UNREAD,
    # counting the meetings, the page of them, their attendees, and the evidence the reader may
    # see with its portfolios and learners
    "iqa: standardisation": SIGNED_IN + 4 + UNREAD,
    # counting all portfolios and those unclaimed, the page of them, counting files found changed
    # or missing on storage, the e-mails given up; the enrolments achieved and not claimed
    "admin: centre home": SIGNED_IN + 5 + UNITS + UNREAD + WAITING_ADMIN + CENTRE_REVIEWS_DUE,
    # counting the visits, the page of them
    "admin: EQA visits": SIGNED_IN + 2 + UNREAD,
    # the workplace, its contacts, every portfolio there
    "admin: workplace": SIGNED_IN + 3 + UNREAD,
    # counting the filtered and all users, the page of them
    "admin: users list": SIGNED_IN + 3,
    # the units, assessors and IQAs for the filters, counting the filtered and all portfolios,
    # the page of them, and the filters' two portfolio look-ups
    "admin: portfolios list": SIGNED_IN + 8,
    # counting the filtered and all grants, the page of them, their EQAs
    "admin: EQA grants list": SIGNED_IN + 4,
    # the sample, its items, their evidence (its items are all evidence, so no decisions are
    # looked up), the action points, the portfolio
    "iqa: sample": SIGNED_IN + 5 + UNREAD,
    # counting the granted portfolios, the grants, the page of portfolios, recording the visit
    "eqa: home": SIGNED_IN + 4 + UNREAD + WAITING_EQA,
    # as the learner's portfolio page, with the EQA's grant, and recording the visit
    "eqa: portfolio": SIGNED_IN
    + 2
    + SIGNED
    + COVERAGE
    + 1
    + UNREAD
    + 1
    + 3
    + 1
    + 2
    + 1
    + INTEGRITY
    + INITIAL_ASSESSMENT
    + PLAN
    + REVIEWS_DUE,
}


def queries_per_page() -> dict[str, int]:
    counts = {}
    for page in key_pages():
        client = Client()
        if page.username:
            client.force_login(User.objects.get(username=page.username))
        assert client.get(page.url).status_code == 200, page.label
        with CaptureQueriesContext(connection) as queries:
            response = client.get(page.url)
        assert response.status_code == 200, page.label
        counts[page.label] = len(queries)
    return counts


@pytest.mark.parametrize("learners", [4, 10])
def test_every_key_page_runs_its_pinned_number_of_queries(c4, learners):
    call_command("seed_demo", learners=learners, stdout=io.StringIO())

    assert queries_per_page() == PINNED


def test_every_pinned_page_is_a_key_page(c4):
    call_command("seed_demo", learners=4, stdout=io.StringIO())

    assert {page.label for page in key_pages()} == set(PINNED)


@pytest.mark.parametrize("claims", [2, 10])
def test_the_claims_list_runs_the_same_queries_however_many_claims(c4, claims):
    admin = UserFactory(centre_admin=True)
    for _ in range(claims):
        portfolio = PortfolioFactory(status=Portfolio.Status.VERIFIED)
        portfolio_claim(portfolio=portfolio, reference="", by=admin)
    client = Client()
    client.force_login(admin)
    assert client.get("/centre/claims/").status_code == 200

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/centre/claims/", {"start": "2020-01-01"})

    assert response.status_code == 200
    assert f"{claims} claims" in response.text
    # Counting the claims, the page of them with their learners, qualifications and who claimed,
    # their units, the person's recent exports of the list
    assert len(queries) == SIGNED_IN + UNREAD + 4


def qualification_of(units: int, folder) -> Qualification:
    """A qualification of ``units`` stub units, loaded as any is: one mandatory, the rest
    optional with a minimum of credits, and a rule of credits at a level across them; two of
    them verified achieve it."""
    codes = [f"Q{n}" for n in range(units)]
    for code in codes:
        path = folder / f"{code}.yaml"
        path.write_text(yaml.safe_dump(stub_unit_spec(code, f"Stub {code}", 2, 3)))
        call_command("import_unit", str(path), stdout=io.StringIO())
    spec = {
        "format": 1,
        "version": 1,
        "qualification": {
            "awarding_body": "OCR",
            "code": f"Q{units}",
            "title": f"A qualification of {units} units",
            "level": 2,
            "total_credits": 6,  # two units: achieved with two verified, however many
        },
        "groups": [
            {
                "key": "A",
                "name": "Group A",
                "kind": "mandatory",
                "units": [{"code": codes[0], "title": "Stub Q0", "level": 2, "credits": 3}],
            },
            {
                "key": "B",
                "name": "Group B",
                "kind": "optional",
                "min_credits": 3,
                "units": [
                    {"code": code, "title": f"Stub {code}", "level": 2, "credits": 3}
                    for code in codes[1:]
                ],
            },
        ],
        "rules": [{"kind": "credits_at_level", "level": 2, "credits": 3, "groups": ["B"]}],
    }
    path = folder / "qualification.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return import_qualification_file(path).qualification


def progress_pages(enrolment, people) -> list[tuple[str, str, str]]:
    learner, assessor, iqa, admin = people
    return [
        ("learner: home", learner, reverse("learner_home")),
        ("assessor: caseload", assessor, reverse("assessor_home")),
        ("iqa: home", iqa, reverse("iqa_home")),
        ("admin: centre home", admin, reverse("centre_home")),
        ("admin: enrolment", admin, reverse("enrolment_detail", args=[enrolment.pk])),
        ("assessor: enrolment", assessor, reverse("enrolment_detail", args=[enrolment.pk])),
        ("learner: enrolment matrix", learner, reverse("enrolment_matrix", args=[enrolment.pk])),
        ("admin: progress of every enrolment", admin, reverse("centre_qualifications")),
        (
            "admin: enrolments achieved",
            admin,
            reverse("centre_qualifications") + "?achievement=achieved",
        ),
    ]


PROGRESS_PINNED = {
    # counting the learner's portfolios, the page of them, their progress, their plans
    "learner: home": SIGNED_IN + 2 + PROGRESS + UNIT_PROGRESS + PLAN + UNREAD + WAITING_LEARNER,
    # counting the caseload, the page of it, its coverage, the progress of its qualifications,
    # the plans, the next reviews
    "assessor: caseload": (
        SIGNED_IN + 2 + COVERAGE + PROGRESS + PLAN + UNREAD + WAITING_ASSESSOR + REVIEWS_DUE
    ),
    # as in the demo centre, with the progress of the qualifications listed
    "iqa: home": SIGNED_IN + 1 + 5 + 14 + 3 + PROGRESS + UNREAD + WAITING_IQA,
    # the counts by status, the enrolments achieved and not claimed, files changed on storage,
    # e-mails given up, counting the portfolios and the page of them
    "admin: centre home": (
        SIGNED_IN + 1 + PROGRESS + 4 + UNREAD + WAITING_ADMIN + CENTRE_REVIEWS_DUE
    ),
    # the enrolment, its progress, its plan, its next review and breaks
    "admin: enrolment": SIGNED_IN + 1 + PROGRESS + UNIT_PROGRESS + PLAN + UNREAD + REVIEWS_DUE,
    "assessor: enrolment": SIGNED_IN + 1 + PROGRESS + UNIT_PROGRESS + PLAN + UNREAD + REVIEWS_DUE,
    # the enrolment, the units the learner sees, the evidence counting in each, the evidence with
    # its contexts, claims and mappings, the criteria with their outcomes, the coverage
    "learner: enrolment matrix": SIGNED_IN + 1 + 1 + 1 + 4 + 1 + COVERAGE + UNREAD,
    # counting the enrolments, the page of them, their progress
    "admin: progress of every enrolment": SIGNED_IN + 2 + PROGRESS + UNREAD + REVIEW_WEEKS,
    # the progress of every enrolment the database cannot settle (one with a unit verified and
    # no claim for the full award), to find those achieved; then as for every enrolment
    "admin: enrolments achieved": SIGNED_IN + PROGRESS + 2 + PROGRESS + UNREAD + REVIEW_WEEKS,
}


@pytest.mark.parametrize("units", [2, 10])
def test_the_progress_pages_run_as_many_queries_for_ten_units_as_for_two(db, units, tmp_path):
    qualification = qualification_of(units, tmp_path)
    people = (
        UserFactory(learner=True),
        UserFactory(assessor=True),
        UserFactory(iqa=True),
        UserFactory(centre_admin=True),
    )
    learner, assessor, iqa, admin = people
    enrolment = enrolment_create(
        learner=learner,
        qualification=qualification,
        units=list(Unit.objects.filter(code__startswith="Q")),
        start_date=datetime.date(2026, 9, 1),
        details=NewUnitDetails(
            assessor=assessor,
            iqa=iqa,
            workplace=Workplace.objects.matching(organisation="Northgate", sector="public"),
            job_role="",
        ),
        by=admin,
    )
    first, second, *others = enrolment.portfolios.order_by("unit__code")
    for portfolio in (first, second):
        item = EvidenceFactory(portfolio=portfolio, status="accepted", claims=["P1"])
        item.claimed_criteria.add(*[p.unit.criteria.get() for p in others])
    Portfolio.objects.filter(pk__in=[first.pk, second.pk]).update(status="verified")

    counts = {}
    for label, user, url in progress_pages(enrolment, people):
        client = Client()
        client.force_login(user)
        assert client.get(url).status_code == 200, label  # the role is saved in the session
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, label
        counts[label] = len(queries)

    assert counts == PROGRESS_PINNED
