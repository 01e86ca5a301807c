from django.contrib import admin
from django.urls import include, path

from portfolio import views

admin.site.site_header = "Evidence portfolio administration"
admin.site.site_title = "Evidence portfolio"

urlpatterns = [
    path("", views.home, name="home"),
    path("learner/", views.learner_home, name="learner_home"),
    path("assessor/", views.assessor_home, name="assessor_home"),
    path("iqa/", views.iqa_home, name="iqa_home"),
    path("eqa/", views.eqa_home, name="eqa_home"),
    path("centre/", views.centre_home, name="centre_home"),
    path("portfolios/<int:pk>/", views.portfolio_detail, name="portfolio_detail"),
    path("portfolios/<int:pk>/workplace/", views.portfolio_workplace, name="portfolio_workplace"),
    path("units/", include("units.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
