"""The centre administrator's pages for people: learners registered and invited, staff and their
roles, caseloads moved, EQA access granted, and people imported from a CSV file."""

from django.urls import path

from people import views

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
    path("eqa-access/", views.eqa_access, name="eqa_access"),
    path("eqa-access/new/", views.eqa_access_new, name="eqa_access_new"),
    path("eqa-access/<int:pk>/edit/", views.eqa_access_edit, name="eqa_access_edit"),
    path("eqa-access/<int:pk>/end/", views.eqa_access_end, name="eqa_access_end"),
]
