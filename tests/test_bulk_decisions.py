"""The decisions page: every criterion not yet met that accepted evidence confirms, listed with
that evidence already cited and marked met in one post; what else is missing; decisions
withdrawn with a reason; the sign-off from the same page; and who may decide on which unit."""

import datetime
from html.parser import HTMLParser

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessments import services
from assessments.models import CriterionDecision, Mapping, Signature
from audit.models import AuditEntry
from portfolio.models import Portfolio, WitnessTestimony
from tests.assessing import sufficient
from tests.factories import (
    PASSWORD,
    EvidenceFactory,
    PortfolioFactory,
    WitnessFactory,
)
from tests.test_qualifications import stub_unit_spec
from tests.test_query_counts import COVERAGE, SIGNED_IN, UNREAD
from units.importer import import_unit_file

pytestmark = pytest.mark.django_db


def url(portfolio) -> str:
    return f"/portfolios/{portfolio.pk}/decisions/"


def criterion(portfolio, code):
    return portfolio.unit.criteria.get(nos_code=code)


def confirm(portfolio, code, *items, note="Second paragraph"):
    """``portfolio``'s assessor confirms ``code`` of its unit on each of ``items``."""
    for item in items:
        Mapping.objects.create(
            evidence=item,
            criterion=criterion(portfolio, code),
            note=note,
            assessor=portfolio.assessor,
        )


def decide(portfolio, code, *items) -> CriterionDecision:
    decision = CriterionDecision.objects.create(
        portfolio=portfolio, criterion=criterion(portfolio, code), decided_by=portfolio.assessor
    )
    decision.cited.set(items)
    return decision


def ticks(portfolio, chosen: dict, **extra) -> dict:
    """The page's form as posted with each NOS code of ``chosen`` ticked "Mark met", citing the
    items given for it."""
    data = {"action": "mark", **extra}
    for code, items in chosen.items():
        pk = criterion(portfolio, code).pk
        data[f"met_{pk}"] = "on"
        data[f"cited_{pk}"] = [item.pk for item in items]
    return data


class _Boxes(HTMLParser):
    def __init__(self):
        super().__init__()
        self.boxes = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "checkbox":
            key = (attrs["name"], attrs.get("value", "on"))
            self.boxes[key] = "checked" in attrs


def boxes(response) -> dict[tuple[str, str], bool]:
    """Every checkbox on the page, by name and value, and whether it is ticked."""
    parser = _Boxes()
    parser.feed(response.content.decode())
    return parser.boxes


def met_box(portfolio, code) -> tuple[str, str]:
    return (f"met_{criterion(portfolio, code).pk}", "on")


def cited_box(portfolio, code, item) -> tuple[str, str]:
    return (f"cited_{criterion(portfolio, code).pk}", str(item.pk))


@pytest.fixture
def assessor(client, portfolio) -> Client:
    client.force_login(portfolio.assessor)
    return client


@pytest.fixture
def items(portfolio):
    """Two accepted items and a submitted one, confirmed on: P1 by both accepted items, P2 by the
    first, P3 by the first and marked met, P4 only on the submitted item, P5 by the first with
    its decision withdrawn."""
    first = EvidenceFactory(portfolio=portfolio, status="accepted", title="Refund at the desk")
    second = EvidenceFactory(
        portfolio=portfolio,
        status="accepted",
        title="Late parcel call",
        occurred_on=datetime.date(2026, 10, 5),
    )
    waiting = EvidenceFactory(portfolio=portfolio, status="submitted", title="Queue at the till")
    confirm(portfolio, "P1", first, note="First paragraph")
    confirm(portfolio, "P1", second, note="The whole call")
    confirm(portfolio, "P2", first)
    confirm(portfolio, "P3", first)
    confirm(portfolio, "P4", waiting)
    confirm(portfolio, "P5", first)
    decide(portfolio, "P3", first)
    withdrawn = decide(portfolio, "P5", first)
    withdrawn.withdrawn_at = timezone.now()
    withdrawn.withdrawn_by = portfolio.assessor
    withdrawn.withdrawal_reason = "Weak"
    withdrawn.save()
    return {"first": first, "second": second, "waiting": waiting}


