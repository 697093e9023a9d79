"""``manage.py verify_audit_log`` on either engine (the role checks: ``test_app_role.py``)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

pytestmark = pytest.mark.django_db


def test_verify_audit_log_passes_on_a_migrated_database() -> None:
    out = StringIO()
    call_command("verify_audit_log", stdout=out)
    assert "protection is in place" in out.getvalue()


def test_verify_audit_log_notices_a_dropped_trigger_on_sqlite() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the PostgreSQL variant disables a trigger in test_app_role.py")
    # DDL is transactional on SQLite: the savepoint brings the trigger back.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER audit_event_no_delete")
        with pytest.raises(CommandError, match="audit_event_no_delete is missing"):
            call_command("verify_audit_log", stdout=StringIO())
        transaction.set_rollback(True)
    call_command("verify_audit_log", stdout=StringIO())


def test_verify_audit_log_role_check_needs_postgresql() -> None:
    if connection.vendor == "postgresql":
        pytest.skip("covered by test_app_role.py")
    with pytest.raises(CommandError, match="needs PostgreSQL"):
        call_command("verify_audit_log", role="telederm_app")


def test_create_app_role_needs_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    if connection.vendor == "postgresql":
        pytest.skip("covered by test_app_role.py")
    monkeypatch.setenv("TELEDERM_TEST_APP_ROLE_PASSWORD", "x" * 20)
    with pytest.raises(CommandError, match="only on PostgreSQL"):
        call_command("create_app_role", password_env="TELEDERM_TEST_APP_ROLE_PASSWORD")
    with pytest.raises(CommandError, match="only on PostgreSQL"):
        call_command("create_app_role")
