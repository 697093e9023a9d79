"""Check that the database itself protects the audit log, and optionally the application role.

Exit status 0 when all is well, 1 with a list of problems otherwise; suitable for monitoring
and for a deployment pipeline after ``migrate`` and ``create_app_role``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from telederm.audit import roles


class Command(BaseCommand):
    help = (
        "Check the audit log's append-only triggers and, with --role (PostgreSQL), that the "
        "application's database role can only read and append to it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--role",
            help="The application's login role; 'current' checks the role of this connection.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        problems = roles.trigger_problems(connection)
        role = options["role"]
        if role:
            if connection.vendor != "postgresql":
                raise CommandError("--role needs PostgreSQL: SQLite has no database roles.")
            if role == "current":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT current_user")
                    row = cursor.fetchone()
                role = row[0] if row else ""
            problems += roles.role_problems(connection, role)
        if problems:
            raise CommandError("The audit log is not protected: " + "; ".join(problems))
        checked = f"triggers and role {role}" if role else "triggers"
        self.stdout.write(f"Audit log protection is in place ({checked}).")
