"""Every URL the site has, requested by every kind of person: what each one gets.

The matrix below has one entry per named URL in the URL configuration (and the admin site as a
group). A URL added without an entry, or an entry left behind by a removed URL, fails
``test_every_url_has_an_entry``. Each entry builds the URL's arguments from one world of records
and says what each person gets for a GET, and what a POST gets from those who may not act (the
same as the GET unless the entry says otherwise); such a POST must change nothing. Every page a
person opens must not link to, or show the learners' names or evidence titles of, portfolios
they may not see.

The people, relative to one portfolio in progress:

- ``owner``: its learner; ``other_learner``: the learner of another portfolio
- ``assessor``: its assessor; ``other_assessor``: the other portfolio's assessor
- ``iqa``: its internal quality assurer
- ``iqa_assessor``: an IQA who is also the assessor, requesting the same pages of a portfolio
  they assessed and are named IQA of (the admin refuses that assignment; the data may still hold
  it): they act as its assessor, never as its IQA
- ``eqa``: an external quality assurer with a grant to it; ``expired_eqa``: one whose grant to it
  expired
- ``admin``: the centre administrator
- ``employer``: a line manager with an account, a contact of the main portfolio's workplace (the
  other learner's too): they see no portfolio's pages, only their own (progress, plans and
  reviews), and no evidence, since the workplace does not allow it
- ``anonymous``: a visitor who is not signed in
"""

import datetime
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.contrib import admin as admin_site
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from assessments import quality
from assessments.models import (
    ActionPoint,
    AssessmentPlan,
    BreakInLearning,
    CriterionDecision,
    EqaReview,
    InitialAssessment,
    IqaSample,
    Mapping,
    ObservationRecord,
    PlanActivity,
    ProgressReview,
    Review,
    SamplingPlan,
    Signature,
    StandardisationMeeting,
)
from assessments.planning import ISSUE_STATEMENT, plan_manifest
from assessments.review_services import review_save, review_sign
from assessments.services import content_sign
from audit.models import AuditEntry
from people.models import Invitation
from portfolio.files import atomic_with_files, prepare_upload, store_file
from portfolio.models import (
    ROLE_FLAGS,
    Claim,
    Enrolment,
    EqaGrant,
    EvidenceFile,
    EvidenceItem,
    Notification,
    Portfolio,
    User,
    WitnessTestimony,
    Workplace,
    WorkplaceContact,
)
from portfolio.services import file_renditions
from records.models import Export
from tests import samples
from tests.factories import (
    PASSWORD,
    EqaGrantFactory,
    EvidenceFactory,
    PortfolioFactory,
    UserFactory,
    WitnessFactory,
    c4_unit,
)
from units.qualification_importer import import_qualification_file

pytestmark = pytest.mark.django_db

PEOPLE = (
    "owner",
    "other_learner",
    "assessor",
    "other_assessor",
    "iqa",
    "iqa_assessor",
    "eqa",
    "expired_eqa",
    "admin",
    "employer",
    "anonymous",
)

LOGIN = "login"  # 302 to the sign-in page
ADMIN_LOGIN = "admin login"  # 302 to the admin's sign-in page
ACTS = "acts"  # may do what the POST asks: not posted here (the feature's own tests do)
REFUSED = {403, 404, LOGIN, ADMIN_LOGIN}

WITNESS_TOKEN = "a-witness-link-token-for-the-matrix"
REVIEW_TOKEN = "a-review-link-token-for-the-matrix"


@dataclass(frozen=True)
class Entry:
    """How to fill a URL's arguments from a scene and what a GET gets for each person, in the
    order of PEOPLE. ``post`` says what a POST gets where that differs (a POST-only URL, or a
    page whose form only some of its readers may send); without it, whoever is refused the GET
    is refused the POST. ``data`` is what such a POST sends."""

    kwargs: Callable[[SimpleNamespace], dict]
    get: tuple
    post: tuple | None = None
    data: Callable[[SimpleNamespace], dict] = field(default=lambda scene: {})
    # A page for whoever holds its link (the witness's): it may show the statement's portfolio.
    for_the_link_holder: bool = False

    def __post_init__(self):
        assert len(self.get) == len(PEOPLE), self
        assert self.post is None or len(self.post) == len(PEOPLE), self


def no_kwargs(scene):
    return {}


def portfolio(scene):
    return {"pk": scene.portfolio.pk}


def pk_of(name: str) -> Callable[[SimpleNamespace], dict]:
    return lambda scene: {"pk": getattr(scene, name).pk}


def unfollowed_enrolment(scene) -> int:
    """An enrolment at a workplace other than the scene's portfolio's."""
    elsewhere = Portfolio.objects.exclude(workplace=scene.portfolio.workplace_id)
    return elsewhere.order_by("pk").values_list("enrolment_id", flat=True).first()


# fmt: off
#   who:          owner  other   assessor other  iqa  iqa+    eqa  expired admin employer anonymous
#                        learner          assr.       assessor      eqa
EVERYONE =       (200,   200,    200,     200,   200, 200,    200, 200,    200, 200,  200)
SIGNED_IN =      (200,   200,    200,     200,   200, 200,    200, 200,    200, 200,  LOGIN)
ROLE_HOME =      (302,   302,    302,     302,   302, 302,    302, 302,    302, 302,  LOGIN)
VIEWERS =        (200,   404,    200,     404,   200, 200,    200, 404,    200, 404,  LOGIN)
LEARNER_EDITS =  (200,   404,    403,     404,   403, 403,    403, 404,    403, 404,  LOGIN)
ASSESSOR_ACTS =  (403,   404,    200,     404,   403, 200,    403, 404,    403, 404,  LOGIN)
IQA_ACTS =       (403,   404,    403,     404,   200, 403,    403, 404,    403, 404,  LOGIN)
ADMIN_ACTS =     (403,   404,    403,     404,   403, 403,    403, 404,    200, 404,  LOGIN)
NOBODY_ACTS =    (403,   404,    403,     404,   403, 403,    403, 404,    403, 404,  LOGIN)
DRAFT =          (200,   404,    404,     404,   404, 404,    404, 404,    404, 404,  LOGIN)
POST_ONLY =      (405,   405,    405,     405,   405, 405,    405, 405,    405, 405,  LOGIN)
# A POST to a POST-only URL by each person: ACTS where they may do it.
LEARNER_POSTS =  (ACTS,  404,    403,     404,   403, 403,    403, 404,    403, 404,  LOGIN)
ASSESSOR_POSTS = (403,   404,    ACTS,    404,   403, ACTS,   403, 404,    403, 404,  LOGIN)
EQA_POSTS =      (403,   404,    403,     404,   403, 403,    ACTS, 404,   403, 404,  LOGIN)
ADMIN_POSTS =    (403,   404,    403,     404,   403, 403,    403, 404,    ACTS, 404, LOGIN)
VIEWERS_POST =   (ACTS,  404,    ACTS,    404,   ACTS, ACTS,  ACTS, 404,    ACTS, 404, LOGIN)
STAFF_ONLY =     (ADMIN_LOGIN,) * 8 + (200, ADMIN_LOGIN, ADMIN_LOGIN)
# Pages of no portfolio that only the centre administrator opens, and their POST-only URLs.
ADMIN_ONLY =     (403,) * 8 + (200, 403, LOGIN)
ADMIN_ONLY_POSTS = (403,) * 8 + (ACTS, 403, LOGIN)

