"""Rows that belong to no domain: request counters for rate limits (``web/ratelimit.py``)."""

from __future__ import annotations

from django.db import models


class RateLimitWindow(models.Model):
    """Requests counted for one name (e.g. ``fhir:<client id>``) in one fixed time window.

    Counted in the database because app servers share nothing else (the cache is per
    process). Rows are transient: expired ones are deleted as new windows start, and backups
    leave them out.
    """

    name = models.CharField(max_length=200)
    period = models.BigIntegerField(help_text="Window number: Unix time // window length.")
    hits = models.PositiveIntegerField(default=0)
    ends = models.BigIntegerField(db_index=True, help_text="Unix time the window ends.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "period"], name="rate_limit_window_once")
        ]

    def __str__(self) -> str:
        return f"{self.name} @{self.period}: {self.hits}"
