"""The centre administrator's pages for people: learners registered and invited, staff and their
roles, caseloads moved, EQA access granted, and people imported from a CSV file."""

from django.urls import path, re_path

from people import caseload_views, import_views, views

urlpatterns = [
    path("", views.people, name="people"),
    path("learners/new/", views.learner_new, name="learner_new"),
    path("staff/new/", views.staff_new, name="staff_new"),
    path("<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("<int:pk>/invite/", views.person_invite, name="person_invite"),
    path(
        "invitation/<uidb64>/<token>/",
        views.InvitationView.as_view(),
        name="invitation",
    ),
    path("import/", import_views.people_import, name="people_import"),
    path("import/confirm/", import_views.people_import_confirm, name="people_import_confirm"),
    re_path(
        r"^import/(?P<kind>learners|staff)\.csv$",
        import_views.people_import_example,
        name="people_import_example",
    ),
    path("eqa-access/", views.eqa_access, name="eqa_access"),
    path("eqa-access/new/", views.eqa_access_new, name="eqa_access_new"),
    path("eqa-access/<int:pk>/edit/", views.eqa_access_edit, name="eqa_access_edit"),
    path("eqa-access/<int:pk>/end/", views.eqa_access_end, name="eqa_access_end"),
    path("caseload/", caseload_views.caseload_move, name="caseload_move"),
    path("workplaces/<int:pk>/evidence/", views.workplace_evidence, name="workplace_evidence"),
    path("contacts/<int:pk>/invite/", views.contact_invite, name="contact_invite"),
]
