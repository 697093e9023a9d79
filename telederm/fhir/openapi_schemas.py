"""JSON schemas of the FHIR resources the API takes and gives, for the OpenAPI document.

They are not the FHIR specification: they describe what *this* server needs and promises, with
the elements it reads or writes, so that generated requests reach past the JSON parser into the
FHIR models and the business rules, and so that every response can be checked. Request schemas
are closed (``additionalProperties: false``: an unknown element is refused by the FHIR models
too); response schemas are open but name the elements every client relies on. The models in
``fhir.resources`` remain the judge of what is valid FHIR.
"""

from __future__ import annotations

from typing import Any

from telederm.fhir import codes

REF = "#/components/schemas/"

# FHIR primitive shapes (https://hl7.org/fhir/R4/datatypes.html), as narrow as the models want.
# Strings hold no control characters but tab, CR and LF (refused with 400 otherwise).
WORD = r"[^\s\x00-\x1f\x7f]+"
STRING = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": f"^{WORD}( {WORD})*$"}
TEXT = {"type": "string", "maxLength": 5000, "pattern": r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"}
CODE = {"type": "string", "pattern": r"^[A-Za-z0-9_\-\.]{1,40}$"}
URI = {"type": "string", "pattern": r"^[a-z]+:[A-Za-z0-9_\-\.:/#]{1,80}$"}
ID = {"type": "string", "pattern": r"^[A-Za-z0-9\-\.]{1,64}$"}
UUID = {"type": "string", "format": "uuid"}

ISSUE_TYPES = [
    "invalid", "structure", "required", "value", "invariant", "security", "login", "unknown",
    "expired", "forbidden", "suppressed", "processing", "not-supported", "duplicate",
    "multiple-matches", "not-found", "deleted", "too-long", "code-invalid", "extension",
    "too-costly", "business-rule", "conflict", "transient", "lock-error", "no-store",
    "exception", "timeout", "incomplete", "throttled", "informational",
]  # fmt: skip
REQUEST_STATUSES = [
    "draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown",
]  # fmt: skip
REQUEST_INTENTS = [
    "proposal", "plan", "directive", "order", "original-order", "reflex-order", "filler-order",
    "instance-order", "option",
]  # fmt: skip
REPORT_STATUSES = [
    "registered", "partial", "preliminary", "final", "amended", "corrected", "appended",
    "cancelled", "entered-in-error", "unknown",
]  # fmt: skip
EVENT_STATUSES = [
    "preparation", "in-progress", "not-done", "on-hold", "stopped", "completed",
    "entered-in-error", "unknown",
]  # fmt: skip
BUNDLE_TYPES = [
    "document", "message", "transaction", "transaction-response", "batch", "batch-response",
    "history", "searchset", "collection",
]  # fmt: skip
SUBMISSION_RESOURCES = ["Patient", "Practitioner", "PractitionerRole", "Organization"]


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def closed(required: list[str], **properties: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }


def array(items: dict[str, Any], *, low: int = 0, high: int = 4) -> dict[str, Any]:
    return {"type": "array", "items": items, "minItems": max(low, 1), "maxItems": high}


def resource_type(name: str) -> dict[str, Any]:
    return {"type": "string", "enum": [name]}


def _identifier(systems: tuple[str, ...] = (), value: dict[str, Any] = STRING) -> dict[str, Any]:
    system = {"type": "string", "enum": list(systems)} if systems else URI
    return closed(["system", "value"], system=system, value=value)


# A personnummer or samordningsnummer, 12 digits (the checksum is left to the server).
PATIENT_NUMBER = {
    "type": "string",
    "pattern": r"^(19|20)[0-9]{2}(0[1-9]|1[0-2]|[6-9][0-9])[0-9]{6}$",
}
HSA_IDENTIFIER = _identifier(
    (codes.HSA_ID,), {"type": "string", "pattern": r"^SE[0-9]{10}-[A-Z0-9]{1,8}$"}
)

BASED_ON_IN = array(
    closed(
        ["reference"],
        reference={"type": "string", "pattern": r"^ServiceRequest/[0-9a-f\-]{1,36}$"},
    ),
    low=1,
    high=2,
)

REQUEST_SCHEMAS: dict[str, dict[str, Any]] = {
    "Identifier": _identifier(),
    "Coding": closed(["system", "code"], system=URI, code=CODE, display=STRING),
    "CodeableConcept": closed([], coding=array(ref("Coding"), high=2), text=STRING),
    "Reference": closed(
        [], reference=STRING, identifier=ref("Identifier"), type=CODE, display=STRING
    ),
    "ContainedPatient": closed(
        ["resourceType", "id", "identifier"],
        resourceType=resource_type("Patient"),
        id=ID,
        identifier=array(_identifier(codes.PATIENT_SYSTEMS, PATIENT_NUMBER), low=1, high=1),
        name=array(closed([], given=array(STRING, high=2), family=STRING), high=1),
    ),
    "ContainedPractitionerRole": closed(
        ["resourceType", "id", "practitioner", "organization"],
        resourceType=resource_type("PractitionerRole"),
        id=ID,
        practitioner=closed(["identifier"], identifier=HSA_IDENTIFIER),
        organization=closed(["identifier"], identifier=HSA_IDENTIFIER),
    ),
    "ContainedObservation": closed(
        ["resourceType", "id", "status", "code"],
        resourceType=resource_type("Observation"),
        id=ID,
        status={"type": "string", "enum": ["final", "preliminary", "amended"]},
        code=ref("CodeableConcept"),
        valueBoolean={"type": "boolean"},
        valueCodeableConcept=ref("CodeableConcept"),
        valueQuantity=closed(["value"], value={"type": "number"}, unit=CODE, system=URI, code=CODE),
    ),
    "ServiceRequestIn": closed(
        ["resourceType", "status", "intent", "subject", "requester", "reasonCode"],
        resourceType=resource_type("ServiceRequest"),
        identifier=array(ref("Identifier"), high=2),
        status={"type": "string", "enum": REQUEST_STATUSES},
        intent={"type": "string", "enum": REQUEST_INTENTS},
        contained=array(
            {
                "oneOf": [
                    ref("ContainedPatient"),
                    ref("ContainedPractitionerRole"),
                    ref("ContainedObservation"),
                ]
            },
            high=3,
        ),
        subject=ref("Reference"),
        requester=ref("Reference"),
        reasonCode=array(ref("CodeableConcept"), low=1, high=3),
        bodySite=array(ref("CodeableConcept"), high=2),
        note=array(closed(["text"], text=STRING), high=1),
        supportingInfo=array(ref("Reference"), high=3),
    ),
    "BundleEntryIn": closed(
        ["resource", "request"],
        fullUrl={
            "type": "string",
            "pattern": r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        },
        resource={
            "oneOf": [
                ref("ServiceRequestIn"),
                closed(
                    ["resourceType", "identifier"],
                    resourceType={"type": "string", "enum": SUBMISSION_RESOURCES},
                    identifier=array(ref("Identifier"), low=1, high=1),
                ),
            ]
        },
        request=closed(
            ["method", "url"],
            method={"type": "string", "enum": ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"]},
            url=STRING,
            ifNoneExist=STRING,
        ),
    ),
    "TransactionBundleIn": closed(
        ["resourceType", "type", "entry"],
        resourceType=resource_type("Bundle"),
        type={"type": "string", "enum": BUNDLE_TYPES},
        entry=array(ref("BundleEntryIn"), low=1, high=4),
    ),
    "PathologyReportIn": closed(
        ["resourceType", "status", "category", "code", "basedOn", "extension", "conclusionCode"],
        resourceType=resource_type("DiagnosticReport"),
        identifier=array(ref("Identifier"), high=1),
        status={"type": "string", "enum": REPORT_STATUSES},
        category=array(
            closed(
                ["coding"],
                coding=array(
                    closed(
                        ["system", "code"],
                        system={"type": "string", "enum": [codes.V2_0074, codes.LOINC]},
                        code={"type": "string", "enum": ["SP", "PAT", "LP7839-6"]},
                    ),
                    low=1,
                    high=1,
                ),
            ),
            low=1,
            high=1,
        ),
        code=ref("CodeableConcept"),
        basedOn=BASED_ON_IN,
        effectiveDateTime={"type": "string", "pattern": r"^20[0-9]{2}-(0[1-9]|1[0-2])-[0-2][1-9]$"},
        extension=array(
            closed(
                ["url"],
                url={
                    "type": "string",
                    "enum": [codes.EXT_REGISTERED_BY, codes.EXT_EXCISION_PLACE],
                },
                valueReference=closed(["identifier"], identifier=HSA_IDENTIFIER),
                valueCodeableConcept=ref("CodeableConcept"),
            ),
            low=1,
            high=2,
        ),
        conclusionCode=array(ref("CodeableConcept"), low=1, high=1),
        contained=array(ref("ContainedObservation"), high=2),
        result=array(ref("Reference"), high=2),
    ),
    "CommunicationIn": closed(
        ["resourceType", "status", "basedOn", "sender", "payload"],
        resourceType=resource_type("Communication"),
        identifier=array(ref("Identifier"), high=1),
        status={"type": "string", "enum": EVENT_STATUSES},
        basedOn=BASED_ON_IN,
        sender=closed(["identifier"], identifier=HSA_IDENTIFIER),
        payload=array(
            closed(["contentString"], contentString=TEXT),
            low=1,
            high=2,
        ),
    ),
}


def _resource(name: str, required: list[str], **properties: Any) -> dict[str, Any]:
    """A response resource: the elements every client relies on are required and typed."""
    return {
        "type": "object",
        "required": ["resourceType", *required],
        "properties": {"resourceType": resource_type(name), **properties},
    }


def searchset(resource: str) -> dict[str, Any]:
    return _resource(
        "Bundle",
        ["type", "total", "link"],
        type={"type": "string", "enum": ["searchset"]},
        total={"type": "integer", "minimum": 0},
        link={
            "type": "array",
            "minItems": 1,
            "items": {"type": "object", "required": ["relation", "url"]},
        },
        entry={
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["fullUrl", "resource", "search"],
                "properties": {"fullUrl": {"type": "string"}, "resource": ref(resource)},
            },
        },
    )


BASED_ON_REFERRAL = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["reference"],
        "properties": {"reference": {"type": "string", "pattern": "^ServiceRequest/"}},
    },
}
PATIENT_BY_IDENTIFIER = {"type": "object", "properties": {"type": {"enum": ["Patient"]}}}