MATRIX: dict[str, Entry | tuple[Entry, ...]] = {
    # Role homes and the person's own things
    "home": Entry(no_kwargs, ROLE_HOME),
    "health": Entry(no_kwargs, EVERYONE),  # for the load balancer: says "ok" and nothing else
    "learner_home": Entry(no_kwargs,
                     (200,   200,    403,     403,   403, 403,    403, 403,    403, 403,  LOGIN)),
    "assessor_home": Entry(no_kwargs,
                     (403,   403,    200,     200,   403, 200,    403, 403,    403, 403,  LOGIN)),
    "iqa_home": Entry(no_kwargs,
                     (403,   403,    403,     403,   200, 200,    403, 403,    403, 403,  LOGIN)),
    "eqa_home": Entry(no_kwargs,
                     (403,   403,    403,     403,   403, 403,    200, 200,    403, 403,  LOGIN)),
    "employer_home": Entry(no_kwargs,
                     (403,   403,    403,     403,   403, 403,    403, 403,    403, 200,  LOGIN)),
    # The employer's pages
    # One learner they follow; 404 for a learner at another workplace.
    "employer_enrolment": (
        Entry(lambda scene: {"pk": scene.portfolio.enrolment_id},
                     (403,   403,    403,     403,   403, 403,    403, 403,    403, 200,  LOGIN)),
        Entry(lambda scene: {"pk": unfollowed_enrolment(scene)},
                     (403,   403,    403,     403,   403, 403,    403, 403,    403, 404,  LOGIN)),
    ),
    # A file of a learner they follow, at a workplace that does not let them see the evidence.
    "employer_file": Entry(lambda scene: {"pk": scene.photo.pk},
                     (403,   403,    403,     403,   403, 403,    403, 403,    403, 404,  LOGIN)),
    # The centre administrator lets a workplace's line managers see the evidence, and invites a
    # contact as a line manager, from the workplace's page.
    "workplace_evidence": Entry(lambda scene: {"pk": scene.portfolio.workplace_id}, POST_ONLY,
        post=ADMIN_ONLY_POSTS, data=lambda scene: {"employer_sees_evidence": "on"},
    ),
    "contact_invite": Entry(
        lambda scene: {"pk": WorkplaceContact.objects.order_by("pk").first().pk},
        POST_ONLY, post=ADMIN_ONLY_POSTS,
    ),
    "centre_home": Entry(no_kwargs,
                     (403,   403,    403,     403,   403, 403,    403, 403,    200, 403,  LOGIN)),
    # every enrolment's progress, for the centre administrator
    "centre_qualifications": Entry(no_kwargs, ADMIN_ONLY),
    # Progress reviews and breaks in learning: a review is read by whoever sees the enrolment
    # and by an employer following the learner (who lists them on their own pages, never an
    # enrolment's); written by the assessor of a unit (a draft, and a review the assessor has
    # signed, waiting for the learner and the employer); breaks recorded by the assessor or the
    # centre administrator
    "enrolment_reviews": Entry(lambda scene: {"pk": scene.portfolio.enrolment_id}, VIEWERS),
    # the draft being written: the assessor carries on with it
    "review_new": Entry(lambda scene: {"pk": scene.portfolio.enrolment_id},
                     (403,   404,    302,     404,   403, 302,    403, 404,    403, 404,  LOGIN),
        data=lambda scene: {"held_on": "2026-01-01", "went_well": "Refused", "targets": "x"},
    ),
    # (a review being written is its assessors' alone, as a draft plan is: 404 to the others)
    "review_edit": Entry(pk_of("draft_review"),
                     (404,   404,    200,     404,   404, 200,    404, 404,    404, 404,  LOGIN),
        data=lambda scene: {"held_on": "2026-01-01", "went_well": "Refused", "targets": "x"},
    ),
    "progress_review_detail": Entry(pk_of("review"),
                     (200,   404,    200,     404,   200, 200,    200, 404,    200, 200,  LOGIN)),
    # the assessor has signed it: the learner and the employer may sign now
    "review_sign": Entry(pk_of("review"), POST_ONLY,
        post=        (ACTS,  404,    403,     404,   403, 403,    403, 404,    403, ACTS, LOGIN),
        data=lambda scene: {"comments": "Refused", "password": PASSWORD},
    ),
    "review_link_send": Entry(pk_of("review"), POST_ONLY,
        post=        (403,   404,    ACTS,    404,   403, ACTS,   403, 404,    403, 403,  LOGIN),
        data=lambda scene: {"name": "Refused", "email": "refused@example.org"},
    ),
    # The employer's link needs no account, as the witness's
    "review_link": Entry(
        lambda scene: {"token": REVIEW_TOKEN}, (200,) * 11, for_the_link_holder=True
    ),
    "review_link_respond": Entry(pk_of("review"), (404,) * 11),
    "break_new": Entry(lambda scene: {"pk": scene.portfolio.enrolment_id},
                     (403,   404,    200,     404,   403, 200,    403, 404,    200, 404,  LOGIN),
        data=lambda scene: {"starts_on": "2099-01-01", "reason": "Refused"},
    ),
    "break_end": Entry(pk_of("pause"),
                     (403,   404,    200,     404,   403, 200,    403, 404,    200, 403,  LOGIN),
        data=lambda scene: {f"break-{scene.pause.pk}-ends_on": "2099-01-01"},
    ),
    "notifications": Entry(no_kwargs, SIGNED_IN),
    "notification_settings": Entry(no_kwargs, SIGNED_IN),  # each person's own choice
    "my_data": Entry(no_kwargs, SIGNED_IN),
    "unit_list": Entry(no_kwargs, SIGNED_IN),
    "unit_detail": Entry(lambda scene: {"pk": scene.portfolio.unit_id}, SIGNED_IN),
    "qualification_list": Entry(no_kwargs, SIGNED_IN),
    "qualification_detail": Entry(pk_of("qualification"), SIGNED_IN),
    # Enrolments: whoever sees one of its units sees it; the centre administrator enters
    # learners and chooses their units
    "enrolment_detail": Entry(lambda scene: {"pk": scene.portfolio.enrolment_id}, VIEWERS),
    "enrolment_matrix": Entry(lambda scene: {"pk": scene.portfolio.enrolment_id}, VIEWERS),
    # Assessment plans: whoever sees the enrolment reads its plans, and the employer following
    # it reads each version (never the evidence titles here) but opens no enrolment page; the
    # assessor writes them, a draft only
    # they see; the learner accepts the version waiting, or asks for a change; the learner
    # and the assessor link evidence to the activities of the plan in force.
    "enrolment_plan": Entry(lambda scene: {"pk": scene.portfolio.enrolment_id},
                     (200,   404,    200,     404,   200, 200,    200, 404,    200, 404,  LOGIN),
        post=        (403,   404,    ACTS,    404,   403, ACTS,   403, 404,    403, 404,  LOGIN),
    ),
    "plan_detail": (
        Entry(pk_of("plan"),
                     (200,   404,    200,     404,   200, 200,    200, 404,    200, 200,  LOGIN)),
        Entry(pk_of("plan_draft"),
                     (404,   404,    200,     404,   404, 200,    404, 404,    404, 404,  LOGIN)),
    ),
    "plan_activity_new": Entry(pk_of("plan_draft"),
                     (404,   404,    200,     404,   404, 200,    404, 404,    404, 404,  LOGIN),
        data=lambda scene: {"title": "Refused", "method": "observation",
                            "target_date": "2099-01-01", "place": "Till"},
    ),
    "plan_activity_edit": Entry(pk_of("draft_activity"),
                     (404,   404,    200,     404,   404, 200,    404, 404,    404, 404,  LOGIN),
        data=lambda scene: {"title": "Refused", "method": "observation",
                            "target_date": "2099-01-01", "place": "Till"},
    ),
    "plan_activity_remove": Entry(pk_of("draft_activity"), POST_ONLY,
        post=        (404,   404,    ACTS,    404,   404, ACTS,   404, 404,    404, 404,  LOGIN),
    ),
    "plan_issue": Entry(pk_of("plan_draft"),
                     (404,   404,    200,     404,   404, 200,    404, 404,    404, 404,  LOGIN),
        data=lambda scene: {"password": PASSWORD},
    ),
    "plan_accept": Entry(pk_of("plan"),
                     (200,   404,    403,     404,   403, 403,    403, 404,    403, 403,  LOGIN),
        data=lambda scene: {"password": PASSWORD},
    ),
    "plan_change": Entry(pk_of("plan"), POST_ONLY,
        post=        (ACTS,  404,    403,     404,   403, 403,    403, 404,    403, 403,  LOGIN),
        data=lambda scene: {"reason": "Refused"},
    ),
    "plan_evidence_link": Entry(pk_of("activity"), POST_ONLY,
        post=        (ACTS,  404,    ACTS,    404,   403, ACTS,   403, 404,    403, 403,  LOGIN),
        data=lambda scene: {"evidence": scene.submitted.pk},
    ),
    "plan_evidence_unlink": Entry(pk_of("activity"), POST_ONLY,
        post=        (ACTS,  404,    ACTS,    404,   403, ACTS,   403, 404,    403, 403,  LOGIN),
        data=lambda scene: {"evidence": scene.accepted.pk},
    ),
    "enrolment_units": Entry(lambda scene: {"pk": scene.portfolio.enrolment_id},
                     (403,   403,    403,     403,   403, 403,    403, 403,    200, 403,  LOGIN),
        data=lambda scene: {"units": [scene.portfolio.unit_id]},
    ),
    # The PDF of every unit of the enrolment the person may see: whoever sees one asks for it
    "enrolment_pdf": Entry(lambda scene: {"pk": scene.portfolio.enrolment_id}, POST_ONLY,
        post=VIEWERS_POST,
    ),
    # The address entering a learner had before the people pages: it leads there.
    "enrolment_new": Entry(no_kwargs, (301,) * 11),
    # The people pages: the centre administrator's only. No one else reaches them, and a
    # centre administrator neither changes nor invites a superuser through them.
    "people": Entry(no_kwargs, ADMIN_ONLY),
    "learner_new": Entry(no_kwargs, ADMIN_ONLY,
        data=lambda scene: {
            "first_name": "Refused", "last_name": "Person", "email": "refused@example.org",
            "units": [scene.portfolio.unit_id], "organisation": "Refused",
        },
    ),
    "staff_new": Entry(no_kwargs, ADMIN_ONLY,
        data=lambda scene: {
            "first_name": "Refused", "last_name": "Staff", "email": "refused@example.org",
            "roles": ["assessor"], "is_active": "on",
        },
    ),
    "person_edit": (
        Entry(lambda scene: {"pk": scene.portfolio.learner_id}, ADMIN_ONLY,
            data=lambda scene: {"first_name": "Refused", "roles": ["learner", "centre_admin"]},
        ),
        Entry(pk_of("superuser"),
                     (403,   403,    403,     403,   403, 403,    403, 403,    403, 403,  LOGIN),
            data=lambda scene: {
                "first_name": "Taken", "last_name": "Over", "email": "x@example.org",
                "roles": ["eqa"],
            },
        ),
    ),
    "person_invite": (
        Entry(lambda scene: {"pk": scene.portfolio.learner_id}, POST_ONLY, post=ADMIN_ONLY_POSTS),
        Entry(pk_of("superuser"), POST_ONLY,
            post=    (403,   403,    403,     403,   403, 403,    403, 403,    403, 403,  LOGIN),
        ),
    ),
    # The invitation's link needs no account: a link not valid says so to anyone.
    "invitation": Entry(
        lambda scene: {"uidb64": "MQ", "token": "not-a-valid-token"}, EVERYONE
    ),
    # A CSV import: its preview writes nothing; only the centre administrator imports.
    "people_import": Entry(no_kwargs, ADMIN_ONLY, data=lambda scene: {"kind": "staff"}),
    "people_import_confirm": Entry(no_kwargs, POST_ONLY, post=ADMIN_ONLY_POSTS),
    "people_import_example": Entry(lambda scene: {"kind": "learners"}, ADMIN_ONLY),
    "eqa_access": Entry(no_kwargs, ADMIN_ONLY),
    "eqa_access_new": Entry(no_kwargs, ADMIN_ONLY,
        data=lambda scene: {"eqa": scene.grant.eqa_id, "whole_centre": "on",
                            "until": "2099-01-01"},
    ),
    "eqa_access_edit": Entry(pk_of("grant"), ADMIN_ONLY,
        data=lambda scene: {"eqa": scene.grant.eqa_id, "whole_centre": "on",
                            "until": "2099-01-01"},
    ),
    "eqa_access_end": Entry(pk_of("grant"), POST_ONLY, post=ADMIN_ONLY_POSTS),
    # Moving a caseload
    "caseload_move": Entry(no_kwargs, ADMIN_ONLY,
        data=lambda scene: {
            "to_person": scene.portfolio.iqa_id,
            "portfolios": [scene.portfolio.pk],
            "reason": "Refused",
        },
    ),
    # Quality assurance across portfolios
    "plan_update": Entry(
        lambda scene: {"assessor_pk": scene.portfolio.assessor_id},
                     (403,   403,    403,     403,   405, 405,    403, 403,    403, 403,  LOGIN),
        post=        (403,   403,    403,     403,   ACTS, 403,   403, 403,    403, 403,  LOGIN),
        data=lambda scene: {"rating": "experienced"},
    ),
    "standardisation": Entry(no_kwargs,
                     (403,   403,    200,     200,   200, 200,    200, 403,    200, 403,  LOGIN)),
    "meeting_new": Entry(no_kwargs,
                     (403,   403,    403,     403,   200, 200,    403, 403,    200, 403,  LOGIN),
        data=lambda scene: {"held_on": "2026-11-10", "title": "Refused", "discussed": "x"},
    ),
    "eqa_visits": Entry(no_kwargs,
                     (403,   403,    403,     403,   403, 403,    403, 403,    200, 403,  LOGIN)),
    "bulk_export_new": Entry(no_kwargs,
                     (403,   403,    403,     403,   403, 403,    200, 200,    200, 403,  LOGIN),
        data=lambda scene: {"portfolios": [scene.portfolio.pk]},
    ),
    # A bulk export, a portfolio's PDF, a person's data and an enrolment's PDF: only whoever
    # asked for each, while they may still see what it holds (an expired grant sees nothing)
    "export_detail": (
        Entry(pk_of("export"),
                     (404,   404,    404,     404,   404, 404,    200, 404,    404, 404,  LOGIN)),
        Entry(pk_of("pdf_export"),
                     (404,   404,    200,     404,   404, 404,    404, 404,    404, 404,  LOGIN)),
        Entry(pk_of("data_export"),
                     (200,   404,    404,     404,   404, 404,    404, 404,    404, 404,  LOGIN)),
        Entry(pk_of("claims_export"),
                     (404,   404,    404,     404,   404, 404,    404, 404,    200, 404,  LOGIN)),
        Entry(pk_of("enrolment_export"),
                     (404,   404,    404,     404,   404, 404,    200, 404,    404, 404,  LOGIN)),
        Entry(pk_of("expired_enrolment_export"),
                     (404,   404,    404,     404,   404, 404,    404, 404,    404, 404,  LOGIN)),
    ),
    "export_download": (
        Entry(pk_of("export"),
                     (404,   404,    404,     404,   404, 404,    200, 404,    404, 404,  LOGIN)),
        Entry(pk_of("pdf_export"),
                     (404,   404,    200,     404,   404, 404,    404, 404,    404, 404,  LOGIN)),
        Entry(pk_of("data_export"),
                     (200,   404,    404,     404,   404, 404,    404, 404,    404, 404,  LOGIN)),
        Entry(pk_of("claims_export"),
                     (404,   404,    404,     404,   404, 404,    404, 404,    200, 404,  LOGIN)),
        Entry(pk_of("enrolment_export"),
                     (404,   404,    404,     404,   404, 404,    200, 404,    404, 404,  LOGIN)),
        Entry(pk_of("expired_enrolment_export"),
                     (404,   404,    404,     404,   404, 404,    404, 404,    404, 404,  LOGIN)),
    ),
    # Claims to the awarding body: the centre administrator's
    "enrolment_claim": Entry(lambda scene: {"pk": scene.portfolio.enrolment_id}, ADMIN_ONLY,
        data=lambda scene: {"kind": "units", "units": [scene.portfolio.pk]},
    ),
    "claim_reference": Entry(pk_of("claim"), POST_ONLY, post=ADMIN_ONLY_POSTS,
        data=lambda scene: {"reference": "Refused"},
    ),
    "claims": Entry(no_kwargs, ADMIN_ONLY, data=lambda scene: {"start": "", "end": ""}),
    # One portfolio
    "portfolio_detail": Entry(portfolio, VIEWERS),
    "portfolio_workplace": Entry(
        portfolio, LEARNER_EDITS,
        data=lambda scene: {"organisation": "Changed", "sector": "private", "job_role": "x"},
    ),
    "portfolio_pdf": Entry(portfolio, VIEWERS),
    # The portfolio's workplace, which the other portfolio shares: the staff only, each seeing
    # it through a portfolio there they see.
    "workplace_detail": Entry(lambda scene: {"pk": scene.portfolio.workplace_id},
                     (404,   404,    200,     200,   200, 200,    200, 404,    200, 404,  LOGIN)),
    "evidence_new": Entry(portfolio, LEARNER_EDITS),
    "evidence_submit_many": Entry(
        portfolio, LEARNER_EDITS,
        data=lambda scene: {"evidence": [scene.referred.pk], "declaration": "on"},
    ),
    "knowledge_list": Entry(portfolio, VIEWERS),
    "knowledge_answer": Entry(
        lambda scene: {"pk": scene.portfolio.pk, "criterion_pk": scene.k1.pk}, LEARNER_EDITS,
        data=lambda scene: {"answer": "Changed"},
    ),
    "matrix": Entry(portfolio, VIEWERS),
    # Initial assessment: whoever sees the portfolio reads it; its assessor records it
    "initial_assessment": Entry(
        portfolio, VIEWERS, post=ASSESSOR_POSTS,
        data=lambda scene: {
            f"level_{outcome.pk}": "new" for outcome in scene.portfolio.unit.outcomes.all()
        },
    ),
    "criterion_detail": Entry(
        lambda scene: {"pk": scene.portfolio.pk, "criterion_pk": scene.p1.pk}, VIEWERS,
        post=ASSESSOR_POSTS,
        data=lambda scene: {"cited": [scene.accepted.pk]},
    ),
    # The decisions page: marking met in bulk, withdrawing, signing off, for the assessor only
    "decisions": Entry(
        portfolio, ASSESSOR_ACTS,
        data=lambda scene: {
            "action": "mark",
            f"met_{scene.p1.pk}": "on",
            f"cited_{scene.p1.pk}": [scene.accepted.pk],
        },
    ),
    "observation_new": Entry(portfolio, ASSESSOR_ACTS),
    "discussion_new": Entry(portfolio, ASSESSOR_ACTS),
    "sign_off": Entry(portfolio, ASSESSOR_ACTS, data=lambda scene: {"password": PASSWORD}),
    "sample_new": Entry(
        portfolio, IQA_ACTS,
        data=lambda scene: {"password": PASSWORD, "stage": "interim", "outcome": "agree"},
    ),
    "audit_trail": Entry(portfolio, VIEWERS),
    "eqa_review": Entry(
        portfolio, POST_ONLY, post=EQA_POSTS,
        data=lambda scene: {"outcome": "satisfactory", "report": "Refused"},
    ),
    "claim": Entry(
        portfolio, POST_ONLY, post=ADMIN_POSTS, data=lambda scene: {"reference": "OCR-1"}
    ),
    "unlock": Entry(portfolio, ADMIN_ACTS, data=lambda scene: {"reason": "Refused"}),
    # The learner signs the declaration after the sign-off; this portfolio is in progress.
    "declaration": Entry(portfolio, NOBODY_ACTS, data=lambda scene: {"password": PASSWORD}),
    "sample_detail": Entry(pk_of("sample"), VIEWERS),
    "action_close": Entry(
        pk_of("action"), POST_ONLY, post=ASSESSOR_POSTS,
        data=lambda scene: {"response": "Refused"},
    ),
    "decision_withdraw": Entry(
        pk_of("decision"), POST_ONLY, post=ASSESSOR_POSTS,
        data=lambda scene: {"reason": "Refused"},
    ),
    # Evidence: submitted, accepted, referred back (the learner may change it) and a draft
    "evidence_detail": (
        Entry(pk_of("submitted"), VIEWERS),
        Entry(pk_of("draft"), DRAFT),
    ),
    # Reviewing what is submitted; confirming criteria on what is accepted.
    "evidence_review": (
        Entry(
            pk_of("submitted"), POST_ONLY, post=ASSESSOR_POSTS,
            data=lambda scene: {"decision": "accept"},
        ),
        Entry(
            pk_of("accepted"), POST_ONLY, post=ASSESSOR_POSTS,
            data=lambda scene: {f"map_{scene.p3.pk}": "on", f"note_{scene.p3.pk}": "Refused"},
        ),
    ),
    "observation_confirm": Entry(pk_of("observation"), POST_ONLY, post=LEARNER_POSTS),
    "evidence_edit": Entry(pk_of("referred"), LEARNER_EDITS),
    "evidence_delete": Entry(pk_of("draft"), DRAFT),
    "evidence_submit": Entry(pk_of("referred"), LEARNER_EDITS),
    "witness_edit": Entry(pk_of("referred"), LEARNER_EDITS),
    "witness_send": Entry(pk_of("referred"), POST_ONLY, post=LEARNER_POSTS),
    "evidence_file": (
        Entry(pk_of("photo"), VIEWERS),
        Entry(pk_of("draft_photo"), DRAFT),
    ),
    "evidence_file_screen": Entry(pk_of("photo"), VIEWERS),
    "evidence_file_print": Entry(pk_of("photo"), VIEWERS),
    "file_remove": Entry(pk_of("referred_file"), POST_ONLY, post=LEARNER_POSTS),
    # The witness's link needs no account: whoever holds it sees the page with the button that
    # opens the statement, which then opens only in the browser that pressed it.
    "witness_link": Entry(
        lambda scene: {"token": WITNESS_TOKEN}, (200,) * 11, for_the_link_holder=True
    ),
    "witness_respond": Entry(
        lambda scene: {"pk": scene.submitted.testimony.pk}, (404,) * 11
    ),
    # Signing in and out, and passwords (django.contrib.auth)
    "login": Entry(no_kwargs, EVERYONE),
    "logout": Entry(no_kwargs, (405,) * 11),
    "password_change": Entry(no_kwargs, SIGNED_IN),
    "password_change_done": Entry(no_kwargs, SIGNED_IN),
    "password_reset": Entry(no_kwargs, EVERYONE),
    "password_reset_done": Entry(no_kwargs, EVERYONE),
    "password_reset_confirm": Entry(
        lambda scene: {"uidb64": "MQ", "token": "not-a-valid-token"}, EVERYONE
    ),
    "password_reset_complete": Entry(no_kwargs, EVERYONE),
}
# fmt: on

