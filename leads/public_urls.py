"""Public web-to-lead forms, mounted at /forms/ (no sign-in): see `leads.public`."""

from django.urls import path

from leads import nurture_views, public

app_name = "webforms"

urlpatterns = [
    path("unsubscribe/<str:token>/", nurture_views.unsubscribe, name="nurture-unsubscribe"),
    path("<slug:slug>/", public.form_page, name="form"),
]
