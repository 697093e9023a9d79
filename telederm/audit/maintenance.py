"""Switch the append-only triggers off for table maintenance (flushing a test database).

Normal operation never calls this. On PostgreSQL the switch is a session setting (``SET``),
so it is undone with the transaction that set it; on SQLite it is a row in a marker table.
"""

from __future__ import annotations

from django.db import connections


def set_audit_maintenance(on: bool, *, using: str = "default") -> None:
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT set_config('telederm.audit_maintenance', %s, false)",
                ["on" if on else "off"],
            )
        elif connection.vendor == "sqlite":
            cursor.execute("DELETE FROM audit_maintenance_mode")
            if on:
                cursor.execute(
                    "INSERT INTO audit_maintenance_mode (on_since) VALUES (datetime('now'))"
                )
