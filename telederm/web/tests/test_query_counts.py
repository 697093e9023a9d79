"""The number of SQL queries a page makes must not grow with the data (no N+1).

Each page is rendered twice: with a small history and with a larger one (more referrals of the
same patient and of others, answers, messages). The counts must be equal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from telederm.accounts.models import User
from telederm.audit.services import Actor
from telederm.messaging.models import Channel
from telederm.messaging.services import post_message
from telederm.referrals.models import Referral
from telederm.referrals.tests.helpers import send
from telederm.review import services as review
from telederm.testing import World, login

pytestmark = pytest.mark.django_db


def _answered(world: World) -> Referral:
    referral = send(world)
    review.take_case(referral=referral, by=Actor(user=world.derm_x))
    review.send_answer(
        referral=referral,
        diagnosis="benign_naevus",
        certainty="certain",
        action="none",
        text_to_gp="Benignt.",
        by=Actor(user=world.derm_x),
    )
    post_message(
        referral=referral,
        channel=Channel.CLINIC,
        body="Tack!",
        by=Actor(user=world.gp_a),
    )
    return referral


def _grow(world: World, n: int) -> None:
    for i in range(n):
        if i % 2:
            _answered(world)
        else:
            send(world)


def _count(client: Client, url: str) -> int:
    """Queries run while serving ``url`` (counted by a wrapper: the request itself resets
    Django's query log, so ``CaptureQueriesContext`` would miscount across a request)."""
    executed: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(url)
    assert response.status_code == 200, url
    assert executed, "no queries counted: the counter is broken"
    return len(executed)


PAGES: dict[str, tuple[str, Callable[[Referral], str]]] = {
    "clinic start page": ("gp_a", lambda r: reverse("web:start")),
    "referral list": ("gp_a", lambda r: reverse("referrals:index")),
    "referral page": ("gp_a", lambda r: reverse("referrals:detail", args=[r.public_id])),
    "review queue": ("derm_x", lambda r: reverse("review:queue")),
    "review start page": ("derm_x", lambda r: reverse("web:start")),
    "case page": ("derm_x", lambda r: reverse("review:case", args=[r.public_id])),
    "message inbox": ("gp_a", lambda r: reverse("messaging:inbox")),
}


def test_queries_per_page_do_not_grow_with_the_data(client: Client, world: World) -> None:
    target = _answered(world)
    _grow(world, 1)

    def counts() -> dict[str, int]:
        found = {}
        for page, (persona, url_of) in sorted(PAGES.items()):
            user: User = getattr(world, persona)
            client.logout()
            login(client, user)
            client.get(url_of(target))  # warm what is cached per process, not per request
            found[page] = _count(client, url_of(target))
        return found

    small = counts()
    _grow(world, 5)
    large = counts()
    grown = {page: (small[page], large[page]) for page in PAGES if large[page] != small[page]}
    assert grown == {}, f"queries (3 referrals, 8 referrals) per page: {grown}"
