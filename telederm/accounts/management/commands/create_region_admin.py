"""Bootstrap: create the region (if missing) and its first region administrator.

The administrator receives an activation link by e-mail like every other user.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from telederm.accounts.models import Organisation, OrganisationKind, Role
from telederm.accounts.services.users import PersonData, create_user
from telederm.audit.models import Action
from telederm.audit.services import Actor, record
from telederm.lib.identifiers import normalise_hsa_id


class Command(BaseCommand):
    help = "Create the region and its first region administrator (sends an activation e-mail)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--region-name", required=True)
        parser.add_argument("--region-hsa-id", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument("--first-name", required=True)
        parser.add_argument("--last-name", required=True)
        parser.add_argument("--hsa-id", required=True)
        parser.add_argument("--mobile", required=True)
        parser.add_argument("--title", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.system()
        try:
            region_hsa = normalise_hsa_id(options["region_hsa_id"])
            with transaction.atomic():
                region, created = Organisation.objects.get_or_create(
                    hsa_id=region_hsa,
                    defaults={"kind": OrganisationKind.REGION, "name": options["region_name"]},
                )
                if region.kind != OrganisationKind.REGION:
                    raise CommandError("That HSA-ID belongs to a unit that is not a region.")
                if created:
                    record(
                        Action.ORGANISATION_CREATED,
                        by=actor,
                        organisation=region,
                        target=region,
                        target_label=region.name,
                    )
                user = create_user(
                    organisation=region,
                    role=Role.REGION_ADMIN,
                    person=PersonData(
                        first_name=options["first_name"],
                        last_name=options["last_name"],
                        email=options["email"],
                        hsa_id=options["hsa_id"],
                        mobile=options["mobile"],
                        title=options["title"],
                    ),
                    by=actor,
                    check_permission=False,
                )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Region administrator {user.email} of {region.name} created; "
                "an activation link has been e-mailed."
            )
        )
