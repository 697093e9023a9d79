"""The organisations and people of the benchmark history (see ``history.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from telederm.accounts.models import Licence, Membership, Organisation, OrganisationKind, Role, User

PASSWORD = "bench-password-2026"  # noqa: S105 (a benchmark fixture, printed by the command)
OVERVIEW = "originals/bench/overview.jpg"
DERMOSCOPIC = "originals/bench/dermoscopic.jpg"


@dataclass(frozen=True)
class People:
    region: Organisation
    units: list[Organisation]
    clinics: list[Organisation]
    gps: dict[int, list[int]]  # clinic id → GP user ids
    dermatologists: dict[int, list[int]]  # unit id → user ids
    names: dict[int, tuple[str, str, str]]  # user id → (name, e-mail, HSA-ID)


def personnummer(birth: date, serial: int) -> str:
    """A valid 12-digit personnummer (Luhn check digit over the 10-digit form)."""
    body = f"{birth:%y%m%d}{serial % 1000:03d}"
    total = 0
    for index, char in enumerate(body):
        digit = int(char) * (2 if index % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return f"{birth:%Y}{body[2:]}{(10 - total % 10) % 10}"


def patient_number(n: int) -> tuple[date, str]:
    """The n-th patient's birth date and personnummer (unique for n < 2 097 900). The serial
    starts at 001: "000" is not a valid birth number."""
    birth = date(1930 + n % 75, 1 + n % 12, 1 + n % 28)
    return birth, personnummer(birth, 1 + n // 2100)


def people(clinics: int, units: int, gps_per_clinic: int, derms_per_unit: int) -> People:
    password = make_password(PASSWORD)
    region = Organisation.objects.create(
        kind=OrganisationKind.REGION, name="Region Bench", hsa_id="SE2321000016-BNCH"
    )
    unit_list = [
        Organisation.objects.create(
            kind=OrganisationKind.REVIEW_UNIT,
            name=f"Hudkliniken {n + 1}",
            hsa_id=f"SE2321000016-BU{n:03d}",
            region=region,
        )
        for n in range(units)
    ]
    active = timezone.localdate() - timedelta(days=3650)
    clinic_list = Organisation.objects.bulk_create(
        Organisation(
            kind=OrganisationKind.CLINIC,
            name=f"Vårdcentral Bench {n + 1}",
            hsa_id=f"SE2321000016-BC{n:04d}",
            kombikakod=f"BNC{n:05d}",
            region=region,
            default_review_unit=unit_list[n % units],
            telederma_active_from=active,
        )
        for n in range(clinics)
    )
    users: list[User] = []
    plan: list[tuple[Organisation, str]] = []
    for clinic in clinic_list:
        plan += [(clinic, Role.GP)] * gps_per_clinic + [(clinic, Role.CENTER_ADMIN)]
    for unit in unit_list:
        plan += [(unit, Role.DERMATOLOGIST)] * derms_per_unit
    plan.append((region, Role.REGION_ADMIN))
    for n, (_org, role) in enumerate(plan):
        users.append(
            User(
                email=f"bench.{role}.{n}@example.se",
                first_name=f"Bench{n}",
                last_name=role.title(),
                hsa_id=f"SE2321000016-U{n:05d}",
                mobile=f"+467010{n:05d}",
                password=password,
                activated_at=timezone.now(),
            )
        )
    users = User.objects.bulk_create(users)
    Membership.objects.bulk_create(
        Membership(user=user, organisation=org, role=role, organisation_kind=org.kind)
        for user, (org, role) in zip(users, plan, strict=True)
    )
    Licence.objects.bulk_create(
        Licence(user=user, passed_on=active, issuer="Bench")
        for user, (_org, role) in zip(users, plan, strict=True)
        if role == Role.GP
    )
    gps: dict[int, list[int]] = {}
    derms: dict[int, list[int]] = {}
    for user, (org, role) in zip(users, plan, strict=True):
        if role == Role.GP:
            gps.setdefault(org.pk, []).append(user.pk)
        elif role == Role.DERMATOLOGIST:
            derms.setdefault(org.pk, []).append(user.pk)
    names = {u.pk: (u.full_name, u.email, u.hsa_id) for u in users}
    return People(region, unit_list, clinic_list, gps, derms, names)


def placeholders() -> None:
    from telederm.testing import photo

    for name, kind in ((OVERVIEW, "overview"), (DERMOSCOPIC, "dermoscopic")):
        if not default_storage.exists(name):
            default_storage.save(name, ContentFile(photo(kind, size=(1200, 900))))
