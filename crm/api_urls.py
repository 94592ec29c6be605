"""The REST API under /api/. Each app contributes its viewsets here."""

from rest_framework.routers import DefaultRouter

from contacts.api import CompanyViewSet, ContactViewSet

router = DefaultRouter()
router.register("contacts", ContactViewSet, basename="contact")
router.register("companies", CompanyViewSet, basename="company")

urlpatterns = router.urls
