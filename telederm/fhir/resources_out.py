"""Telederm's rows as FHIR R4 resources, each validated by the ``fhir.resources`` R4B models.

People and units are referenced by identifier (HSA-ID, personnummer) with a display name, not
by a resource of ours: the EHR knows them by those identifiers. The patient's name is left out
of every display when the patient has protected identity.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.servicerequest import ServiceRequest

from telederm.accounts.models import Organisation, Role, User
from telederm.fhir import codes
from telederm.fhir.lesions import body_site_concept
from telederm.fhir.models import ApiClient, FhirReferralLink
from telederm.messaging.models import Message
from telederm.referrals.models import Patient, Referral, ReferralStatus
from telederm.review.models import Action, Answer, Certainty, Diagnosis


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def patient_reference(patient: Patient | None) -> dict[str, Any]:
    if patient is None:
        return {"type": "Patient", "display": "?"}
    reference: dict[str, Any] = {
        "type": "Patient",
        "identifier": {
            "system": codes.patient_system(patient.coordination_number),
            "value": patient.personal_number,
        },
    }
    if patient.name and not patient.protected_identity:
        reference["display"] = patient.name
    return reference


def practitioner_reference(user: User) -> dict[str, Any]:
    return {
        "type": "Practitioner",
        "identifier": {"system": codes.HSA_ID, "value": user.hsa_id},
        "display": user.full_name,
    }


def organization_reference(organisation: Organisation) -> dict[str, Any]:
    reference: dict[str, Any] = {"type": "Organization", "display": organisation.name}
    if organisation.hsa_id:
        reference["identifier"] = {"system": codes.HSA_ID, "value": organisation.hsa_id}
    return reference


def _coding(system: str, code: str, display: object) -> dict[str, str]:
    return {"system": system, "code": code, "display": str(display)}


def _history(referral: Referral) -> list[dict[str, Any]]:
    """The structured history as contained Observations (one per field)."""
    observations = []
    for name in codes.HISTORY_BOOLEAN:
        value: dict[str, Any] = {"valueBoolean": bool(getattr(referral, name))}
        observations.append((name, value))
    for name, system in codes.HISTORY_CODED.items():
        code = getattr(referral, name)
        if code:
            display = getattr(referral, f"get_{name}_display")()
            value = {"valueCodeableConcept": {"coding": [_coding(system, code, display)]}}
            observations.append((name, value))
    return [
        {
            "resourceType": "Observation",
            "id": f"history-{name.replace('_', '-')}",
            "status": "final",
            "code": {"coding": [_coding(codes.HISTORY, name, _label(name))]},
            "subject": patient_reference(referral.patient),
            **value,
        }
        for name, value in observations
    ]


def _label(name: str) -> str:
    return str(getattr(Referral._meta.get_field(name), "verbose_name", name))


def service_request(referral: Referral, client: ApiClient) -> ServiceRequest:
    identifiers = []
    if referral.number:
        identifiers.append({"system": codes.REFERRAL_NUMBER, "value": referral.number})
    identifiers += [
        {"system": link.system, "value": link.value}
        for link in FhirReferralLink.objects.filter(referral=referral, client=client).order_by("pk")
    ]
    reasons: list[dict[str, Any]] = []
    if referral.question:
        reasons.append({"text": referral.question})
    if referral.suspicion:
        reasons.append(
            {
                "coding": [
                    _coding(codes.SUSPICION, referral.suspicion, referral.get_suspicion_display())
                ]
            }
        )
    history = _history(referral)
    role = {
        "resourceType": "PractitionerRole",
        "id": "requester",
        "practitioner": practitioner_reference(referral.author),
        "organization": organization_reference(referral.clinic),
    }
    links = referral.lesion_links.select_related("lesion").order_by("position", "pk")
    data: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": str(referral.public_id),
        "meta": {"lastUpdated": _when(referral.updated_at)},
        "contained": [role, *history],
        "identifier": identifiers or None,
        "status": codes.REQUEST_STATUS[ReferralStatus(referral.status)],
        "intent": "order",
        "code": {
            "coding": [_coding(codes.SERVICE, codes.SERVICE_CODE, _("Teledermoscopy"))],
        },
        "subject": patient_reference(referral.patient),
        "authoredOn": _when(referral.sent_at or referral.created_at),
        "requester": {"reference": "#requester"},
        "performer": [organization_reference(referral.review_unit)]
        if referral.review_unit
        else None,
        "reasonCode": reasons or None,
        "bodySite": [body_site_concept(link.lesion) for link in links] or None,
        "note": [{"text": referral.free_text}] if referral.free_text else None,
        "supportingInfo": [{"reference": f"#{item['id']}"} for item in history] or None,
    }
    return ServiceRequest.model_validate({k: v for k, v in data.items() if v is not None})


def _conclusion(answer: Answer) -> str:
    parts = [answer.text_to_gp]
    for amendment in answer.amendments.all():
        parts.append(
            _("Addendum %(date)s (%(reason)s): %(text)s")
            % {
                "date": amendment.created_at.date().isoformat(),
                "reason": amendment.reason,
                "text": amendment.text,
            }
        )
    return "\n\n".join(parts)


def _action_extension(answer: Answer) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {
            "url": "action",
            "valueCodeableConcept": {
                "coding": [_coding(codes.ACTION, answer.action, Action(answer.action).label)]
            },
        }
    ]
    if answer.follow_up_months:
        parts.append({"url": "followUpMonths", "valuePositiveInt": answer.follow_up_months})
    return {"url": codes.EXT_ACTION, "extension": parts}


def diagnostic_report(answer: Answer) -> DiagnosticReport:
    referral = answer.referral
    amendments = list(answer.amendments.all())
    diagnosis = Diagnosis(answer.diagnosis)
    coding = [_coding(codes.DIAGNOSIS, diagnosis.value, diagnosis.label)]
    if answer.icd10:
        # ICD-10-SE code lists (Socialstyrelsen) write codes without the dot: C439, not C43.9.
        # The same category in WHO ICD-10 keeps it.
        coding[:0] = [
            {"system": codes.ICD10_SE, "code": answer.icd10.replace(".", "")},
            {"system": codes.ICD10_WHO, "code": answer.icd10},
        ]
    performers = [practitioner_reference(answer.author)]
    if referral.review_unit:
        performers.append(organization_reference(referral.review_unit))
    interpreters = [practitioner_reference(answer.author)]
    if answer.second_reader:
        interpreters.append(practitioner_reference(answer.second_reader))
    assert answer.sent_at is not None, "answers waiting for a second reading are never shown"
    updated = max([answer.sent_at, *[amendment.created_at for amendment in amendments]])
    data = {
        "resourceType": "DiagnosticReport",
        "id": str(answer.public_id),
        "meta": {"lastUpdated": _when(updated)},
        "extension": [
            _action_extension(answer),
            {
                "url": codes.EXT_CERTAINTY,
                "valueCodeableConcept": {
                    "coding": [
                        _coding(
                            codes.CERTAINTY, answer.certainty, Certainty(answer.certainty).label
                        )
                    ]
                },
            },
        ],
        "basedOn": [{"reference": f"ServiceRequest/{referral.public_id}"}],
        "status": "amended" if amendments else "final",
        "code": {
            "coding": [
                _coding(codes.LOINC, codes.REPORT_LOINC, "Consult note"),
                _coding(codes.SERVICE, codes.SERVICE_CODE, _("Teledermoscopy")),
            ],
            "text": _("Teledermoscopy assessment"),
        },
        "subject": patient_reference(referral.patient),
        "effectiveDateTime": _when(answer.sent_at),
        "issued": _when(answer.sent_at),
        "performer": performers,
        "resultsInterpreter": interpreters,
        "conclusion": _conclusion(answer),
        "conclusionCode": [{"coding": coding, "text": str(diagnosis.label)}],
    }
    return DiagnosticReport.model_validate(data)


def communication(
    message: Message, extra_identifiers: list[dict[str, str]] | None = None
) -> Communication:
    referral = message.referral
    recipient = referral.review_unit if message.author_role == Role.GP else referral.clinic
    data = {
        "resourceType": "Communication",
        "id": str(message.public_id),
        "identifier": [
            *(extra_identifiers or []),
            {"system": codes.RFC3986, "value": f"urn:uuid:{message.client_key}"},
        ],
        "basedOn": [{"reference": f"ServiceRequest/{referral.public_id}"}],
        "status": "completed",
        "subject": patient_reference(referral.patient),
        "sent": _when(message.created_at),
        "sender": practitioner_reference(message.author),
        "recipient": [organization_reference(recipient)] if recipient else None,
        "payload": [{"contentString": message.body}],
    }
    return Communication.model_validate({k: v for k, v in data.items() if v is not None})


def searchset(
    resources: list[Resource], *, base: str, self_url: str, total: int, next_url: str | None
) -> Bundle:
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": total,
            "link": links,
            "entry": [
                {
                    "fullUrl": f"{base}/{resource.get_resource_type()}/{resource.id}",
                    "resource": resource,
                    "search": {"mode": "match"},
                }
                for resource in resources
            ]
            or None,
        }
    )