class TestListing:
    def test_it_lists_each_confirmed_criterion_not_met_with_its_evidence_cited(
        self, assessor, portfolio, items
    ):
        response = assessor.get(url(portfolio))

        assert response.status_code == 200
        listed = [row.criterion.nos_code for row in response.context["mark_form"].rows()]
        assert listed == ["P1", "P2", "P5"]
        found = boxes(response)
        assert found[cited_box(portfolio, "P1", items["first"])] is True
        assert found[cited_box(portfolio, "P1", items["second"])] is True
        assert found[cited_box(portfolio, "P2", items["first"])] is True
        assert found[met_box(portfolio, "P1")] is False
        assert ("all", "on") in found
        assert cited_box(portfolio, "P1", items["waiting"]) not in found
        assert met_box(portfolio, "P3") not in found
        assert met_box(portfolio, "P4") not in found

    def test_each_evidence_is_labelled_with_its_title_date_and_note(
        self, assessor, portfolio, items
    ):
        response = assessor.get(url(portfolio))

        first = items["first"]
        assert f"Refund at the desk, {first.occurred_on:%d %b %Y}: First paragraph" in response.text
        assert "Late parcel call, 05 Oct 2026: The whole call" in response.text

    def test_criteria_no_accepted_evidence_confirms_are_listed_apart(
        self, assessor, portfolio, items
    ):
        response = assessor.get(url(portfolio))

        lacking = [c.nos_code for c in response.context["listed"].lacking]
        assert "P4" in lacking  # confirmed only on evidence not accepted yet
        assert {"P1", "P2", "P3", "P5"}.isdisjoint(lacking)
        assert "1.4 (P4)</a>: no accepted evidence confirms it yet." in response.text
        assert "3.1 (K1)</a>: no accepted evidence confirms it yet." in response.text

    def test_what_else_is_missing_is_said_in_plain_words(self, assessor, portfolio, items):
        response = assessor.get(url(portfolio))

        assert (
            "No accepted performance evidence yet for context a (during routine delivery of "
            "customer service)." in response.text
        )
        assert "Different customers in accepted evidence: " in response.text
        assert "Not yet marked met by the assessor" not in response.text

    def test_every_criterion_links_to_its_own_page(self, assessor, portfolio, items):
        response = assessor.get(url(portfolio))

        for code in ("P1", "P3", "P4"):
            assert (
                f'href="/portfolios/{portfolio.pk}/criteria/{criterion(portfolio, code).pk}/"'
                in (response.text)
            )

    def test_the_met_criteria_are_listed_each_with_a_withdraw_form(
        self, assessor, portfolio, items
    ):
        response = assessor.get(url(portfolio))

        met = [d.criterion.nos_code for d in response.context["listed"].met]
        assert met == ["P3"]
        assert "Withdraw the decision on 1.3 (P3)" in response.text
        assert "Withdraw the decision on 1.5 (P5)" not in response.text

    def test_it_is_linked_for_the_assessor(self, assessor, portfolio, items):
        for page in ("/", "/matrix/", "/sign-off/"):
            response = assessor.get(f"/portfolios/{portfolio.pk}{page}")
            assert f'href="{url(portfolio)}"' in response.text, page

    def test_the_sign_off_page_links_to_it_only_while_criteria_are_undecided(
        self, assessor, portfolio
    ):
        sufficient(portfolio)

        response = assessor.get(f"/portfolios/{portfolio.pk}/sign-off/")

        assert f'href="{url(portfolio)}"' not in response.text


