"""The application's own database role can read and append to the audit log, and nothing more.

Each refusal is checked against a contrast that succeeds (the owner, or the role itself on
another table), so a test that passes because nothing works at all is not possible.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from importlib import import_module
from io import StringIO
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection
from psycopg import errors

from telederm.audit.maintenance import set_audit_maintenance
from telederm.audit.models import Action, AuditEvent
from telederm.audit.services import Actor, record

pytestmark = pytest.mark.postgres_only
PASSWORD_ENV = "TELEDERM_TEST_APP_ROLE_PASSWORD"
BASE_DIR = Path(__file__).resolve().parents[3]
HARDENED: str = import_module(
    "telederm.audit.migrations.0004_maintenance_switch_only_for_owner"
).HARDENED


@pytest.fixture
def pg(live_db: None) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("database roles exist only on PostgreSQL")


@pytest.fixture
def app_role(pg: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    role = f"telederm_app_test_{os.getpid()}_{secrets.token_hex(3)}"
    monkeypatch.setenv(PASSWORD_ENV, secrets.token_urlsafe(24))
    call_command("create_app_role", role=role, password_env=PASSWORD_ENV, stdout=StringIO())
    yield role
    with connection.cursor() as cursor:
        cursor.execute(f'DROP OWNED BY "{role}"')
        cursor.execute(f'DROP ROLE "{role}"')


@pytest.fixture
def as_app(app_role: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection to the test database as the application role (autocommit)."""
    params = connection.settings_dict
    with psycopg.connect(
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        dbname=params["NAME"],
        user=app_role,
        password=os.environ[PASSWORD_ENV],
        autocommit=True,
    ) as conn:
        yield conn


@pytest.fixture
def event(pg: None) -> AuditEvent:
    return record(Action.LOGOUT, by=Actor(user=None, ip="192.0.2.1", user_agent="test"))


def _columns() -> str:
    return ", ".join(f.column for f in AuditEvent._meta.concrete_fields if not f.primary_key)


def _append_copy(conn: psycopg.Connection[Any], event: AuditEvent) -> int:
    row = conn.execute(
        f"INSERT INTO audit_auditevent ({_columns()}) SELECT {_columns()} FROM audit_auditevent"  # noqa: S608
        " WHERE id = %s RETURNING id",
        [event.pk],
    ).fetchone()
    assert row is not None
    return int(row[0])


def _refused(conn: psycopg.Connection[Any], statement: str) -> str:
    """Run a statement that must fail for lack of privilege; return the server's message."""
    with pytest.raises(errors.InsufficientPrivilege) as refused:
        conn.execute(statement)
    return str(refused.value)


def _snapshot() -> list[tuple[Any, ...]]:
    return list(AuditEvent.objects.order_by("pk").values_list("pk", "action", "actor_email"))


def test_app_role_reads_and_appends_to_the_audit_log(
    as_app: psycopg.Connection[Any], event: AuditEvent
) -> None:
    new_id = _append_copy(as_app, event)

    assert AuditEvent.objects.get(pk=new_id).action == Action.LOGOUT
    assert as_app.execute("SELECT count(*) FROM audit_auditevent").fetchone() == (2,)


def test_app_role_cannot_update_delete_or_truncate_the_audit_log(
    as_app: psycopg.Connection[Any], event: AuditEvent
) -> None:
    before = _snapshot()
    for statement in (
        "UPDATE audit_auditevent SET actor_email = 'forged@example.se'",
        "DELETE FROM audit_auditevent",
        "TRUNCATE audit_auditevent",
    ):
        assert "permission denied" in _refused(as_app, statement)
    assert _snapshot() == before
    # Contrast: the same role updates and deletes in an ordinary table of the application.
    as_app.execute("UPDATE django_session SET expire_date = expire_date")
    assert as_app.execute("DELETE FROM django_session").rowcount == 0


def test_app_role_cannot_switch_the_triggers_off_or_replace_them(
    as_app: psycopg.Connection[Any], event: AuditEvent
) -> None:
    for statement in (
        "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_change",
        "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_event_no_change ON audit_auditevent",
        "ALTER TABLE audit_auditevent OWNER TO CURRENT_USER",
        "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger"
        " LANGUAGE plpgsql AS $$ BEGIN RETURN COALESCE(OLD, NEW); END; $$",
        "DROP FUNCTION audit_event_append_only() CASCADE",
        "SET session_replication_role = replica",  # replica mode skips ordinary triggers
        "SET ROLE postgres",
    ):
        _refused(as_app, statement)
    # Granting itself the privileges it lacks is a no-op with a warning, not a way in.
    as_app.execute("GRANT UPDATE, DELETE ON audit_auditevent TO CURRENT_USER")
    _refused(as_app, "DELETE FROM audit_auditevent")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_maintenance_switch_works_for_the_owner_only(
    app_role: str, as_app: psycopg.Connection[Any], event: AuditEvent
) -> None:
    # Even if someone later grants the role write privileges on the table by mistake, the
    # trigger still refuses it, with or without the maintenance switch.
    with connection.cursor() as cursor:
        cursor.execute(f'GRANT UPDATE, DELETE, TRUNCATE ON audit_auditevent TO "{app_role}"')
    copy_id = _append_copy(as_app, event)
    as_app.execute("SELECT set_config('telederm.audit_maintenance', 'on', false)")
    for statement in (
        "UPDATE audit_auditevent SET actor_email = 'forged@example.se'",
        "DELETE FROM audit_auditevent",
        "TRUNCATE audit_auditevent",
    ):
        assert "audit log is append-only" in _refused(as_app, statement)
    assert AuditEvent.objects.filter(pk=copy_id).exists()

    # Contrast: the owner, with the switch on, can delete (what test flushes rely on); without
    # it, the owner is refused too.
    with pytest.raises(DatabaseError, match="append-only"), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [copy_id])
    set_audit_maintenance(True)
    try:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [copy_id])
    finally:
        set_audit_maintenance(False)
    assert not AuditEvent.objects.filter(pk=copy_id).exists()


