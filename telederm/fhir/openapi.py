"""An OpenAPI 3.1 description of the FHIR API, generated from the route table.

Every path and method comes from ``urls.py`` (``endpoint(GET=Route(scope, view), …)``), so a
new route shows up here by itself, with its scope; ``OPERATIONS`` adds what the route table does
not know (parameters, bodies, answers). A route not described there still appears, with a
generic description and ``x-described: false`` (``tests/test_schemathesis.py`` refuses that,
so that the description is written along with the route). The catch-all that answers 404 for
everything else is not an operation and is left out.

The document drives the schemathesis run and the permission tests; it is not served.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.urls import URLPattern, reverse

from telederm.fhir import codes
from telederm.fhir.capability import SOFTWARE_VERSION
from telederm.fhir.endpoint import PUBLIC, Route, routes_of
from telederm.fhir.openapi_schemas import REQUEST_SCHEMAS, RESPONSE_SCHEMAS, ref
from telederm.fhir.search import DEFAULT_COUNT, MAX_COUNT

FHIR_JSON = "application/fhir+json"
CATCH_ALL = "unknown"  # the route name of the 404 for anything not served

STATUS_TEXT = {
    200: "OK",
    201: "Created",
    400: "Bad request: not JSON, not valid FHIR, or a malformed or unknown search parameter.",
    401: "No, an unknown or an inactive token (with WWW-Authenticate: Bearer).",
    403: "The client lacks the route's scope.",
    404: "Not found, or not one of the client's clinics' (no access looks like not found).",
    405: "Method not served.",
    409: "Conflict.",
    412: "Precondition failed.",
    413: "The body is larger than TELEDERM_FHIR_MAX_BODY_BYTES.",
    415: "The body is not JSON (application/fhir+json).",
    422: "Valid FHIR that breaks a rule: unknown clinic, GP without licence, incomplete referral…",
    429: "More calls than TELEDERM_FHIR_RATE_LIMIT in the window (with Retry-After).",
    500: "A fault of ours (logged); never for bad input.",
}
READ_ERRORS = (401, 403, 404, 500)
SEARCH_ERRORS = (400, 401, 403, 500)
WRITE_ERRORS = (400, 401, 403, 413, 415, 422, 500)
ANY_ERROR = (400, 401, 403, 404, 409, 412, 413, 415, 422, 429, 500)


@dataclass(frozen=True)
class Param:
    name: str
    where: str  # "query" | "header"
    schema: dict[str, Any]
    description: str
    example: str | int | None = None


@dataclass(frozen=True)
class Operation:
    summary: str
    answers: dict[int, str]  # success status → response schema
    errors: tuple[int, ...]
    params: tuple[Param, ...] = ()
    body: str | None = None  # request schema
    described: bool = True
    headers: dict[int, tuple[str, ...]] = field(default_factory=dict)


def _token(name: str, description: str, example: str) -> Param:
    return Param(name, "query", {"type": "string", "maxLength": 300}, description, example)


PAGING = (
    Param(
        "_count",
        "query",
        {"type": "integer", "minimum": 1, "maximum": MAX_COUNT},
        f"Page size (default {DEFAULT_COUNT}).",
        10,
    ),
    Param("_offset", "query", {"type": "integer", "minimum": 0, "maximum": 10**9}, "Skip.", 0),
    Param("_format", "query", {"type": "string", "enum": ["json", FHIR_JSON]}, "Ignored."),
)
PATIENT = _token(
    "patient.identifier",
    "The patient: `<system>|<number>`, a personnummer or samordningsnummer (12 digits).",
    f"{codes.PERSONNUMMER}|191212121212",
)
BASED_ON = _token(
    "based-on", "The referral: `ServiceRequest/<id>`.", "ServiceRequest/<id of a ServiceRequest>"
)
IDENTIFIER = _token(
    "identifier",
    "The client's own identifier, or the referral number: `<system>|<value>` or `<value>`.",
    f"{codes.REFERRAL_NUMBER}|TD26-000123",
)
# On a create, the same parameter makes it conditional (like If-None-Exist).
CONDITIONAL = (
    Param(
        "If-None-Exist",
        "header",
        {"type": "string", "maxLength": 300},
        "Conditional create: `identifier=<system>|<value>`.",
        "identifier=urn:oid:1.2.752.0.99.1|R-2026-0042",
    ),
    _token("identifier", "Conditional create, as If-None-Exist.", "urn:oid:1.2.752.0.99.1|R-1"),
)
CREATED: dict[int, tuple[str, ...]] = {201: ("Location",)}

# What the route table does not say, by route name and method.
OPERATIONS: dict[tuple[str, str], Operation] = {
    ("metadata", "GET"): Operation("The CapabilityStatement", {200: "CapabilityStatement"}, (500,)),
    ("root", "POST"): Operation(
        "Send a referral as a transaction Bundle",
        {200: "TransactionResponse"},
        WRITE_ERRORS,
        body="TransactionBundleIn",
    ),
    ("service_requests", "POST"): Operation(
        "Send a referral: one ServiceRequest with everything contained",
        {200: "ServiceRequest", 201: "ServiceRequest"},
        WRITE_ERRORS,
        CONDITIONAL,
        body="ServiceRequestIn",
        headers=CREATED,
    ),
    ("service_requests", "GET"): Operation(
        "Search the client's referrals",
        {200: "ServiceRequestSearchset"},
        SEARCH_ERRORS,
        (IDENTIFIER, PATIENT, *PAGING),
    ),
    ("service_request", "GET"): Operation("Read a referral", {200: "ServiceRequest"}, READ_ERRORS),
    ("diagnostic_reports", "GET"): Operation(
        "Search the answers to the client's referrals",
        {200: "DiagnosticReportSearchset"},
        SEARCH_ERRORS,
        (BASED_ON, PATIENT, *PAGING),
    ),
    ("diagnostic_reports", "POST"): Operation(
        "Send a PAD (histopathology) result for a referral",
        {200: "DiagnosticReport", 201: "DiagnosticReport"},
        (*WRITE_ERRORS, 404, 409),
        CONDITIONAL,
        body="PathologyReportIn",
        headers=CREATED,
    ),
    ("diagnostic_report", "GET"): Operation(
        "Read an answer or a PAD result", {200: "DiagnosticReport"}, READ_ERRORS
    ),
    ("communications", "GET"): Operation(
        "The clinic thread of a referral",
        {200: "CommunicationSearchset"},
        SEARCH_ERRORS,
        (BASED_ON, *PAGING),
    ),
    ("communications", "POST"): Operation(
        "Send a message from the clinic",
        {200: "Communication", 201: "Communication"},
        WRITE_ERRORS,
        body="CommunicationIn",
        headers=CREATED,
    ),
    ("communication", "GET"): Operation("Read a message", {200: "Communication"}, READ_ERRORS),
}

ACCEPT_LANGUAGE = Param(
    "Accept-Language",
    "header",
    {"type": "string", "maxLength": 100},
    "Messages in Swedish unless English is asked for.",
    "en",
)


def _generic(method: str) -> Operation:
    if method == "GET":
        return Operation("Not described yet", {200: "Resource"}, ANY_ERROR, described=False)
    return Operation(
        "Not described yet",
        {200: "Resource", 201: "Resource"},
        ANY_ERROR,
        body="Resource",
        described=False,
    )


def _template(pattern: URLPattern) -> tuple[str, dict[str, dict[str, Any]]]:
    """``ServiceRequest/<str:resource_id>`` → ``/ServiceRequest/{resource_id}`` and its
    parameters' schemas."""
    route = str(pattern.pattern)
    converters = getattr(pattern.pattern, "converters", {})
    params = {}
    for name, converter in converters.items():
        kind = type(converter).__name__
        if kind == "IntConverter":
            params[name] = {"type": "integer", "minimum": 0}
        elif kind == "UUIDConverter":
            params[name] = {"type": "string", "format": "uuid"}
        else:
            params[name] = {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route), params


