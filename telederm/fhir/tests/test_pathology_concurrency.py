"""PAD results sent at the same moment through a live server (PostgreSQL): a repeated report
is registered once, and two different final results never overwrite each other."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from django.db import connection

from telederm.audit.models import Action, AuditEvent
from telederm.fhir.models import FhirPathologyLink
from telederm.fhir.tests.conftest import ApiWorld
from telederm.fhir.tests.test_pathology_in import URL, answered_referral, pad
from telederm.outcomes.models import FollowUp
from telederm.referrals.models import Referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def pg_referral(live_db: None, api: ApiWorld) -> Referral:
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency is tested on PostgreSQL")
    return answered_referral(api)


def _post_together(live_server: Any, token: str, bodies: list[dict[str, Any]]) -> list[int]:
    barrier = threading.Barrier(len(bodies))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}

    def one(body: dict[str, Any]) -> int:
        barrier.wait(timeout=30)
        with requests.Session() as session:
            response = session.post(
                f"{live_server.url}{URL}", data=json.dumps(body), headers=headers, timeout=120
            )
            return response.status_code

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return sorted(pool.map(one, bodies))


@pytest.mark.postgres_only
def test_concurrent_repeats_register_one_pad_result(
    api: ApiWorld, pg_referral: Referral, live_server: Any
) -> None:
    body = pad(pg_referral, api.world.gp_a)
    statuses = _post_together(live_server, api.token_a, [body] * 4)

    assert statuses == [200, 200, 200, 201]
    assert FollowUp.objects.get().version == 1
    assert FhirPathologyLink.objects.count() == 1
    assert AuditEvent.objects.filter(action=Action.OUTCOME_REGISTERED).count() == 1


@pytest.mark.postgres_only
def test_two_different_final_results_at_once_never_overwrite_each_other(
    api: ApiWorld, pg_referral: Referral, live_server: Any
) -> None:
    gp = api.world.gp_a
    first = pad(pg_referral, gp, identifier="PAD-1")
    second = pad(pg_referral, gp, identifier="PAD-2", diagnosis="bcc", findings=[])
    statuses = _post_together(live_server, api.token_a, [first, second])

    assert statuses == [201, 409]
    stored = FollowUp.objects.get()
    assert stored.version == 1
    assert not AuditEvent.objects.filter(action=Action.OUTCOME_CHANGED).exists()