# The admin site is for centre administrators (staff by their role); every other person is sent
# to the admin's sign-in page. Its index and each model's list stand for the whole site.
ADMIN_NAMESPACE = "admin"
# Models whose admin only a superuser opens: the background task queue is the operator's.
SUPERUSER_ONLY = {"django_tasks_database.dbtaskresult"}


def admin_entries() -> dict[str, Entry]:
    entries = {f"{ADMIN_NAMESPACE}:index": Entry(no_kwargs, STAFF_ONLY)}
    for model in admin_site.site._registry:
        opts = model._meta
        centre_admin_gets = 403 if opts.label_lower in SUPERUSER_ONLY else 200
        entries[f"{ADMIN_NAMESPACE}:{opts.app_label}_{opts.model_name}_changelist"] = Entry(
            no_kwargs, (ADMIN_LOGIN,) * 8 + (centre_admin_gets, ADMIN_LOGIN, ADMIN_LOGIN)
        )
    return entries


def all_entries() -> dict[str, tuple[Entry, ...]]:
    entries = {**MATRIX, **admin_entries()}
    return {name: e if isinstance(e, tuple) else (e,) for name, e in entries.items()}


def named_urls(patterns=None, namespace: str | None = None) -> tuple[set[str], list[str]]:
    """Every named URL in the URL configuration (namespaced as ``ns:name``), and the routes of
    any URL without a name."""
    names, unnamed = set(), []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or namespace
            if pattern.namespace and namespace:
                inner = f"{namespace}:{pattern.namespace}"
            found, nameless = named_urls(pattern.url_patterns, inner)
            names |= found
            unnamed += [f"{pattern.pattern}{route}" for route in nameless]
        elif isinstance(pattern, URLPattern):
            if pattern.name:
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
            else:
                unnamed.append(str(pattern.pattern))
    return names, unnamed


