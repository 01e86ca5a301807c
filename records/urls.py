from django.urls import path

from records import views

urlpatterns = [
    path("me/data/", views.my_data, name="my_data"),
    path("portfolios/<int:pk>/export.pdf", views.portfolio_pdf, name="portfolio_pdf"),
    path("enrolments/<int:pk>/export.pdf", views.enrolment_pdf, name="enrolment_pdf"),
    path("exports/", views.bulk_export_new, name="bulk_export_new"),
    path("centre/claims/", views.claims, name="claims"),
    path("exports/<int:pk>/", views.export_detail, name="export_detail"),
    path("exports/<int:pk>/download/", views.export_download, name="export_download"),
]
