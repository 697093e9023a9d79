"""Rate limits shared by every app server: a fixed-window request counter in the database.

The Django cache is per process here (no shared cache is configured), so counting in it would
let each app server allow the full limit. Instead each request adds one to a row per name and
window in a single atomic statement (``INSERT … ON CONFLICT DO UPDATE … RETURNING``, on
PostgreSQL and SQLite alike), so concurrent requests on any server are counted exactly. Call it
outside a transaction that may roll back, or the count goes with it.

Login lockouts (django-axes) and the SMS-code limit (``accounts/services/otp.py``) are counted in
the database too, by their own tables.
"""

from __future__ import annotations

import ipaddress
import math
import time
from dataclasses import dataclass

from django.db import connection
from django.http import HttpRequest

from telederm.web.models import RateLimitWindow


@dataclass(frozen=True)
class Limit:
    """At most ``hits`` requests per ``seconds``-long window; ``hits == 0`` means no limit."""

    scope: str
    hits: int
    seconds: int


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds until the window ends
    first_refusal: bool = False  # the first refused request of its window (log it once)


def _now() -> float:
    return time.time()


def hit(limit: Limit, who: str) -> Verdict:
    """Count one request by ``who`` and say whether it is within the limit."""
    if limit.hits <= 0:
        return Verdict(allowed=True)
    now = _now()
    period = int(now // limit.seconds)
    ends = (period + 1) * limit.seconds
    name = f"{limit.scope}:{who}"[:200]
    quote = connection.ops.quote_name
    table = quote(RateLimitWindow._meta.db_table)
    name_col, period_col, hits_col, ends_col = (
        quote(c) for c in ("name", "period", "hits", "ends")
    )
    with connection.cursor() as cursor:
        # Only quoted identifiers of this model are formatted into the statements.
        cursor.execute(
            f"INSERT INTO {table} ({name_col}, {period_col}, {hits_col}, {ends_col})"  # noqa: S608
            f" VALUES (%s, %s, 1, %s) ON CONFLICT ({name_col}, {period_col})"
            f" DO UPDATE SET {hits_col} = {table}.{hits_col} + 1 RETURNING {hits_col}",
            [name, period, ends],
        )
        row = cursor.fetchone()
        hits = int(row[0]) if row else 1
        if hits == 1:  # a new window for this name: clear away windows that have ended
            cursor.execute(f"DELETE FROM {table} WHERE {ends_col} <= %s", [int(now)])  # noqa: S608
    return Verdict(
        allowed=hits <= limit.hits,
        retry_after=max(1, math.ceil(ends - now)),
        first_refusal=hits == limit.hits + 1,
    )


def client_network(request: HttpRequest) -> str:
    """The caller's address as the proxy in front of us reports it (``REMOTE_ADDR``, as for
    the login lockout); IPv6 by its /64, since one household or device holds a whole /64."""
    raw = request.META.get("REMOTE_ADDR", "")
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
