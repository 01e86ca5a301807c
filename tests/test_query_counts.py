"""Every key page runs the same number of queries however big the centre is.

The centre is the demo centre with its volume data (``seed_demo --learners N``) at two sizes;
the pages are the benchmark's (``demo.benchmark.key_pages``), each opened by the person
who uses it on the busiest portfolio. A page that starts running a query per row fails here.
"""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from assessments.quality import portfolio_claim
from demo.benchmark import FLOOR, LAYOUT, key_pages
from portfolio.models import Portfolio, User
from tests.factories import PortfolioFactory, UserFactory

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
WAITING_LEARNER = 2  # evidence referred back, observation records to confirm
WAITING_ASSESSOR = 2  # evidence awaiting review, open action points
WAITING_IQA = 2  # portfolios waiting for a sample, action points past due
WAITING_EQA = 1  # the grants open now
WAITING_ADMIN = 2  # e-mails given up, people never signed in
# Whether each signature still holds: the portfolio's stored signable record, and its files
# found changed or missing on storage.
SIGNED = 2
# Shown on the portfolio page: the records' digest now, and the files found changed on storage.
INTEGRITY = 2

PINNED = {
    # the database check
    FLOOR: SIGNED_IN + 1,
    # nothing: an anonymous visitor has no session yet
    LAYOUT: 0,
    # counting the learner's portfolios, the page of them, their coverage
    "learner: home": SIGNED_IN + 2 + COVERAGE + UNREAD + WAITING_LEARNER,
    # the portfolio, its signatures, whether they hold, its coverage, counting its evidence, the
    # IQA samples with their action points, the EQA reviews, counting evidence awaiting review,
    # the contexts and criteria for the filters, the records' digest and files changed on storage
    "learner: portfolio": SIGNED_IN + 2 + SIGNED + COVERAGE + 1 + UNREAD + 3 + 1 + 2 + INTEGRITY,
    # the item with its portfolio and who recorded it, the item again with its contexts, files,
    # claimed criteria, mappings, reviews, the witness testimony, the observation record, how
    # the background checks of its files ended (unread)
    "learner: evidence item": SIGNED_IN + 2 + 7 + 1 + UNREAD,
    # the portfolio, its answers, the knowledge criteria
    "learner: knowledge questions": SIGNED_IN + 3 + UNREAD,
    # counting the caseload, counting what awaits review, the page's coverage
    "assessor: caseload": SIGNED_IN + 2 + COVERAGE + UNREAD + WAITING_ASSESSOR,
    "assessor: caseload, waiting first": SIGNED_IN + 2 + COVERAGE + UNREAD + WAITING_ASSESSOR,
    # counting unread twice (header and page), the page of notifications
    "assessor: notifications": SIGNED_IN + UNREAD + 2,
    # as the learner's, whether another unit the item counts in is signed off (it may no longer
    # be reviewed then), and the criteria of the units of the enrolment the assessor assesses,
    # offered on the review form
    "assessor: evidence review": SIGNED_IN + 2 + 7 + 1 + UNREAD + 1 + 1,
    # the portfolio, the evidence with its contexts, criteria and mappings, the criteria for the
    # rows, then the coverage
    "assessor: tracking matrix": SIGNED_IN + 6 + COVERAGE + UNREAD,
    "assessor: portfolio": SIGNED_IN + 2 + SIGNED + COVERAGE + 1 + UNREAD + 3 + 1 + 2 + INTEGRITY,
    # the workplace, its contacts, the portfolios there the assessor sees
    "assessor: workplace": SIGNED_IN + 3 + UNREAD,
    # the portfolio, the criterion, its mappings, its decisions, the evidence to cite
    "assessor: criterion": SIGNED_IN + 5 + UNREAD,
    # counting the list; plans: rates, ratings, portfolios, samples, assessors; suggestions:
    # what all accepted evidence shows and what the sampled evidence shows (8), the candidates,
    # their methods, contexts and mappings, the items, the criteria not sampled yet, by name
    # (every assessor has been sampled, so no assessors' names are looked up); the recent
    # samples, the waiting portfolios, the page of the list
    "iqa: home": SIGNED_IN + 1 + 5 + 14 + 3 + UNREAD + WAITING_IQA,
    # the portfolio, whether the IQA has assessed it, its evidence, its decisions
    "iqa: new sample": SIGNED_IN + 4 + UNREAD,
    # the portfolio, counting its entries, the page of entries, the learner's and the centre's
    # chain as of their last entry that records no copy (one each), the stored signable record
    "iqa: audit trail": SIGNED_IN + 6 + UNREAD,
    # counting the meetings, the page of them, their attendees, and the evidence the reader may
    # see with its portfolios and learners
    "iqa: standardisation": SIGNED_IN + 4 + UNREAD,
    # counting all portfolios and those unclaimed, the page of them, counting files found changed
    # or missing on storage, the e-mails given up
    "admin: centre home": SIGNED_IN + 5 + UNREAD + WAITING_ADMIN,
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
    + INTEGRITY,
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
