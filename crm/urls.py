from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from crm import jobs, mailin, saved_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("ping", views.ping, name="ping"),
    path("search/", views.search, name="search"),
    path("jobs/<int:pk>/", jobs.job_progress, name="job-progress"),
    path(
        "lists/<slug:list_name>/views/",
        saved_views.saved_view_create_view,
        name="saved-view-create",
    ),
    path(
        "lists/views/<int:pk>/rename/", saved_views.saved_view_rename_view, name="saved-view-rename"
    ),
    path(
        "lists/views/<int:pk>/delete/", saved_views.saved_view_delete_view, name="saved-view-delete"
    ),
    path("accounts/", include("accounts.urls")),
    path("contacts/", include("contacts.urls")),
    path("activities/", include("contacts.activities.urls")),
    path("leads/", include("leads.urls")),
    path("forms/", include("leads.public_urls")),
    # Email opens/clicks and page views (public, signed tokens; contacts/activities/tracking).
    path("t/", include("contacts.activities.tracking.urls")),
    path("sales/", include("sales.urls")),
    path("support/", include("support.urls")),
    path("kb/", include("kb.urls")),
    path("support/", include("support.public_urls")),
    path("api/", include("crm.api_urls")),
    # Inbound email: a provider's webhook (anymail checks its secret and signature) or raw MIME.
    path("inbound/", include("anymail.urls")),
    path("inbound/raw/", mailin.inbound_raw, name="inbound-raw"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    # Only profile photos are public media. Uploads (imports) are private files outside
    # MEDIA_ROOT, served by views that check access (crm/storage.py); nothing else under
    # /media/ is served, whatever lands in MEDIA_ROOT.
    photos = f"{settings.MEDIA_URL}users/photos/"
    urlpatterns += static(photos, document_root=settings.MEDIA_ROOT / "users" / "photos")
