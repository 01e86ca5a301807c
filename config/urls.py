"""The site's addresses: each app's own, and Django's sign-in pages and admin site."""

from django.contrib import admin
from django.urls import include, path

from portfolio.views import PasswordResetView

urlpatterns = [
    path("", include("portfolio.urls")),
    path("", include("assessments.urls")),
    path("", include("records.urls")),
    path("people/", include("people.urls")),
    path("units/", include("units.urls")),
    # Django's sign-in pages, the password reset throttled (portfolio.views).
    path("accounts/password_reset/", PasswordResetView.as_view(), name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
