"""Bearer tokens, scopes, the client's language, and the audit trail of every call."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext as _

from telederm.audit.models import Action, AuditEvent
from telederm.fhir.models import ApiClient, Scope
from telederm.fhir.tests.conftest import PATIENT, ApiWorld, bearer, get
from telederm.referrals.tests.helpers import send
from telederm.testing import World, login

pytestmark = pytest.mark.django_db
SEARCH = {"patient.identifier": PATIENT}


def _denied(response: object, reason: str) -> AuditEvent:
    assert response.status_code == 401  # type: ignore[attr-defined]
    assert response["WWW-Authenticate"].startswith("Bearer")  # type: ignore[index]
    body = response.json()  # type: ignore[attr-defined]
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "login"
    event = AuditEvent.objects.filter(action=Action.FHIR_DENIED).latest("id")
    assert event.detail["reason"] == reason
    assert not event.success
    return event


def test_no_token_is_401(client: Client, api: ApiWorld) -> None:
    _denied(client.get("/fhir/ServiceRequest", SEARCH), "no_token")
    _denied(
        client.get("/fhir/ServiceRequest", SEARCH, headers={"Authorization": "Bearer"}), "no_token"
    )
    _denied(
        client.get("/fhir/ServiceRequest", SEARCH, headers={"Authorization": "Basic dXNlcjpwdw=="}),
        "no_token",
    )


def test_unknown_token_is_401(client: Client, api: ApiWorld) -> None:
    _denied(get(client, "/fhir/ServiceRequest", "tdfhir_guess", **SEARCH), "unknown_token")


def test_inactive_client_is_401_and_named_in_the_log(client: Client, api: ApiWorld) -> None:
    ApiClient.objects.filter(pk=api.client_a.pk).update(active=False)
    event = _denied(get(client, "/fhir/ServiceRequest", api.token_a, **SEARCH), "inactive_client")
    assert event.actor_name == "EHR A"
    assert event.actor_role == "api_client"


def test_a_logged_in_browser_session_is_no_api_credential(client: Client, world: World) -> None:
    login(client, world.gp_a)
    _denied(client.get("/fhir/ServiceRequest", SEARCH), "no_token")


def test_missing_scope_is_403(client: Client, api: ApiWorld) -> None:
    api.client_a.scopes = [Scope.REFERRAL_READ]
    api.client_a.save()

    response = get(client, "/fhir/DiagnosticReport", api.token_a, **SEARCH)

    assert response.status_code == 403
    assert response.json()["issue"][0]["code"] == "forbidden"
    event = AuditEvent.objects.get(action=Action.FHIR_DENIED)
    assert event.detail["scope"] == Scope.REPORT_READ
    assert get(client, "/fhir/ServiceRequest", api.token_a, **SEARCH).status_code == 200


def test_only_a_digest_of_the_token_is_stored(api: ApiWorld) -> None:
    client = ApiClient.objects.get(pk=api.client_a.pk)
    assert client.token_digest == hashlib.sha256(api.token_a.encode()).hexdigest()
    assert api.token_a not in str(list(ApiClient.objects.values_list()))


def test_a_call_marks_the_client_as_used(client: Client, api: ApiWorld) -> None:
    assert ApiClient.objects.get(pk=api.client_a.pk).last_used_at is None
    get(client, "/fhir/ServiceRequest", api.token_a, **SEARCH)
    assert ApiClient.objects.get(pk=api.client_a.pk).last_used_at is not None


def test_reads_are_audited_with_the_client_as_actor_and_the_patient(
    client: Client, api: ApiWorld
) -> None:
    referral = send(api.world)

    response = get(client, f"/fhir/ServiceRequest/{referral.public_id}", api.token_a)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies  # no session, no CSRF cookie: the token is the only credential
    event = AuditEvent.objects.get(action=Action.FHIR_READ)
    assert event.actor_id is None
    assert (event.actor_name, event.actor_role) == ("EHR A", "api_client")
    assert event.patient_id == PATIENT
    assert event.organisation_hsa_id == api.world.clinic_a.hsa_id
    assert event.target_id == str(referral.public_id)
    assert event.ip == "127.0.0.1"
    assert event.detail == {
        "resource": "ServiceRequest",
        "interaction": "read",
        "api_client": "EHR A",
    }


def test_an_empty_search_is_audited_with_the_patient_asked_for(
    client: Client, api: ApiWorld
) -> None:
    get(client, "/fhir/DiagnosticReport", api.token_a, **SEARCH)
    event = AuditEvent.objects.get(action=Action.FHIR_READ)
    assert event.patient_id == PATIENT
    assert event.detail["query"] == SEARCH


def test_messages_are_swedish_unless_the_client_asks_for_english(
    client: Client, api: ApiWorld
) -> None:
    bad = {"patient.identifier": "123"}
    swedish = get(client, "/fhir/ServiceRequest", api.token_a, **bad)
    english = client.get(
        "/fhir/ServiceRequest",
        bad,
        headers={**bearer(api.token_a), "Accept-Language": "en-GB,en;q=0.9"},
    )
    preferred = client.get(
        "/fhir/ServiceRequest",
        bad,
        headers={**bearer(api.token_a), "Accept-Language": "en;q=0.5,sv"},
    )

    with translation.override("en"):
        expected = str(_("Write the personnummer as ÅÅÅÅMMDD-NNNN (12 digits) or ÅÅMMDD-NNNN."))
    assert english.json()["issue"][0]["diagnostics"] == expected
    assert swedish.json()["issue"][0]["diagnostics"] != expected
    assert preferred.json()["issue"][0]["diagnostics"] == swedish.json()["issue"][0]["diagnostics"]
    assert (swedish["Content-Language"], english["Content-Language"]) == ("sv", "en")


def test_create_api_client_prints_a_token_that_works(client: Client, world: World) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "create_api_client",
        "--name",
        "TakeCare",
        "--organisation",
        str(world.clinic_a.hsa_id).lower(),
        "--scope",
        Scope.REFERRAL_READ,
        "--scope",
        Scope.REPORT_READ,
        stdout=out,
        stderr=err,
    )

    token = out.getvalue().strip()
    assert token.startswith("tdfhir_")
    assert "cannot be shown again" in err.getvalue()
    created = ApiClient.objects.get(name="TakeCare")
    assert list(created.organisations.all()) == [world.clinic_a]
    assert created.scopes == [Scope.REFERRAL_READ, Scope.REPORT_READ]
    assert AuditEvent.objects.filter(action=Action.API_CLIENT_CREATED).exists()
    assert get(client, "/fhir/ServiceRequest", token, **SEARCH).status_code == 200


@pytest.mark.parametrize(
    "arguments",
    [
        ["--name", "X", "--organisation", "SE2321000016-NONE", "--scope", "referral.read"],
        ["--name", "X", "--organisation", "{clinic}", "--scope", "everything"],
        ["--name", "EHR A", "--organisation", "{clinic}", "--scope", "referral.read"],
        ["--name", "X", "--organisation", "{unit}", "--scope", "referral.read"],
    ],
)
def test_create_api_client_refuses_bad_arguments(api: ApiWorld, arguments: list[str]) -> None:
    world = api.world
    filled = [
        arg.format(clinic=world.clinic_a.hsa_id, unit=world.unit_x.hsa_id) for arg in arguments
    ]
    with pytest.raises(CommandError):
        call_command("create_api_client", *filled, stdout=io.StringIO(), stderr=io.StringIO())
    assert ApiClient.objects.count() == 2