def test_every_url_has_an_entry():
    names, unnamed = named_urls()
    entries = all_entries()
    admin_urls = {name for name in names if name.startswith(f"{ADMIN_NAMESPACE}:")}
    checked_in_admin = {name for name in entries if name.startswith(f"{ADMIN_NAMESPACE}:")}
    problems = [
        f"new URL '{name}' has no entry in the permission matrix"
        for name in sorted(names - admin_urls - entries.keys())
    ]
    problems += [
        f"the permission matrix has an entry for '{name}', which is no longer a URL"
        for name in sorted(entries.keys() - names)
    ]
    problems += [
        f"the URL '{route}' has no name, so the permission matrix cannot check it"
        for route in unnamed
        if not route.startswith(f"{ADMIN_NAMESPACE}/")
    ]
    assert not problems, "\n".join(problems)
    # The admin's index and every model's list are checked; the rest of the admin (object
    # pages, its sign-in) answers to the same staff check in Django's AdminSite.
    changelists = {name for name in admin_urls if name.endswith("_changelist")}
    assert {f"{ADMIN_NAMESPACE}:index", *changelists} == checked_in_admin


# The world ---------------------------------------------------------------------------------


def _person(first: str, last: str, **roles):
    return UserFactory(
        username=f"{first}.{last}".lower(), first_name=first, last_name=last, **roles
    )


