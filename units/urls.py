from django.urls import path

from units import views

urlpatterns = [
    path("", views.unit_list, name="unit_list"),
    path("<int:pk>/", views.unit_detail, name="unit_detail"),
    path("qualifications/", views.qualification_list, name="qualification_list"),
    path("qualifications/<int:pk>/", views.qualification_detail, name="qualification_detail"),
]
