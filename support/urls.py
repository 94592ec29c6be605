from django.urls import path

from support import home, views

app_name = "support"

urlpatterns = [
    path("", views.ticket_list, name="ticket-list"),
    path("bulk/", views.ticket_bulk, name="ticket-bulk"),
    path("export/", views.ticket_export, name="ticket-export"),
    path("nav-count/", views.nav_count, name="nav-count"),
    path("counts/", views.ticket_counts, name="ticket-counts"),
    path("home/", home.home_tickets, name="home-tickets"),
    path("new/", views.ticket_create, name="ticket-create"),
    path("<int:pk>/", views.ticket_detail, name="ticket-detail"),
    path("<int:pk>/messages/", views.ticket_message, name="ticket-message"),
    path("<int:pk>/canned/", views.ticket_canned, name="ticket-canned"),
    path("<int:pk>/update/", views.ticket_update, name="ticket-update"),
    path("<int:pk>/presence/", views.ticket_presence, name="ticket-presence"),
    path("<int:pk>/merge/", views.ticket_merge, name="ticket-merge"),
    path("<int:pk>/related/", views.ticket_link, name="ticket-link"),
    path("<int:pk>/split/", views.ticket_split, name="ticket-split"),
    path("<int:pk>/deal/", views.ticket_opportunity, name="ticket-opportunity"),
    path("<int:pk>/history/", views.ticket_history, name="ticket-history"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment-download"),
]
