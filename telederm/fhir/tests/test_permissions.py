"""The FHIR API's permission matrix: every route and method, for every kind of caller.

Callers: no token, a wrong token, an inactive client, a client without the route's scope, the
clinic's own client (A) and another clinic's client (B). Rules: no valid token → 401 (never a
login page); the scope missing → 403; another clinic's data → 404 or absent from searches (no
access looks like not found); the own client → served.

The routes, their methods and scopes are taken from the route table (``endpoint(GET=Route(…))``
in ``urls.py``, reached through the URL resolver), so a new route or method without a row here
fails ``test_every_fhir_route_and_method_has_an_access_rule``. The isolation test walks the
OpenAPI document built from the same table: every read by id and every search parameter.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from telederm.audit.services import Actor
from telederm.fhir.auth import create_api_client
from telederm.fhir.endpoint import ANY_CLIENT, PUBLIC, routes_of
from telederm.fhir.models import ApiClient, Scope
from telederm.fhir.openapi import CATCH_ALL, openapi_document
from telederm.fhir.tests.conftest import PATIENT, ApiWorld, ClinicCase

pytestmark = pytest.mark.django_db

CALLERS = ("anonymous", "wrong_token", "inactive", "no_scope", "own", "other")
UNKNOWN_PATH = "Patient"  # what the catch-all is called with


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    scope: str  # PUBLIC, ANY_CLIENT or a Scope
    target: str = ""  # a resource type: the URL names clinic A's resource of that type
    params: tuple[tuple[str, str], ...] = ()
    own: int = 200
    other: int = 200
    other_sees_nothing: bool = False


def _rows(ids: dict[str, str]) -> list[Row]:
    based_on = (("based-on", f"ServiceRequest/{ids['ServiceRequest']}"),)
    patient = (("patient.identifier", PATIENT),)
    hidden = True  # other_sees_nothing: clinic A's resources are absent from B's searches
    return [
        Row("fhir:metadata", "GET", PUBLIC),
        # An empty body: refused as invalid by anyone with the scope.
        Row("fhir:root", "POST", Scope.REFERRAL_WRITE, own=400, other=400),
        Row("fhir:service_requests", "POST", Scope.REFERRAL_WRITE, own=400, other=400),
        Row(
            "fhir:service_requests",
            "GET",
            Scope.REFERRAL_READ,
            params=patient,
            other_sees_nothing=hidden,
        ),
        Row("fhir:service_request", "GET", Scope.REFERRAL_READ, "ServiceRequest", other=404),
        Row(
            "fhir:diagnostic_reports",
            "GET",
            Scope.REPORT_READ,
            params=based_on,
            other_sees_nothing=hidden,
        ),
        Row("fhir:diagnostic_reports", "POST", Scope.PATHOLOGY_WRITE, own=400, other=400),
        Row("fhir:diagnostic_report", "GET", Scope.REPORT_READ, "DiagnosticReport", other=404),
        Row(
            "fhir:communications",
            "GET",
            Scope.COMMUNICATION_READ,
            params=based_on,
            other_sees_nothing=hidden,
        ),
        Row("fhir:communications", "POST", Scope.COMMUNICATION_WRITE, own=400, other=400),
        Row("fhir:communication", "GET", Scope.COMMUNICATION_READ, "Communication", other=404),
        *[
            Row(f"fhir:{CATCH_ALL}", method, ANY_CLIENT, UNKNOWN_PATH, own=404, other=404)
            for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
        ],
    ]


def _token(api: ApiWorld, caller: str, scope: str) -> str | None:
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
    if row.scope == PUBLIC:
        return 200
    if caller in ("anonymous", "wrong_token", "inactive"):
        return 401
    if caller == "no_scope":
        return 403 if row.scope in Scope.values else row.own
    return row.own if caller == "own" else row.other


def _call(client: Client, row: Row, ids: dict[str, str], token: str | None) -> Any:
    if row.name == f"fhir:{CATCH_ALL}":
        url = reverse(row.name, kwargs={"rest": row.target})
    else:
        url = reverse(row.name, kwargs={"resource_id": ids[row.target]} if row.target else {})
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if row.method == "GET":
        return client.get(url, dict(row.params), headers=headers)
    return client.generic(row.method, url, "{}", "application/fhir+json", headers=headers)


@pytest.mark.parametrize("caller", CALLERS)
def test_fhir_permission_matrix(
    client: Client, api: ApiWorld, clinic_a_case: ClinicCase, caller: str
) -> None:
    for row in _rows(clinic_a_case.ids):
        token = _token(api, caller, row.scope)
        response = _call(client, row, clinic_a_case.ids, token)
        expected = _expected(row, caller)
        assert response.status_code == expected, (row, caller, response.content)
        assert response["Content-Type"].startswith("application/fhir+json"), (row, caller)
        if response.status_code == 200 and row.params:
            entries = response.json().get("entry", [])
            assert (entries == []) == (caller == "other" and row.other_sees_nothing), (row, caller)
        ApiClient.objects.filter(pk=api.client_a.pk).update(active=True)


def _fhir_patterns(resolver: URLResolver, namespace: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            found += _fhir_patterns(pattern, inner)
        elif isinstance(pattern, URLPattern) and namespace == "fhir:":
            found.append((f"{namespace}{pattern.name}", pattern))
    return found


def route_table() -> set[tuple[str, str, str]]:
    """(URL name, method, scope) of every route the URL configuration serves under /fhir/."""
    table = set()
    for name, pattern in _fhir_patterns(get_resolver()):
        routes = routes_of(pattern.callback)
        assert routes, f"{name} is not made with endpoint(): it has no declared scope"
        table |= {(name, method, route.scope) for method, route in routes.items()}
    return table


def test_every_fhir_route_and_method_has_an_access_rule() -> None:
    ids = dict.fromkeys(("ServiceRequest", "DiagnosticReport", "Communication"), "x")
    declared = {(row.name, row.method, row.scope) for row in _rows(ids)}
    served = route_table()
    assert served - declared == set(), "give these routes a row in _rows (and their expectations)"
    assert declared - served == set(), "these rows name routes, methods or scopes not served"


def test_the_openapi_document_lists_every_route_but_the_catch_all() -> None:
    document = openapi_document()
    listed = {
        (operation["operationId"].rsplit("_", 1)[0], method.upper(), operation["x-scope"])
        for item in document["paths"].values()
        for method, operation in item.items()
    }
    served = {
        (name.split(":", 1)[1], method, scope)
        for name, method, scope in route_table()
        if name != f"fhir:{CATCH_ALL}"
    }
    assert listed == served


def _get(client: Client, url: str, token: str, params: dict[str, str] | None = None) -> Any:
    return client.get(url, params or {}, headers={"Authorization": f"Bearer {token}"})


def _reads_and_searches() -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(URL template, resource type, parameters) of every GET in the OpenAPI document that
    needs a token."""
    document = openapi_document()
    base = document["servers"][0]["url"]
    return [
        (base + path, path.strip("/").split("/")[0], operation["parameters"])
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method == "get" and operation["security"]
    ]


