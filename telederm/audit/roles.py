"""The restricted PostgreSQL role the application runs as, and checks that the log is protected.

Two roles in production (``docs/deployment.md``): the *owner* role runs migrations and owns
every table; the *application* role (``manage.py create_app_role``) may read and write the
application's tables but on the audit table only ``SELECT`` and ``INSERT``. Because it owns
nothing, it cannot ``ALTER TABLE … DISABLE TRIGGER``, drop the triggers or replace their
function, and the trigger function ignores the maintenance switch for any role that is not a
member of the table's owner (migration ``audit/0004``). So even a complete takeover of the
application (code execution with its database connection) cannot change or delete history.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

from telederm.audit.models import AuditEvent

AUDIT_TABLE = AuditEvent._meta.db_table
TRIGGERS = ("audit_event_no_change", "audit_event_no_truncate")
APP_TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
AUDIT_TABLE_PRIVILEGES = ("SELECT", "INSERT")
REFUSED_AUDIT_PRIVILEGES = ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES")


class RoleError(Exception):
    pass


@dataclass(frozen=True)
class Target:
    """Where the role is set up: the database, the schema of the tables and their owner."""

    database: str
    schema: str
    owner: str


def _quote(connection: BaseDatabaseWrapper, name: str) -> str:
    return str(connection.ops.quote_name(name))


def _literal(connection: BaseDatabaseWrapper, value: str) -> str:
    from psycopg import sql

    connection.ensure_connection()
    return sql.Literal(value).as_string(connection.connection)


def _require_postgresql(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor != "postgresql":
        raise RoleError("database roles exist only on PostgreSQL")


def target(connection: BaseDatabaseWrapper) -> Target:
    _require_postgresql(connection)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_database(), n.nspname, pg_get_userbyid(c.relowner)"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.oid = to_regclass(%s)",
            [AUDIT_TABLE],
        )
        row = cursor.fetchone()
    if row is None:
        raise RoleError(f"table {AUDIT_TABLE} not found: run manage.py migrate first")
    return Target(database=row[0], schema=row[1], owner=row[2])


def encrypted_password(connection: BaseDatabaseWrapper, role: str, password: str) -> str:
    """A SCRAM-SHA-256 verifier made on this side, so the password never reaches server logs."""
    _require_postgresql(connection)
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    verifier = pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256")
    return bytes(verifier).decode("ascii")


def role_exists(connection: BaseDatabaseWrapper, role: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        return cursor.fetchone() is not None


def statements(
    connection: BaseDatabaseWrapper, *, role: str, password_verifier: str | None
) -> list[str]:
    """The SQL that creates or updates ``role`` (idempotent; run it again after migrations)."""
    where = target(connection)
    if role == where.owner:
        raise RoleError(f"{role} owns the tables: the application role must be another role")
    r, schema, owner = _quote(connection, role), _quote(connection, where.schema), where.owner
    audit = f"{schema}.{_quote(connection, AUDIT_TABLE)}"
    password = f" PASSWORD {_literal(connection, password_verifier)}" if password_verifier else ""
    limits = "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT"
    if role_exists(connection, role):
        first = f"ALTER ROLE {r} WITH LOGIN NOCREATEDB NOCREATEROLE{password}"
    else:
        if not password:
            raise RoleError(f"role {role} does not exist yet: give it a password")
        first = f"CREATE ROLE {r} WITH LOGIN {limits}{password}"
    owner_q = _quote(connection, owner)
    app_privileges = ", ".join(APP_TABLE_PRIVILEGES)
    return [
        first,
        f"GRANT CONNECT ON DATABASE {_quote(connection, where.database)} TO {r}",
        f"GRANT USAGE ON SCHEMA {schema} TO {r}",
        f"GRANT {app_privileges} ON ALL TABLES IN SCHEMA {schema} TO {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {r}",
        # Tables created by later migrations are usable at once; the audit table is fixed below.
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner_q} IN SCHEMA {schema}"
        f" GRANT {app_privileges} ON TABLES TO {r}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner_q} IN SCHEMA {schema}"
        f" GRANT USAGE, SELECT ON SEQUENCES TO {r}",
        f"REVOKE ALL ON TABLE {audit} FROM {r}",
        f"GRANT {', '.join(AUDIT_TABLE_PRIVILEGES)} ON TABLE {audit} TO {r}",
    ]


def trigger_problems(connection: BaseDatabaseWrapper) -> list[str]:
    """What is missing from the database's own protection of the log (both engines)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [AUDIT_TABLE],
            )
            present = {name for (name,) in cursor.fetchall()}
            wanted = {"audit_event_no_update", "audit_event_no_delete"}
            return [f"trigger {name} is missing" for name in sorted(wanted - present)]
        _require_postgresql(connection)
        cursor.execute(
            "SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = to_regclass(%s)",
            [AUDIT_TABLE],
        )
        found = dict(cursor.fetchall())
        cursor.execute(
            "SELECT prosrc, coalesce(array_to_string(proconfig, ','), '') FROM pg_proc"
            " WHERE proname = 'audit_event_append_only'"
        )
        functions = cursor.fetchall()
    problems = []
    for name in TRIGGERS:
        if name not in found:
            problems.append(f"trigger {name} is missing")
        elif found[name] not in ("O", "A"):
            problems.append(f"trigger {name} is disabled")
    if len(functions) != 1:
        problems.append("trigger function audit_event_append_only is missing or duplicated")
    elif "pg_has_role" not in functions[0][0] or "search_path=pg_catalog" not in functions[0][1]:
        problems.append("trigger function honours the maintenance switch for every role")
    return problems


