"""Body site and laterality of a lesion as a FHIR CodeableConcept, both ways.

A lesion is ``bodySite`` with two codings: our own site code (``codes.BODY_SITE``, exact) and
the SNOMED CT body structure of the region it lies in (``bodysites.snomed_code``), plus the side
as an extension (``codes.EXT_LATERALITY``, a SNOMED CT laterality qualifier). ``text`` is the
lesion's label (e.g. "mole by the left shoulder blade") when it has one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.extension import Extension

from telederm.fhir import codes
from telederm.fhir.outcomes import FhirError
from telederm.referrals.bodysites import BODY_SITES, get_site, is_valid_site
from telederm.referrals.models import Lesion


@dataclass(frozen=True)
class LesionPart:
    site: str
    laterality: str
    label: str


def body_site_concept(lesion: Lesion) -> dict[str, Any]:
    site = get_site(lesion.body_site)
    coding = [{"system": codes.BODY_SITE, "code": site.code, "display": str(site.label)}]
    if site.snomed_code:
        coding.append(
            {"system": codes.SNOMED, "code": site.snomed_code, "display": site.snomed_display or ""}
        )
    concept: dict[str, Any] = {"coding": coding}
    if lesion.label:
        concept["text"] = lesion.label
    side = codes.LATERALITY_SNOMED.get(lesion.laterality)
    if side:
        concept["extension"] = [
            {
                "url": codes.EXT_LATERALITY,
                "valueCoding": {
                    "system": codes.SNOMED,
                    "code": side,
                    "display": codes.LATERALITY_DISPLAY[lesion.laterality],
                },
            }
        ]
    return concept


def _error(message: str, where: str, code: str = "code-invalid") -> FhirError:
    return FhirError.of(422, code, message, expression=where)


def parse_body_site(concept: CodeableConcept, where: str) -> LesionPart:
    codings = concept.coding or []
    ours = [c.code for c in codings if c.system == codes.BODY_SITE and c.code]
    snomed = [c.code for c in codings if c.system == codes.SNOMED and c.code]
    if ours:
        if not is_valid_site(ours[0]):
            raise _error(
                _("Unknown body site %(code)s in %(system)s.")
                % {"code": ours[0], "system": codes.BODY_SITE},
                where,
            )
        site = get_site(ours[0])
    elif snomed:
        matches = [site for site in BODY_SITES if site.snomed_code == snomed[0]]
        if not matches:
            raise _error(
                _("SNOMED CT %(code)s is not a body site we know; use %(system)s.")
                % {"code": snomed[0], "system": codes.BODY_SITE},
                where,
            )
        if len(matches) > 1:
            raise _error(
                _(
                    "SNOMED CT %(code)s covers several sites (%(sites)s): give the code from %(system)s."
                )
                % {
                    "code": snomed[0],
                    "sites": ", ".join(site.code for site in matches),
                    "system": codes.BODY_SITE,
                },
                where,
            )
        site = matches[0]
    else:
        raise _error(
            _("Code the body site in %(system)s (or SNOMED CT).") % {"system": codes.BODY_SITE},
            where,
            "required",
        )
    laterality = _laterality(concept.extension or [], where)
    if laterality is None:
        if site.lateral:
            raise _error(
                _("Say which side (extension %(url)s): the site %(site)s has a left and a right.")
                % {"url": codes.EXT_LATERALITY, "site": site.code},
                where,
                "required",
            )
        laterality = "U"
    return LesionPart(site.code, laterality, (concept.text or "").strip()[:100])


def _laterality(extensions: list[Extension], where: str) -> str | None:
    for extension in extensions:
        if extension.url != codes.EXT_LATERALITY:
            continue
        codings: list[Coding] = []
        if extension.valueCoding is not None:
            codings = [extension.valueCoding]
        elif extension.valueCodeableConcept is not None:
            codings = list(extension.valueCodeableConcept.coding or [])
        for coding in codings:
            if coding.system == codes.SNOMED and coding.code in codes.LATERALITY_FROM_SNOMED:
                return codes.LATERALITY_FROM_SNOMED[coding.code]
        raise _error(
            _("Laterality must be SNOMED CT %(codes)s.")
            % {"codes": ", ".join(codes.LATERALITY_SNOMED.values())},
            where,
        )
    return None


def lesion_for_image(concept: CodeableConcept | None, lesions: list[LesionPart], where: str) -> int:
    """Which of the referral's lesions a photo shows (index), from the Media's bodySite.

    With one lesion the Media may leave bodySite out. Otherwise it must match one of the
    ServiceRequest's bodySite entries: site and side, and the label where two lesions share both.
    """
    if concept is None:
        if len(lesions) == 1:
            return 0
        raise _error(
            _("The referral has several lesions: give Media.bodySite to say which one."),
            where,
            "required",
        )
    part = parse_body_site(concept, where)
    exact = [n for n, lesion in enumerate(lesions) if lesion == part]
    if len(exact) == 1:
        return exact[0]
    same_place = [
        n
        for n, lesion in enumerate(lesions)
        if (lesion.site, lesion.laterality) == (part.site, part.laterality)
    ]
    if len(same_place) == 1:
        return same_place[0]
    raise _error(
        _("Media.bodySite does not match exactly one bodySite of the ServiceRequest."),
        where,
        "business-rule",
    )
