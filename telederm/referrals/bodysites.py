"""Body sites: the controlled vocabulary for where a lesion is.

One list serves every consumer:

* the GP's body map and its accessible list (``site_choices`` and the template
  ``referrals/includes/bodymap.html``, whose SVG regions carry the same ``code``);
* the ISIC anatomic-site vocabulary (``isic_site`` is a value of
  ``isic_metadata.anatom_site_hierarchical.AnatomSiteEnum``), for research export;
* FHIR ``bodySite`` and DICOM ``AnatomicRegionSequence`` (``snomed_code`` with
  ``snomed_display``, coding scheme SCT / http://snomed.info/sct).

``snomed_code`` is the SNOMED CT body structure of the region the site lies in. Where
SNOMED has a concept for exactly the site (palm, popliteal fossa, dorsum of foot …) that
concept is used; otherwise it is the smallest enclosing region with a well-known concept
(the back of the thigh is coded "Thigh"), and ``snomed_display`` says which. The side is
never part of the site: laterality is stored separately (``Laterality``) and becomes a
laterality qualifier in FHIR and (0020,0060) Laterality in DICOM.

Sites are view-specific where the view carries clinical information (front or back of the
thigh, palm or back of the hand), so that a dermatologist can find the lesion again. The
``code`` values are stored in the database: never rename or reuse one; add new codes instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

FRONT = "front"
BACK = "back"
VIEWS = (FRONT, BACK)


@dataclass(frozen=True)
class BodySite:
    code: str
    """Stable identifier stored on the lesion (ASCII, at most 40 characters)."""
    isic_site: str
    """A value of the ISIC ``AnatomSiteEnum`` (``"Upper extremity:Forearm:Volar forearm"``)."""
    label: StrPromise
    """Lazily translated name, English source; Swedish comes from the catalogue."""
    group: StrPromise
    """Heading the site is listed under (``<optgroup>``)."""
    views: tuple[str, ...]
    """The body-map views (``"front"``, ``"back"``) that draw the site."""
    snomed_code: str | None
    """SNOMED CT body structure concept id of the (enclosing) region, or None."""
    snomed_display: str | None
    """Display term for ``snomed_code``."""
    lateral: bool
    """True for paired sites (left and right exist): the side must be given separately."""


class Laterality(models.TextChoices):
    """The side of a lesion. Right and left are always the *patient's* own right and left."""

    RIGHT = "R", _("Right (the patient's)")
    LEFT = "L", _("Left (the patient's)")
    BOTH = "B", _("Both sides / midline")
    UNPAIRED = "U", _("Not applicable")


LATERALITY_HELP_TEXT = _(
    "Right and left are the patient's own right and left, not yours as you look at the patient."
)

HEAD_NECK = _("Head and neck")
TRUNK = _("Trunk")
ANOGENITAL = _("Buttocks, genitals and anal area")
ARM = _("Arm and hand")
LEG = _("Leg and foot")

BOTH_VIEWS = (FRONT, BACK)

