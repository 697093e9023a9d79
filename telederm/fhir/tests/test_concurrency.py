"""Simultaneous POSTs of one referral (same identifier) make one referral (PostgreSQL)."""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from django.db import connection

from telederm.fhir.models import FhirReferralLink
from telederm.fhir.tests.conftest import ApiWorld, service_request
from telederm.images.models import LesionImage
from telederm.referrals.models import Referral

pytestmark = pytest.mark.postgres_only
REQUESTS = 6


@pytest.fixture
def pg_api(live_db: None, api: ApiWorld) -> ApiWorld:
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency is tested on PostgreSQL")
    return api


def test_concurrent_repeats_make_one_referral(
    pg_api: ApiWorld, live_server: Any, media_files: Callable[[], list[Path]]
) -> None:
    world = pg_api.world
    body = json.dumps(service_request(gp=world.gp_a, clinic=world.clinic_a))
    barrier = threading.Barrier(REQUESTS)
    headers = {
        "Authorization": f"Bearer {pg_api.token_a}",
        "Content-Type": "application/fhir+json",
    }

    def send(_: int) -> tuple[int, str]:
        barrier.wait(timeout=30)
        with requests.Session() as session:
            response = session.post(
                f"{live_server.url}/fhir/ServiceRequest", data=body, headers=headers, timeout=120
            )
            return response.status_code, response.headers.get("Location", "")

    with ThreadPoolExecutor(max_workers=REQUESTS) as pool:
        results = list(pool.map(send, range(REQUESTS)))
    gc.collect()

    statuses = sorted(status for status, _location in results)
    assert statuses == [200] * (REQUESTS - 1) + [201], results
    assert len({location for _status, location in results}) == 1
    assert Referral.objects.count() == 1
    assert FhirReferralLink.objects.count() == 1
    # The others waited at the identifier, rolled back, and stored no photos of their own.
    assert LesionImage.objects.count() == 2
    assert len(media_files()) == 6
