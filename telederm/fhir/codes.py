"""Identifier systems, code systems and the mappings between Telederm's values and FHIR codes.

National systems are used where they exist (personnummer, samordningsnummer, HSA-ID,
ICD-10-SE, SNOMED CT, DICOM modalities). Telederm's own vocabularies (body site, image kind,
suspicion, history, diagnosis, recommended action) have canonical URLs under ``LOCAL``; they
are identifiers, not addresses that must resolve. ``docs/fhir.md`` lists them all.
"""

from __future__ import annotations

from telederm.referrals.models import ReferralStatus

PERSONNUMMER = "urn:oid:1.2.752.129.2.1.3.1"
SAMORDNINGSNUMMER = "urn:oid:1.2.752.129.2.1.3.3"
PATIENT_SYSTEMS = (PERSONNUMMER, SAMORDNINGSNUMMER)
HSA_ID = "urn:oid:1.2.752.129.2.1.4.1"
ICD10_SE = "urn:oid:1.2.752.116.1.1.1.1.3"
ICD10_WHO = "http://hl7.org/fhir/sid/icd-10"
SNOMED = "http://snomed.info/sct"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
LOINC = "http://loinc.org"
MEDIA_TYPE = "http://terminology.hl7.org/CodeSystem/media-type"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
RFC3986 = "urn:ietf:rfc:3986"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"  # diagnostic service section
UCUM = "http://unitsofmeasure.org"

LOCAL = "https://telederm.se/fhir"
REFERRAL_NUMBER = f"{LOCAL}/NamingSystem/referral-number"
SERVICE = f"{LOCAL}/CodeSystem/service"
BODY_SITE = f"{LOCAL}/CodeSystem/body-site"
IMAGE_KIND = f"{LOCAL}/CodeSystem/image-kind"
SUSPICION = f"{LOCAL}/CodeSystem/suspicion"
HISTORY = f"{LOCAL}/CodeSystem/history"
DIAGNOSIS = f"{LOCAL}/CodeSystem/diagnosis"
ACTION = f"{LOCAL}/CodeSystem/recommended-action"
CERTAINTY = f"{LOCAL}/CodeSystem/certainty"
EXT_LATERALITY = f"{LOCAL}/StructureDefinition/laterality"
EXT_ACCEPT_WARNINGS = f"{LOCAL}/StructureDefinition/quality-warnings-accepted"
EXT_ACTION = f"{LOCAL}/StructureDefinition/recommended-action"
EXT_CERTAINTY = f"{LOCAL}/StructureDefinition/certainty"
PAD_FINDING = f"{LOCAL}/CodeSystem/pad-finding"
INVASION = f"{LOCAL}/CodeSystem/invasion"
EXCISION_PLACE = f"{LOCAL}/CodeSystem/excision-place"
EXT_EXCISION_PLACE = f"{LOCAL}/StructureDefinition/excision-place"
EXT_REGISTERED_BY = f"{LOCAL}/StructureDefinition/registered-by"

SERVICE_CODE = "teledermoscopy"
# LOINC 11488-4 "Consult note": the answer is a consultant's report on the referral.
REPORT_LOINC = "11488-4"
# A PAD result (histopathology of an excised lesion): LOINC 11526-1 "Pathology study"; its
# category is surgical pathology (HL7 v2 table 0074 "SP"; "PAT" is accepted too) or LOINC's
# "Pathology" part (LP7839-6, the US Core category).
PATHOLOGY_LOINC = "11526-1"
PATHOLOGY_CATEGORIES = {(V2_0074, "SP"), (V2_0074, "PAT"), (LOINC, "LP7839-6")}
# SNOMED CT 106243009 "Breslow depth staging for melanoma of skin (observable entity)", the
# code mCODE gives its Breslow observation.
BRESLOW_SNOMED = "106243009"

# Laterality as SNOMED CT qualifier values; "U" (unpaired site) has no qualifier.
LATERALITY_SNOMED = {"R": "24028007", "L": "7771000", "B": "51440002"}
LATERALITY_DISPLAY = {"R": "Right", "L": "Left", "B": "Right and left"}
LATERALITY_FROM_SNOMED = {code: side for side, code in LATERALITY_SNOMED.items()}

# Image kind as DICOM modality: dermoscopy (DMS) and external-camera photography (XC), the same
# modalities the DICOM export uses.
KIND_MODALITY = {"dermoscopic": "DMS", "overview": "XC"}
MODALITY_DISPLAY = {"DMS": "Dermoscopy", "XC": "External-camera Photography"}
KIND_FROM_MODALITY = {code: kind for kind, code in KIND_MODALITY.items()}

# Structured history: one Observation per field, coded in HISTORY with the field's name.
# The value is valueBoolean, or valueCodeableConcept in the field's own code system.
HISTORY_BOOLEAN = (
    "changed_size",
    "changed_shape",
    "changed_colour",
    "itch",
    "bleeding",
    "ulceration",
)
HISTORY_CODED = {
    "duration": f"{LOCAL}/CodeSystem/duration",
    "previous_melanoma": f"{LOCAL}/CodeSystem/yes-no-unknown",
    "family_melanoma": f"{LOCAL}/CodeSystem/yes-no-unknown",
    "skin_type": f"{LOCAL}/CodeSystem/fitzpatrick-skin-type",
    "naevi_count": f"{LOCAL}/CodeSystem/naevi-count",
}

# ServiceRequest.status for each referral status (docs/fhir.md, "Status mapping").
REQUEST_STATUS = {
    ReferralStatus.DRAFT: "draft",
    ReferralStatus.SENT: "active",
    ReferralStatus.IN_REVIEW: "active",
    ReferralStatus.COMPLEMENT_REQUESTED: "active",
    ReferralStatus.SECOND_READING: "active",
    ReferralStatus.ANSWERED: "completed",
    ReferralStatus.WITHDRAWN: "revoked",
}


def patient_system(coordination_number: bool) -> str:
    return SAMORDNINGSNUMMER if coordination_number else PERSONNUMMER
