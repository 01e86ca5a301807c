"""The centre administrator's pages for people: learners registered and invited, staff and their
roles, caseloads moved, EQA access granted, and people imported from a CSV file."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
