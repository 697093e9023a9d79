"""Reading a referral submission (a ServiceRequest with what it refers to) into plain values.

Pure: no database. ``referral_in`` turns the result into a referral through the services. The
accepted shape is in ``docs/fhir.md``; in short the ServiceRequest carries the patient
(``subject``), the GP and clinic (``requester``: a PractitionerRole, or a Practitioner with one
Organization alongside), the GP's question and suspicion (``reasonCode``), one ``bodySite`` per
lesion, history (``note`` and ``supportingInfo`` Observations) and the photos (Media, inline or
pointing at a Binary).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from fhir.resources.R4B.binary import Binary
from fhir.resources.R4B.media import Media
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.servicerequest import ServiceRequest

from telederm.fhir import codes
from telederm.fhir.lesions import LesionPart, lesion_for_image, parse_body_site
from telederm.fhir.references import (
    Refs,
    expect_type,
    hsa_id_of,
    identifiers_of,
    unprocessable,
)
from telederm.lib.patient_ids import parse_patient_id
from telederm.referrals.models import Duration, NaeviCount, SkinType, Suspicion, YesNoUnknown

MAX_IMAGES = 20
HISTORY_CHOICES = {
    "duration": Duration.values,
    "previous_melanoma": YesNoUnknown.values,
    "family_melanoma": YesNoUnknown.values,
    "skin_type": SkinType.values,
    "naevi_count": NaeviCount.values,
}


@dataclass(frozen=True)
class PatientPart:
    number: str  # 12 digits
    name: str
    protected: bool


@dataclass(frozen=True)
class ImagePart:
    kind: str
    raw: bytes
    lesion: int  # index into Submission.lesions
    accept_warnings: bool
    where: str


@dataclass
class Submission:
    identifiers: list[tuple[str, str]]
    patient: PatientPart
    practitioner_hsa: str
    clinic_hsa: str
    history: dict[str, Any]
    lesions: list[LesionPart]
    images: list[ImagePart] = field(default_factory=list)


def read_service_request(
    request: ServiceRequest, refs: Refs, where: str = "ServiceRequest"
) -> Submission:
    if request.status != "active":
        raise unprocessable(
            _("A new referral must have status active."), f"{where}.status", "business-rule"
        )
    if request.intent not in ("order", "original-order"):
        raise unprocessable(_("A referral must have intent order."), f"{where}.intent")
    lesions = [
        parse_body_site(concept, f"{where}.bodySite[{n}]")
        for n, concept in enumerate(request.bodySite or [])
    ]
    if not lesions:
        raise unprocessable(
            _("Give at least one lesion as bodySite (one bodySite per lesion)."),
            f"{where}.bodySite",
            "required",
        )
    practitioner_hsa, clinic_hsa = _requester(request, refs, where)
    history, media = _supporting(request, refs, where)
    history.update(_reasons(request, where))
    notes = [note.text.strip() for note in request.note or [] if note.text and note.text.strip()]
    if notes:
        history["free_text"] = "\n\n".join(notes)
    submission = Submission(
        identifiers=_client_identifiers(request, where),
        patient=_patient(request, refs, where),
        practitioner_hsa=practitioner_hsa,
        clinic_hsa=clinic_hsa,
        history=history,
        lesions=lesions,
    )
    # Media may be bundle entries, contained, or both referenced from supportingInfo: once each.
    unique: dict[int, tuple[Resource, str]] = {}
    for medium, place in [*refs.all_of(Media), *media]:
        unique.setdefault(id(medium), (medium, place))
    for medium, place in unique.values():
        assert isinstance(medium, Media)
        _check_based_on(medium, request, refs, place)
        submission.images.append(_image(medium, refs.within(medium, place), place, lesions))
    if len(submission.images) > MAX_IMAGES:
        raise unprocessable(
            _("At most %(n)d photos per referral.") % {"n": MAX_IMAGES}, where, "too-long"
        )
    return submission


def _client_identifiers(request: ServiceRequest, where: str) -> list[tuple[str, str]]:
    found = []
    for n, identifier in enumerate(request.identifier or []):
        if identifier.system == codes.REFERRAL_NUMBER:
            continue  # our own number: given when the referral is sent, never by the client
        if not identifier.system or not identifier.value:
            raise unprocessable(
                _("An identifier needs both system and value."),
                f"{where}.identifier[{n}]",
                "required",
            )
        found.append((identifier.system[:255], identifier.value[:255]))
    return found


def _patient(request: ServiceRequest, refs: Refs, where: str) -> PatientPart:
    place = f"{where}.subject"
    resource = refs.resolve(request.subject, place)
    expect_type(resource, (Patient,), place)
    number_identifier = next(
        (
            identifier
            for identifier in identifiers_of(request.subject, resource)
            if identifier.system in codes.PATIENT_SYSTEMS and identifier.value
        ),
        None,
    )
    if number_identifier is None:
        raise unprocessable(
            _("The patient needs a personnummer (%(pnr)s) or samordningsnummer (%(snr)s).")
            % {"pnr": codes.PERSONNUMMER, "snr": codes.SAMORDNINGSNUMMER},
            place,
            "required",
        )
    try:
        parsed = parse_patient_id(number_identifier.value or "")
    except ValidationError as exc:
        raise unprocessable(" ".join(exc.messages), place) from exc
    if codes.patient_system(parsed.coordination) != number_identifier.system:
        raise unprocessable(
            _("The number %(number)s is a %(kind)s: use identifier system %(system)s.")
            % {
                "number": parsed.display,
                "kind": _("samordningsnummer") if parsed.coordination else _("personnummer"),
                "system": codes.patient_system(parsed.coordination),
            },
            place,
        )
    name, protected = "", False
    if isinstance(resource, Patient):
        protected = any(
            label.system == codes.CONFIDENTIALITY and label.code in ("R", "V")
            for label in (resource.meta.security or [] if resource.meta else [])
        )
        for human in resource.name or []:
            parts = [*(human.given or []), human.family]
            name = human.text or " ".join(part for part in parts if part)
            break
    return PatientPart(parsed.number, "" if protected else name.strip(), protected)


def _requester(request: ServiceRequest, refs: Refs, where: str) -> tuple[str, str]:
    place = f"{where}.requester"
    if request.requester is None:
        raise unprocessable(
            _("Say who sends the referral: requester (a PractitionerRole or Practitioner)."),
            place,
            "required",
        )
    resource = refs.resolve(request.requester, place)
    expect_type(resource, (PractitionerRole, Practitioner), place)
    if isinstance(resource, PractitionerRole):
        if resource.practitioner is None or resource.organization is None:
            raise unprocessable(
                _("The PractitionerRole needs both practitioner and organization."),
                place,
                "required",
            )
        practitioner = refs.resolve(resource.practitioner, f"{place}.practitioner")
        expect_type(practitioner, (Practitioner,), f"{place}.practitioner")
        organization = refs.resolve(resource.organization, f"{place}.organization")
        expect_type(organization, (Organization,), f"{place}.organization")
        return (
            hsa_id_of(
                identifiers_of(resource.practitioner, practitioner), _("practitioner"), place
            ),
            hsa_id_of(identifiers_of(resource.organization, organization), _("clinic"), place),
        )
    practitioner_hsa = hsa_id_of(
        identifiers_of(request.requester, resource), _("practitioner"), place
    )
    organizations = refs.all_of(Organization)
    if len(organizations) != 1:
        raise unprocessable(
            _(
                "Say which clinic sends the referral: a PractitionerRole as requester, or "
                "exactly one Organization in the request."
            ),
            place,
            "required",
        )
    return practitioner_hsa, hsa_id_of(
        identifiers_of(None, organizations[0][0]),
        _("clinic"),
        organizations[0][1],
    )


def _reasons(request: ServiceRequest, where: str) -> dict[str, str]:
    found: dict[str, str] = {}
    questions = []
    for n, concept in enumerate(request.reasonCode or []):
        suspicion = [c.code for c in concept.coding or [] if c.system == codes.SUSPICION]
        if suspicion:
            if suspicion[0] not in Suspicion.values:
                raise unprocessable(
                    _("Unknown suspicion %(code)s; use one of %(codes)s.")
                    % {"code": suspicion[0], "codes": ", ".join(Suspicion.values)},
                    f"{where}.reasonCode[{n}]",
                    "code-invalid",
                )
            found["suspicion"] = str(suspicion[0])
        elif concept.text and concept.text.strip():
            questions.append(concept.text.strip())
    if questions:
        found["question"] = "\n\n".join(questions)
    return found


def _supporting(
    request: ServiceRequest, refs: Refs, where: str
) -> tuple[dict[str, Any], list[tuple[Resource, str]]]:
    history: dict[str, Any] = {}
    media: list[tuple[Resource, str]] = []
    for n, reference in enumerate(request.supportingInfo or []):
        place = f"{where}.supportingInfo[{n}]"
        resource = refs.resolve(reference, place)
        expect_type(resource, (Observation, Media), place)
        if isinstance(resource, Observation):
            name, value = _history_item(resource, place)
            history[name] = value
        elif resource is not None:
            media.append((resource, place))
    return history, media


def _history_item(observation: Observation, where: str) -> tuple[str, Any]:
    names = [c.code for c in observation.code.coding or [] if c.system == codes.HISTORY]
    name = str(names[0]) if names else ""
    if name in codes.HISTORY_BOOLEAN:
        if observation.valueBoolean is None:
            raise unprocessable(
                _("%(item)s needs valueBoolean.") % {"item": name}, f"{where}.value", "required"
            )
        return name, bool(observation.valueBoolean)
    if name in codes.HISTORY_CODED:
        concept = observation.valueCodeableConcept
        values = [
            c.code
            for c in (concept.coding or [] if concept else [])
            if c.system == codes.HISTORY_CODED[name]
        ]
        if not values or values[0] not in HISTORY_CHOICES[name]:
            raise unprocessable(
                _("%(item)s needs valueCodeableConcept from %(system)s: one of %(codes)s.")
                % {
                    "item": name,
                    "system": codes.HISTORY_CODED[name],
                    "codes": ", ".join(HISTORY_CHOICES[name]),
                },
                f"{where}.value",
                "code-invalid",
            )
        return name, str(values[0])
    raise unprocessable(
        _("Unknown history item; code it in %(system)s as one of %(codes)s.")
        % {
            "system": codes.HISTORY,
            "codes": ", ".join([*codes.HISTORY_BOOLEAN, *codes.HISTORY_CODED]),
        },
        f"{where}.code",
        "code-invalid",
    )


def _check_based_on(medium: Media, request: ServiceRequest, refs: Refs, where: str) -> None:
    """A photo that names the request it belongs to must name this one."""
    for n, reference in enumerate(medium.basedOn or []):
        place = f"{where}.basedOn[{n}]"
        if reference.reference == "#":  # a contained Media naming its container
            continue
        if not reference.reference or refs.lookup(reference.reference, place) is not request:
            raise unprocessable(
                _("Media.basedOn must point at the ServiceRequest of this request."), place
            )


def _image(medium: Media, refs: Refs, where: str, lesions: list[LesionPart]) -> ImagePart:
    kinds = set()
    for coding in medium.modality.coding or [] if medium.modality else []:
        if coding.system == codes.DICOM and coding.code in codes.KIND_FROM_MODALITY:
            kinds.add(codes.KIND_FROM_MODALITY[coding.code])
        elif coding.system == codes.IMAGE_KIND and coding.code in codes.KIND_MODALITY:
            kinds.add(str(coding.code))
    if len(kinds) != 1:
        raise unprocessable(
            _(
                "Say whether the photo is an overview or a dermoscopic photo: Media.modality "
                "%(system)s DMS (dermoscopic) or XC (overview)."
            )
            % {"system": codes.DICOM},
            f"{where}.modality",
            "required",
        )
    accept = any(
        extension.url == codes.EXT_ACCEPT_WARNINGS and extension.valueBoolean is True
        for extension in medium.extension or []
    )
    return ImagePart(
        kind=kinds.pop(),
        raw=_image_bytes(medium, refs, where),
        lesion=lesion_for_image(medium.bodySite, lesions, f"{where}.bodySite"),
        accept_warnings=accept,
        where=where,
    )


def _image_bytes(medium: Media, refs: Refs, where: str) -> bytes:
    content = medium.content
    if content.data:
        return bytes(content.data)
    if content.url:
        target = refs.lookup(str(content.url), f"{where}.content.url")
        if isinstance(target, Binary) and target.data:
            return bytes(target.data)
        raise unprocessable(
            _("Media.content.url must point at a Binary with data in the same request."),
            f"{where}.content.url",
        )
    raise unprocessable(
        _("The photo is missing: give Media.content.data or a Binary in content.url."),
        f"{where}.content",
        "required",
    )
