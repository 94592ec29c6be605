"""The IMAP side of OAuth2 mailboxes (contacts/activities/mail/oauth.py imap_login) against a real
IMAP server that speaks SASL XOAUTH2 (pymap with pysasl's mechanism, tests/activities/
imap_xoauth2.py) and the real token endpoint of test_mail_oauth: a sync signs in with the access
token, fetches the mail exchanged with contacts, and after the token expires refreshes it first;
a token the server refuses is shown on the mailbox, nothing stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone

from contacts.activities.mail import mailboxes
from contacts.activities.mail.models import Mailbox, MailboxAuth
from contacts.activities.models import Direction, Interaction
from tests.activities.imap_xoauth2 import USER, running_xoauth2_imap
from tests.activities.test_mail_mailbox import _mail
from tests.activities.test_mail_oauth import _connect, provider  # noqa: F401 - fixture
from tests.contacts.factories import ContactFactory
from tests.crm import imap_server as imap

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_root(settings, tmp_path: Path) -> None:
    settings.PRIVATE_ROOT = tmp_path / "private"


@pytest.fixture
def endpoint(request: pytest.FixtureRequest):
    """test_mail_oauth's token endpoint (its `provider` fixture: the provider's settings)."""
    return request.getfixturevalue("provider")


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "accepted-token"
    path.write_text("access-1")
    return path


@pytest.fixture
def xoauth2_port(token_file: Path):
    with running_xoauth2_imap(token_file) as port:
        yield port


def _oauth_box(rep, port: int) -> Mailbox:
    box = _connect(rep)  # the code exchanged at the token endpoint: access-1
    Mailbox.objects.filter(pk=box.pk).update(
        imap_host="127.0.0.1", imap_port=port, imap_ssl=False, imap_user=USER
    )
    box.refresh_from_db()
    assert box.auth == MailboxAuth.OAUTH2
    return box


def test_a_sync_signs_in_with_xoauth2_and_refreshes_an_expired_token_first(
    rep, endpoint, xoauth2_port, token_file
) -> None:
    contact = ContactFactory(owner=rep, emails=["mia@customer.test"])
    imap.append(
        xoauth2_port,
        "INBOX",
        _mail("Mia <mia@customer.test>", "rep@rep-mail.test", "Order 42"),
        _mail("news@shop.test", "rep@rep-mail.test", "Newsletter"),
    )
    box = _oauth_box(rep, xoauth2_port)
    assert mailboxes.mailbox_sync(mailbox_id=box.pk) == 1
    box.refresh_from_db()
    assert box.last_error == ""
    row = Interaction.objects.get(contact=contact)
    assert (row.subject, row.direction, row.owner) == ("Order 42", Direction.INBOUND, rep)
    assert endpoint.issued == 1  # the stored token was still valid: no refresh

    # The provider issues a new token and stops taking the old one; ours has expired.
    token_file.write_text("access-2")
    Mailbox.objects.filter(pk=box.pk).update(oauth_expires_at=timezone.now())
    imap.append(xoauth2_port, "INBOX", _mail("mia@customer.test", "rep@rep-mail.test", "Order 43"))
    assert mailboxes.mailbox_sync(mailbox_id=box.pk) == 1
    assert endpoint.issued == 2
    assert endpoint.requests[-1]["grant_type"] == "refresh_token"
    box.refresh_from_db()
    assert (box.last_error, box.total_synced) == ("", 2)
    assert set(Interaction.objects.filter(contact=contact).values_list("subject", flat=True)) == {
        "Order 42",
        "Order 43",
    }


def test_a_token_the_server_refuses_is_shown_and_nothing_is_stored(
    rep, endpoint, xoauth2_port, token_file
) -> None:
    ContactFactory(owner=rep, emails=["mia@customer.test"])
    imap.append(xoauth2_port, "INBOX", _mail("mia@customer.test", "rep@rep-mail.test", "Hi"))
    token_file.write_text("revoked-at-the-provider")  # the server no longer takes access-1
    box = _oauth_box(rep, xoauth2_port)
    assert mailboxes.mailbox_sync(mailbox_id=box.pk) == 0
    box.refresh_from_db()
    assert "AUTHENTICATIONFAILED" in box.last_error or "credentials" in box.last_error
    assert box.sync_started_at is None  # released for the next try
    assert not Interaction.objects.exists()