def test_another_clinics_client_gets_404_for_every_read_and_finds_nothing(
    client: Client, api: ApiWorld, clinic_a_case: ClinicCase
) -> None:
    """For every read by id: clinic A's client gets the resource, clinic B's a 404 that looks
    like any unknown id. For every search parameter: the values that find clinic A's resource
    for A find nothing for B. B's answers carry nothing of clinic A's data."""
    checked = 0
    for template, kind, parameters in _reads_and_searches():
        path_params = [p["name"] for p in parameters if p["in"] == "path"]
        if path_params:
            assert kind in clinic_a_case.ids, f"give clinic A a {kind} in clinic_a_case"
            wanted = clinic_a_case.ids[kind]
            url = template.replace(f"{{{path_params[0]}}}", wanted)
            assert _get(client, url, api.token_a).json()["id"] == wanted
            foreign = _get(client, url, api.token_b)
            assert foreign.status_code == 404, url
            assert foreign.json()["issue"][0]["code"] == "not-found"
            _assert_nothing_leaked(foreign.content, clinic_a_case, asked=url)
            checked += 1
            continue
        names = [p["name"] for p in parameters if p["in"] == "query" and p["name"][0] != "_"]
        for name in names:
            values = clinic_a_case.searches.get((kind, name))
            assert values, f"give clinic_a_case a value of {kind}?{name} that finds its {kind}"
            for value in values:
                own = _get(client, template, api.token_a, {name: value}).json()
                assert own["total"] >= 1, (kind, name, value)
                found = [entry["resource"]["id"] for entry in own["entry"]]
                assert clinic_a_case.ids[kind] in found, (kind, name, value)
                foreign = _get(client, template, api.token_b, {name: value})
                assert foreign.status_code == 200
                assert foreign.json()["total"] == 0, (kind, name, value)
                assert "entry" not in foreign.json()
                _assert_nothing_leaked(foreign.content, clinic_a_case, asked=value)
                checked += 1
    assert checked >= 3 + 5


def _assert_nothing_leaked(body: bytes, case: ClinicCase, asked: str) -> None:
    text = json.dumps(json.loads(body), ensure_ascii=False)
    leaked = [secret for secret in case.secrets if secret in text and secret not in asked]
    assert leaked == [], text
