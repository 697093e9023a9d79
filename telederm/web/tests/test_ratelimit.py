"""The shared request counter behind the rate limits (``web/ratelimit.py``)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection, connections
from django.test import RequestFactory

from telederm.web import ratelimit
from telederm.web.models import RateLimitWindow

LIMIT = ratelimit.Limit("test", hits=10, seconds=60)


@pytest.mark.django_db
def test_the_count_is_per_name_and_refuses_beyond_the_limit() -> None:
    verdicts = [ratelimit.hit(LIMIT, "a") for _ in range(12)]

    assert [v.allowed for v in verdicts] == [True] * 10 + [False] * 2
    assert [v.first_refusal for v in verdicts] == [False] * 10 + [True, False]
    assert all(1 <= v.retry_after <= 60 for v in verdicts)
    assert ratelimit.hit(LIMIT, "b").allowed


@pytest.mark.django_db
def test_retry_after_is_the_time_left_in_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "_now", lambda: 6000.0 + 45.2)  # window [6000, 6060)
    assert ratelimit.hit(ratelimit.Limit("t", hits=1, seconds=60), "a").retry_after == 15


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("", "unknown"),
    ],
)
def test_client_network(address: str, network: str) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR=address)
    assert ratelimit.client_network(request) == network


@pytest.mark.postgres_only
def test_concurrent_requests_on_separate_connections_are_all_counted(live_db: None) -> None:
    """Twenty requests at once, each on its own database connection (as from several app
    servers): exactly the limit is let through."""
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency is tested on PostgreSQL")
    barrier = Barrier(20)

    def one(_: int) -> bool:
        try:
            barrier.wait(timeout=30)
            return ratelimit.hit(LIMIT, "shared").allowed
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=20) as pool:
        allowed = list(pool.map(one, range(20)))

    assert allowed.count(True) == 10
    assert RateLimitWindow.objects.get(name="test:shared").hits == 20
