"""Other apps hear of a company's changed fields through `contacts.hooks` (issue 29 needs it for
support's tiers): only fields whose stored value changed, only hooks that asked for them, inside
the edit's transaction (a hook's failure fails the edit)."""

from __future__ import annotations

import pytest

from contacts import hooks, services
from contacts.models import Company
from tests.contacts.factories import CompanyFactory

pytestmark = pytest.mark.django_db


def test_hooks_hear_the_changed_fields_they_asked_for(rep):
    company = CompanyFactory(owner=rep, size="51-200", website="")
    heard: list[hooks.CompanyChange] = []
    sized: list[hooks.CompanyChange] = []
    every = hooks.CompanyHook("test-every", heard.append)
    size_only = hooks.CompanyHook("test-size", sized.append, fields=frozenset({"size"}))
    with (
        hooks.on_company_changed.temporarily(every),
        hooks.on_company_changed.temporarily(size_only),
    ):
        services.company_update(
            company=company, actor=rep, values={"size": "51-200", "website": "https://a.example"}
        )
        # A form may have written the new value on the instance already: compared with the row.
        company.size = "5000+"
        services.company_update(company=company, actor=rep, values={"size": "5000+"})
        services.company_update(company=company, actor=rep, values={"size": "5000+"})
        services.company_archive(company=company, actor=rep)
        services.company_archive(company=company, actor=rep)  # already archived: nothing
    assert heard == [
        hooks.CompanyChange(company.pk, frozenset({"website"})),
        hooks.CompanyChange(company.pk, frozenset({"size"})),
        hooks.CompanyChange(company.pk, frozenset({"archived_at"})),
    ]
    assert sized == [hooks.CompanyChange(company.pk, frozenset({"size"}))]


def test_a_failing_hook_fails_the_edit(rep):
    company = CompanyFactory(owner=rep, size="51-200")

    def broken(change: hooks.CompanyChange) -> None:
        raise RuntimeError("boom")

    broken_hook = hooks.CompanyHook("test-broken", broken)
    with hooks.on_company_changed.temporarily(broken_hook), pytest.raises(RuntimeError):
        services.company_update(company=company, actor=rep, values={"size": "5000+"})
    assert Company.objects.get(pk=company.pk).size == "51-200"
