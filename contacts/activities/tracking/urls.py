"""Tracking's public URLs, mounted at /t/ (no sign-in): see `contacts.activities.tracking.views`."""

from django.urls import path

from contacts.activities.tracking import views

app_name = "tracking"

urlpatterns = [
    path("o/<str:token>.gif", views.email_open, name="open"),
    path("c/<str:token>/", views.email_click, name="click"),
    path("pv/<str:site>/", views.page_view, name="page-view"),
]