def role_problems(connection: BaseDatabaseWrapper, role: str) -> list[str]:
    """Why ``role`` could change or delete audit rows, or could not run the application."""
    where = target(connection)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolcanlogin, rolsuper, rolcreaterole, rolreplication, rolbypassrls,"
            " pg_has_role(rolname, %s, 'MEMBER')"
            " FROM pg_roles WHERE rolname = %s",
            [where.owner, role],
        )
        row = cursor.fetchone()
        if row is None:
            return [f"role {role} does not exist"]
        login, superuser, createrole, replication, bypassrls, owner_member = row
        problems = [
            message
            for flag, message in (
                (not login, "cannot log in"),
                (superuser, "is a superuser"),
                (createrole, "may create roles (and so join the owner role)"),
                (replication, "may replicate"),
                (bypassrls, "bypasses row security"),
                (owner_member, f"is a member of the owner role {where.owner}"),
            )
            if flag
        ]
        audit = f'"{where.schema}"."{AUDIT_TABLE}"'
        for privilege in AUDIT_TABLE_PRIVILEGES:
            if not _has(cursor, role, audit, privilege):
                problems.append(f"lacks {privilege} on {AUDIT_TABLE}")
        for privilege in REFUSED_AUDIT_PRIVILEGES:
            if _has(cursor, role, audit, privilege):
                problems.append(f"has {privilege} on {AUDIT_TABLE}")
        if _setting_allowed(cursor, role, "session_replication_role"):
            problems.append("may set session_replication_role (which skips triggers)")
        problems += _missing_app_privileges(cursor, role, where.schema)
    return [f"role {role} {problem}" for problem in problems]


def _has(cursor: CursorWrapper, role: str, table: str, privilege: str) -> bool:
    cursor.execute("SELECT has_table_privilege(%s, to_regclass(%s), %s)", [role, table, privilege])
    row = cursor.fetchone()
    return bool(row and row[0])


def _setting_allowed(cursor: CursorWrapper, role: str, setting: str) -> bool:
    cursor.execute("SELECT current_setting('server_version_num')::int")
    row = cursor.fetchone()
    if row is None or row[0] < 150000:
        return False  # before PostgreSQL 15 only superusers may set it (checked above)
    cursor.execute("SELECT has_parameter_privilege(%s, %s, 'SET')", [role, setting])
    row = cursor.fetchone()
    return bool(row and row[0])


def _missing_app_privileges(cursor: CursorWrapper, role: str, schema: str) -> list[str]:
    """Tables and sequences of the schema the role cannot use as the application needs."""
    checks = ", ".join(
        f"has_table_privilege(%(role)s, c.oid, '{privilege}')" for privilege in APP_TABLE_PRIVILEGES
    )
    # Only the constant privilege names above are formatted into the query.
    cursor.execute(
        f"SELECT c.relname, c.relkind, {checks},"  # noqa: S608
        " CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(%(role)s, c.oid, 'USAGE') END"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p', 'S') ORDER BY c.relname",
        {"role": role, "schema": schema},
    )
    missing = []
    for name, kind, *granted in cursor.fetchall():
        if kind == "S":
            if not granted[-1]:
                missing.append(f"lacks USAGE on sequence {name}")
        elif name != AUDIT_TABLE:
            table_grants = zip(APP_TABLE_PRIVILEGES, granted[:-1], strict=True)
            lacking = [privilege for privilege, has in table_grants if not has]
            if lacking:
                missing.append(f"lacks {', '.join(lacking)} on {name}")
    return missing
