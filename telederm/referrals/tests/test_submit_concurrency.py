"""Twenty simultaneous submits of one referral make exactly one sent referral, and ten
simultaneous "New referral" submits of one form one draft (PostgreSQL)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection, connections

from telederm.audit.models import Action, AuditEvent
from telederm.audit.services import Actor
from telederm.referrals import services
from telederm.referrals.models import Referral, ReferralStatus
from telederm.referrals.tests.helpers import complete
from telederm.testing import World

pytestmark = pytest.mark.postgres_only
SUBMITS = 20


@pytest.fixture
def pg_world(live_db: None, world: World) -> World:
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency is tested on PostgreSQL")
    return world


def test_twenty_concurrent_submits_send_once(pg_world: World) -> None:
    world = pg_world
    referral = complete(world)
    barrier = Barrier(SUBMITS)

    def submit(_: int) -> str | None:
        try:
            barrier.wait(timeout=30)
            sent = services.submit_referral(
                referral=Referral.objects.get(pk=referral.pk), by=Actor(user=world.gp_a)
            )
            return sent.number
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=SUBMITS) as pool:
        numbers = list(pool.map(submit, range(SUBMITS)))

    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT
    assert set(numbers) == {referral.number}
    assert AuditEvent.objects.filter(action=Action.REFERRAL_SENT).count() == 1
    assert Referral.objects.filter(status=ReferralStatus.SENT).count() == 1


def test_ten_concurrent_starts_with_one_key_make_one_draft(pg_world: World) -> None:
    world = pg_world
    key = uuid.uuid4()
    barrier = Barrier(10)

    def start(_: int) -> int:
        try:
            barrier.wait(timeout=30)
            return services.start_referral(
                clinic=world.clinic_a, by=Actor(user=world.gp_a), client_key=key
            ).pk
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=10) as pool:
        drafts = set(pool.map(start, range(10)))
    assert len(drafts) == 1
    assert Referral.objects.filter(author=world.gp_a).count() == 1
    assert AuditEvent.objects.filter(action=Action.REFERRAL_CREATED).count() == 1