BODY_SITES: tuple[BodySite, ...] = (
    # --- Head and neck ---
    BodySite(
        "scalp",
        "Head and neck:Head:Scalp",
        _("Scalp"),
        HEAD_NECK,
        BOTH_VIEWS,
        "41695006",
        "Scalp",
        False,
    ),
    BodySite(
        "face", "Head and neck:Head:Face", _("Face"), HEAD_NECK, (FRONT,), "89545001", "Face", False
    ),
    BodySite(
        "ear", "Head and neck:Head:Ear", _("Ear"), HEAD_NECK, BOTH_VIEWS, "117590005", "Ear", True
    ),
    BodySite(
        "neck_front",
        "Head and neck:Neck:Front of neck",
        _("Neck, front"),
        HEAD_NECK,
        (FRONT,),
        "45048000",
        "Neck",
        False,
    ),
    BodySite(
        "neck_back",
        "Head and neck:Neck:Nape of neck",
        _("Neck, back (nape)"),
        HEAD_NECK,
        (BACK,),
        "45048000",
        "Neck",
        False,
    ),
    # --- Trunk ---
    BodySite(
        "chest",
        "Trunk:Anterior trunk:Anterior chest",
        _("Chest"),
        TRUNK,
        (FRONT,),
        "51185008",
        "Thoracic structure",
        False,
    ),
    BodySite(
        "breast",
        "Trunk:Anterior trunk:Anterior chest:Breast",
        _("Breast"),
        TRUNK,
        (FRONT,),
        "76752008",
        "Breast",
        True,
    ),
    BodySite(
        "abdomen",
        "Trunk:Anterior trunk:Anterior abdomen",
        _("Abdomen"),
        TRUNK,
        (FRONT,),
        "818983003",
        "Abdomen",
        False,
    ),
    BodySite(
        "axilla",
        "Trunk:Lateral trunk:Axilla",
        _("Armpit"),
        TRUNK,
        (FRONT,),
        "91470000",
        "Axilla",
        True,
    ),
    BodySite(
        "flank",
        "Trunk:Lateral trunk",
        _("Side of the trunk (flank)"),
        TRUNK,
        BOTH_VIEWS,
        "58602004",
        "Flank",
        True,
    ),
    BodySite(
        "upper_back",
        "Trunk:Posterior trunk:Upper back",
        _("Upper back"),
        TRUNK,
        (BACK,),
        "77568009",
        "Back",
        False,
    ),
    BodySite(
        "mid_back",
        "Trunk:Posterior trunk:Mid back",
        _("Middle of the back"),
        TRUNK,
        (BACK,),
        "77568009",
        "Back",
        False,
    ),
    BodySite(
        "lower_back",
        "Trunk:Posterior trunk:Lower back",
        _("Lower back"),
        TRUNK,
        (BACK,),
        "52612000",
        "Lumbar region",
        False,
    ),
    BodySite(
        "groin",
        "Trunk:Anterior trunk:Anterior abdomen:Lower anterior abdomen:Inguinal region",
        _("Groin"),
        TRUNK,
        (FRONT,),
        "26893007",
        "Inguinal region",
        True,
    ),
    # --- Buttocks, genitals and anal area ---
    BodySite(
        "buttock",
        "Lower extremity:Buttock",
        _("Buttock"),
        ANOGENITAL,
        (BACK,),
        "46862004",
        "Buttock",
        True,
    ),
    BodySite(
        "genitals",
        "Anogenital region:Genital region",
        _("Genitals"),
        ANOGENITAL,
        (FRONT,),
        "71934003",
        "Genital structure",
        False,
    ),
    BodySite(
        "perianal",
        "Anogenital region:Perianal region",
        _("Around the anus (perianal)"),
        ANOGENITAL,
        (BACK,),
        "38864007",
        "Perineum",
        False,
    ),
    # --- Arm and hand ---
    BodySite(
        "shoulder",
        "Upper extremity:Shoulder",
        _("Shoulder"),
        ARM,
        BOTH_VIEWS,
        "16982005",
        "Shoulder",
        True,
    ),
    BodySite(
        "upper_arm_front",
        "Upper extremity:Upper arm:Anterior upper arm",
        _("Upper arm, front"),
        ARM,
        (FRONT,),
        "40983000",
        "Upper arm",
        True,
    ),
    BodySite(
        "upper_arm_back",
        "Upper extremity:Upper arm:Posterior upper arm",
        _("Upper arm, back"),
        ARM,
        (BACK,),
        "40983000",
        "Upper arm",
        True,
    ),
    BodySite(
        "elbow_front",
        "Upper extremity:Elbow:Antecubital fossa",
        _("Elbow crease"),
        ARM,
        (FRONT,),
        "127949000",
        "Elbow region structure",
        True,
    ),
    BodySite(
        "elbow_back",
        "Upper extremity:Elbow:Elbow tip",
        _("Elbow, back (point of the elbow)"),
        ARM,
        (BACK,),
        "127949000",
        "Elbow region structure",
        True,
    ),
    BodySite(
        "forearm_front",
        "Upper extremity:Forearm:Volar forearm",
        _("Forearm, palm side"),
        ARM,
        (FRONT,),
        "14975008",
        "Forearm",
        True,
    ),
    BodySite(
        "forearm_back",
        "Upper extremity:Forearm:Dorsal forearm",
        _("Forearm, back-of-hand side"),
        ARM,
        (BACK,),
        "14975008",
        "Forearm",
        True,
    ),
    BodySite(
        "wrist",
        "Upper extremity:Wrist",
        _("Wrist"),
        ARM,
        BOTH_VIEWS,
        "8205005",
        "Wrist region structure",
        True,
    ),
    BodySite(
        "palm",
        "Upper extremity:Hand:Palm of hand",
        _("Palm"),
        ARM,
        (FRONT,),
        "21547004",
        "Palm",
        True,
    ),
    BodySite(
        "hand_back",
        "Upper extremity:Hand:Dorsum of hand",
        _("Back of the hand"),
        ARM,
        (BACK,),
        "85562004",
        "Hand",
        True,
    ),
    BodySite(
        "fingers",
        "Upper extremity:Hand:Fingers and thumb",
        _("Fingers and thumb (including nails)"),
        ARM,
        BOTH_VIEWS,
        "7569003",
        "Finger",
        True,
    ),
    # --- Leg and foot ---
    BodySite(
        "hip",
        "Lower extremity:Thigh:Lateral thigh:Hip",
        _("Hip"),
        LEG,
        BOTH_VIEWS,
        "29836001",
        "Hip region structure",
        True,
    ),
    BodySite(
        "thigh_front",
        "Lower extremity:Thigh:Anterior thigh",
        _("Thigh, front"),
        LEG,
        (FRONT,),
        "68367000",
        "Thigh",
        True,
    ),
    BodySite(
        "thigh_back",
        "Lower extremity:Thigh:Posterior thigh",
        _("Thigh, back"),
        LEG,
        (BACK,),
        "68367000",
        "Thigh",
        True,
    ),
    BodySite(
        "knee_front",
        "Lower extremity:Knee:Patellar region",
        _("Knee, front"),
        LEG,
        (FRONT,),
        "72696002",
        "Knee",
        True,
    ),
    BodySite(
        "knee_back",
        "Lower extremity:Knee:Popliteal fossa",
        _("Back of the knee"),
        LEG,
        (BACK,),
        "32361000",
        "Popliteal fossa",
        True,
    ),
    BodySite(
        "shin",
        "Lower extremity:Lower leg:Shin",
        _("Shin"),
        LEG,
        (FRONT,),
        "30021000",
        "Lower leg",
        True,
    ),
    BodySite(
        "calf",
        "Lower extremity:Lower leg:Calf",
        _("Calf"),
        LEG,
        (BACK,),
        "53840002",
        "Calf of leg",
        True,
    ),
    BodySite(
        "ankle",
        "Lower extremity:Ankle",
        _("Ankle"),
        LEG,
        BOTH_VIEWS,
        "344001",
        "Ankle region structure",
        True,
    ),
    BodySite(
        "foot_top",
        "Lower extremity:Foot:Dorsum of foot",
        _("Top of the foot"),
        LEG,
        (FRONT,),
        "2402003",
        "Dorsum of foot",
        True,
    ),
    BodySite(
        "sole",
        "Lower extremity:Foot:Sole of foot",
        _("Sole of the foot"),
        LEG,
        (BACK,),
        "56459004",
        "Foot",
        True,
    ),
    BodySite(
        "toes",
        "Lower extremity:Foot:Toes",
        _("Toes (including nails)"),
        LEG,
        (FRONT,),
        "29707007",
        "Toe",
        True,
    ),
)

_BY_CODE: dict[str, BodySite] = {site.code: site for site in BODY_SITES}


def get_site(code: str) -> BodySite:
    """The site with this code; ``KeyError`` if there is none."""
    return _BY_CODE[code]


def is_valid_site(code: str) -> bool:
    return code in _BY_CODE


def sites_in_view(view: str) -> tuple[BodySite, ...]:
    return tuple(site for site in BODY_SITES if view in site.views)


def site_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Choices for a ``<select>`` with one ``<optgroup>`` per group, in the order of ``BODY_SITES``.

    Labels are translated when this is called: call it per request (in a form's ``__init__``),
    not at import time.
    """
    groups: dict[str, list[tuple[str, str]]] = {}
    for site in BODY_SITES:
        groups.setdefault(str(site.group), []).append((site.code, str(site.label)))
    return list(groups.items())