def test_own_functions_on_the_search_path_do_not_open_the_switch(
    app_role: str, as_app: psycopg.Connection[Any], event: AuditEvent
) -> None:
    # The worst case: a role that may create functions and has (wrongly) been given DELETE.
    with connection.cursor() as cursor:
        cursor.execute(f'GRANT CREATE ON SCHEMA public TO "{app_role}"')
        cursor.execute(f'GRANT DELETE ON audit_auditevent TO "{app_role}"')
    as_app.execute(
        "CREATE FUNCTION public.pg_has_role(name, oid, text) RETURNS boolean"
        " LANGUAGE sql AS 'SELECT true'"
    )
    as_app.execute("SET search_path = public, pg_catalog")
    as_app.execute("SELECT set_config('telederm.audit_maintenance', 'on', false)")
    assert as_app.execute("SELECT pg_has_role('x', 0::oid, 'MEMBER')").fetchone() == (True,)

    erase = "DELETE FROM audit_auditevent"
    _refused(as_app, erase)
    assert AuditEvent.objects.filter(pk=event.pk).exists()

    # Contrast: the same attack opens a trigger function that checks the role with an
    # unqualified call and no pinned search_path. So the attack is real, and the pinning is what
    # stops it.
    naive = HARDENED.replace("SET search_path = pg_catalog", "").replace(
        "pg_catalog.pg_has_role", "pg_has_role"
    )
    with connection.cursor() as cursor:
        cursor.execute(naive)
    try:
        as_app.execute(erase)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(HARDENED)
    assert not AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_application_runs_as_the_role(app_role: str, event: AuditEvent, tmp_path: Path) -> None:
    """The real application code (ORM, services, identity columns) works as the role."""
    params = connection.settings_dict
    url = (
        f"postgres://{app_role}:{os.environ[PASSWORD_ENV]}@{params['HOST'] or '127.0.0.1'}:"
        f"{params['PORT'] or 5432}/{params['NAME']}"
    )
    script = f"""
import json, django
django.setup()
from django.db import DatabaseError, connection, transaction
from telederm.audit.maintenance import set_audit_maintenance
from telederm.audit.models import Action, AuditEvent
from telederm.audit.services import Actor, record
result = {{"appended": record(Action.LOGOUT, by=Actor.system()).pk}}
set_audit_maintenance(True)
for name, change in (
    ("update", lambda: AuditEvent.objects.filter(pk={event.pk}).update(actor_email="x@y.se")),
    ("delete", lambda: AuditEvent.objects.filter(pk={event.pk}).delete()),
):
    try:
        with transaction.atomic():
            change()
        result[name] = "done"
    except DatabaseError as exc:
        result[name] = type(exc).__name__
with connection.cursor() as cursor:
    cursor.execute("SELECT current_user")
    result["user"] = cursor.fetchone()[0]
print(json.dumps(result))
"""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TELEDERM_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "telederm.settings",
    }
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["user"] == app_role
    assert AuditEvent.objects.filter(pk=result["appended"]).exists()
    assert (result["update"], result["delete"]) == ("ProgrammingError", "ProgrammingError")
    assert AuditEvent.objects.get(pk=event.pk).actor_email == ""


def test_verify_audit_log_accepts_the_role_and_rejects_the_owner(app_role: str) -> None:
    out = StringIO()
    call_command("verify_audit_log", role=app_role, stdout=out)
    with pytest.raises(CommandError, match="is a superuser"):
        call_command("verify_audit_log", role="current", stdout=out)


def test_verify_audit_log_notices_a_disabled_trigger(pg: None) -> None:
    out = StringIO()
    call_command("verify_audit_log", stdout=out)
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_change")
    try:
        with pytest.raises(CommandError, match="audit_event_no_change is disabled"):
            call_command("verify_audit_log", stdout=out)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_change")


def _verifier(role: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [role])
        row = cursor.fetchone()
    return str(row[0]) if row else ""


def test_create_app_role_is_repeatable_and_keeps_the_password(app_role: str) -> None:
    verifier = _verifier(app_role)
    assert verifier.startswith("SCRAM-SHA-256$")  # only a verifier ever reached the server

    call_command("create_app_role", role=app_role, stdout=StringIO())

    assert _verifier(app_role) == verifier
    call_command("verify_audit_log", role=app_role, stdout=StringIO())


def test_create_app_role_refuses_the_owner_and_a_new_role_without_password(pg: None) -> None:
    with pytest.raises(CommandError, match="owns the tables"):
        call_command("create_app_role", role="postgres")
    with pytest.raises(CommandError, match="give it a password"):
        call_command("create_app_role", role=f"telederm_nobody_{secrets.token_hex(3)}")


def test_print_sql_shows_the_statements_without_running_them(
    pg: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    role = f"telederm_app_test_{os.getpid()}_{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(24)
    monkeypatch.setenv(PASSWORD_ENV, password)
    out = StringIO()

    call_command(
        "create_app_role", role=role, password_env=PASSWORD_ENV, print_sql=True, stdout=out
    )

    sql = out.getvalue()
    assert f'CREATE ROLE "{role}" WITH LOGIN NOSUPERUSER' in sql
    assert 'GRANT SELECT, INSERT ON TABLE "public"."audit_auditevent"' in sql
    assert "SCRAM-SHA-256$" in sql
    assert password not in sql
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        assert cursor.fetchone() is None
