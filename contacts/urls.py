from django.urls import path

from contacts.views import companies, contacts

app_name = "contacts"
urlpatterns = [
    path("", contacts.contact_list, name="contact-list"),
    path("new/", contacts.contact_create, name="contact-create"),
    path("bulk/", contacts.contact_bulk, name="contact-bulk"),
    path("<int:pk>/", contacts.contact_detail, name="contact-detail"),
    path("<int:pk>/edit/", contacts.contact_edit, name="contact-edit"),
    path("<int:pk>/field/<str:field>/", contacts.contact_field, name="contact-field"),
    path("<int:pk>/archive/", contacts.contact_archive, name="contact-archive"),
    path("<int:pk>/restore/", contacts.contact_restore, name="contact-restore"),
    path("companies/", companies.company_list, name="company-list"),
    path("companies/new/", companies.company_create, name="company-create"),
    path("companies/lookup/", companies.company_lookup, name="company-lookup"),
    path("companies/<int:pk>/", companies.company_detail, name="company-detail"),
    path("companies/<int:pk>/edit/", companies.company_edit, name="company-edit"),
    path("companies/<int:pk>/field/<str:field>/", companies.company_field, name="company-field"),
    path("companies/<int:pk>/archive/", companies.company_archive, name="company-archive"),
    path("companies/<int:pk>/restore/", companies.company_restore, name="company-restore"),
]

# Import (the import shell's pages: contacts/imports/views.py); export (contacts/views/exports.py).
from contacts.imports import views as import_views  # noqa: E402
from contacts.views import exports  # noqa: E402

urlpatterns += [
    path("export/", exports.contact_export, name="contact-export"),
    path("companies/export/", exports.company_export, name="company-export"),
    path("import/", import_views.import_start, {"entity": "contact"}, name="import-start"),
    path(
        "import/<int:pk>/",
        import_views.import_detail,
        {"entity": "contact"},
        name="import-detail",
    ),
]

# Duplicate merge (contacts/views/merge.py).
from contacts.views import merge  # noqa: E402

urlpatterns += [path("<int:pk>/merge/", merge.contact_merge, name="contact-merge")]

# The customer timeline of a record (contacts/views/timeline.py).
from contacts.views import timeline  # noqa: E402

urlpatterns += [
    path("<int:pk>/timeline/", timeline.contact_timeline, name="contact-timeline"),
    path("companies/<int:pk>/timeline/", timeline.company_timeline, name="company-timeline"),
]
