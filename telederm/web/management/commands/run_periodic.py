"""Queue Telederm's periodic work (django-tasks has no scheduler of its own).

Run one of these next to the task workers (``make run`` starts it). Every interval it enqueues
the periodic tasks; the tasks themselves are idempotent, so two schedulers or a restart never
cause double notifications.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from telederm.images.tasks import remove_orphan_files_task
from telederm.integrations.tasks import export_due_task
from telederm.outcomes.tasks import remind_follow_ups_task
from telederm.review.tasks import flag_deadlines_task

SWEEP_EVERY_SECONDS = 3600  # orphan photo files: hourly is plenty


class Command(BaseCommand):
    help = "Enqueue periodic tasks (deadline warnings) every --interval seconds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=int, default=300)
        parser.add_argument("--once", action="store_true", help="Enqueue once and exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        last_sweep = 0.0
        while True:
            flag_deadlines_task.enqueue()
            export_due_task.enqueue()
            if time.monotonic() - last_sweep >= SWEEP_EVERY_SECONDS:
                remove_orphan_files_task.enqueue()
                remind_follow_ups_task.enqueue()  # follow-up reminders: idempotent
                last_sweep = time.monotonic()
            if options["once"]:
                return
            time.sleep(max(10, options["interval"]))
