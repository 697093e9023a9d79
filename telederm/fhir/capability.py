"""The CapabilityStatement: exactly the resources, interactions and parameters ``urls.py`` serves.

``tests/test_metadata.py`` checks it against the URL configuration and the views, so that the
statement cannot promise more than the server does.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from telederm.fhir.auth import TOKEN_PREFIX
from telederm.fhir.models import Scope

RELEASED = "2026-11-26"
SOFTWARE_VERSION = "0.1.0"
SP = "http://hl7.org/fhir/SearchParameter"

PAGING = [
    {"name": "_count", "type": "number", "documentation": "Page size, 1–100 (default 50)."},
    {"name": "_offset", "type": "number", "documentation": "Where the page starts (from 0)."},
]
PATIENT_CHAIN = (
    "Only the chain patient.identifier=<system>|<value>, with a personnummer "
    "(urn:oid:1.2.752.129.2.1.3.1) or samordningsnummer (urn:oid:1.2.752.129.2.1.3.3)."
)

RESOURCES: list[dict[str, Any]] = [
    {
        "type": "ServiceRequest",
        "documentation": (
            "A referral for teledermoscopy. Create one with the patient, the requesting GP "
            "(HSA-ID) and clinic (HSA-ID), question, suspicion, body sites and photos (Media) "
            "as contained resources; see docs/fhir.md. Scopes: referral.write, referral.read."
        ),
        "interaction": [{"code": "create"}, {"code": "read"}, {"code": "search-type"}],
        "versioning": "no-version",
        "conditionalCreate": True,
        "searchParam": [
            {
                "name": "identifier",
                "definition": f"{SP}/clinical-identifier",
                "type": "token",
                "documentation": "The client's own identifier, or the referral number.",
            },
            {
                "name": "patient",
                "definition": f"{SP}/clinical-patient",
                "type": "reference",
                "documentation": PATIENT_CHAIN,
            },
            *PAGING,
        ],
    },
    {
        "type": "DiagnosticReport",
        "documentation": (
            "The dermatologist's answer, once sent (never while it waits for a second reading). "
            "Scope: report.read. Create: a PAD (histopathology) result of an excised lesion, "
            "category pathology (v2-0074 SP or PAT, or LOINC LP7839-6), basedOn the referral's "
            "ServiceRequest; it fills the referral's follow-up, and an identifier makes a repeat "
            "return the stored result. Scope: pathology.write. A PAD result is read by its id; "
            "searches return the answers. See docs/fhir.md."
        ),
        "interaction": [{"code": "create"}, {"code": "read"}, {"code": "search-type"}],
        "versioning": "no-version",
        "conditionalCreate": True,
        "searchParam": [
            {
                "name": "based-on",
                "definition": f"{SP}/DiagnosticReport-based-on",
                "type": "reference",
                "documentation": "ServiceRequest/<id>",
            },
            {
                "name": "patient",
                "definition": f"{SP}/clinical-patient",
                "type": "reference",
                "documentation": PATIENT_CHAIN,
            },
            *PAGING,
        ],
    },
    {
        "type": "Communication",
        "documentation": (
            "Messages between the clinic and the dermatologists on one referral (never the "
            "dermatologists' internal consultation). Create one with basedOn, sender (the GP's "
            "HSA-ID) and payload.contentString; an identifier makes a repeat return the first. "
            "Scopes: communication.read, communication.write."
        ),
        "interaction": [{"code": "create"}, {"code": "read"}, {"code": "search-type"}],
        "versioning": "no-version",
        "searchParam": [
            {
                "name": "based-on",
                "definition": f"{SP}/Communication-based-on",
                "type": "reference",
                "documentation": "ServiceRequest/<id>",
            },
            *PAGING,
        ],
    },
]


def capability_statement(base_url: str) -> CapabilityStatement:
    scopes = ", ".join(Scope.values)
    return CapabilityStatement.model_validate(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": RELEASED,
            "publisher": "Telederm",
            "kind": "instance",
            "software": {"name": "Telederm", "version": SOFTWARE_VERSION},
            "implementation": {"description": "Telederm FHIR R4 API", "url": base_url},
            "fhirVersion": "4.0.1",
            "format": ["application/fhir+json", "json"],
            "rest": [
                {
                    "mode": "server",
                    "documentation": (
                        "Referrals in (ServiceRequest, or a transaction Bundle), answers out "
                        "(DiagnosticReport), PAD results in (DiagnosticReport), messages both "
                        "ways (Communication). Media, Binary, Observation, Patient, "
                        "Practitioner, PractitionerRole and Organization are accepted only "
                        "inside a referral (Observation and Practitioner also inside a PAD "
                        "result), not as resources of their own."
                    ),
                    "security": {
                        "cors": False,
                        "description": (
                            f"Authorization: Bearer <token> (a {TOKEN_PREFIX}… token from "
                            f"manage.py create_api_client). Scopes: {scopes}. A client acts only "
                            "for the clinics it is registered for."
                        ),
                    },
                    "resource": RESOURCES,
                    "interaction": [{"code": "transaction"}],
                }
            ],
        }
    )
