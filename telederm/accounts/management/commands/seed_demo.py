"""Demo data: a region, three review units, four clinics, a persona for every role and a
pending clinic application. Idempotent: running it again changes nothing that exists.

Demo personas bypass the activation e-mail on purpose (they get a known password), so this
command writes the rows directly; it refuses to run in production mode.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from telederm.accounts.models import (
    ClinicApplication,
    Licence,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from telederm.accounts.services.otp import primary_sms_device

DEMO_PASSWORD = "telederm-demo-2026"  # noqa: S105 (documented demo password)
# PTS keeps 070-1740605 … 070-1740699 for fiction: these numbers reach nobody.
FICTION_MOBILE_FIRST = 605

REGION = {"name": "Region Stockholm (demo)", "hsa_id": "SE2321000016-TD0000"}
REVIEW_UNITS = [
    ("Karolinska Universitetssjukhuset, Hudkliniken (demo)", "SE2321000016-TDRU01"),
    ("Södersjukhuset, Hudmottagningen (demo)", "SE2321000016-TDRU02"),
    ("Danderyds sjukhus, Hudmottagningen (demo)", "SE2321000016-TDRU03"),
]
CLINICS = [
    ("Vårdcentral Norrmalm (demo)", "11010NOR", "SE2321000016-TDVC01", True),
    ("Husläkarmottagningen Södermalm (demo)", "11020SOD", "SE2321000016-TDVC02", False),
    ("Vårdcentral Solna (demo)", "11030SOL", "SE2321000016-TDVC03", True),
    ("Vårdcentral Huddinge (demo)", "11040HUD", "SE2321000016-TDVC04", False),
]
# (e-mail, first, last, hsa local part, title, role, unit key, licensed)
PERSONAS = [
    (
        "region@demo.telederm.se",
        "Rut",
        "Regionsson",
        "TDU001",
        "Systemförvaltare",
        Role.REGION_ADMIN,
        "region",
        False,
    ),
    (
        "center.norrmalm@demo.telederm.se",
        "Cecilia",
        "Centerström",
        "TDU002",
        "Sjuksköterska",
        Role.CENTER_ADMIN,
        "11010NOR",
        False,
    ),
    (
        "gp.norrmalm@demo.telederm.se",
        "Gustav",
        "Läkarsson",
        "TDU003",
        "Distriktsläkare",
        Role.GP,
        "11010NOR",
        True,
    ),
    (
        "gp2.norrmalm@demo.telederm.se",
        "Greta",
        "Husläkare",
        "TDU004",
        "Specialist i allmänmedicin",
        Role.GP,
        "11010NOR",
        True,
    ),
    (
        "center.sodermalm@demo.telederm.se",
        "Sven",
        "Centerberg",
        "TDU005",
        "Verksamhetsutvecklare",
        Role.CENTER_ADMIN,
        "11020SOD",
        False,
    ),
    (
        "gp.sodermalm@demo.telederm.se",
        "Sara",
        "Doktorsdotter",
        "TDU006",
        "Distriktsläkare",
        Role.GP,
        "11020SOD",
        True,
    ),
    (
        "gp.nolicence@demo.telederm.se",
        "Nils",
        "Nybörjare",
        "TDU007",
        "ST-läkare",
        Role.GP,
        "11020SOD",
        False,
    ),
    (
        "derm@demo.telederm.se",
        "Disa",
        "Dermatolog",
        "TDU008",
        "Specialistläkare i dermatologi",
        Role.DERMATOLOGIST,
        "SE2321000016-TDRU01",
        False,
    ),
    (
        "derm2@demo.telederm.se",
        "Hugo",
        "Hudläkare",
        "TDU009",
        "Överläkare",
        Role.DERMATOLOGIST,
        "SE2321000016-TDRU01",
        False,
    ),
    (
        "lead@demo.telederm.se",
        "Elin",
        "Enhetschef",
        "TDU010",
        "Överläkare, enhetschef",
        Role.UNIT_LEAD,
        "SE2321000016-TDRU01",
        False,
    ),
    (
        "derm.sos@demo.telederm.se",
        "Stig",
        "Söderhud",
        "TDU011",
        "Specialistläkare i dermatologi",
        Role.DERMATOLOGIST,
        "SE2321000016-TDRU02",
        False,
    ),
]


class Command(BaseCommand):
    help = "Create demo organisations, personas (password: see README) and an application."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO:
            raise CommandError("seed_demo only runs in demo mode (TELEDERM_MODE=demo).")
        with transaction.atomic():
            created = self._seed()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({created} new rows)."))
        # The licence exam's starter questions and the clinics' tested equipment (the first
        # referral of a clinic needs a passed equipment test); both idempotent.
        call_command("seed_exam_questions", region=REGION["hsa_id"], stdout=self.stdout)
        call_command("seed_demo_equipment", stdout=self.stdout)

    def _seed(self) -> int:
        created = 0
        region, new = Organisation.objects.get_or_create(
            hsa_id=REGION["hsa_id"],
            defaults={"kind": OrganisationKind.REGION, "name": REGION["name"]},
        )
        created += new
        units: dict[str, Organisation] = {"region": region}
        for name, hsa in REVIEW_UNITS:
            unit, new = Organisation.objects.get_or_create(
                hsa_id=hsa,
                defaults={"kind": OrganisationKind.REVIEW_UNIT, "name": name, "region": region},
            )
            units[hsa] = unit
            created += new
        for name, kombika, hsa, ehr in CLINICS:
            clinic, new = Organisation.objects.get_or_create(
                kombikakod=kombika,
                defaults={
                    "kind": OrganisationKind.CLINIC,
                    "name": name,
                    "hsa_id": hsa,
                    "region": region,
                    "ehr_integrated": ehr,
                    "telederma_active_from": date(2025, 1, 15),
                    "address": "Demogatan 1, 111 11 Stockholm",
                    "phone": "08-123 456 00",
                },
            )
            units[kombika] = clinic
            created += new
        for index, (email, first, last, local, title, role, unit_key, licensed) in enumerate(
            PERSONAS
        ):
            mobile = f"+46701740{FICTION_MOBILE_FIRST + index}"
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(
                    email=email,
                    password=DEMO_PASSWORD,
                    first_name=first,
                    last_name=last,
                    hsa_id=f"SE2321000016-{local}",
                    title=title,
                    mobile=mobile,
                    activated_at=timezone.now(),
                )
                primary_sms_device(user)
                created += 1
            unit = units[unit_key]
            _membership, new = Membership.objects.get_or_create(
                user=user,
                organisation=unit,
                role=role,
                ended_at=None,
                defaults={"organisation_kind": unit.kind},
            )
            created += new
            if licensed and not user.licences.exists():
                Licence.objects.create(
                    user=user,
                    passed_on=timezone.localdate() - timedelta(days=200),
                    issuer="Region Stockholm, webbkurs i teledermatoskopi",
                    reference=f"DEMO-{local}",
                )
                created += 1
        _application, new = ClinicApplication.objects.get_or_create(
            kombikakod="11050TAB",
            status=ClinicApplication.Status.PENDING,
            defaults={
                "region": region,
                "clinic_name": "Vårdcentral Täby (demo)",
                "clinic_hsa_id": "SE2321000016-TDVC05",
                "head_name": "Helena Verksamhetschef",
                "head_email": "chef.taby@demo.telederm.se",
                "head_hsa_id": "SE2321000016-TDU020",
                "admin_first_name": "Tove",
                "admin_last_name": "Täbyadmin",
                "admin_email": "center.taby@demo.telederm.se",
                "admin_hsa_id": "SE2321000016-TDU021",
                "admin_mobile": "+46701740699",
                "admin_title": "Sjuksköterska",
            },
        )
        created += new
        return created
