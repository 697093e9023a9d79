from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from telederm.web.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restore a backup folder into a new, empty instance (runs migrate first)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path)

    def handle(self, *args: Any, folder: Path, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        try:
            report = restore(folder)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"restored {sum(report.rows.values())} rows and {report.files} files from {folder}"
        )