RESPONSE_SCHEMAS: dict[str, dict[str, Any]] = {
    "OperationOutcome": _resource(
        "OperationOutcome",
        ["issue"],
        issue={
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["severity", "code", "diagnostics"],
                "properties": {
                    "severity": {"enum": ["fatal", "error", "warning", "information"]},
                    "code": {"enum": ISSUE_TYPES},
                    "diagnostics": {"type": "string", "minLength": 1},
                    "expression": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    ),
    "CapabilityStatement": _resource(
        "CapabilityStatement",
        ["status", "kind", "fhirVersion", "format", "rest"],
        fhirVersion={"enum": ["4.0.1"]},
        kind={"enum": ["instance"]},
    ),
    # Drafts are never visible to a client: only sent, answered and withdrawn referrals.
    "ServiceRequest": _resource(
        "ServiceRequest",
        ["id", "status", "intent", "subject", "identifier"],
        id=UUID,
        status={"enum": ["active", "completed", "revoked"]},
        intent={"enum": ["order"]},
        subject=PATIENT_BY_IDENTIFIER,
    ),
    # A sent answer (never "preliminary", waiting for a second reading), or a PAD result sent
    # in: either way a conclusion.
    "DiagnosticReport": {
        **_resource(
            "DiagnosticReport",
            ["id", "status", "code", "basedOn", "subject", "issued"],
            id=UUID,
            status={"enum": ["final", "amended", "corrected", "appended"]},
            basedOn=BASED_ON_REFERRAL,
            subject=PATIENT_BY_IDENTIFIER,
        ),
        "anyOf": [{"required": ["conclusion"]}, {"required": ["conclusionCode"]}],
    },
    "Communication": _resource(
        "Communication",
        ["id", "status", "basedOn", "sender", "sent", "payload"],
        id=UUID,
        status={"enum": ["completed"]},
        basedOn=BASED_ON_REFERRAL,
    ),
    "ServiceRequestSearchset": searchset("ServiceRequest"),
    "DiagnosticReportSearchset": searchset("DiagnosticReport"),
    "CommunicationSearchset": searchset("Communication"),
    "TransactionResponse": _resource(
        "Bundle",
        ["type", "entry"],
        type={"enum": ["transaction-response"]},
        entry={
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["response"],
                "properties": {
                    "response": {
                        "type": "object",
                        "required": ["status"],
                        "properties": {"status": {"enum": ["200 OK", "201 Created"]}},
                    },
                    "resource": ref("ServiceRequest"),
                },
            },
        },
    ),
    # For a route the document does not describe yet: any FHIR resource.
    "Resource": {
        "type": "object",
        "required": ["resourceType"],
        "properties": {"resourceType": {"type": "string", "pattern": "^[A-Z][A-Za-z]+$"}},
    },
}
