"""schemathesis over the OpenAPI document of the FHIR API (``telederm/fhir/openapi.py``).

Requests generated from the document, valid and invalid (positive and negative generation),
go through Django's real WSGI handler in-process (middleware, routing, database), and every
answer is checked: no 500, a documented status, the documented content type, a body that fits
the documented schema (an OperationOutcome for every error), and never kept in a cache. Then
the same operations without a valid token (401 everywhere but the public metadata) and with
another clinic's token aimed at clinic A's resources (404 or nothing found, and not a trace
of clinic A's data in any answer).

The run is derandomized, so it is the same run each time: ``pytest -n 0 -s
telederm/fhir/tests/test_schemathesis.py`` prints the number of cases (docs/security.md).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.conf import LazySettings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from telederm.fhir.endpoint import PUBLIC
from telederm.fhir.openapi import openapi_document
from telederm.fhir.tests.conftest import ApiWorld, ClinicCase

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
BASE_URL = "http://testserver/fhir"
MIN_CASES = 1000
# Per operation and generation mode: 11 operations × 2 modes × 48 cases ≥ MIN_CASES, in about
# a minute on two cores.
EXAMPLES = 48
OUTSIDER_EXAMPLES = 12


@pytest.fixture
def app(settings: LazySettings) -> Iterator[WSGIHandler]:
    """Django's WSGI handler, called in-process. Like Django's test client, keep
    ``close_old_connections`` off the request signals, or a request would close the test's
    transaction. The rate limit is off: a thousand calls a minute are the point here
    (``test_rate_limit.py`` tests it)."""
    settings.TELEDERM_FHIR_RATE_LIMIT = 0
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _operations() -> list[APIOperation]:
    schema = schemathesis.openapi.from_dict(openapi_document())
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operations.append(result.ok())
    return operations


def _fuzz(strategy: st.SearchStrategy[Case], examples: int, call: Callable[[Case], None]) -> int:
    """Run ``call`` on up to ``examples`` generated cases; how many ran."""
    ran = 0

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(case: Case) -> None:
        nonlocal ran
        ran += 1
        call(case)

    run()
    return ran


def _sent(app: WSGIHandler, case: Case, token: str | None) -> Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = case.call_and_validate(base_url=BASE_URL, app=app, headers=headers, checks=CHECKS)
    assert response.headers.get("cache-control") == ["no-store"], case.as_curl_command()
    return response


def _is_public(operation: APIOperation) -> bool:
    return operation.definition.raw.get("x-scope") == PUBLIC


def test_every_operation_is_described() -> None:
    """A new route shows up in the document by itself; its parameters and answers must be
    written in ``openapi.OPERATIONS`` too."""
    generic = [op.label for op in _operations() if not op.definition.raw.get("x-described")]
    assert generic == [], "describe these in telederm/fhir/openapi.py OPERATIONS"


def test_the_api_answers_as_its_openapi_document_says(
    app: WSGIHandler, api: ApiWorld, clinic_a_case: ClinicCase
) -> None:
    statuses: Counter[tuple[str, int]] = Counter()

    def call(case: Case) -> None:
        response = _sent(app, case, api.token_a)
        statuses[case.operation.label, response.status_code] += 1

    total = 0
    for operation in _operations():
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            total += _fuzz(_aimed_at(operation, clinic_a_case, mode), EXAMPLES, call)
    print(f"\nschemathesis: {total} cases", *sorted(statuses.items()), sep="\n  ")
    assert total >= MIN_CASES
    # Not only refusals: the generated requests also reach the data.
    assert any(status == 200 for (_label, status) in statuses)


@pytest.mark.parametrize("token", [None, "tdfhir_not-a-real-token"])
def test_without_a_valid_token_every_operation_answers_401(
    app: WSGIHandler, api: ApiWorld, clinic_a_case: ClinicCase, token: str | None
) -> None:
    def call(case: Case) -> None:
        response = _sent(app, case, token)
        if _is_public(case.operation):
            assert response.status_code == 200
            return
        assert response.status_code == 401, case.as_curl_command()
        assert json.loads(response.content)["issue"][0]["code"] == "login"

    for operation in _operations():
        _fuzz(operation.as_strategy(), OUTSIDER_EXAMPLES, call)


def _aimed_at(
    operation: APIOperation, case: ClinicCase, mode: GenerationMode = GenerationMode.POSITIVE
) -> st.SearchStrategy[Case]:
    """Generated cases, and cases that name clinic A's resources: every id in the path, every
    search value that finds them (the other parameters and the body generated)."""
    variants: list[dict[str, Any]] = [{}]
    path_params = [p.name for p in operation.path_parameters]
    resource = operation.path.strip("/").split("/")[0]
    if path_params:
        variants += [{"path_parameters": {path_params[0]: id_}} for id_ in case.ids.values()]
    elif operation.method.upper() == "GET":
        variants += [
            {"query": {name: value}}
            for (kind, name), values in case.searches.items()
            if kind == resource
            for value in values
        ]
    return st.sampled_from(variants).flatmap(
        lambda fixed: operation.as_strategy(generation_mode=mode, **fixed)
    )


def test_another_clinics_client_gets_404_and_never_sees_clinic_a(
    app: WSGIHandler, api: ApiWorld, clinic_a_case: ClinicCase
) -> None:
    def call(case: Case) -> None:
        response = _sent(app, case, api.token_b)
        body = response.content.decode()
        asked = " ".join(
            json.dumps(part, default=str)
            for part in (case.path_parameters, case.query, case.headers, case.body)
        )
        leaked = [s for s in clinic_a_case.secrets if s in body and s not in asked]
        assert leaked == [], (case.as_curl_command(), body)
        if case.path_parameters and set(case.path_parameters.values()) & set(
            clinic_a_case.ids.values()
        ):
            assert response.status_code == 404
            assert json.loads(body)["issue"][0]["code"] == "not-found"
        if response.status_code == 200 and case.method.upper() == "GET":
            found = json.loads(body)
            assert found.get("total", 0) == 0 or _is_public(case.operation), body

    for operation in _operations():
        _fuzz(_aimed_at(operation, clinic_a_case), OUTSIDER_EXAMPLES * 2, call)


# Values that have broken servers like this one: NUL (PostgreSQL text cannot hold it), other
# control characters, reference-shaped and encoded text, SQL, very long and non-ASCII text.
HOSTILE = (
    "\x00",
    "a\x00b",
    "\x1b[31m\x7f",
    "ServiceRequest/\x00",
    "%00",
    "' OR 1=1 --",
    "x" * 5000,
    "ö" * 300,
    "*",
)


def test_hostile_values_in_every_parameter_and_body(
    app: WSGIHandler, api: ApiWorld, clinic_a_case: ClinicCase
) -> None:
    """The generated run may miss a rare character; here every parameter of every operation,
    and every request body, gets each of them."""
    for operation in _operations():
        path = {p.name: clinic_a_case.ids["ServiceRequest"] for p in operation.path_parameters}
        cases = [
            operation.Case(path_parameters={**path, param.name: value})
            for param in operation.path_parameters
            for value in HOSTILE
        ]
        cases += [
            operation.Case(path_parameters=path, query={param.name: value})
            for param in operation.query
            for value in HOSTILE
        ]
        if operation.body:
            kind = operation.path.strip("/").split("/")[0] or "Bundle"
            cases += [
                operation.Case(
                    body={"resourceType": kind, "status": value, "id": value, value: [value]},
                    media_type="application/fhir+json",
                )
                for value in HOSTILE
            ]
        for case in cases:
            _sent(app, case, api.token_a)
