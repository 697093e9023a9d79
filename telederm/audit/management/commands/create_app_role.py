"""Create or update the restricted PostgreSQL role the application runs as (see audit/roles.py).

Run it as the owner role (the one that runs ``migrate``), after every ``migrate``:

    TELEDERM_APP_DB_PASSWORD=… DATABASE_URL=$OWNER_DATABASE_URL \\
        manage.py create_app_role --role telederm_app --password-env TELEDERM_APP_DB_PASSWORD

The password is read from the environment (never from the command line, where ``ps`` shows it)
and sent to the server only as a SCRAM verifier. The command then checks the result and fails
if the role could change the audit log.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from telederm.audit import roles


class Command(BaseCommand):
    help = (
        "Create or update the PostgreSQL login role the application runs as: it may use every "
        "table, but the audit log only to read and append."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--role", default="telederm_app", help="Name of the login role.")
        parser.add_argument(
            "--password-env",
            metavar="VARIABLE",
            help="Environment variable holding the role's password (required for a new role; "
            "for an existing role, omit to keep its password).",
        )
        parser.add_argument(
            "--print-sql",
            action="store_true",
            help="Print the statements (password as a SCRAM verifier) instead of running them.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        role: str = options["role"]
        verifier = None
        if options["password_env"]:
            password = os.environ.get(options["password_env"], "")
            if len(password) < 16:
                raise CommandError(
                    f"{options['password_env']} must hold a password of at least 16 characters."
                )
            try:
                verifier = roles.encrypted_password(connection, role, password)
            except roles.RoleError as exc:
                raise CommandError(str(exc)) from exc
        try:
            sql = roles.statements(connection, role=role, password_verifier=verifier)
        except roles.RoleError as exc:
            raise CommandError(str(exc)) from exc
        if options["print_sql"]:
            for statement in sql:
                self.stdout.write(statement + ";")
            return
        with transaction.atomic():
            with connection.cursor() as cursor:
                for statement in sql:
                    cursor.execute(statement)
            problems = roles.role_problems(connection, role) + roles.trigger_problems(connection)
            if problems:
                # Raising rolls the whole change back: no half-configured role is left behind.
                raise CommandError("; ".join(problems))
        self.stdout.write(
            f"Role {role} is ready: it may read and append to the audit log, nothing more."
        )
