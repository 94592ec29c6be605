"""Factories that build contacts and companies through the services, so derived fields
(display name, search text, primary email) are right, exactly as in production."""

from __future__ import annotations

from typing import Any

import factory

from contacts import services
from contacts.models import Company, Contact, LifecycleStage, Tag


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"tag-{n}")


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Faker("company")
    owner = None

    @classmethod
    def _create(cls, model_class: type[Company], *args: Any, **kwargs: Any) -> Company:
        owner = kwargs.pop("owner")
        tags = kwargs.pop("tags", None)
        return services.company_create(values={**kwargs, "owner": owner}, actor=owner, tags=tags)


class ContactFactory(factory.django.DjangoModelFactory):
    """`ContactFactory(owner=rep, emails=["a@x.com"], phones=["+86 138 ..."])`."""

    class Meta:
        model = Contact

    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    lifecycle_stage = LifecycleStage.PROSPECT
    owner = None

    @classmethod
    def _create(cls, model_class: type[Contact], *args: Any, **kwargs: Any) -> Contact:
        owner = kwargs.pop("owner")
        emails = [services.EmailInput(e) for e in kwargs.pop("emails", [])]
        phones = [services.PhoneInput(p) for p in kwargs.pop("phones", [])]
        tags = kwargs.pop("tags", None)
        actor = kwargs.pop("actor", owner)
        return services.contact_create(
            data=services.ContactInput(
                values={**kwargs, "owner": owner}, emails=emails, phones=phones, tags=tags
            ),
            actor=actor,
        )
