"""Every model registered in the admin opens for an administrator, lists and searches."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.conftest import login_verified

pytestmark = pytest.mark.django_db

MODELS = [
    (model._meta.app_label, model._meta.model_name)
    for model in admin.site._registry
    if model._meta.app_label in {"accounts", "contacts"}
]


@pytest.mark.parametrize(("app", "model"), MODELS)
def test_admin_pages_open(client, admin_user, own_contact, own_company, app, model):
    login_verified(client, admin_user)
    url = reverse(f"admin:{app}_{model}_changelist")
    assert client.get(url).status_code == 200
    assert client.get(url, {"q": "olivia"}).status_code == 200
    assert client.get(reverse(f"admin:{app}_{model}_add")).status_code in (200, 403)


def test_contact_change_page_opens(client, admin_user, own_contact):
    login_verified(client, admin_user)
    url = reverse("admin:contacts_contact_change", args=[own_contact.pk])
    assert "Olivia" in client.get(url).content.decode()


def test_every_crm_model_is_in_the_admin_and_the_audit_log():
    from auditlog.registry import auditlog
    from django.apps import apps

    for config in (apps.get_app_config("accounts"), apps.get_app_config("contacts")):
        for model in config.get_models():
            if model._meta.auto_created or "ObjectPermission" in model.__name__:
                continue
            assert model in admin.site._registry, model
            assert auditlog.contains(model), model
