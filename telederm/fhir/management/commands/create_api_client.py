"""Register a system client of the FHIR API and print its token (once; only a digest is kept)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from telederm.accounts.models import Organisation
from telederm.audit.services import Actor
from telederm.fhir.auth import create_api_client
from telederm.fhir.models import Scope


class Command(BaseCommand):
    help = (
        "Create an API client for the FHIR API, bound to one or more clinics (by HSA-ID), and "
        "print its bearer token. The token is shown only this once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="A unique name, e.g. the EHR's.")
        parser.add_argument(
            "--organisation",
            action="append",
            required=True,
            metavar="HSA_ID",
            help="HSA-ID of a clinic the client acts for (repeat for several).",
        )
        parser.add_argument(
            "--scope",
            action="append",
            required=True,
            choices=Scope.values,
            help="A permission (repeat for several).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        wanted = [hsa_id.strip().upper() for hsa_id in options["organisation"]]
        organisations = list(Organisation.objects.filter(hsa_id__in=wanted))
        missing = set(wanted) - {org.hsa_id for org in organisations}
        if missing:
            raise CommandError(f"No organisation with HSA-ID {', '.join(sorted(missing))}.")
        try:
            client, token = create_api_client(
                name=options["name"],
                organisations=organisations,
                scopes=options["scope"],
                by=Actor.system(),
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stderr.write(
            f"Created API client {client.name!r} for "
            f"{', '.join(org.name for org in organisations)} with {', '.join(client.scopes)}.\n"
            "Store this token now; it cannot be shown again:"
        )
        self.stdout.write(token)
