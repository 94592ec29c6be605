"""Public web-to-lead forms, mounted at /forms/ (no sign-in): see `leads.public`."""

from django.urls import path

from leads import public

app_name = "webforms"

urlpatterns = [
    path("<slug:slug>/", public.form_page, name="form"),
]
