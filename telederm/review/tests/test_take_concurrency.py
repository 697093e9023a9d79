"""Two dermatologists take and answer the same case at the same moment (PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from telederm.accounts.models import Role, User
from telederm.accounts.tests.factories import member
from telederm.audit.models import Action, AuditEvent
from telederm.audit.services import Actor
from telederm.referrals.models import Referral
from telederm.referrals.tests.helpers import send
from telederm.review import services
from telederm.testing import World

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def pg_world(live_db: None, world: World) -> World:
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency is tested on PostgreSQL")
    return world


def race(
    referral: Referral, people: list[User], work: Callable[[Referral, User], object]
) -> list[str]:
    barrier = Barrier(len(people))

    def attempt(user: User) -> str:
        try:
            barrier.wait(timeout=30)
            work(Referral.objects.get(pk=referral.pk), user)
            return "ok"
        except ValidationError:
            return "refused"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(people)) as pool:
        return list(pool.map(attempt, people))


def test_two_dermatologists_taking_at_once_one_wins(pg_world: World) -> None:
    world = pg_world
    colleague = member(world.unit_x, Role.DERMATOLOGIST)
    referral = send(world)
    results = race(
        referral,
        [world.derm_x, colleague],
        lambda r, u: services.take_case(referral=r, by=Actor(user=u)),
    )
    assert sorted(results) == ["ok", "refused"]
    assert AuditEvent.objects.filter(action=Action.CASE_TAKEN).count() == 1


def test_answering_at_once_sends_one_answer(pg_world: World) -> None:
    world = pg_world
    referral = send(world)
    services.take_case(referral=referral, by=Actor(user=world.derm_x))
    results = race(
        referral,
        [world.derm_x] * 5,
        lambda r, u: services.send_answer(
            referral=r,
            diagnosis="benign_naevus",
            certainty="certain",
            action="none",
            text_to_gp="Benignt.",
            by=Actor(user=u),
        ),
    )
    assert results == ["ok"] * 5
    assert AuditEvent.objects.filter(action=Action.ANSWER_SENT).count() == 1
