from django.urls import path

from assessments import claim_views, decision_views, portfolio_views, quality_views, views

urlpatterns = [
    path("learner/", portfolio_views.learner_home, name="learner_home"),
    path("assessor/", views.caseload, name="assessor_home"),
    path("iqa/", quality_views.iqa_home, name="iqa_home"),
    path("iqa/plans/<int:assessor_pk>/", quality_views.plan_update, name="plan_update"),
    path("standardisation/", quality_views.standardisation, name="standardisation"),
    path("standardisation/new/", quality_views.meeting_new, name="meeting_new"),
    path("samples/<int:pk>/", quality_views.sample_detail, name="sample_detail"),
    path("actions/<int:pk>/close/", quality_views.action_close, name="action_close"),
    path("centre/eqa-visits/", quality_views.eqa_visits, name="eqa_visits"),
    path("enrolments/<int:pk>/claim/", claim_views.enrolment_claim, name="enrolment_claim"),
    path("claims/<int:pk>/reference/", claim_views.claim_reference, name="claim_reference"),
    path("portfolios/<int:pk>/", portfolio_views.portfolio_detail, name="portfolio_detail"),
    path("portfolios/<int:pk>/matrix/", views.matrix, name="matrix"),
    path(
        "portfolios/<int:pk>/criteria/<int:criterion_pk>/",
        views.criterion_detail,
        name="criterion_detail",
    ),
    path("portfolios/<int:pk>/observations/new/", views.observation_new, name="observation_new"),
    path("portfolios/<int:pk>/discussions/new/", views.discussion_new, name="discussion_new"),
    path("portfolios/<int:pk>/decisions/", decision_views.decisions, name="decisions"),
    path("portfolios/<int:pk>/sign-off/", views.sign_off, name="sign_off"),
    path("portfolios/<int:pk>/declaration/", views.declaration, name="declaration"),
    path("portfolios/<int:pk>/samples/new/", quality_views.sample_new, name="sample_new"),
    path("portfolios/<int:pk>/audit/", quality_views.audit_trail, name="audit_trail"),
    path("portfolios/<int:pk>/eqa-review/", quality_views.eqa_review, name="eqa_review"),
    path("portfolios/<int:pk>/claim/", quality_views.claim, name="claim"),
    path("portfolios/<int:pk>/unlock/", quality_views.unlock, name="unlock"),
    path("decisions/<int:pk>/withdraw/", views.decision_withdraw, name="decision_withdraw"),
    path("evidence/<int:pk>/", portfolio_views.evidence_detail, name="evidence_detail"),
    path("evidence/<int:pk>/review/", views.evidence_review, name="evidence_review"),
    path(
        "evidence/<int:pk>/confirm-observation/",
        views.observation_confirm,
        name="observation_confirm",
    ),
]