class TestMarking:
    def test_one_post_marks_the_ticked_criteria_met_each_citing_its_ticked_evidence(
        self, assessor, portfolio, items
    ):
        first = items["first"]

        response = assessor.post(
            url(portfolio), ticks(portfolio, {"P1": [first], "P2": [first]}), follow=True
        )

        assert response.redirect_chain == [(url(portfolio), 302)]
        assert "1.1 (P1) and 1.2 (P2) are marked met." in response.text
        made = CriterionDecision.objects.active().exclude(criterion__nos_code="P3")
        assert {d.criterion.nos_code: list(d.cited.all()) for d in made} == {
            "P1": [first],
            "P2": [first],
        }
        assert all(d.decided_by == portfolio.assessor for d in made)
        listed = [row.criterion.nos_code for row in response.context["mark_form"].rows()]
        assert listed == ["P5"]

    def test_each_decision_has_its_own_audit_entry(self, assessor, portfolio, items):
        first, second = items["first"], items["second"]

        assessor.post(url(portfolio), ticks(portfolio, {"P1": [first, second], "P2": [first]}))

        entries = AuditEntry.objects.filter(action="decision.met").order_by("pk")
        decisions = CriterionDecision.objects.filter(criterion__nos_code__in=["P1", "P2"])
        assert sorted(e.object_id for e in entries) == sorted(str(d.pk) for d in decisions)
        assert [e.data["criterion"] for e in entries] == ["P1", "P2"]
        assert entries[0].data["cited"] == [first.pk, second.pk]
        assert all(e.portfolio_id == portfolio.pk for e in entries)

    def test_every_criterion_listed_is_marked_met_at_once(self, assessor, portfolio, items):
        data = {"action": "mark", "all": "on"}
        for code in ("P1", "P2", "P5"):
            data[f"cited_{criterion(portfolio, code).pk}"] = [items["first"].pk]

        response = assessor.post(url(portfolio), data)

        assert response.status_code == 302
        met = CriterionDecision.objects.active().values_list("criterion__nos_code", flat=True)
        assert sorted(met) == ["P1", "P2", "P3", "P5"]

    def test_the_same_form_sent_twice_marks_them_once(self, assessor, portfolio, items):
        data = ticks(portfolio, {"P1": [items["first"]], "P2": [items["first"]]})

        assessor.post(url(portfolio), data)
        again = assessor.post(url(portfolio), data, follow=True)

        assert again.redirect_chain == [(url(portfolio), 302)]
        assert "1.1 (P1) and 1.2 (P2) are already marked met." in again.text
        assert CriterionDecision.objects.active().count() == 3  # with P3's, from before
        assert AuditEntry.objects.filter(action="decision.met").count() == 2

    def test_nothing_ticked_is_refused_with_a_message(self, assessor, portfolio, items):
        response = assessor.post(url(portfolio), {"action": "mark"})

        assert response.status_code == 400
        assert "Tick “Mark met” on at least one criterion." in response.text
        assert CriterionDecision.objects.active().count() == 1

    def test_a_criterion_ticked_without_evidence_refuses_the_whole_post_keeping_the_ticks(
        self, assessor, portfolio, items
    ):
        first = items["first"]

        response = assessor.post(url(portfolio), ticks(portfolio, {"P1": [], "P2": [first]}))

        assert response.status_code == 400
        assert "Cite at least one piece of accepted evidence that shows 1.1 (P1)." in response.text
        assert "Nothing is saved yet. What you typed is kept below" in response.text
        found = boxes(response)
        assert found[met_box(portfolio, "P1")] is True
        assert found[met_box(portfolio, "P2")] is True
        assert found[cited_box(portfolio, "P1", first)] is False
        assert found[cited_box(portfolio, "P2", first)] is True
        assert found[met_box(portfolio, "P5")] is False
        assert CriterionDecision.objects.active().count() == 1  # P3's, from before

    def test_evidence_not_confirmed_for_the_criterion_is_refused(self, assessor, portfolio, items):
        first, second = items["first"], items["second"]

        response = assessor.post(url(portfolio), ticks(portfolio, {"P1": [first], "P2": [second]}))

        assert response.status_code == 400
        assert "Cite only evidence on which 1.2 (P2) is confirmed in this unit." in response.text
        assert boxes(response)[met_box(portfolio, "P1")] is True
        assert CriterionDecision.objects.active().count() == 1

    def test_evidence_not_counting_in_the_portfolio_is_refused(self, assessor, portfolio, items):
        stranger = PortfolioFactory(assessor=portfolio.assessor)
        theirs = EvidenceFactory(portfolio=stranger, status="accepted")
        confirm(stranger, "P1", theirs)

        response = assessor.post(url(portfolio), ticks(portfolio, {"P1": [theirs]}))

        assert response.status_code == 400
        assert "Cite only evidence on which 1.1 (P1) is confirmed in this unit." in response.text
        assert CriterionDecision.objects.active().count() == 1

    def test_the_service_refuses_every_invalid_choice_and_marks_none(self, portfolio, items):
        first, second = items["first"], items["second"]
        stranger = PortfolioFactory(assessor=portfolio.assessor)
        theirs = EvidenceFactory(portfolio=stranger, status="accepted")
        confirm(stranger, "P1", theirs)
        chosen = [
            (criterion(portfolio, "P1"), [first]),  # valid alone
            (criterion(portfolio, "P2"), [second]),  # not confirmed for P2
            (criterion(portfolio, "P3"), [first]),  # already met
            (criterion(portfolio, "P5"), []),  # nothing cited
            (criterion(portfolio, "P6"), [theirs]),  # another learner's evidence
        ]

        with pytest.raises(ValidationError) as refused:
            services.decisions_mark_met(portfolio=portfolio, chosen=chosen, by=portfolio.assessor)

        assert refused.value.messages == [
            "Cite only evidence on which 1.2 (P2) is confirmed.",
            "1.3 (P3) is already marked met.",
            "Cite at least one piece of accepted evidence that shows 1.5 (P5).",
            "Cite only evidence on which 1.6 (P6) is confirmed.",
        ]
        assert CriterionDecision.objects.active().count() == 1
        assert not AuditEntry.objects.filter(action="decision.met").exists()


