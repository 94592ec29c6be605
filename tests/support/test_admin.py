from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import login_verified
from tests.support.factories import make_ticket

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["queue", "slapolicy", "ticket"])
def test_admin_pages_open(client, admin_user, queue, lead, model):
    make_ticket(queue, actor=lead)
    login_verified(client, admin_user)
    url = reverse(f"admin:support_{model}_changelist")
    assert client.get(url).status_code == 200
    assert client.get(url, {"q": "printer"}).status_code == 200
    assert client.get(reverse(f"admin:support_{model}_add")).status_code in (200, 403)
