"""Issue 27: converting a lead can create a deal (sales' registered conversion step) in the same
transaction; a refusal of the step leaves nothing written; a user who may not add deals is not
offered the step and a forged post of its fields is refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Company, Contact
from leads.models import Lead, LeadStatus
from sales.models import DealSource, Opportunity, Pipeline
from tests.browser.conftest import shot, sign_in
from tests.conftest import login
from tests.leads.factories import make_lead
from tests.sales.factories import make_pipeline

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def pipeline(db: None) -> Pipeline:
    """A default pipeline of the test's own (a transactional test elsewhere may have flushed
    the migration's)."""
    Pipeline.objects.update(is_default=False)
    return make_pipeline("Conversion pipeline")


CLOSE = (timezone.localdate() + dt.timedelta(days=45)).isoformat()


def _url(lead: Lead) -> str:
    return reverse("leads:lead-convert", args=[lead.pk])


def _deal_post(**extra: str) -> dict[str, str]:
    data = {
        "contact": "",
        "create_company": "on",
        "deal-create": "on",
        "deal-name": "Acme renewal",
        "deal-pipeline": str(Pipeline.objects.get(is_default=True).pk),
        "deal-amount": "12500.50",
        "deal-expected_close_date": CLOSE,
    }
    data.update(extra)
    return data


def test_the_convert_card_offers_the_deal_fields_prefilled(client, rep):
    lead = make_lead(rep, company_name="Acme Works")
    login(client, rep)
    page = client.get(lead.get_absolute_url()).content.decode()
    assert 'name="deal-create"' in page
    assert 'name="deal-name"' in page
    assert 'value="Acme Works"' in page
    assert 'name="deal-expected_close_date"' in page
    # Unticked, the deal's fields must not block the form in the browser.
    assert 'name="deal-name" maxlength="200" required' not in page


def test_ticked_box_creates_one_deal_linked_to_contact_company_and_lead(client, rep):
    lead = make_lead(rep, company_name="Acme Works", email="grace@acme.example")
    login(client, rep)
    response = client.post(_url(lead), _deal_post())
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED
    deal = Opportunity.objects.get()
    assert deal.name == "Acme renewal"
    assert deal.amount == Decimal("12500.50")
    assert deal.expected_close_date.isoformat() == CLOSE
    assert (deal.source, deal.source_lead_id) == (DealSource.LEAD, lead.pk)
    assert deal.company == lead.converted_company is not None
    assert list(deal.contacts.all()) == [lead.converted_contact]
    assert deal.owner == rep
    # The contact's page shows the deal (sales' timeline source).
    page = client.get(lead.converted_contact.get_absolute_url()).content.decode()
    assert "Acme renewal" in page


def test_unticked_box_creates_no_deal(client, rep):
    lead = make_lead(rep, company_name="Acme Works")
    login(client, rep)
    data = _deal_post()
    del data["deal-create"]
    response = client.post(_url(lead), data)
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED
    assert Opportunity.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("deal-amount", "-5", "The amount cannot be negative."),  # refused by the service
        ("deal-amount", "1e400", ""),  # refused by the form
        ("deal-name", "   ", "Give the deal a name."),
        ("deal-expected_close_date", "", "Give an expected close date."),
        ("deal-name", "D" * 201, "Ensure this value has at most 200 characters"),
        ("deal-pipeline", "999999", "Select a valid choice."),
        ("deal-expected_close_date", "2026-02-30", "Enter a valid date."),
    ],
)
def test_a_refused_step_leaves_nothing_written_and_shows_the_error(
    client, rep, field, value, message
):
    lead = make_lead(rep, company_name="Acme Works", email="grace@acme.example")
    login(client, rep)
    response = client.post(_url(lead), _deal_post(**{field: value}))
    assert response.status_code == 422
    page = response.content.decode()
    assert message in page
    assert 'id="convert-error"' in page
    assert 'name="deal-create" class="form-check-input" id="id_deal-create" checked' in page or (
        'id="id_deal-create" checked' in page
    )
    assert 'id="id_create_company" checked' in page  # the bound form keeps the other choices
    lead.refresh_from_db()
    assert lead.status != LeadStatus.CONVERTED
    assert lead.converted_contact_id is None
    assert Contact.objects.count() == 0
    assert Company.objects.count() == 0
    assert Opportunity.objects.count() == 0


