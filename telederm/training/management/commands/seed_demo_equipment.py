"""Demo equipment: each active demo clinic gets a phone and dermatoscope with a passed test, so
that the demo GPs can send referrals at once (the rule: a clinic's first referral needs a
passed equipment test). Idempotent; refuses to run outside demo mode."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from telederm.accounts.models import Organisation, OrganisationKind
from telederm.training.fixtures import give_tested_equipment
from telederm.training.models import Equipment

DEMO_EQUIPMENT = [
    ("iPhone 13", "DermLite DL4"),
    ("Samsung Galaxy S22", "Heine iC1"),
    ("iPhone 14", "DermLite HÜD 2"),
    ("Google Pixel 7", "Heine NC2 + iC1"),
]


class Command(BaseCommand):
    help = "Register tested demo equipment at the demo clinics that have none."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO:
            raise CommandError("seed_demo_equipment only runs in demo mode (TELEDERM_MODE=demo).")
        clinics = Organisation.objects.filter(
            kind=OrganisationKind.CLINIC, kombikakod__in=demo_kombikakoder()
        ).order_by("kombikakod")
        added = 0
        for index, clinic in enumerate(clinics):
            if Equipment.objects.filter(clinic=clinic).exists():
                continue
            phone, scope = DEMO_EQUIPMENT[index % len(DEMO_EQUIPMENT)]
            give_tested_equipment(
                clinic,
                phone_model=phone,
                dermatoscope_model=scope,
                serial_number=f"INV-{index + 1:04d}",
            )
            added += 1
        self.stdout.write(f"Demo equipment: {added} clinics equipped.")


def demo_kombikakoder() -> list[str]:
    from telederm.accounts.management.commands.seed_demo import CLINICS

    return [kombika for _name, kombika, _hsa, _ehr in CLINICS]
