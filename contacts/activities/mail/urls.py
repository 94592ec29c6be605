"""Email's URLs, included into the activities namespace (activities:mail-...)."""

from django.urls import path

from contacts.activities.mail import views

urlpatterns = [
    path("mail/mailbox/", views.mailbox_page, name="mailbox"),
    path("mail/mailbox/sync/", views.mailbox_sync_now, name="mailbox-sync"),
    path("mail/mailbox/tracking/", views.mailbox_tracking, name="mailbox-tracking"),
    path("mail/mailbox/disconnect/", views.mailbox_disconnect, name="mailbox-disconnect"),
    path(
        "mail/mailbox/oauth/<slug:provider>/",
        views.mailbox_oauth_start,
        name="mailbox-oauth-start",
    ),
    path(
        "mail/mailbox/oauth-callback/",
        views.mailbox_oauth_callback,
        name="mailbox-oauth-callback",
    ),
    path("contacts/<int:pk>/email/", views.mail_compose, name="mail-compose"),
    # A registered record's address (contacts/activities/targets.py: a lead).
    path(
        "records/<str:label>/<int:pk>/email/",
        views.mail_compose,
        name="record-mail-compose",
    ),
    path("mail/<int:pk>/", views.mail_detail, name="mail-detail"),
    path("mail/<int:pk>/html/", views.mail_html, name="mail-html"),
    path("mail/attachments/<int:pk>/", views.mail_attachment, name="mail-attachment"),
    path("mail/unmatched/", views.unmatched_list, name="mail-unmatched"),
    path("mail/unmatched/<int:pk>/", views.unmatched_detail, name="mail-unmatched-detail"),
    path("mail/unmatched/<int:pk>/attach/", views.unmatched_attach, name="mail-unmatched-attach"),
    path(
        "mail/unmatched/<int:pk>/create-contact/",
        views.unmatched_create_contact,
        name="mail-unmatched-create",
    ),
]