def _store(evidence: EvidenceItem, name: str, data: bytes) -> EvidenceFile:
    with atomic_with_files() as written:
        stored = store_file(
            evidence,
            prepare_upload(samples.upload(name, data)),
            by=evidence.portfolio.learner,
            written=written,
        )
    return file_renditions(file_id=stored.pk) if stored.is_image else stored  # as the worker


def _scene(*, learner, assessor, iqa, sampler, tag: str) -> SimpleNamespace:
    """A portfolio in progress with evidence at every stage, a sample with an action point, a
    witness link waiting for its answer and a message for the assessor."""
    portfolio = PortfolioFactory(learner=learner, assessor=assessor, iqa=sampler)
    unit = portfolio.unit
    criteria = {c.nos_code: c for c in unit.criteria.all()}
    today = timezone.localdate()

    def evidence(title, **fields):
        return EvidenceFactory(portfolio=portfolio, title=f"{title} ({tag})", **fields)

    draft = evidence("Draft about the till queue", contexts="a", claims=["P1"])
    referred = evidence("Referred call about a late parcel", status="referred_back", claims=["P1"])
    WitnessFactory(evidence=referred)
    submitted = evidence("Submitted complaint at the returns desk", status="submitted")
    WitnessFactory(
        evidence=submitted,
        status=WitnessTestimony.Status.SENT,
        token_hash=hashlib.sha256(WITNESS_TOKEN.encode()).hexdigest() if tag == "main" else "",
        sent_at=timezone.now(),
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )
    accepted = evidence("Accepted refund dispute", status="accepted", claims=["P1", "P2"])
    mapping = Mapping.objects.create(
        evidence=accepted, criterion=criteria["P1"], note="First paragraph", assessor=assessor
    )
    Mapping.objects.create(
        evidence=accepted, criterion=criteria["P2"], note="Second paragraph", assessor=assessor
    )
    decision = CriterionDecision.objects.create(
        portfolio=portfolio, criterion=criteria["P2"], decided_by=assessor
    )
    decision.cited.set([accepted])
    observation = evidence(
        "Observed at the help desk", status="accepted", method="observation", recorded_by=assessor
    )
    ObservationRecord.objects.create(evidence=observation, place="Help desk", duration_minutes=30)
    sample = quality.sample_record(
        portfolio=portfolio,
        iqa=sampler,
        stage="interim",
        outcome="refer_back",
        comment="Notes are thin",
        items=[(accepted, None, "")],
        actions=[("Say where P1 is shown", today + datetime.timedelta(days=7))],
    )
    if iqa != sampler:
        Portfolio.objects.filter(pk=portfolio.pk).update(iqa=iqa)
        portfolio.refresh_from_db()
    Notification.objects.create(
        recipient=assessor, evidence=submitted, message=f"{learner} submitted '{submitted}'"
    )
    # Assessment plans: version 1 issued and waiting for the learner, its activity fulfilled by
    # the accepted item; version 2 being written.
    plan = AssessmentPlan.objects.create(
        enrolment=portfolio.enrolment,
        version=1,
        status=AssessmentPlan.Status.AWAITING_LEARNER,
        written_by=assessor,
        issued_at=timezone.now(),
    )
    activity = PlanActivity.objects.create(
        plan=plan, title=f"Observation at a busy time ({tag})", method="observation",
        target_date=today + datetime.timedelta(days=14), place="Returns desk",
    )  # fmt: skip
    activity.criteria.set([criteria["P1"]])
    activity.evidence.set([accepted])
    content_sign(
        target=plan, kind=Signature.Kind.PLAN_ASSESSOR, manifest=plan_manifest(plan),
        by=assessor, role="assessor", statement=ISSUE_STATEMENT,
    )  # fmt: skip
    plan_draft = AssessmentPlan.objects.create(
        enrolment=portfolio.enrolment, version=2, written_by=assessor
    )
    draft_activity = PlanActivity.objects.create(
        plan=plan_draft, title=activity.title, method="observation",
        target_date=activity.target_date, place="Returns desk", carried_from=activity,
    )  # fmt: skip
    # Progress reviews and breaks in learning: a review the assessor signed (its link sent to
    # an employer, in the main scene), a draft after it, and a break going on
    enrolment = portfolio.enrolment
    review = review_save(
        enrolment=enrolment, held_on=today, went_well="Calm", targets="Context d", by=assessor
    )
    review_sign(review=review, by=assessor)
    ProgressReview.objects.filter(pk=review.pk).update(
        employer_name="Bryn Talbot",
        employer_email="bryn@example.org",
        token_hash=hashlib.sha256(REVIEW_TOKEN.encode()).hexdigest() if tag == "main" else "",
        sent_at=timezone.now(),
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )
    draft_review = review_save(
        enrolment=enrolment, held_on=today, went_well="Draft", targets="Draft", by=assessor
    )
    pause = BreakInLearning.objects.create(
        enrolment=enrolment, starts_on=today, reason="Illness", recorded_by=assessor
    )
    return SimpleNamespace(
        portfolio=portfolio,
        k1=criteria["K1"],
        p1=criteria["P1"],
        p3=criteria["P3"],
        draft=draft,
        draft_photo=_store(draft, "till.jpg", samples.jpeg()),
        referred=referred,
        referred_file=_store(referred, "parcel.pdf", samples.pdf()),
        submitted=submitted,
        photo=_store(submitted, "desk.jpg", samples.jpeg()),
        accepted=accepted,
        mapping=mapping,
        decision=decision,
        observation=observation,
        sample=sample,
        action=sample.actions.get(),
        plan=plan,
        activity=activity,
        plan_draft=plan_draft,
        draft_activity=draft_activity,
        review=review,
        draft_review=draft_review,
        pause=pause,
    )


