"""The FHIR API's permission matrix: every route, for every kind of caller.

Callers: no token, a wrong token, an inactive client, a client without the route's scope, the
clinic's own client (A) and another clinic's client (B). Rules: no valid token → 401 (never a
login page); the scope missing → 403; another clinic's data → 404 or absent from searches (no
access looks like not found); the own client → served. The routes are taken from the URL
resolver, so a new route without a row here fails ``test_every_fhir_route_is_in_the_matrix``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from telederm.accounts.models import Role
from telederm.audit.services import Actor
from telederm.fhir.auth import create_api_client
from telederm.fhir.models import ApiClient, Scope
from telederm.fhir.tests.conftest import PATIENT, ApiWorld
from telederm.messaging.models import Channel, Message
from telederm.referrals.models import Patient, Referral, ReferralStatus
from telederm.review.models import Answer

pytestmark = pytest.mark.django_db

CALLERS = ("anonymous", "wrong_token", "inactive", "no_scope", "own", "other")


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    scope: str | None  # None: public
    target: str = ""  # "referral" | "answer" | "message": the URL names one of clinic A's
    params: tuple[tuple[str, str], ...] = ()
    own: int = 200
    other: int = 200
    other_sees_nothing: bool = False


def _rows(ids: dict[str, str]) -> list[Row]:
    based_on = (("based-on", f"ServiceRequest/{ids['referral']}"),)
    patient = (("patient.identifier", PATIENT),)
    return [
        Row("fhir:metadata", "get", None),
        Row("fhir:root", "post", Scope.REFERRAL_WRITE, own=400, other=400),
        Row("fhir:service_requests", "post", Scope.REFERRAL_WRITE, own=400, other=400),
        Row(
            "fhir:service_requests",
            "get",
            Scope.REFERRAL_READ,
            params=patient,
            other_sees_nothing=True,
        ),
        Row("fhir:service_request", "get", Scope.REFERRAL_READ, "referral", other=404),
        Row(
            "fhir:diagnostic_reports",
            "get",
            Scope.REPORT_READ,
            params=based_on,
            other_sees_nothing=True,
        ),
        Row("fhir:diagnostic_report", "get", Scope.REPORT_READ, "answer", other=404),
        Row(
            "fhir:communications",
            "get",
            Scope.COMMUNICATION_READ,
            params=based_on,
            other_sees_nothing=True,
        ),
        Row("fhir:communications", "post", Scope.COMMUNICATION_WRITE, own=400, other=400),
        Row("fhir:communication", "get", Scope.COMMUNICATION_READ, "message", other=404),
        Row("fhir:unknown", "get", "client", "Patient", own=404, other=404),
    ]


@pytest.fixture
def case_ids(api: ApiWorld) -> dict[str, str]:
    """An answered referral of clinic A with a message, made directly (access is all that
    matters here; the services that make real ones are tested elsewhere)."""
    world = api.world
    now = timezone.now()
    patient = Patient.objects.create(
        personal_number=PATIENT, birth_date=now.date().replace(year=1912), sex="male"
    )
    referral = Referral.objects.create(
        clinic=world.clinic_a,
        author=world.gp_a,
        patient=patient,
        status=ReferralStatus.ANSWERED,
        number="TD26-999999",
        sent_at=now,
        deadline=now.date() + timedelta(days=7),
        review_unit=world.unit_x,
    )
    answer = Answer.objects.create(
        referral=referral,
        diagnosis="benign_naevus",
        icd10="D22.9",
        certainty="certain",
        action="none",
        text_to_gp="Godartat.",
        author=world.derm_x,
        sent_at=now,
    )
    message = Message.objects.create(
        referral=referral,
        channel=Channel.CLINIC,
        author=world.gp_a,
        author_role=Role.GP,
        body="Hej",
        client_key=uuid.uuid4(),
    )
    return {
        "referral": str(referral.public_id),
        "answer": str(answer.public_id),
        "message": str(message.public_id),
        "Patient": "Patient",
    }


def _token(api: ApiWorld, caller: str, scope: str | None) -> str | None:
    if caller == "anonymous":
        return None
    if caller == "wrong_token":
        return "tdfhir_not-a-real-token"
    if caller == "inactive":
        ApiClient.objects.filter(pk=api.client_a.pk).update(active=False)
        return api.token_a
    if caller == "no_scope":
        others = [s for s in Scope.values if s != scope] if scope in Scope.values else []
        _client, token = create_api_client(
            name=f"Narrow {uuid.uuid4()}",
            organisations=[api.world.clinic_a],
            scopes=others or [Scope.REFERRAL_READ],
            by=Actor.system(),
        )
        return token
    return api.token_a if caller == "own" else api.token_b


def _expected(row: Row, caller: str) -> int:
    if row.scope is None:
        return 200
    if caller in ("anonymous", "wrong_token", "inactive"):
        return 401
    if caller == "no_scope":
        return 403 if row.scope in Scope.values else row.own
    return row.own if caller == "own" else row.other


def _call(client: Client, row: Row, ids: dict[str, str], token: str | None) -> Any:
    if row.name == "fhir:unknown":
        url = reverse(row.name, kwargs={"rest": ids[row.target]})
    else:
        url = reverse(row.name, kwargs={"resource_id": ids[row.target]} if row.target else {})
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if row.method == "post":
        return client.post(url, "{}", content_type="application/fhir+json", headers=headers)
    return client.get(url, dict(row.params), headers=headers)


@pytest.mark.parametrize("caller", CALLERS)
def test_fhir_permission_matrix(
    client: Client, api: ApiWorld, case_ids: dict[str, str], caller: str
) -> None:
    for row in _rows(case_ids):
        token = _token(api, caller, row.scope)
        response = _call(client, row, case_ids, token)
        expected = _expected(row, caller)
        assert response.status_code == expected, (row, caller, response.content)
        assert response["Content-Type"].startswith("application/fhir+json"), (row, caller)
        if response.status_code == 200 and row.params:
            entries = response.json().get("entry", [])
            assert (entries == []) == (caller == "other" and row.other_sees_nothing), (row, caller)
        ApiClient.objects.filter(pk=api.client_a.pk).update(active=True)


def _fhir_routes(resolver: URLResolver, prefix: str = "") -> list[str]:
    names = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            names += _fhir_routes(pattern, namespace)
        elif isinstance(pattern, URLPattern) and prefix == "fhir:":
            names.append(f"{prefix}{pattern.name}")
    return names


def test_every_fhir_route_is_in_the_matrix() -> None:
    ids = {"referral": "x", "answer": "x", "message": "x", "Patient": "Patient"}
    assert set(_fhir_routes(get_resolver())) == {row.name for row in _rows(ids)}
