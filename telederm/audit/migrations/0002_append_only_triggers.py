"""Make the audit log append-only in the database itself.

On both engines a trigger refuses UPDATE and DELETE of audit rows, so neither a bug nor a person
with the application's database access can quietly change history. Truncation on PostgreSQL is
refused too. Emptying the tables after a test with real commits needs the triggers off:
``telederm.audit.maintenance.set_audit_maintenance`` (a session setting on PostgreSQL, a marker
row on SQLite), used only by the ``live_db`` test fixture. Issue #7 adds a database role for the
application that cannot change the setting or the table.
"""

from django.db import migrations

SQLITE_CREATE = [
    """
    CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
    WHEN NOT EXISTS (SELECT 1 FROM audit_maintenance_mode)
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
    """,
    """
    CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
    WHEN NOT EXISTS (SELECT 1 FROM audit_maintenance_mode)
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_event_no_update;",
    "DROP TRIGGER IF EXISTS audit_event_no_delete;",
]
POSTGRES_CREATE = [
    """
    CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
    BEGIN
      IF current_setting('telederm.audit_maintenance', true) = 'on' THEN
        RETURN COALESCE(OLD, NEW);
      END IF;
      RAISE EXCEPTION 'audit log is append-only' USING ERRCODE = 'insufficient_privilege';
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
    """,
    """
    CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();
    """,
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;",
    "DROP TRIGGER IF EXISTS audit_event_no_change ON audit_auditevent;",
    "DROP FUNCTION IF EXISTS audit_event_append_only();",
]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(
            "CREATE TABLE IF NOT EXISTS audit_maintenance_mode (on_since TEXT NOT NULL);"
        )
        statements = SQLITE_CREATE
    elif vendor == "postgresql":
        statements = POSTGRES_CREATE
    else:
        raise RuntimeError(f"append-only audit log not implemented for {vendor}")
    for statement in statements:
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = SQLITE_DROP if vendor == "sqlite" else POSTGRES_DROP
    for statement in statements:
        schema_editor.execute(statement)
    if vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS audit_maintenance_mode;")


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
