"""Support's public URLs (no sign-in): the request form, the satisfaction survey and the
chat/social webhook. Mounted at /support/ next to the agent workspace's `support.urls`, under
their own namespace."""

from django.urls import path

from support import public_views, webhooks

app_name = "support_public"

urlpatterns = [
    path("request/", public_views.request_form, name="request"),
    path("request/suggestions/", public_views.request_suggestions, name="request-suggestions"),
    path("request/suggestion/", public_views.request_suggestion_open, name="request-suggestion"),
    path("request/done/<str:token>/", public_views.request_done, name="request-done"),
    path("survey/<str:token>/", public_views.survey, name="survey"),
    path("webhooks/chat/", webhooks.chat_webhook, name="chat-webhook"),
]
