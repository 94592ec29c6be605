from django.urls import path

from contacts.activities import collab_urls, views
from contacts.activities.mail import urls as mail_urls
from contacts.activities.meetings import start as meeting_start
from contacts.activities.meetings import views as meetings

app_name = "activities"
urlpatterns = [
    path("contacts/<int:pk>/log/", views.interaction_log, {"kind": "contacts"}, name="contact-log"),
    path(
        "companies/<int:pk>/log/", views.interaction_log, {"kind": "companies"}, name="company-log"
    ),
    path(
        "contacts/<int:pk>/interactions/",
        views.record_interactions,
        {"kind": "contacts"},
        name="contact-interactions",
    ),
    path(
        "companies/<int:pk>/interactions/",
        views.record_interactions,
        {"kind": "companies"},
        name="company-interactions",
    ),
    # Records of later modules registered in `targets` (a lead): "records/leads.lead/7/log/".
    path(
        "records/<str:label>/<int:pk>/log/",
        views.interaction_log,
        {"kind": "records"},
        name="record-log",
    ),
    path(
        "records/<str:label>/<int:pk>/tasks/new/",
        views.task_create,
        {"kind": "records"},
        name="record-task-create",
    ),
    path("interactions/<int:pk>/edit/", views.interaction_edit, name="interaction-edit"),
    path("interactions/<int:pk>/archive/", views.interaction_archive, name="interaction-archive"),
    path("tasks/new/", views.task_create, name="task-create"),
    path(
        "contacts/<int:pk>/tasks/new/",
        views.task_create,
        {"kind": "contacts"},
        name="contact-task-create",
    ),
    path(
        "companies/<int:pk>/tasks/new/",
        views.task_create,
        {"kind": "companies"},
        name="company-task-create",
    ),
    path("tasks/<int:pk>/edit/", views.task_edit, name="task-edit"),
    path("tasks/<int:pk>/complete/", views.task_complete, name="task-complete"),
    path("tasks/<int:pk>/reopen/", views.task_reopen, name="task-reopen"),
    path("my-work/", views.my_work, name="my-work"),
    path(
        "contacts/<int:pk>/meetings/new/",
        meetings.meeting_new,
        {"kind": "contacts"},
        name="contact-meeting-new",
    ),
    path(
        "companies/<int:pk>/meetings/new/",
        meetings.meeting_new,
        {"kind": "companies"},
        name="company-meeting-new",
    ),
    path("meetings/new/", meeting_start.meeting_start, name="meeting-start"),
    path("meetings/<int:pk>/", meetings.meeting_page, name="meeting"),
    path("meetings/<int:pk>/cancel/", meetings.meeting_cancel_view, name="meeting-cancel"),
    *mail_urls.urlpatterns,
    *collab_urls.urlpatterns,
]
