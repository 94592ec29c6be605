"""A lead's trail (leads/trail.py): mail to the leads address is kept with its attachments, the
lead's page shows its activity, and conversion links all of it (emails and files, calls,
tasks, comments, followers, tags) to the contact and company, whose timelines show the lead's
source and consent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from contacts.activities import services as activity_services
from contacts.activities.collab_models import Comment, Follow
from contacts.activities.mail.models import MailAttachment, MailMessage
from contacts.activities.models import Channel, Interaction, Task
from contacts.models import Contact, Tag
from crm import inbound
from crm.tags import tags_set
from leads import services
from leads.models import Lead, LeadSource
from tests.leads.test_inbound import LEADS, build

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path, rep) -> None:
    settings.PRIVATE_ROOT = tmp_path / "private"
    settings.LEADS_EMAIL_ADDRESSES = [f"{LEADS}={rep.email}"]
    settings.SUPPORT_EMAIL_ADDRESSES = ["help@example.com"]


def _mailed_lead() -> Lead:
    raw = build(message_id="<quote-1@mail.example.net>", attachments=(("brief.pdf", b"%PDF-1.4"),))
    assert inbound.dispatch(inbound.parse(raw, mailbox=LEADS)) == "leads"
    return Lead.objects.get()


def test_mail_to_the_leads_address_keeps_the_message_and_its_file_on_the_lead(rep) -> None:
    lead = _mailed_lead()
    email = Interaction.objects.get()
    assert (email.channel, email.target, email.owner, email.contact) == (
        Channel.EMAIL, lead, rep, None
    )  # fmt: skip
    assert email.subject == "Pricing for 50 seats"
    attachment = MailAttachment.objects.get()
    assert (attachment.filename, attachment.mail.interaction) == ("brief.pdf", email)
    with attachment.file.open("rb") as handle:
        assert handle.read() == b"%PDF-1.4"
    # Delivered again (a provider's retry): one lead, one email.
    raw = build(message_id="<quote-1@mail.example.net>", attachments=(("brief.pdf", b"%PDF-1.4"),))
    inbound.dispatch(inbound.parse(raw, mailbox=LEADS))
    assert (Lead.objects.count(), Interaction.objects.count()) == (1, 1)


def test_the_lead_page_shows_its_trail_and_files(client, rep, django_assert_max_num_queries):
    lead = _mailed_lead()
    activity_services.task_create(
        data=activity_services.TaskInput(title="Send the price list", target=lead), actor=rep
    )
    Comment.objects.create(
        author=rep, body="Big account", target_type=_type(Lead), target_id=lead.pk
    )
    client.force_login(rep)
    with django_assert_max_num_queries(45):
        html = client.get(lead.get_absolute_url()).content.decode()
    attachment = MailAttachment.objects.get()
    assert "Pricing for 50 seats" in html
    assert reverse("activities:mail-attachment", args=[attachment.pk]) in html
    assert "Send the price list" in html
    assert "Big account" in html


def _type(model):
    return ContentType.objects.get_for_model(model)


def test_conversion_links_the_whole_trail_to_the_contact(
    client, rep, rep_teammate, rep_other_team, own_contact
) -> None:
    lead = _mailed_lead()
    services.lead_update(
        lead=lead,
        values={
            "email": "olivia@acme.example",
            "consent_text": "I agree to be contacted.",
            "consent_at": timezone.now() - dt.timedelta(days=1),
            "consent_from": "203.0.113.9 www.example.com",
            "utm_campaign": "spring-expo",
        },
        actor=rep,
    )
    expo, vip = Tag.objects.create(name="Expo 2026"), Tag.objects.create(name="VIP")
    tags_set(obj=lead, tags=[expo], actor=rep)
    tags_set(obj=own_contact, tags=[vip], actor=rep)
    call = activity_services.interaction_log(
        data=activity_services.InteractionInput(
            channel=Channel.CALL,
            subject="Intro call",
            target=lead,
            occurred_at=timezone.now(),
        ),
        actor=rep,
    )
    task = activity_services.task_create(
        data=activity_services.TaskInput(title="Send the price list", target=lead), actor=rep
    )
    comment = Comment.objects.create(
        author=rep, body="Big account", target_type=_type(Lead), target_id=lead.pk
    )
    Follow.objects.create(user=rep_teammate, target_type=_type(Lead), target_id=lead.pk)

    lead = services.lead_convert(
        lead=Lead.objects.get(pk=lead.pk),
        data=services.ConvertInput(contact=own_contact, create_company=False),
        actor=rep,
    )
    email = Interaction.objects.get(channel=Channel.EMAIL)
    for row in (email, call, Task.objects.get(pk=task.pk)):
        row.refresh_from_db()
        assert (row.contact, row.target) == (own_contact, lead)  # linked both ways
    assert MailMessage.objects.get().contact == own_contact
    comment.refresh_from_db()
    assert comment.target == own_contact
    assert Follow.objects.filter(
        user=rep_teammate, target_type=_type(Contact), target_id=own_contact.pk
    ).exists()
    own_contact.refresh_from_db()
    assert sorted(own_contact.tags.values_list("name", flat=True)) == ["Expo 2026", "VIP"]

    # The contact's page shows the email, the call, the comment and where the lead came from.
    client.force_login(rep)
    html = client.get(own_contact.get_absolute_url()).content.decode()
    for text in ("Pricing for 50 seats", "Intro call", "Big account", "Converted from lead",
                 "I agree to be contacted.", "spring-expo", lead.get_absolute_url()):  # fmt: skip
        assert text in html, text
    attachment = MailAttachment.objects.get()
    url = reverse("activities:mail-attachment", args=[attachment.pk])
    assert client.get(url).status_code == 200
    # Someone who may not see the contact (or the lead) gets nothing of it.
    client.force_login(rep_other_team)
    assert client.get(url).status_code == 404
    # The converted lead's page still shows its trail and points to the contact.
    client.force_login(rep)
    html = client.get(lead.get_absolute_url()).content.decode()
    assert "Intro call" in html
    assert own_contact.get_absolute_url() in html


def test_a_linked_contact_the_actor_may_only_see_keeps_its_tags(rep, manager) -> None:
    """Tags join only a contact the converting user may change (a manager's contact a rep
    sees by a share is not retagged)."""
    from tests.leads.factories import make_lead

    lead = make_lead(rep, email="x@example.com", source=LeadSource.REFERRAL)
    expo = Tag.objects.create(name="Expo 2026")
    tags_set(obj=lead, tags=[expo], actor=rep)
    created = services.lead_convert(lead=lead, data=services.ConvertInput(), actor=rep)
    assert list(created.converted_contact.tags.values_list("name", flat=True)) == ["Expo 2026"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_browser_the_trail_on_the_lead_and_on_the_contact_after_conversion(
    page, live_server, settings, tmp_path, rep
) -> None:
    from tests.browser.conftest import shot, sign_in

    lead = _mailed_lead()
    activity_services.task_create(
        data=activity_services.TaskInput(title="Send the price list", target=lead), actor=rep
    )
    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}{lead.get_absolute_url()}")
    trail = page.get_by_role("region", name="Activity")
    trail.get_by_role("link", name="brief.pdf").wait_for()
    assert trail.get_by_text("Send the price list").is_visible()
    shot(page, "lead-trail")
    page.get_by_role("button", name="Convert lead").click()  # to the new contact's page
    page.get_by_text("Converted from lead").wait_for()
    assert page.get_by_text("Pricing for 50 seats").first.is_visible()
    shot(page, "lead-trail-on-contact")
    page.locator(f'a[href="{lead.get_absolute_url()}"]').first.click()  # the timeline's link
    page.get_by_role("link", name="Open the contact").wait_for()


def test_the_company_timeline_shows_the_lead_to_those_who_see_it(rep, rep_other_team) -> None:
    from leads import trail
    from tests.leads.factories import make_lead

    lead = make_lead(rep, email="ada@engines.example", company_name="Analytical Engines",
                     utm_campaign="spring-expo")  # fmt: skip
    lead = services.lead_convert(lead=lead, data=services.ConvertInput(), actor=rep)
    company = lead.converted_company
    entries = trail.lead_timeline_entries(rep, company, None, 10)
    assert [(e.kind, e.obj, e.at) for e in entries] == [("lead", lead, lead.converted_at)]
    assert trail.lead_timeline_entries(rep, lead.converted_contact, None, 10)[0].obj == lead
    # A user who may not see the lead gets no entry for it (one scoped query).
    assert trail.lead_timeline_entries(rep_other_team, company, None, 10) == []


def test_the_mailed_message_counts_for_the_engagement_rules_at_once(rep) -> None:
    from leads.models import ScoringField, ScoringOperator, ScoringRule

    ScoringRule.objects.create(
        field=ScoringField.REPLIES, operator=ScoringOperator.AT_LEAST, value="1", points=10
    )
    lead = _mailed_lead()
    assert lead.score == 10
    assert [item["reason"] for item in lead.score_breakdown] == ["1 or more replies received"]
