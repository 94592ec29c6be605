"""The REST API under /api/: the viewsets the apps registered (`crm.registry.api_routes`, from
their `AppConfig.ready()`), so this module imports no app."""

from django.utils.module_loading import import_string
from rest_framework.routers import DefaultRouter

from crm.registry import api_routes

router = DefaultRouter()
for route in api_routes:
    viewset = import_string(route.viewset) if isinstance(route.viewset, str) else route.viewset
    router.register(route.prefix, viewset, basename=route.basename)

urlpatterns = router.urls