class TestWithdrawing:
    def test_a_decision_is_withdrawn_with_a_reason_and_the_page_comes_back(
        self, assessor, portfolio, items
    ):
        decision = CriterionDecision.objects.active().get()

        response = assessor.post(
            url(portfolio),
            {
                "action": "withdraw",
                "decision": decision.pk,
                f"withdraw-{decision.pk}-reason": "The note does not show it",
            },
            follow=True,
        )

        assert response.redirect_chain == [(url(portfolio), 302)]
        assert "The decision on 1.3 (P3) is withdrawn." in response.text
        decision.refresh_from_db()
        assert decision.withdrawn_at is not None
        assert decision.withdrawal_reason == "The note does not show it"
        entry = AuditEntry.objects.get(action="decision.withdrawn")
        assert entry.data["reason"] == "The note does not show it"
        listed = [row.criterion.nos_code for row in response.context["mark_form"].rows()]
        assert "P3" in listed  # to decide again

    def test_a_withdrawal_without_a_reason_is_refused_with_a_message(
        self, assessor, portfolio, items
    ):
        decision = CriterionDecision.objects.active().get()

        response = assessor.post(
            url(portfolio),
            {"action": "withdraw", "decision": decision.pk, f"withdraw-{decision.pk}-reason": " "},
        )

        assert response.status_code == 400
        assert "Give the reason for withdrawing the decision." in response.text
        assert "<details open>" in response.text
        decision.refresh_from_db()
        assert decision.withdrawn_at is None
        assert not AuditEntry.objects.filter(action="decision.withdrawn").exists()

    def test_a_decision_already_withdrawn_is_said_so(self, assessor, portfolio, items):
        withdrawn = CriterionDecision.objects.get(withdrawn_at__isnull=False)

        response = assessor.post(
            url(portfolio),
            {
                "action": "withdraw",
                "decision": withdrawn.pk,
                f"withdraw-{withdrawn.pk}-reason": "x",
            },
            follow=True,
        )

        assert "That decision is already withdrawn." in response.text
        assert (
            withdrawn.withdrawal_reason
            == CriterionDecision.objects.get(pk=withdrawn.pk).withdrawal_reason
        )

    def test_another_portfolios_decision_is_not_withdrawn_here(self, assessor, portfolio, items):
        other = PortfolioFactory(assessor=portfolio.assessor)
        item = EvidenceFactory(portfolio=other, status="accepted")
        confirm(other, "P1", item)
        theirs = decide(other, "P1", item)

        assessor.post(
            url(portfolio),
            {"action": "withdraw", "decision": theirs.pk, f"withdraw-{theirs.pk}-reason": "x"},
        )

        theirs.refresh_from_db()
        assert theirs.withdrawn_at is None


