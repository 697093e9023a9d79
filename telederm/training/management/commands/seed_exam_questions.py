"""Load the starter question bank (``training/seed_questions.py``) into regions.

Idempotent: a question whose seed key the region already has (active or retired) is skipped,
so running it again, or after a region administrator retired or edited seeded questions,
changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from telederm.accounts.models import Organisation, OrganisationKind
from telederm.audit.services import Actor
from telederm.images.synthetic import TESTDATA
from telederm.training.models import Question
from telederm.training.questions import QuestionData, create_question
from telederm.training.seed_questions import IMAGE_ALT, QUESTIONS


class Command(BaseCommand):
    help = "Add the starter exam questions to every region (or one region) that lacks them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--region", help="HSA-ID of the region (default: every region)")

    def handle(self, *args: Any, **options: Any) -> None:
        regions = Organisation.objects.filter(kind=OrganisationKind.REGION)
        if options.get("region"):
            regions = regions.filter(hsa_id__iexact=options["region"])
            if not regions.exists():
                raise CommandError(f"No region with HSA-ID {options['region']}.")
        for region in regions:
            added = self._seed(region)
            self.stdout.write(f"{region.name}: {added} exam questions added.")

    def _seed(self, region: Organisation) -> int:
        have = set(
            Question.objects.filter(region=region)
            .exclude(seed_key="")
            .values_list("seed_key", flat=True)
        )
        added = 0
        for seed in QUESTIONS:
            if seed.key in have:
                continue
            create_question(
                region=region,
                data=QuestionData(
                    topic=seed.topic,
                    kind=seed.kind,
                    text=seed.text,
                    explanation=seed.explanation,
                    options=seed.options,
                    image_alt=(seed.image_alt or IMAGE_ALT) if seed.image else "",
                ),
                image=(TESTDATA / f"{seed.image}.jpg").read_bytes() if seed.image else None,
                seed_key=seed.key,
                by=Actor.system(),
            )
            added += 1
        return added
