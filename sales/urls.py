from django.urls import path

from sales import home, line_views, quota_views, views

app_name = "sales"

urlpatterns = [
    path("", views.opportunity_board, name="board"),
    path("board/stages/<int:pk>/", views.opportunity_board_column, name="board-column"),
    path("opportunities/", views.opportunity_list, name="opportunity-list"),
    path("opportunities/export/", views.opportunity_export, name="opportunity-export"),
    path("forecast/", views.forecast, name="forecast"),
    path("forecast/reps/<int:pk>/", views.rep_forecast, name="rep-forecast"),
    path("forecast/recompute/", views.forecast_recompute, name="forecast-recompute"),
    path("analytics/", views.pipeline_analytics, name="analytics"),
    path("quotas/", quota_views.quota_grid, name="quotas"),
    path("home/quarter/", home.home_quarter, name="home-quarter"),
    path("opportunities/new/", views.opportunity_create, name="opportunity-create"),
    path("opportunities/<int:pk>/", views.opportunity_detail, name="opportunity-detail"),
    path("opportunities/<int:pk>/edit/", views.opportunity_edit, name="opportunity-edit"),
    path("opportunities/<int:pk>/move/", views.opportunity_move, name="opportunity-move"),
    path(
        "opportunities/<int:pk>/contacts/", views.opportunity_contacts, name="opportunity-contacts"
    ),
    path("opportunities/<int:pk>/lines/", line_views.opportunity_lines, name="opportunity-lines"),
    path(
        "opportunities/<int:pk>/lines/<int:line_pk>/",
        line_views.opportunity_line,
        name="opportunity-line",
    ),
    path(
        "opportunities/<int:pk>/contacts/remove/",
        views.opportunity_contact_remove,
        name="opportunity-contact-remove",
    ),
    path(
        "opportunities/<int:pk>/contacts/lookup/",
        views.opportunity_contact_lookup,
        name="opportunity-contact-lookup",
    ),
]