class TestSigningOff:
    @pytest.fixture
    def ready(self, portfolio):
        """Every criterion confirmed on accepted evidence, none marked met yet."""
        return sufficient(portfolio, decide=False)

    def mark_all(self, client, portfolio):
        data = {"action": "mark", "all": "on"}
        for mapping in Mapping.objects.filter(criterion__unit=portfolio.unit):
            data.setdefault(f"cited_{mapping.criterion_id}", []).append(mapping.evidence_id)
        return client.post(url(portfolio), data, follow=True)

    def test_once_nothing_is_missing_the_unit_is_signed_off_from_the_page(self, assessor, ready):
        before = assessor.get(url(ready))
        marked = self.mark_all(assessor, ready)

        assert 'name="password"' not in before.text
        assert "27 of 27 criteria are not yet marked met." in before.text
        assert 'name="password"' in marked.text
        assert services.SIGN_OFF_STATEMENT in marked.text
        signed = assessor.post(url(ready), {"action": "sign", "password": PASSWORD}, follow=True)

        assert signed.redirect_chain == [(ready.get_absolute_url(), 302)]
        assert "The unit is signed off." in signed.text
        ready.refresh_from_db()
        assert ready.status == Portfolio.Status.ASSESSED
        assert Signature.objects.get().kind == Signature.Kind.ASSESSOR_SIGN_OFF
        assert AuditEntry.objects.filter(action="decision.met").count() == 27

    def test_the_witnesses_still_awaited_are_named_before_signing(self, assessor, ready):
        item = ready.evidence.filter(answers_question=None).first()
        WitnessFactory(
            evidence=item,
            witness_name="Priya Lal",
            status=WitnessTestimony.Status.SENT,
            sent_at=timezone.now(),
            expires_at=timezone.now() + datetime.timedelta(days=7),
        )

        response = self.mark_all(assessor, ready)

        assert "Still waiting for 1 witness:" in response.text
        assert "Priya Lal, on" in response.text

    def test_a_wrong_password_signs_nothing(self, assessor, ready):
        self.mark_all(assessor, ready)

        response = assessor.post(url(ready), {"action": "sign", "password": "wrong"})

        assert response.status_code == 400
        assert "That is not your password. Nothing was signed." in response.text
        assert not Signature.objects.exists()

    def test_while_something_is_missing_it_says_what_instead(self, assessor, ready):
        self.mark_all(assessor, ready)
        ready.evidence.get(contexts__letter="d").contexts.clear()

        response = assessor.get(url(ready))
        refused = assessor.post(url(ready), {"action": "sign", "password": PASSWORD})

        assert 'name="password"' not in response.text
        assert "The unit cannot be signed off yet:" in response.text
        assert "is needed first" in response.text
        assert "No accepted performance evidence yet for context d" in response.text
        assert refused.status_code == 400
        assert "The unit cannot be signed off yet:" in refused.text
        assert not Signature.objects.exists()
        ready.refresh_from_db()
        assert ready.status == Portfolio.Status.IN_PROGRESS


class TestSharedEvidence:
    """An item kept in unit A and confirmed by B's assessor on B's criteria counts in B."""

    @pytest.fixture
    def a(self, c4):
        return PortfolioFactory()

    @pytest.fixture
    def b(self, a, c5):
        return PortfolioFactory(learner=a.learner, unit=c5, enrolment=a.enrolment)

    @pytest.fixture
    def shared(self, a, b):
        item = EvidenceFactory(portfolio=a, status="accepted", title="Refund at the desk")
        confirm(b, "P2", item, note="Kept in A")
        return item

    def test_bs_assessor_cites_an_item_kept_in_a(self, a, b, shared):
        client = Client()
        client.force_login(b.assessor)

        page = client.get(url(b))
        response = client.post(url(b), ticks(b, {"P2": [shared]}))

        assert "Refund at the desk (kept in unit C4)" in page.text
        assert response.status_code == 302
        decision = CriterionDecision.objects.get()
        assert decision.portfolio == b
        assert list(decision.cited.all()) == [shared]

    def test_as_assessor_cannot_decide_on_b_in_bulk_or_singly(self, a, b, shared):
        client = Client()
        client.force_login(a.assessor)

        bulk = client.post(url(b), ticks(b, {"P2": [shared]}))
        single = client.post(
            f"/portfolios/{b.pk}/criteria/{criterion(b, 'P2').pk}/", {"cited": [shared.pk]}
        )
        from_a = client.post(url(a), ticks(b, {"P2": [shared]}))

        assert bulk.status_code == 404
        assert single.status_code == 404
        assert from_a.status_code == 400  # B's criterion is not one A's page decides
        assert not CriterionDecision.objects.exists()

    def test_as_assessor_is_refused_even_where_they_may_see_b(self, a, b, shared):
        Portfolio.objects.filter(pk=b.pk).update(iqa=a.assessor)
        a.assessor.is_iqa = True
        a.assessor.save()
        client = Client()
        client.force_login(a.assessor)

        bulk = client.post(url(b), ticks(b, {"P2": [shared]}))
        single = client.post(
            f"/portfolios/{b.pk}/criteria/{criterion(b, 'P2').pk}/", {"cited": [shared.pk]}
        )

        assert bulk.status_code == 403
        assert single.status_code == 403
        assert not CriterionDecision.objects.exists()

    def test_the_service_refuses_another_units_assessor_and_another_units_criteria(
        self, a, b, shared
    ):
        with pytest.raises(ValidationError, match="Only the assessor of OCR unit C5"):
            services.decisions_mark_met(
                portfolio=b, chosen=[(criterion(b, "P2"), [shared])], by=a.assessor
            )
        with pytest.raises(ValidationError, match="Only the assessor of OCR unit C5"):
            services.decision_mark_met(
                portfolio=b, criterion=criterion(b, "P2"), cited=[shared], by=a.assessor
            )
        with pytest.raises(ValidationError) as refused:
            services.decisions_mark_met(
                portfolio=a, chosen=[(criterion(b, "P2"), [shared])], by=a.assessor
            )

        assert refused.value.messages == [
            "C5 1.2 (P2) is not a criterion of OCR unit C4: it is decided in its own unit."
        ]
        assert not CriterionDecision.objects.exists()


