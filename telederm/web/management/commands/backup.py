from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from telederm.web.backup import backup


class Command(BaseCommand):
    help = "Write a backup (database + stored files + manifest) to a new folder under TARGET."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("target", type=Path)

    def handle(self, *args: Any, target: Path, **options: Any) -> None:
        folder = backup(target)
        self.stdout.write(str(folder))
