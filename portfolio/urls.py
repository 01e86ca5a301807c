from django.contrib import admin
from django.urls import include, path

from assessments import quality_views
from assessments import views as assessment_views
from portfolio import evidence_views, views

admin.site.site_header = "Evidence portfolio administration"
admin.site.site_title = "Evidence portfolio"

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("learner/", views.learner_home, name="learner_home"),
    path("assessor/", assessment_views.caseload, name="assessor_home"),
    path("notifications/", evidence_views.notifications, name="notifications"),
    path("iqa/", quality_views.iqa_home, name="iqa_home"),
    path("iqa/plans/<int:assessor_pk>/", quality_views.plan_update, name="plan_update"),
    path("standardisation/", quality_views.standardisation, name="standardisation"),
    path("standardisation/new/", quality_views.meeting_new, name="meeting_new"),
    path("samples/<int:pk>/", quality_views.sample_detail, name="sample_detail"),
    path("actions/<int:pk>/close/", quality_views.action_close, name="action_close"),
    path("centre/eqa-visits/", quality_views.eqa_visits, name="eqa_visits"),
    path("me/data/", views.my_data, name="my_data"),
    path("exports/", views.bulk_export_new, name="bulk_export_new"),
    path("exports/<int:pk>/", views.bulk_export_detail, name="bulk_export_detail"),
    path("exports/<int:pk>/download/", views.bulk_export_download, name="bulk_export_download"),
    path("eqa/", views.eqa_home, name="eqa_home"),
    path("centre/", views.centre_home, name="centre_home"),
    path("portfolios/<int:pk>/", views.portfolio_detail, name="portfolio_detail"),
    path("portfolios/<int:pk>/workplace/", views.portfolio_workplace, name="portfolio_workplace"),
    path("portfolios/<int:pk>/export.pdf", views.portfolio_pdf, name="portfolio_pdf"),
    path("portfolios/<int:pk>/evidence/new/", evidence_views.evidence_new, name="evidence_new"),
    path("portfolios/<int:pk>/knowledge/", evidence_views.knowledge_list, name="knowledge_list"),
    path(
        "portfolios/<int:pk>/knowledge/<int:criterion_pk>/",
        evidence_views.knowledge_answer,
        name="knowledge_answer",
    ),
    path("portfolios/<int:pk>/matrix/", assessment_views.matrix, name="matrix"),
    path(
        "portfolios/<int:pk>/criteria/<int:criterion_pk>/",
        assessment_views.criterion_detail,
        name="criterion_detail",
    ),
    path(
        "portfolios/<int:pk>/observations/new/",
        assessment_views.observation_new,
        name="observation_new",
    ),
    path(
        "portfolios/<int:pk>/discussions/new/",
        assessment_views.discussion_new,
        name="discussion_new",
    ),
    path("portfolios/<int:pk>/sign-off/", assessment_views.sign_off, name="sign_off"),
    path("portfolios/<int:pk>/samples/new/", quality_views.sample_new, name="sample_new"),
    path("portfolios/<int:pk>/audit/", quality_views.audit_trail, name="audit_trail"),
    path("portfolios/<int:pk>/eqa-review/", quality_views.eqa_review, name="eqa_review"),
    path("portfolios/<int:pk>/claim/", quality_views.claim, name="claim"),
    path("portfolios/<int:pk>/unlock/", quality_views.unlock, name="unlock"),
    path("portfolios/<int:pk>/declaration/", assessment_views.declaration, name="declaration"),
    path(
        "decisions/<int:pk>/withdraw/", assessment_views.decision_withdraw, name="decision_withdraw"
    ),
    path("evidence/<int:pk>/", evidence_views.evidence_detail, name="evidence_detail"),
    path("evidence/<int:pk>/review/", assessment_views.evidence_review, name="evidence_review"),
    path("evidence/<int:pk>/mappings/", assessment_views.mapping_add, name="mapping_add"),
    path(
        "evidence/<int:pk>/confirm-observation/",
        assessment_views.observation_confirm,
        name="observation_confirm",
    ),
    path("mappings/<int:pk>/remove/", assessment_views.mapping_remove, name="mapping_remove"),
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
    path("witness/<str:token>/", evidence_views.witness_respond, name="witness_respond"),
    path("units/", include("units.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
