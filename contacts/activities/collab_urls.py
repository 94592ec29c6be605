"""Collaboration's URLs, included in `contacts/activities/urls.py` (namespace `activities`)."""

from django.urls import path

from contacts.activities import collab_views

urlpatterns = [
    path("home/", collab_views.home_page, name="home"),
    path("my-work/count/", collab_views.my_work_count, name="my-work-count"),
    path("feed/", collab_views.feed_page, name="feed"),
    path("calendar/", collab_views.calendar_page, name="calendar"),
    path("calendar/<int:pk>/<str:token>.ics", collab_views.calendar_feed, name="calendar-feed"),
    path("tasks/<int:pk>/reschedule/", collab_views.task_reschedule, name="task-reschedule"),
    path("follow/<str:label>/<int:pk>/", collab_views.follow_toggle, name="follow"),
    path("notifications/", collab_views.notification_list, name="notifications"),
    path(
        "notifications/settings/",
        collab_views.notification_settings,
        name="notification-settings",
    ),
    path("notifications/count/", collab_views.notification_count, name="notification-count"),
    path("notifications/menu/", collab_views.notification_menu, name="notification-menu"),
    path(
        "notifications/read-all/",
        collab_views.notification_read_all,
        name="notification-read-all",
    ),
    path(
        "notifications/<int:pk>/read/",
        collab_views.notification_read,
        name="notification-read",
    ),
    path("comments/<str:label>/<int:pk>/", collab_views.comment_list, name="comments"),
    path(
        "comments/<str:label>/<int:pk>/new/",
        collab_views.comment_create,
        name="comment-create",
    ),
    path(
        "comments/<str:label>/<int:pk>/mentions/",
        collab_views.comment_mentions,
        name="comment-mentions",
    ),
]
