"""What sales plugs into the shared registries (called once from `SalesConfig.ready()`): the
Deals navigation entry, the global search's deals, how deal changes read in the history, the
API route, a customer-timeline source (a contact's or company's deals), and the lead
conversion's "Create a deal" step (leads.conversion) and the lead page's card of the deals
converted from the lead (contacts.panels, for "leads.lead")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import access
from contacts import panels, timeline
from contacts.models import Contact
from crm import history, nav, search
from crm.registry import ApiRoute, api_routes
from leads.conversion import StepForm, register_conversion_step
from sales import selectors, services
from sales.models import (
    QUALIFICATION_FIELDS,
    ContactRole,
    DealSource,
    Opportunity,
    OpportunityContact,
    OpportunityLine,
    Pipeline,
)

CLOSE_IN_DAYS = 30  # the expected close date offered on conversion
LEAD_DEALS = 10  # deals shown on a lead's page (a lead is converted once: one, as a rule)


def lead_deals(user: Any, lead: Any) -> dict[str, Any] | None:
    """The lead page's card: the deals converted from this lead that the user may see, newest
    first (one query along the `source_lead` index, with stage, whatever the number); None
    when there is none to show. Only a converted lead has any (the conversion sets a deal's
    `source_lead`): other leads' pages cost no query."""
    if not lead.is_read_only:
        return None
    deals = list(
        selectors.opportunity_list(user=user)
        .filter(source_lead=lead)
        .order_by("-created_at", "-id")[:LEAD_DEALS]
    )
    return {"deals": deals} if deals else None


class ConvertDealForm(StepForm):
    """The Convert card's deal fields. Required only when the box is ticked (an unticked box
    must not make the browser ask for them); the amount's sign is the service's to check."""

    create = forms.BooleanField(label=_("Create a deal"), required=False)
    name = forms.CharField(label=_("Deal name"), max_length=200, required=False)
    pipeline = forms.ModelChoiceField(
        label=_("Pipeline"), queryset=Pipeline.objects.order_by("name"), required=False
    )
    amount = forms.DecimalField(label=_("Amount"), max_digits=14, decimal_places=2, required=False)
    expected_close_date = forms.DateField(
        label=_("Expected close date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lead = self.lead
        person = f"{lead.given_name} {lead.family_name}".strip()
        self.fields["name"].initial = lead.company_name or person or str(lead)
        self.fields["pipeline"].initial = (
            Pipeline.objects.filter(is_default=True).values_list("pk", flat=True).first()
        )
        self.fields["expected_close_date"].initial = timezone.localdate() + dt.timedelta(
            days=CLOSE_IN_DAYS
        )

    def wanted(self) -> bool:
        widget = self.fields["create"].widget
        return bool(widget.value_from_datadict(self.data, self.files, self.add_prefix("create")))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("name", "").strip() and "name" not in self.errors:
            self.add_error("name", _("Give the deal a name."))
        if data.get("expected_close_date") is None and "expected_close_date" not in self.errors:
            self.add_error("expected_close_date", _("Give an expected close date."))
        return data


def convert_lead_to_deal(
    *, lead: Any, contact: Contact, company: Any, data: dict[str, Any], actor: Any
) -> None:
    """Inside the lead conversion's transaction: one deal with the new contact (decision
    maker), its company, and the lead as its source. A refusal rolls the conversion back."""
    services.opportunity_create(
        data=services.OpportunityInput(
            name=data["name"],
            expected_close_date=data["expected_close_date"],
            pipeline=data.get("pipeline"),
            company=company,
            contacts=[(contact, ContactRole.DECISION_MAKER)],
            amount=data["amount"] if data.get("amount") is not None else Decimal("0"),
            source=DealSource.LEAD,
            source_lead=lead,
        ),
        actor=actor,
    )


def opportunity_timeline_entries(
    user: Any, subject: Any, before: timeline.Before | None, limit: int
) -> list[timeline.TimelineEntry]:
    """The subject's deals that `user` may see, newest first (one query)."""
    qs = access.scoped(user, Opportunity).select_related("stage")
    if isinstance(subject, Contact):
        roles = OpportunityContact.objects.filter(contact=subject)
        qs = qs.filter(pk__in=roles.values("opportunity"))
    else:
        qs = qs.filter(company=subject)
    rows = timeline.keyset_before(qs, before, time_field="created_at")[:limit]
    return [timeline.TimelineEntry("opportunity", d.created_at, d.pk, d) for d in rows]


def register() -> None:
    from contacts.activities import home
    from sales.home import PANEL

    nav.register_nav(
        nav.NavEntry("sales", _("Deals"), "sales:board", 40, ("sales:",), group="sales")
    )
    home.register_home_panel(PANEL)
    nav.register_nav(
        nav.NavEntry(
            "forecast", _("Forecast"), "sales:forecast", 45, ("sales:forecast",), group="sales"
        )
    )
    search.register_provider(
        search.SearchProvider(
            key="opportunities",
            label=_("Deals"),
            order=30,
            template="sales/search/opportunity.html",
            search=lambda user, q, limit: selectors.opportunity_search(
                user=user, query=q, limit=limit
            ),
            see_all=lambda q: f"{reverse('sales:opportunity-list')}?{urlencode({'q': q})}",
        )
    )
    history.register_history(
        Opportunity,
        hidden={"score", "stage_entered_at"},
        # A new deal's history shows what was set, not every unrated criterion at "Unknown".
        quiet_on_create={
            *QUALIFICATION_FIELDS,
            "amount",
            "source",
            "next_step",
            "loss_note",
            "tag_ids",
        },
    )
    history.register_history(OpportunityContact, parent="opportunity")
    history.register_history(OpportunityLine, parent="opportunity", hidden={"position"})
    api_routes.register(
        ApiRoute("opportunities", "sales.api.OpportunityViewSet", "opportunity", order=50)
    )
    api_routes.register(ApiRoute("products", "sales.api.ProductViewSet", "product", order=51))
    register_conversion_step(
        "deal",
        ConvertDealForm,
        convert_lead_to_deal,
        available=lambda actor: access.can_add(actor, Opportunity),
    )
    # The lead's page shows the deals converted from it (the other way: the deal page's
    # "Converted from lead").
    panels.register_panel(
        panels.RecordPanel(
            key="lead-deals",
            template="sales/partials/lead_deals.html",
            subjects=("leads.lead",),
            context=lead_deals,
        )
    )
    timeline.register_source(
        timeline.TimelineSource(
            kind="opportunity",
            label=_("Deals"),
            template="sales/timeline_opportunity.html",
            entries=opportunity_timeline_entries,
            order=40,
            subjects=("contacts.contact", "contacts.company"),
        )
    )
