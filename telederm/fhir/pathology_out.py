"""A registered PAD result as a FHIR R4 DiagnosticReport (validated by the R4B models).

The same shape as the one a client sends (``pathology_in``): category surgical pathology, the
diagnosis in ``conclusionCode`` as in the answers, in situ / invasive and the Breslow thickness
as contained Observations in ``result``, the excision date as ``effectiveDateTime`` and the
place and the registering clinician as extensions.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from fhir.resources.R4B.diagnosticreport import DiagnosticReport

from telederm.fhir import codes
from telederm.fhir.models import ApiClient, FhirPathologyLink
from telederm.fhir.resources_out import patient_reference, practitioner_reference
from telederm.outcomes.models import FollowUp, Invasion, Place
from telederm.review.models import ICD10, Diagnosis


def _coding(system: str, code: str, display: object) -> dict[str, str]:
    return {"system": system, "code": code, "display": str(display)}


def _findings(follow_up: FollowUp, subject: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if follow_up.pad_invasion:
        label = Invasion(follow_up.pad_invasion).label
        found.append(
            {
                "resourceType": "Observation",
                "id": "invasion",
                "status": "final",
                "code": {
                    "coding": [_coding(codes.PAD_FINDING, "invasion", _("In situ or invasive"))]
                },
                "subject": subject,
                "valueCodeableConcept": {
                    "coding": [_coding(codes.INVASION, follow_up.pad_invasion, label)]
                },
            }
        )
    if follow_up.breslow_mm is not None:
        found.append(
            {
                "resourceType": "Observation",
                "id": "breslow",
                "status": "final",
                "code": {
                    "coding": [
                        _coding(
                            codes.SNOMED,
                            codes.BRESLOW_SNOMED,
                            "Breslow depth staging for melanoma of skin",
                        ),
                        _coding(codes.PAD_FINDING, "breslow", _("Breslow thickness")),
                    ]
                },
                "subject": subject,
                "valueQuantity": {
                    "value": follow_up.breslow_mm,
                    "unit": "mm",
                    "system": codes.UCUM,
                    "code": "mm",
                },
            }
        )
    return found


def pathology_report(follow_up: FollowUp, client: ApiClient) -> DiagnosticReport:
    referral = follow_up.referral
    diagnosis = Diagnosis(follow_up.pad_diagnosis)
    coding = [_coding(codes.DIAGNOSIS, diagnosis.value, diagnosis.label)]
    icd = ICD10.get(diagnosis, "")
    if icd:
        coding[:0] = [
            {"system": codes.ICD10_SE, "code": icd.replace(".", "")},
            {"system": codes.ICD10_WHO, "code": icd},
        ]
    subject = patient_reference(referral.patient)
    findings = _findings(follow_up, subject)
    extensions: list[dict[str, Any]] = []
    if follow_up.place:
        place = _coding(codes.EXCISION_PLACE, follow_up.place, Place(follow_up.place).label)
        extensions.append(
            {"url": codes.EXT_EXCISION_PLACE, "valueCodeableConcept": {"coding": [place]}}
        )
    extensions.append(
        {
            "url": codes.EXT_REGISTERED_BY,
            "valueReference": practitioner_reference(follow_up.changed_by),
        }
    )
    identifiers = [
        {"system": system, "value": value}
        for system, value in FhirPathologyLink.objects.filter(client=client, referral=referral)
        .order_by("pk")
        .values_list("system", "value")
    ]
    data: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": str(follow_up.public_id),
        "meta": {"lastUpdated": follow_up.changed_at.isoformat()},
        "contained": findings or None,
        "extension": extensions,
        "identifier": identifiers or None,
        "basedOn": [{"reference": f"ServiceRequest/{referral.public_id}"}],
        "status": "final",
        "category": [
            {
                "coding": [
                    _coding(codes.V2_0074, "SP", "Surgical Pathology"),
                    _coding(codes.LOINC, "LP7839-6", "Pathology"),
                ]
            }
        ],
        "code": {
            "coding": [_coding(codes.LOINC, codes.PATHOLOGY_LOINC, "Pathology study")],
            "text": _("PAD (histopathology)"),
        },
        "subject": subject,
        "effectiveDateTime": follow_up.done_on.isoformat() if follow_up.done_on else None,
        "issued": follow_up.changed_at.isoformat(),
        "result": [{"reference": f"#{item['id']}"} for item in findings] or None,
        "conclusionCode": [{"coding": coding, "text": str(diagnosis.label)}],
    }
    return DiagnosticReport.model_validate({k: v for k, v in data.items() if v is not None})
