"""The pages a centre's staff open most, as each would open them, for the benchmark
(``make bench``) and for the tests that pin each page's number of queries."""

import statistics
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, reset_queries
from django.db.models import Count, Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portfolio.models import EvidenceItem, Portfolio, User

FLOOR = "floor: health check"
LAYOUT = "reference: sign-in page"


@dataclass(frozen=True)
class Page:
    label: str
    username: str  # empty for an anonymous visitor
    url: str


def busiest_portfolio() -> Portfolio:
    """The portfolio with the most evidence of those with some awaiting review and an IQA's
    signed sample: a page about it shows everything a page can."""
    return (
        Portfolio.objects.annotate(
            items=Count("evidence", distinct=True),
            waiting=Count(
                "evidence",
                filter=Q(evidence__status__in=EvidenceItem.AWAITING_REVIEW),
                distinct=True,
            ),
        )
        .filter(waiting__gt=0, iqa__isnull=False, samples__isnull=False)
        .distinct()
        .select_related("learner", "assessor", "iqa")
        .order_by("-items", "pk")
        .first()
    )


def key_pages() -> list[Page]:
    """Each role's pages on the busiest portfolio, and the trivial page they are compared with."""
    portfolio = busiest_portfolio()
    learner, assessor, iqa = (
        portfolio.learner.username,
        portfolio.assessor.username,
        portfolio.iqa.username,
    )
    evidence = portfolio.evidence.filter(status=EvidenceItem.Status.ACCEPTED).first()
    waiting = portfolio.evidence.filter(status__in=EvidenceItem.AWAITING_REVIEW).first()
    decided = portfolio.decisions.active().order_by("pk").first()
    sample = portfolio.samples.order_by("pk").first()
    granted = Portfolio.objects.filter(eqa_grants__eqa__username="eqa1").first()
    admin = User.objects.filter(is_centre_admin=True).order_by("pk").first().username
    pk = portfolio.pk
    pages = [
        Page(FLOOR, learner, reverse("health")),
        # the smallest page in the site's layout: what the layout alone costs
        Page(LAYOUT, "", reverse("login")),
        Page("learner: home", learner, reverse("learner_home")),
        Page("learner: portfolio", learner, reverse("portfolio_detail", args=[pk])),
        Page("learner: evidence item", learner, reverse("evidence_detail", args=[evidence.pk])),
        Page("learner: knowledge questions", learner, reverse("knowledge_list", args=[pk])),
        Page("assessor: caseload", assessor, reverse("assessor_home")),
        Page(
            "assessor: caseload, waiting first",
            assessor,
            reverse("assessor_home") + "?sort=waiting&status=in_progress",
        ),
        Page("assessor: notifications", assessor, reverse("notifications")),
        Page("assessor: evidence review", assessor, reverse("evidence_detail", args=[waiting.pk])),
        Page("assessor: tracking matrix", assessor, reverse("matrix", args=[pk])),
        Page("assessor: portfolio", assessor, reverse("portfolio_detail", args=[pk])),
        Page(
            "assessor: workplace",
            assessor,
            reverse("workplace_detail", args=[portfolio.workplace_id]),
        ),
        Page(
            "assessor: criterion",
            assessor,
            reverse("criterion_detail", args=[pk, decided.criterion_id]),
        ),
        Page("iqa: home", iqa, reverse("iqa_home")),
        Page("iqa: new sample", iqa, reverse("sample_new", args=[pk])),
        Page("iqa: audit trail", iqa, reverse("audit_trail", args=[pk])),
        Page("iqa: standardisation", iqa, reverse("standardisation")),
        Page("iqa: sample", sample.iqa.username, reverse("sample_detail", args=[sample.pk])),
        Page("eqa: home", "eqa1", reverse("eqa_home")),
        Page("eqa: portfolio", "eqa1", reverse("portfolio_detail", args=[granted.pk])),
        Page("admin: centre home", admin, reverse("centre_home")),
        Page("admin: EQA visits", admin, reverse("eqa_visits")),
        Page("admin: workplace", admin, reverse("workplace_detail", args=[portfolio.workplace_id])),
        Page("admin: users list", admin, reverse("admin:portfolio_user_changelist")),
        Page("admin: portfolios list", admin, reverse("admin:portfolio_portfolio_changelist")),
        Page("admin: EQA grants list", admin, reverse("admin:portfolio_eqagrant_changelist")),
    ]
    return pages


def allowed_host() -> str:
    """A host name this site answers to, for requests made inside the process."""
    hosts = [host for host in settings.ALLOWED_HOSTS if "*" not in host and host[0] != "."]
    return hosts[0] if hosts else "testserver"


@dataclass
class Measurement:
    label: str
    url: str
    queries: int
    median_ms: float
    status: int


def measure(pages: list[Page], repeat: int = 20, warm_up: int = 3) -> list[Measurement]:
    """Serve each page ``repeat`` times in this process; the median time and the queries."""
    clients: dict[str, Client] = {}
    results = []
    for page in pages:
        client = clients.get(page.username)
        if client is None:
            client = clients[page.username] = Client(HTTP_HOST=allowed_host())
            if page.username:
                client.force_login(User.objects.get(username=page.username))
        for _ in range(warm_up):
            client.get(page.url)
        reset_queries()  # in debug, the log of queries is full after a few thousand
        with CaptureQueriesContext(connection) as queries:
            response = client.get(page.url)
        count = len(queries)  # now: each request empties the log of queries as it starts
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(page.url)
            times.append((time.perf_counter() - started) * 1000)
        results.append(
            Measurement(page.label, page.url, count, statistics.median(times), response.status_code)
        )
    return results