def _parameter(param: Param) -> dict[str, Any]:
    item: dict[str, Any] = {
        "name": param.name,
        "in": param.where,
        "required": False,
        "description": param.description,
        "schema": param.schema,
    }
    if param.example is not None:
        item["example"] = param.example
    return item


def _answer(status: int, schema: str, headers: tuple[str, ...] = ()) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": STATUS_TEXT.get(status, str(status)),
        "content": {FHIR_JSON: {"schema": ref(schema)}},
    }
    if status == 401:
        headers = (*headers, "WWW-Authenticate")
    if status == 429:
        headers = (*headers, "Retry-After")
    if headers:
        answer["headers"] = {name: {"schema": {"type": "string"}} for name in headers}
    return answer


def operation(
    name: str, method: str, route: Route, path: str, path_params: dict[str, Any]
) -> dict[str, Any]:
    spec = OPERATIONS.get((name, method)) or _generic(method)
    parameters = [
        {"name": key, "in": "path", "required": True, "schema": schema, "description": "The id."}
        for key, schema in path_params.items()
    ]
    parameters += [_parameter(param) for param in (*spec.params, ACCEPT_LANGUAGE)]
    responses = {
        str(status): _answer(status, schema, spec.headers.get(status, ()))
        for status, schema in spec.answers.items()
    }
    errors = set(spec.errors)
    if route.scope != PUBLIC:
        errors.add(429)  # every client call counts against TELEDERM_FHIR_RATE_LIMIT
    responses |= {str(status): _answer(status, "OperationOutcome") for status in errors}
    item: dict[str, Any] = {
        "operationId": f"{name}_{method.lower()}",
        "summary": spec.summary,
        "tags": [path.strip("/").split("/")[0] or "system"],
        "x-scope": route.scope,
        "x-described": spec.described,
        "parameters": parameters,
        "responses": dict(sorted(responses.items())),
        "security": [] if route.scope == PUBLIC else [{"bearer": [route.scope]}],
    }
    if spec.body:
        item["requestBody"] = {
            "required": True,
            "content": {FHIR_JSON: {"schema": ref(spec.body)}},
        }
    return item


def fhir_routes() -> list[URLPattern]:
    """The FHIR app's URL patterns that serve operations (the route table)."""
    from telederm.fhir import urls  # here, so urls.py may one day serve this document

    return [
        pattern
        for pattern in urls.urlpatterns
        if isinstance(pattern, URLPattern) and routes_of(pattern.callback)
    ]


def openapi_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for pattern in fhir_routes():
        name = str(pattern.name)
        if name == CATCH_ALL:
            continue
        path, path_params = _template(pattern)
        paths[path] = {
            method.lower(): operation(name, method, route, path, path_params)
            for method, route in sorted(routes_of(pattern.callback).items())
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Telederm FHIR R4 API",
            "version": SOFTWARE_VERSION,
            "description": (
                "FHIR R4 (4.0.1), JSON only. See docs/fhir.md. Every error is an "
                "OperationOutcome; anything not listed here answers 404 (not-supported)."
            ),
        },
        "servers": [{"url": reverse("fhir:root").rstrip("/")}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API client's token (manage.py create_api_client).",
                }
            },
            "schemas": {**REQUEST_SCHEMAS, **RESPONSE_SCHEMAS},
        },
    }
