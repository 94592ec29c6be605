"""Factories for users and teams. Roles are the groups made by migrations."""

from __future__ import annotations

import factory
from django.contrib.auth.models import Group

from accounts.models import Team, User
from tests.roles import ensure_roles


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("secret-pass-123")

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        """`UserFactory(role="Sales rep")` puts the user in that built-in role."""
        if create and extracted:
            ensure_roles()
            self.groups.add(Group.objects.get(name=extracted))