# The session and its user, saving the session, the unread count in the header; the portfolio,
# its coverage, the mappings on accepted evidence counting in it with their evidence, the active
# decisions with what each cites.
PAGE_QUERIES = SIGNED_IN + UNREAD + 1 + COVERAGE + 1 + 2
# Once the sign-off is shown: the witnesses whose links it closes.
SIGNING_QUERIES = PAGE_QUERIES + 1


def _stub_unit(tmp_path, code, criteria=1):
    spec = stub_unit_spec(code, f"Stub {code}", 2, 3)
    spec["criteria"] = [
        {"number": f"1.{n}", "wording": "Do it", "nos_code": f"P{n}", "nos_wording": "Do it"}
        for n in range(1, criteria + 1)
    ]
    path = tmp_path / f"{code}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return import_unit_file(path).unit


def _queries(portfolio) -> int:
    client = Client()
    client.force_login(portfolio.assessor)
    client.get(url(portfolio))  # the session and caches warmed
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url(portfolio)).status_code == 200
    return len(queries)


def test_the_page_runs_as_many_queries_for_many_criteria_items_and_units_as_for_few(c4, tmp_path):
    few = PortfolioFactory(unit=_stub_unit(tmp_path, "Z1", criteria=2))
    item = EvidenceFactory(portfolio=few, status="accepted")
    confirm(few, "P1", item)
    confirm(few, "P2", item)
    decide(few, "P2", item)

    many = sufficient(PortfolioFactory(), decide=False)
    for code in ("Z2", "Z3", "Z4"):
        other = PortfolioFactory(
            learner=many.learner, unit=_stub_unit(tmp_path, code), enrolment=many.enrolment
        )
        kept = EvidenceFactory(portfolio=other, status="accepted", claims=["P1"])
        confirm(many, "P1", kept)  # shared: counts in the C4 unit too
        confirm(other, "P1", kept)
    for code in ("P1", "P2", "P3"):
        decide(many, code, *many.evidence.filter(mappings__criterion__nos_code=code)[:1])

    counts = [_queries(few), _queries(many)]

    assert counts == [PAGE_QUERIES] * 2, counts


def test_the_page_with_the_sign_off_runs_as_many_queries_for_a_big_unit_as_a_small_one(
    c4, tmp_path
):
    small = PortfolioFactory(unit=_stub_unit(tmp_path, "Z1"))
    item = EvidenceFactory(portfolio=small, status="accepted", contexts="a", claims=["P1"])
    confirm(small, "P1", item)
    decide(small, "P1", item)
    big = sufficient(PortfolioFactory())

    counts = [_queries(small), _queries(big)]

    assert counts == [SIGNING_QUERIES] * 2, counts
