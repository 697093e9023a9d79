from __future__ import annotations

from datetime import timedelta
from typing import Any

import factory
from django.utils import timezone

from telederm.accounts.models import (
    Licence,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from telederm.accounts.services.otp import primary_sms_device

PASSWORD = "correct horse battery staple"


class RegionFactory(factory.django.DjangoModelFactory[Organisation]):
    class Meta:
        model = Organisation

    kind = OrganisationKind.REGION
    name = factory.Sequence(lambda n: f"Region {n}")
    hsa_id = factory.Sequence(lambda n: f"SE2321000016-R{n:04d}")


class ClinicFactory(factory.django.DjangoModelFactory[Organisation]):
    class Meta:
        model = Organisation

    kind = OrganisationKind.CLINIC
    name = factory.Sequence(lambda n: f"Vårdcentral {n}")
    hsa_id = factory.Sequence(lambda n: f"SE2321000016-C{n:04d}")
    kombikakod = factory.Sequence(lambda n: f"KOMB{n:04d}")
    region = factory.SubFactory(RegionFactory)
    telederma_active_from = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30))


class ReviewUnitFactory(factory.django.DjangoModelFactory[Organisation]):
    class Meta:
        model = Organisation

    kind = OrganisationKind.REVIEW_UNIT
    name = factory.Sequence(lambda n: f"Hudkliniken {n}")
    hsa_id = factory.Sequence(lambda n: f"SE2321000016-U{n:04d}")
    region = factory.SubFactory(RegionFactory)


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.se")
    first_name = factory.Sequence(lambda n: f"Förnamn{n}")
    last_name = factory.Sequence(lambda n: f"Efternamn{n}")
    hsa_id = factory.Sequence(lambda n: f"SE2321000016-P{n:05d}")
    title = "Distriktsläkare"
    mobile = factory.Sequence(lambda n: f"+4670174{(605 + n % 95):04d}"[:12])
    activated_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def password(obj: User, create: bool, extracted: str | None, **kwargs: Any) -> None:
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save()
            primary_sms_device(obj)


def member(organisation: Organisation, role: Role, **user_fields: Any) -> User:
    user = UserFactory.create(**user_fields)
    Membership.objects.create(
        user=user, organisation=organisation, role=role, organisation_kind=organisation.kind
    )
    return user


def licensed_gp(clinic: Organisation, **user_fields: Any) -> User:
    user = member(clinic, Role.GP, **user_fields)
    Licence.objects.create(
        user=user,
        passed_on=timezone.localdate() - timedelta(days=10),
        issuer="Regional course",
    )
    return user