def test_a_nul_byte_in_a_step_field_is_a_bad_request_and_writes_nothing(client, rep):
    lead = make_lead(rep, company_name="Acme Works")
    login(client, rep)
    response = client.post(_url(lead), _deal_post(**{"deal-name": "Deal\x00"}))
    assert response.status_code == 400
    lead.refresh_from_db()
    assert lead.status != LeadStatus.CONVERTED
    assert (Contact.objects.count(), Opportunity.objects.count()) == (0, 0)


def test_a_user_who_may_not_add_deals_is_not_offered_the_step_and_a_forged_post_is_refused(
    client, marketer
):
    lead = make_lead(marketer)
    login(client, marketer)
    page = client.get(lead.get_absolute_url()).content.decode()
    assert "deal-create" not in page
    response = client.post(_url(lead), _deal_post(create_company=""))
    assert response.status_code == 403
    lead.refresh_from_db()
    assert lead.status != LeadStatus.CONVERTED
    assert Contact.objects.count() == 0
    assert Opportunity.objects.count() == 0
    # Without the forged fields the conversion itself works.
    response = client.post(_url(lead), {"contact": ""})
    assert response.status_code == 302
    assert Opportunity.objects.count() == 0


def test_the_service_refuses_a_step_the_actor_is_not_offered(marketer):
    from django.core.exceptions import PermissionDenied

    from leads import services

    lead = make_lead(marketer)
    data = {"name": "X", "expected_close_date": timezone.localdate(), "amount": Decimal("1")}
    with pytest.raises(PermissionDenied):
        services.lead_convert(
            lead=lead, data=services.ConvertInput(steps={"deal": data}), actor=marketer
        )
    with pytest.raises(PermissionDenied):
        services.lead_convert(
            lead=lead, data=services.ConvertInput(steps={"nosuchstep": {}}), actor=marketer
        )
    lead.refresh_from_db()
    assert lead.status != LeadStatus.CONVERTED


def test_a_later_step_failing_rolls_back_the_deal_and_the_contact(client, rep, monkeypatch):
    from crm.errors import DomainError
    from leads import conversion

    def boom(**kwargs: object) -> None:
        assert Opportunity.objects.count() == 1  # the deal step ran first, in the transaction
        raise DomainError("Step refused.")

    monkeypatch.setattr(conversion, "_STEPS", dict(conversion._STEPS))
    conversion.register_conversion_step("boom", conversion.StepForm, boom)
    lead = make_lead(rep, company_name="Acme Works")
    login(client, rep)
    response = client.post(_url(lead), _deal_post())
    assert response.status_code == 422
    assert "Step refused." in response.content.decode()
    lead.refresh_from_db()
    assert lead.status != LeadStatus.CONVERTED
    assert (Contact.objects.count(), Company.objects.count(), Opportunity.objects.count()) == (
        0,
        0,
        0,
    )


def test_the_lead_page_query_count_does_not_grow_with_the_step(
    client, rep, django_assert_max_num_queries
):
    lead = make_lead(rep, company_name="Acme Works")
    login(client, rep)
    client.get(lead.get_absolute_url())
    with django_assert_max_num_queries(40):
        assert client.get(lead.get_absolute_url()).status_code == 200


def test_comments_on_the_lead_move_to_the_contact(client, rep):
    from django.contrib.contenttypes.models import ContentType

    from contacts.activities.models import Comment

    lead = make_lead(rep, company_name="Acme Works")
    Comment.objects.create(
        author=rep,
        target_type=ContentType.objects.get_for_model(Lead),
        target_id=lead.pk,
        body="Met at the fair",
    )
    login(client, rep)
    client.post(_url(lead), _deal_post())
    lead.refresh_from_db()
    comment = Comment.objects.get()
    assert comment.target == lead.converted_contact


@pytest.mark.django_db(transaction=True)
def test_browser_convert_with_a_deal(page, live_server, rep) -> None:
    lead = make_lead(rep, company_name="Initech", email="peter@initech.example")
    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}{lead.get_absolute_url()}")
    page.get_by_label("Create a deal").check()
    page.get_by_label("Amount").fill("-3")
    page.get_by_role("button", name="Convert lead").click()
    page.locator("#convert-error").wait_for()
    shot(page, "leads-convert-deal-error")
    page.get_by_label("Amount").fill("4200")
    page.get_by_role("button", name="Convert lead").click()
    page.wait_for_url(f"{live_server.url}/contacts/*/")
    page.get_by_text("Initech").first.wait_for()
    shot(page, "leads-convert-deal-contact")
    deal = Opportunity.objects.get()
    assert (deal.name, deal.amount, deal.source_lead_id) == ("Initech", Decimal("4200"), lead.pk)
