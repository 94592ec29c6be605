from django.urls import path

from contacts.imports import views as import_views
from crm.exports import export_view
from leads import availability, file_views, form_views, home, nurture_views, quickadd, views
from leads.lists import LEADS

app_name = "leads"

urlpatterns = [
    path("", views.lead_list, name="lead-list"),
    path("new/", views.lead_create, name="lead-create"),
    path("bulk/", views.lead_bulk, name="lead-bulk"),
    path("quick-add/", quickadd.lead_quick_add, name="lead-quick-add"),
    path("home/", home.home_leads, name="home-leads"),
    path("availability/", availability.availability_toggle, name="availability"),
    path("board/", views.lead_board, name="lead-board"),
    path("export/", export_view(LEADS), name="lead-export"),
    path("duplicates/", views.lead_duplicates, name="lead-duplicates"),
    path("<int:pk>/", views.lead_detail, name="lead-detail"),
    path("<int:pk>/edit/", views.lead_edit, name="lead-edit"),
    path("<int:pk>/status/", views.lead_status, name="lead-status"),
    path("<int:pk>/convert/", views.lead_convert, name="lead-convert"),
    path("<int:pk>/merge/", views.lead_merge, name="lead-merge"),
    path("<int:pk>/files/", file_views.lead_files, name="lead-files"),
    path("files/<int:pk>/", file_views.lead_file, name="lead-file"),
    path("files/<int:pk>/delete/", file_views.lead_file_delete, name="lead-file-delete"),
    path("<int:pk>/nurture/", nurture_views.lead_nurture_enrol, name="lead-nurture-enrol"),
    path("nurture/<int:pk>/stop/", nurture_views.lead_nurture_stop, name="lead-nurture-stop"),
    path("import/", import_views.import_start, {"entity": "lead"}, name="import-start"),
    path("import/<int:pk>/", import_views.import_detail, {"entity": "lead"}, name="import-detail"),
    path("forms/", form_views.form_list, name="form-list"),
    path("forms/new/", form_views.form_create, name="form-create"),
    path("forms/<int:pk>/", form_views.form_edit, name="form-edit"),
]
