"""Where a deal came from past its `Opportunity.source` choice: the registration point for the
campaign a deal is attributed to.

There is no marketing app yet (marketing/ holds no models), so a campaign is one of the source
choices (`DealSource.CAMPAIGN`) and nothing more; a deal converted from a lead keeps the lead
(`source_lead`), whose UTM fields name the campaign it came through. When campaigns land, the
marketing app registers, from its `AppConfig.ready()`, how to name a deal's campaign for a user
(through `accounts.access`, like every read): `register_campaign_lookup(campaign_for_deal)`.
The deal page shows what it returns beside the source; until then `campaign_of()` is None.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accounts.models import User
    from sales.models import Opportunity

# (deal, user) -> the campaign's name as the user may see it, or None.
CampaignLookup = Callable[["Opportunity", "User"], str | None]

_lookups: list[CampaignLookup] = []


def register_campaign_lookup(lookup: CampaignLookup) -> None:
    """Let `lookup` name deals' campaigns (registered once; a second registration of the same
    function changes nothing)."""
    if lookup not in _lookups:
        _lookups.append(lookup)


def unregister_campaign_lookup(lookup: CampaignLookup) -> None:
    if lookup in _lookups:
        _lookups.remove(lookup)


def campaign_of(deal: Opportunity, *, user: User) -> str | None:
    """The first name a registered lookup gives the deal's campaign, or None."""
    for lookup in _lookups:
        name = lookup(deal, user)
        if name:
            return name
    return None