def _build_world() -> SimpleNamespace:
    c4_unit()
    people = {
        "owner": _person("Orla", "Penhaligon", is_learner=True),
        "other_learner": _person("Ottilie", "Quarrington", is_learner=True),
        "assessor": _person("Ansel", "Bramwell", is_assessor=True),
        "other_assessor": _person("Amadea", "Crofton", is_assessor=True),
        "iqa": _person("Imogen", "Delacourt", is_iqa=True),
        "iqa_assessor": _person("Ivo", "Easterbrook", is_iqa=True, is_assessor=True),
        "eqa": _person("Esme", "Fairweather", is_eqa=True),
        "expired_eqa": _person("Edmund", "Galloway", is_eqa=True),
        "admin": _person("Cora", "Hartigan", is_centre_admin=True),
        "employer": _person("Elspeth", "Harrowgate", is_employer=True),
        "anonymous": None,
    }
    main = _scene(
        learner=people["owner"],
        assessor=people["assessor"],
        iqa=people["iqa"],
        sampler=people["iqa"],
        tag="main",
    )
    # The portfolio the IQA who is also its assessor requests: sampled by an earlier IQA.
    assessed_by_the_iqa = _scene(
        learner=_person("Lorcan", "Ivesdale", is_learner=True),
        assessor=people["iqa_assessor"],
        iqa=people["iqa_assessor"],
        sampler=_person("Iris", "Kettering", is_iqa=True),
        tag="self-assessed",
    )
    # At the main portfolio's workplace: its page shows each reader only their own portfolios.
    other = PortfolioFactory(
        learner=people["other_learner"],
        assessor=people["other_assessor"],
        iqa=_person("Isla", "Jessop", is_iqa=True),
        workplace=main.portfolio.workplace,
    )
    WorkplaceContact.objects.create(
        workplace=main.portfolio.workplace, name="Elspeth Harrowgate", user=people["employer"]
    )
    other_accepted = EvidenceFactory(
        portfolio=other, title="Accepted noisy neighbour complaint (other)", status="accepted"
    )
    StandardisationMeeting.objects.create(
        held_on=timezone.localdate(),
        title="Context d evidence",
        discussed="What counts as systems letting the learner down.",
        recorded_by=other.iqa,
    ).evidence.set([main.accepted, other_accepted])
    main.grant = EqaGrantFactory(eqa=people["eqa"], portfolios=[main.portfolio])
    main.superuser = _person("Sam", "Root", is_superuser=True)
    assessed_by_the_iqa.grant = main.grant
    assessed_by_the_iqa.superuser = main.superuser
    EqaGrantFactory(
        eqa=people["expired_eqa"],
        portfolios=[main.portfolio],
        expires_at=timezone.now() - datetime.timedelta(minutes=1),
    )
    main.export = Export.objects.create(
        requested_by=people["eqa"],
        portfolio_ids=[main.portfolio.pk],
        status=Export.Status.DONE,
        done=1,
        finished_at=timezone.now(),
    )
    main.export.file.name = storages["evidence"].save(
        "exports/matrix.zip", ContentFile(b"PK\x05\x06" + b"\0" * 18)
    )
    main.export.save(update_fields=["file"])
    main.pdf_export = Export.objects.create(
        kind=Export.Kind.PDF,
        requested_by=main.portfolio.assessor,
        portfolio=main.portfolio,
        status=Export.Status.DONE,
        done=1,
        finished_at=timezone.now(),
        file=main.export.file.name,
    )
    main.data_export = Export.objects.create(
        kind=Export.Kind.DATA,
        requested_by=main.portfolio.learner,
        status=Export.Status.DONE,
        done=1,
        finished_at=timezone.now(),
        file=main.export.file.name,
    )
    main.claims_export = Export.objects.create(
        kind=Export.Kind.CLAIMS,
        requested_by=people["admin"],
        status=Export.Status.DONE,
        done=1,
        finished_at=timezone.now(),
        file=main.export.file.name,
    )
    main.claim = Claim.objects.create(
        enrolment=main.portfolio.enrolment, kind=Claim.Kind.UNITS, claimed_by=people["admin"]
    )
    main.enrolment_export, main.expired_enrolment_export = (
        Export.objects.create(
            kind=Export.Kind.QUALIFICATION,
            requested_by=eqa,
            enrolment=main.portfolio.enrolment,
            portfolio_ids=[main.portfolio.pk],
            status=Export.Status.DONE,
            done=1,
            finished_at=timezone.now(),
            file=main.export.file.name,
        )
        for eqa in (people["eqa"], people["expired_eqa"])
    )
    for name in (
        "export",
        "pdf_export",
        "data_export",
        "enrolment_export",
        "expired_enrolment_export",
        "claims_export",
        "claim",
    ):
        setattr(assessed_by_the_iqa, name, getattr(main, name))
    main.qualification = assessed_by_the_iqa.qualification = import_qualification_file(
        Path(__file__).resolve().parent / "specs" / "certificate.yaml"
    ).qualification
    return SimpleNamespace(
        people=people,
        scenes={"main": main, "self-assessed": assessed_by_the_iqa},
        portfolios=[main.portfolio, assessed_by_the_iqa.portfolio, other],
        hidden={},
    )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction that is rolled back at its end; each
    test runs in a savepoint inside it."""
    storage = storages["evidence"]
    with django_db_blocker.unblock(), transaction.atomic():
        built = _build_world()
        files = [name for f in EvidenceFile.objects.all() for name in f.stored_names()]
        yield built
        transaction.set_rollback(True)
    for name in [*files, built.scenes["main"].export.file.name]:
        storage.delete(name)


@pytest.fixture(autouse=True)
def empty_file_store():
    """The world's files live for the whole module (the suite's fixture empties the store)."""


@pytest.fixture(autouse=True)
def quick_pdf(monkeypatch):
    """The PDF is the same whoever may have it (tests/test_pdf.py reads it): here only who gets
    it matters."""
    monkeypatch.setattr("records.exports.render_portfolio_pdf", lambda portfolio: b"%PDF-1.7\n")


def scene_for(world, person: str) -> SimpleNamespace:
    return world.scenes["self-assessed" if person == "iqa_assessor" else "main"]


@pytest.fixture(scope="module")
def client():
    """One client for the module (each new one sets up the site's middleware again); each test
    starts it without cookies and signs its person in."""
    return Client()


def sign_in(client, world, person: str) -> None:
    client.cookies.clear()
    if world.people[person] is not None:
        client.force_login(world.people[person])


# The requests ------------------------------------------------------------------------------


def _cases(method: str):
    for name, entries in all_entries().items():
        for n, entry in enumerate(entries):
            expected = entry.get if method == "get" else entry.post
            if method == "post" and expected is None:
                # A page that also takes a form: refused on GET means refused on POST.
                expected = tuple(s if s in REFUSED else ACTS for s in entry.get)
            for person, status in zip(PEOPLE, expected, strict=True):
                if method == "post" and status not in REFUSED:
                    continue
                label = f"{name}[{n + 1}]" if len(entries) > 1 else name
                yield pytest.param(name, n, person, status, id=f"{label}-{person}")


def _url(world, name: str, n: int, person: str) -> tuple[str, Entry, SimpleNamespace]:
    entry = all_entries()[name][n]
    scene = scene_for(world, person)
    return reverse(name, kwargs=entry.kwargs(scene)), entry, scene


def assert_status(response, expected, url: str):
    if expected == LOGIN:
        assert response.status_code == 302, f"{url} answered {response.status_code}"
        assert response.url.startswith("/accounts/login/?next="), response.url
    elif expected == ADMIN_LOGIN:
        assert response.status_code == 302, f"{url} answered {response.status_code}"
        assert response.url.startswith("/admin/login/?next="), response.url
    else:
        assert response.status_code == expected, f"{url} answered {response.status_code}"


def hidden_from(world, person: str) -> tuple[dict, list[str]]:
    """What ``person`` may see of the world, and words only what they may not see would show
    (the learners' names and evidence titles of portfolios hidden from them)."""
    if person in world.hidden:
        return world.hidden[person]
    user = world.people[person] or AnonymousUser()
    visible = {
        "portfolios": set(Portfolio.objects.visible_to(user).values_list("pk", flat=True)),
        "evidence": set(EvidenceItem.objects.visible_to(user).values_list("pk", flat=True)),
        "files": set(EvidenceFile.objects.visible_to(user).values_list("pk", flat=True)),
    }
    visible["samples"] = set(
        IqaSample.objects.filter(portfolio__in=visible["portfolios"]).values_list("pk", flat=True)
    )
    # An employer's pages name the learners they follow, and show evidence only where the
    # workplace allows it; they never link to a portfolio's pages.
    followed = set(Portfolio.objects.followed_by(user).values_list("pk", flat=True))
    shown = set(
        Portfolio.objects.followed_by(user)
        .filter(workplace__employer_sees_evidence=True)
        .values_list("pk", flat=True)
    )
    words = []
    for portfolio in world.portfolios:
        if portfolio.pk not in visible["portfolios"] | followed:
            words.append(portfolio.learner.get_full_name())
        if portfolio.pk not in visible["portfolios"] | shown:
            words += EvidenceItem.objects.filter(portfolio=portfolio).values_list(
                "title", flat=True
            )
    world.hidden[person] = visible, words
    return visible, words


LINK = re.compile(r'(?:href|src|action)="/(portfolios|evidence|files|samples)/(\d+)/')


def assert_nothing_hidden_is_shown(world, person: str, response):
    if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
        return
    visible, words = hidden_from(world, person)
    page = response.content.decode()
    for kind, pk in LINK.findall(page):
        assert int(pk) in visible[kind], f"the page links to {kind} {pk}, hidden from its reader"
    for word in words:
        assert word not in page, f"the page shows '{word}', hidden from its reader"


@pytest.mark.parametrize(("name", "n", "person", "expected"), list(_cases("get")))
def test_get(client, world, name, n, person, expected):
    url, entry, _ = _url(world, name, n, person)
    sign_in(client, world, person)

    response = client.get(url)

    assert_status(response, expected, url)
    if not entry.for_the_link_holder:
        assert_nothing_hidden_is_shown(world, person, response)


def state() -> list:
    """What a refused POST must leave as it was."""
    return [
        AuditEntry.objects.count(),
        list(
            Portfolio.objects.values_list(
                "pk", "status", "assessor", "iqa", "workplace", "job_role", "updated_at"
            )
        ),
        list(Workplace.objects.values_list("pk", "organisation", "sector", "updated_at")),
        list(EvidenceItem.objects.values_list("pk", "status", "account", "updated_at")),
        list(EvidenceFile.objects.values_list("pk", "sha256")),
        list(Mapping.objects.values_list("pk", "note")),
        list(CriterionDecision.objects.values_list("pk", "withdrawn_at")),
        list(Review.objects.values_list("pk")),
        list(Signature.objects.values_list("pk", "revoked_at")),
        list(IqaSample.objects.values_list("pk")),
        list(ActionPoint.objects.values_list("pk", "closed_at")),
        list(SamplingPlan.objects.values_list("pk", "rating")),
        list(WitnessTestimony.objects.values_list("pk", "status", "token_hash")),
        list(ObservationRecord.objects.values_list("pk", "learner_confirmed_at")),
        list(EqaReview.objects.values_list("pk")),
        list(EqaGrant.objects.values_list("pk", "expires_at")),
        list(StandardisationMeeting.objects.values_list("pk")),
        list(
            User.objects.values_list(
                "pk", "first_name", "email", "is_active", "is_superuser", *ROLE_FLAGS.values()
            )
        ),
        list(Invitation.objects.values_list("pk", "sent_at")),
        list(Enrolment.objects.values_list("pk")),
        list(Export.objects.values_list("pk")),
        list(InitialAssessment.objects.values_list("pk", "updated_at")),
        list(AssessmentPlan.objects.values_list("pk", "status")),
        list(PlanActivity.objects.values_list("pk", "title", "target_date")),
        list(PlanActivity.evidence.through.objects.values_list("pk")),
        list(ProgressReview.objects.values_list("pk", "learner_comments", "token_hash")),
        list(BreakInLearning.objects.values_list("pk", "ends_on")),
        list(WorkplaceContact.objects.values_list("pk", "user")),
    ]


@pytest.mark.parametrize(("name", "n", "person", "expected"), list(_cases("post")))
def test_refused_post_changes_nothing(client, world, name, n, person, expected):
    url, entry, scene = _url(world, name, n, person)
    sign_in(client, world, person)
    before = state()

    response = client.post(url, entry.data(scene))

    assert_status(response, expected, url)
    assert state() == before
