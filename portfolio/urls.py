from django.urls import path
from django.views.generic import RedirectView

from portfolio import enrolment_views, evidence_views, views

# EQA grants were the admin's "assessments" until 0.1.0: old links to them still arrive.
_grants_moved = RedirectView.as_view(
    url="/admin/portfolio/eqagrant/%(rest)s", permanent=True, query_string=True
)

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("notifications/", evidence_views.notifications, name="notifications"),
    path(
        "notifications/settings/",
        evidence_views.notification_settings,
        name="notification_settings",
    ),
    path("eqa/", views.eqa_home, name="eqa_home"),
    path("centre/", views.centre_home, name="centre_home"),
    path("enrolments/new/", enrolment_views.enrolment_new, name="enrolment_new"),
    path("enrolments/<int:pk>/units/", enrolment_views.enrolment_units, name="enrolment_units"),
    path("portfolios/<int:pk>/workplace/", views.portfolio_workplace, name="portfolio_workplace"),
    path("workplaces/<int:pk>/", views.workplace_detail, name="workplace_detail"),
    path("portfolios/<int:pk>/evidence/new/", evidence_views.evidence_new, name="evidence_new"),
    path(
        "portfolios/<int:pk>/submit/",
        evidence_views.evidence_submit_many,
        name="evidence_submit_many",
    ),
    path("portfolios/<int:pk>/knowledge/", evidence_views.knowledge_list, name="knowledge_list"),
    path(
        "portfolios/<int:pk>/knowledge/<int:criterion_pk>/",
        evidence_views.knowledge_answer,
        name="knowledge_answer",
    ),
    path("evidence/<int:pk>/edit/", evidence_views.evidence_edit, name="evidence_edit"),
    path("evidence/<int:pk>/delete/", evidence_views.evidence_delete, name="evidence_delete"),
    path("evidence/<int:pk>/submit/", evidence_views.evidence_submit, name="evidence_submit"),
    path("evidence/<int:pk>/witness/", evidence_views.witness_edit, name="witness_edit"),
    path("evidence/<int:pk>/witness/send/", evidence_views.witness_send, name="witness_send"),
    path("files/<int:pk>/", evidence_views.evidence_file, name="evidence_file"),
    path(
        "files/<int:pk>/screen/",
        evidence_views.evidence_file,
        {"variant": "screen"},
        name="evidence_file_screen",
    ),
    path(
        "files/<int:pk>/print/",
        evidence_views.evidence_file,
        {"variant": "print"},
        name="evidence_file_print",
    ),
    path("files/<int:pk>/remove/", evidence_views.file_remove, name="file_remove"),
    path("witness/respond/<int:pk>/", evidence_views.witness_respond, name="witness_respond"),
    path("witness/<str:token>/", evidence_views.witness_link, name="witness_link"),
    path("admin/assessments/eqagrant/", _grants_moved, {"rest": ""}),
    path("admin/assessments/eqagrant/<path:rest>", _grants_moved),
]
