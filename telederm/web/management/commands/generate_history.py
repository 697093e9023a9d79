from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from telederm.web.bench.history import generate
from telederm.web.bench.people import PASSWORD


class Command(BaseCommand):
    help = "Fill PostgreSQL with a realistic history for benchmarks (never on a real system)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--referrals", type=int, default=1_000_000)
        parser.add_argument("--clinics", type=int, default=200)
        parser.add_argument("--units", type=int, default=3)
        parser.add_argument("--years", type=float, default=5)

    def handle(self, *args: Any, **options: Any) -> None:
        began = time.monotonic()
        try:
            crew = generate(
                referrals=options["referrals"],
                clinics=options["clinics"],
                units=options["units"],
                years=options["years"],
                progress=lambda text: self.stdout.write(
                    f"[{time.monotonic() - began:7.1f} s] {text}"
                ),
            )
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{options['referrals']} referrals in {time.monotonic() - began:.0f} s; "
            f"{len(crew.clinics)} clinics, {len(crew.units)} review units; "
            f"every bench user's password: {PASSWORD}"
        )
