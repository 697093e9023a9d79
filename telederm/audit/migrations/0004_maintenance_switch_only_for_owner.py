"""Honour the audit maintenance switch only for the owner of the audit table (PostgreSQL).

Migration 0002 let any session that set ``telederm.audit_maintenance`` bypass the append-only
triggers, and any role may set a custom setting. In production the application connects as a
restricted role (``manage.py create_app_role``) that does not own the table, so from now on the
switch is ignored unless both the session's login role and the current role are members of the
table's owner (superusers are members of every role). Migrations and test flushes run as the
owner and keep working.

The function pins its ``search_path`` and qualifies every call, so a role that can create
objects in a schema cannot shadow ``pg_has_role`` or ``current_setting`` with its own function.
SQLite has no roles; nothing changes there.
"""

from django.db import migrations

HARDENED = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
  owner oid;
BEGIN
  IF pg_catalog.current_setting('telederm.audit_maintenance', true) = 'on' THEN
    SELECT c.relowner INTO owner FROM pg_catalog.pg_class c WHERE c.oid = TG_RELID;
    IF pg_catalog.pg_has_role(session_user, owner, 'MEMBER')
       AND pg_catalog.pg_has_role(current_user, owner, 'MEMBER') THEN
      RETURN COALESCE(OLD, NEW);
    END IF;
  END IF;
  RAISE EXCEPTION 'audit log is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""

# The function as migration 0002 created it (for migrating backwards).
ORIGINAL = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
  IF current_setting('telederm.audit_maintenance', true) = 'on' THEN
    RETURN COALESCE(OLD, NEW);
  END IF;
  RAISE EXCEPTION 'audit log is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def harden(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(HARDENED)


def restore_original(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ORIGINAL)
        schema_editor.execute("ALTER FUNCTION audit_event_append_only() RESET ALL;")


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_action_without_choices")]
    operations = [migrations.RunPython(harden, restore_original)]
