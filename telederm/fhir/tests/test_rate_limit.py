"""Each API client has its own call budget per window; beyond it: 429, Retry-After and an
OperationOutcome with the issue code ``throttled``."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import LazySettings
from django.test import Client
from django.utils import translation
from django.utils.translation import ngettext
from fhir.resources.R4B.operationoutcome import OperationOutcome

from telederm.audit.models import Action, AuditEvent
from telederm.fhir.tests.conftest import ApiWorld, bearer
from telederm.web import ratelimit
from telederm.web.models import RateLimitWindow

pytestmark = pytest.mark.django_db
SEARCH = "/fhir/ServiceRequest?patient.identifier=191212121212"


@pytest.fixture
def limit_three(settings: LazySettings) -> None:
    settings.TELEDERM_FHIR_RATE_LIMIT = 3
    settings.TELEDERM_FHIR_RATE_WINDOW_SECONDS = 60


def search(token: str, **headers: str) -> Any:
    return Client().get(SEARCH, headers={**bearer(token), **headers})


def test_calls_up_to_the_limit_are_served(limit_three: None, api: ApiWorld) -> None:
    assert [search(api.token_a).status_code for _ in range(3)] == [200, 200, 200]


def test_the_call_over_the_limit_gets_429_with_retry_after_and_an_operation_outcome(
    limit_three: None, api: ApiWorld
) -> None:
    for _ in range(3):
        search(api.token_a)

    response = search(api.token_a, **{"Accept-Language": "en"})

    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/fhir+json")
    seconds = int(response["Retry-After"])
    assert 1 <= seconds <= 60
    outcome = OperationOutcome.model_validate_json(response.content)
    (issue,) = outcome.issue
    assert (issue.severity, issue.code) == ("error", "throttled")
    with translation.override("en"):
        expected = ngettext(
            "Too many requests from this client. Try again in %(seconds)d second.",
            "Too many requests from this client. Try again in %(seconds)d seconds.",
            seconds,
        ) % {"seconds": seconds}
    assert issue.diagnostics == expected


def test_another_client_is_not_affected(limit_three: None, api: ApiWorld) -> None:
    for _ in range(4):
        search(api.token_a)
    assert search(api.token_a).status_code == 429

    assert [search(api.token_b).status_code for _ in range(3)] == [200, 200, 200]


def test_the_client_is_served_again_in_the_next_window(
    limit_three: None, api: ApiWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(3):
        search(api.token_a)
    refused = search(api.token_a)
    assert refused.status_code == 429

    now = ratelimit._now()
    monkeypatch.setattr(ratelimit, "_now", lambda: now + int(refused["Retry-After"]))
    assert search(api.token_a).status_code == 200
    # The ended window's counter was cleared away when the new one began.
    assert RateLimitWindow.objects.count() == 1


def test_refusals_are_audited_once_per_window(limit_three: None, api: ApiWorld) -> None:
    for _ in range(8):
        search(api.token_a)

    throttled = AuditEvent.objects.filter(action=Action.FHIR_DENIED, success=False)
    assert [event.detail["reason"] for event in throttled] == ["throttled"]
    assert throttled.get().detail["api_client"] == "EHR A"
    assert AuditEvent.objects.filter(action=Action.FHIR_READ).count() == 3


def test_calls_without_a_valid_token_do_not_use_up_a_clients_budget(
    limit_three: None, api: ApiWorld
) -> None:
    for _ in range(5):
        assert search("tdfhir_not-a-token").status_code == 401
    assert [search(api.token_a).status_code for _ in range(3)] == [200, 200, 200]


def test_limit_zero_turns_the_limit_off(settings: LazySettings, api: ApiWorld) -> None:
    settings.TELEDERM_FHIR_RATE_LIMIT = 0
    assert {search(api.token_a).status_code for _ in range(5)} == {200}
    assert not RateLimitWindow.objects.exists()


def test_the_default_limit_leaves_room_for_real_clients(settings: LazySettings) -> None:
    # 20 calls a second, every second: far above an EHR's use, below a client stuck in a loop.
    assert settings.TELEDERM_FHIR_RATE_LIMIT / settings.TELEDERM_FHIR_RATE_WINDOW_SECONDS >= 20
