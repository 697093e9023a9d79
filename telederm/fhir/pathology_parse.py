"""Reading a PAD report (a FHIR DiagnosticReport of category pathology) into the follow-up's
fields: pure, no database. ``pathology_in`` registers what this reads; docs/fhir.md ("PAD in")
describes the resource."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.observation import Observation

from telederm.fhir import codes
from telederm.fhir.outcomes import FhirError
from telederm.fhir.references import Refs, expect_type
from telederm.review.models import ICD10, Diagnosis

ROOT = "DiagnosticReport"
STATUSES = ("final", "corrected", "amended", "appended")
REFERENCE_MAX = 100  # FollowUp.pad_reference


def _icd_key(code: str) -> str:
    """ICD-10-SE writes C439, WHO ICD-10 C43.9: compare them without the dot."""
    return code.replace(".", "").strip().upper()


# ICD-10 category → our diagnoses with that category (some share one: D22.9, C44.9).
def _by_icd10() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for diagnosis, code in ICD10.items():
        if code:
            found.setdefault(_icd_key(code), set()).add(Diagnosis(diagnosis).value)
    return found


BY_ICD10 = _by_icd10()


@dataclass
class Pad:
    """What the report says, before it is merged with a follow-up already registered."""

    diagnosis: str
    invasion: str = ""
    breslow: Decimal | None = None
    done_on: date | None = None
    place: str = ""
    reference: str = ""
    # Where each follow-up field came from, so that the service's errors point at it.
    where: dict[str, str] = field(default_factory=dict)


def unprocessable(code: str, message: str, where: str = ROOT) -> FhirError:
    return FhirError.of(422, code, message, expression=where)


def check_kind(report: DiagnosticReport) -> None:
    found = {(c.system, c.code) for kind in report.category or [] for c in kind.coding or []}
    if not found & codes.PATHOLOGY_CATEGORIES:
        raise unprocessable(
            "invalid",
            _(
                "Only PAD results are accepted here: give the category %(codes)s. The "
                "teledermoscopy answers are read with GET."
            )
            % {"codes": f"{codes.V2_0074}|SP (or PAT), {codes.LOINC}|LP7839-6"},
            f"{ROOT}.category",
        )
    if report.status not in STATUSES:
        raise unprocessable(
            "business-rule",
            _(
                "Send the PAD result when it is final (status final; corrected or amended to "
                "replace an earlier one). This one is %(status)s."
            )
            % {"status": report.status},
            f"{ROOT}.status",
        )


def extension_of(report: DiagnosticReport, url: str) -> tuple[Extension | None, str]:
    for n, extension in enumerate(report.extension or []):
        if extension.url == url:
            return extension, f"{ROOT}.extension[{n}]"
    return None, f"{ROOT}.extension"


def _diagnosis(report: DiagnosticReport) -> str:
    where = f"{ROOT}.conclusionCode"
    ours: set[str] = set()
    icd: set[str] = set()
    for concept in report.conclusionCode or []:
        for coding in concept.coding or []:
            if coding.system == codes.DIAGNOSIS:
                if coding.code not in Diagnosis.values:
                    raise unprocessable(
                        "code-invalid",
                        _("Unknown diagnosis %(code)s. Use one of: %(codes)s.")
                        % {"code": coding.code, "codes": ", ".join(Diagnosis.values)},
                        where,
                    )
                ours.add(str(coding.code))
            elif coding.system in (codes.ICD10_SE, codes.ICD10_WHO) and coding.code:
                icd.add(_icd_key(coding.code))
    if len(ours) > 1:
        raise unprocessable("invalid", _("Give one PAD diagnosis."), where)
    if ours:
        return ours.pop()
    named = {diagnosis for key in icd for diagnosis in BY_ICD10.get(key, set())}
    if len(named) == 1 and all(key in BY_ICD10 for key in icd):
        return named.pop()
    if icd:
        raise unprocessable(
            "code-invalid",
            _(
                "The ICD-10 code %(codes)s does not name exactly one of our diagnoses: add a "
                "coding in %(system)s."
            )
            % {"codes": ", ".join(sorted(icd)), "system": codes.DIAGNOSIS},
            where,
        )
    raise unprocessable(
        "required",
        _("Give the PAD diagnosis as conclusionCode, a coding in %(system)s.")
        % {"system": codes.DIAGNOSIS},
        where,
    )


def _finding(observation: Observation) -> str:
    """Which of our findings an Observation carries: "invasion", "breslow" or "" (ignored)."""
    for coding in observation.code.coding or []:
        if coding.system == codes.PAD_FINDING and coding.code in ("invasion", "breslow"):
            return str(coding.code)
        if coding.system == codes.SNOMED and coding.code == codes.BRESLOW_SNOMED:
            return "breslow"
    return ""


def _invasion(observation: Observation, where: str) -> str:
    concept = observation.valueCodeableConcept
    for coding in (concept.coding or []) if concept else []:
        if coding.system == codes.INVASION and coding.code:
            return str(coding.code)
    raise unprocessable(
        "required",
        _("Give in situ or invasive as valueCodeableConcept in %(system)s: in_situ, invasive.")
        % {"system": codes.INVASION},
        where,
    )


def _breslow(observation: Observation, where: str) -> Decimal:
    quantity = observation.valueQuantity
    if quantity is None or quantity.value is None:
        raise unprocessable(
            "required", _("Give the Breslow thickness as valueQuantity in mm."), where
        )
    unit = quantity.code or quantity.unit
    if unit != "mm" or quantity.system not in (None, codes.UCUM):
        raise unprocessable(
            "invalid",
            _("Give the Breslow thickness in millimetres (UCUM code mm)."),
            f"{where}.valueQuantity",
        )
    value = Decimal(str(quantity.value))
    if value != value.quantize(Decimal("0.01")):
        raise unprocessable(
            "invalid",
            _("Give the Breslow thickness with at most two decimals."),
            f"{where}.valueQuantity",
        )
    return value


def _done_on(report: DiagnosticReport) -> date | None:
    value = report.effectiveDateTime
    if value is None:
        if report.effectivePeriod is not None:
            raise unprocessable(
                "invalid",
                _("Give the excision date as effectiveDateTime."),
                f"{ROOT}.effectivePeriod",
            )
        return None
    if isinstance(value, datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    if isinstance(value, date):
        return value
    raise unprocessable(
        "invalid",
        _("Give the excision date as a whole date (YYYY-MM-DD)."),
        f"{ROOT}.effectiveDateTime",
    )


def _place(report: DiagnosticReport) -> tuple[str, str]:
    extension, where = extension_of(report, codes.EXT_EXCISION_PLACE)
    if extension is None:
        return "", where
    concept = extension.valueCodeableConcept
    for coding in (concept.coding or []) if concept else []:
        if coding.system == codes.EXCISION_PLACE and coding.code:
            return str(coding.code), where
    raise unprocessable(
        "code-invalid",
        _("Give the place as valueCodeableConcept in %(system)s: clinic, dermatology, other.")
        % {"system": codes.EXCISION_PLACE},
        where,
    )


def read_pad(report: DiagnosticReport, refs: Refs) -> Pad:
    pad = Pad(diagnosis=_diagnosis(report), done_on=_done_on(report))
    pad.place, pad.where["place"] = _place(report)
    for n, item in enumerate(report.result or []):
        where = f"{ROOT}.result[{n}]"
        target = refs.resolve(item, where)
        if target is None:
            raise unprocessable(
                "invalid", _("Send the findings as contained Observations (#id)."), where
            )
        expect_type(target, (Observation,), where)
        assert isinstance(target, Observation)
        kind = _finding(target)
        if kind == "invasion":
            pad.invasion, pad.where["pad_invasion"] = _invasion(target, where), where
        elif kind == "breslow":
            pad.breslow, pad.where["breslow_mm"] = _breslow(target, where), where
    values = [i.value.strip() for i in report.identifier or [] if i.value and i.value.strip()]
    if values:
        pad.reference = values[0]
        if len(pad.reference) > REFERENCE_MAX:
            raise unprocessable(
                "invalid",
                _("The identifier is stored as the PAD reference: at most %(n)d characters.")
                % {"n": REFERENCE_MAX},
                f"{ROOT}.identifier[0].value",
            )
    return pad
