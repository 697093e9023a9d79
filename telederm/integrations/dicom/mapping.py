"""Map a referral's photos and documents to DICOM instances. Pure: values in, pydicom out.

No database and no network: the caller (the outbox) turns models into ``ImageFacts`` and
``StudyFacts`` and hands the stored bytes over; ``client.ArchiveClient`` sends the result.

Decisions
---------
* **IODs.** Dermoscopic photos become *Dermoscopic Photography Image Storage* (modality DMS,
  with the Frame of Reference, Enhanced General Equipment and Dermoscopic Image modules);
  overview photos *VL Photographic Image Storage* (modality XC). Documents (the referral and the
  answer as PDF) become *Encapsulated PDF Storage* (modality DOC) in their own series.
* **Stable UIDs.** Every UID is ``2.25.<int(uuid)>`` of a public UUID, so sending again gives
  the same instance (archives overwrite or ignore it instead of storing a copy): the study from
  the referral, the SOP instance from the image (or the document seed), the series and frame of
  reference from ``uuid5`` of the referral and a fixed name.
* **Pixels.** A stored baseline JPEG (8-bit, SOF0, YCbCr with subsampled chroma, or greyscale)
  with orientation 1 is encapsulated *unchanged* in JPEG Baseline (``1.2.840.10008.1.2.4.50``):
  the archive holds the very bytes the GP uploaded (metadata already stripped at ingest).
  A baseline JPEG with another EXIF orientation is turned upright without loss
  (``jpegtran -perfect``, ``pixels.py``). Anything else (edges that are not whole blocks, no
  ``jpegtran``, a progressive or 4:4:4 JPEG — the VL IODs do not allow YBR_FULL) is decoded,
  turned upright and re-encoded with Pillow at quality 95, 4:2:2; ``ImageType`` becomes DERIVED
  and ``DerivationDescription`` says what was done.
  **PNG** originals are lossless and stay lossless: their upright RGB pixels are stored
  uncompressed (Explicit VR Little Endian, ``LossyImageCompression`` "00"); about 36 MB for a
  12 MP photo, which is rare (phones send JPEG or HEIC, and HEIC is stored as JPEG at ingest).
* **Protected identity.** When ``StudyFacts.patient_name`` is empty the patient's name is
  never written: ``PatientName`` holds the accession number instead.
* **Times** are written as Swedish local time (naive values are taken as local already) with
  ``TimezoneOffsetFromUTC`` of the study time.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydicom import Dataset, Sequence
from pydicom.dataset import FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian

from telederm.integrations.dicom.pixels import pixels_for, set_pixels

DERMOSCOPIC_PHOTOGRAPHY_IMAGE_STORAGE = UID("1.2.840.10008.5.1.4.1.1.77.1.7")
VL_PHOTOGRAPHIC_IMAGE_STORAGE = UID("1.2.840.10008.5.1.4.1.1.77.1.4")
ENCAPSULATED_PDF_STORAGE = UID("1.2.840.10008.5.1.4.1.1.104.1")
PERSONNUMMER_OID = "1.2.752.129.2.1.3.1"
SAMORDNINGSNUMMER_OID = "1.2.752.129.2.1.3.3"

SOFTWARE_NAME = "Telederm"
SOFTWARE_VERSION = "1"
_NAMESPACE = uuid.UUID("6f0d4c0e-5a8e-4d2b-9a57-3f1c1e1b7d21")  # fixed: never change
IMPLEMENTATION_CLASS_UID = UID(f"2.25.{uuid.uuid5(_NAMESPACE, 'implementation').int}")
LOCAL_ZONE = ZoneInfo("Europe/Stockholm")

_MODALITY = {"dermoscopic": "DMS", "overview": "XC"}
_SOP_CLASS = {
    "dermoscopic": DERMOSCOPIC_PHOTOGRAPHY_IMAGE_STORAGE,
    "overview": VL_PHOTOGRAPHIC_IMAGE_STORAGE,
}
_SERIES_NUMBER = {"dermoscopic": 1, "overview": 2, "documents": 3}
_SERIES_DESCRIPTION = {
    "dermoscopic": "Dermoscopic photos",
    "overview": "Overview photos",
    "documents": "Referral and answer",
}


@dataclass(frozen=True)
class ImageFacts:
    """One stored photo, as plain values (from ``images.LesionImage`` and its lesion)."""

    public_id: uuid.UUID
    kind: Literal["overview", "dermoscopic"]
    width: int
    height: int
    orientation: int
    captured_at: datetime | None
    device_model: str
    body_site_code: str | None  # SNOMED CT concept id of the body structure
    body_site_meaning: str
    laterality: Literal["R", "L", "B", "U"]
    mime_type: str
    sha256: str
    instance_number: int
    lesion_number: int


@dataclass(frozen=True)
class StudyFacts:
    """The referral as one DICOM study."""

    referral_public_id: uuid.UUID
    accession_number: str  # "TD26-000001"
    patient_id: str  # 12-digit personnummer or samordningsnummer
    patient_id_issuer: str  # PERSONNUMMER_OID or SAMORDNINGSNUMMER_OID
    patient_name: str  # "" when the identity is protected
    birth_date: date
    sex: Literal["M", "F"]
    study_datetime: datetime
    referring_physician: str
    clinic_name: str
    institution_name: str
    study_description: str


def uid_from_uuid(value: uuid.UUID) -> UID:
    """The ISO/IEC 9834-8 UID of a UUID (``2.25.<128-bit integer>``)."""
    return UID(f"2.25.{value.int}")


def study_uid(referral_public_id: uuid.UUID) -> UID:
    return uid_from_uuid(referral_public_id)


def series_uid(referral_public_id: uuid.UUID, kind: str) -> UID:
    """The series of one kind ("dermoscopic", "overview", "documents") in a referral's study."""
    return uid_from_uuid(uuid.uuid5(referral_public_id, f"series:{kind}"))


# --- images --------------------------------------------------------------------------------------


def image_dataset(*, image_bytes: bytes, image: ImageFacts, study: StudyFacts) -> Dataset:
    """The DICOM instance of one photo (raises ``ValueError`` for bytes that do not match)."""
    if image.kind not in _SOP_CLASS:
        raise ValueError(f"unknown image kind {image.kind!r}")
    if image.laterality not in ("R", "L", "B", "U"):
        raise ValueError(f"laterality must be R, L, B or U, not {image.laterality!r}")
    if hashlib.sha256(image_bytes).hexdigest() != image.sha256:
        raise ValueError(f"image {image.public_id}: bytes do not match the stored SHA-256")
    pixels = pixels_for(image_bytes, image.mime_type, image.orientation)

    ds = _base(study, sop_class=_SOP_CLASS[image.kind], sop_uid=uid_from_uuid(image.public_id))
    ds.file_meta.TransferSyntaxUID = pixels.transfer_syntax
    # General Series
    ds.Modality = _MODALITY[image.kind]
    ds.SeriesInstanceUID = series_uid(study.referral_public_id, image.kind)
    ds.SeriesNumber = _SERIES_NUMBER[image.kind]
    ds.SeriesDescription = _SERIES_DESCRIPTION[image.kind]
    # General Equipment (and Enhanced General Equipment for dermoscopy: all type 1)
    make = image.device_model.split(" ", 1)[0] if image.device_model else ""
    ds.Manufacturer = make or "Unknown"
    ds.ManufacturerModelName = image.device_model or "Unknown"
    ds.DeviceSerialNumber = "Unknown"  # never taken from the phone (identifying)
    ds.SoftwareVersions = "Unknown"
    # General Image, Acquisition Context and VL Image
    ds.InstanceNumber = image.instance_number
    ds.PatientOrientation = ""
    ds.ImageType = ["DERIVED" if pixels.derivation else "ORIGINAL", "PRIMARY"]
    if image.captured_at is not None:
        ds.ContentDate, ds.ContentTime = _da_tm(image.captured_at)
        ds.AcquisitionDateTime = "".join(_da_tm(image.captured_at))
    else:
        ds.ContentDate = ds.ContentTime = ds.AcquisitionDateTime = ""
    ds.ImageComments = f"Lesion {image.lesion_number}: {image.body_site_meaning}"[:10240]
    ds.AcquisitionContextSequence = Sequence()
    ds.ImageLaterality = image.laterality
    ds.AnatomicRegionSequence = Sequence()
    if image.body_site_code:
        region = Dataset()
        region.CodeValue = image.body_site_code
        region.CodingSchemeDesignator = "SCT"
        region.CodeMeaning = image.body_site_meaning[:64]
        ds.AnatomicRegionSequence.append(region)
    ds.BurnedInAnnotation = "NO"
    ds.RecognizableVisualFeatures = "YES" if image.kind == "overview" else "NO"
    set_pixels(ds, pixels)
    if image.kind == "dermoscopic":
        _dermoscopic_modules(ds, study, image)
    return ds


def _dermoscopic_modules(ds: Dataset, study: StudyFacts, image: ImageFacts) -> None:
    # Frame of Reference: one per lesion, so the photos of a lesion share it.
    frame = uuid.uuid5(study.referral_public_id, f"frame:{image.lesion_number}")
    ds.FrameOfReferenceUID = uid_from_uuid(frame)
    ds.PositionReferenceIndicator = ""
    # Dermoscopic Image module: Telederm does not record the dermatoscope's optics.
    ds.LightSourcePolarization = ""
    ds.EmitterColorTemperature = None
    ds.ContactMethod = ""
    ds.OpticalMagnificationFactor = None


def report_pdf_dataset(
    *,
    pdf_bytes: bytes,
    study: StudyFacts,
    title: str,
    document_uid_seed: uuid.UUID,
    instance_number: int = 1,
    content_datetime: datetime | None = None,
) -> Dataset:
    """An Encapsulated PDF instance (referral or answer) in the referral's study, own series."""
    if not pdf_bytes.startswith(b"%PDF-"):
        raise ValueError("not a PDF")
    ds = _base(study, sop_class=ENCAPSULATED_PDF_STORAGE, sop_uid=uid_from_uuid(document_uid_seed))
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.Modality = "DOC"
    ds.SeriesInstanceUID = series_uid(study.referral_public_id, "documents")
    ds.SeriesNumber = _SERIES_NUMBER["documents"]
    ds.SeriesDescription = _SERIES_DESCRIPTION["documents"]
    ds.Manufacturer = SOFTWARE_NAME
    ds.SoftwareVersions = SOFTWARE_VERSION
    ds.ConversionType = "WSD"  # workstation
    ds.InstanceNumber = instance_number
    ds.ContentDate, ds.ContentTime = _da_tm(content_datetime or study.study_datetime)
    ds.AcquisitionDateTime = ""
    ds.BurnedInAnnotation = "YES"
    ds.DocumentTitle = title[:1024]
    ds.ConceptNameCodeSequence = Sequence()
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocument = pdf_bytes + b"\0" * (len(pdf_bytes) % 2)
    ds.EncapsulatedDocumentLength = len(pdf_bytes)
    return ds


# --- shared --------------------------------------------------------------------------------------


def _base(study: StudyFacts, *, sop_class: UID, sop_uid: UID) -> Dataset:
    """File meta, SOP Common, Patient and General Study: the same in every instance."""
    ds = Dataset()
    ds.preamble = b"\0" * 128
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = f"{SOFTWARE_NAME}_{SOFTWARE_VERSION}"
    ds.file_meta = meta
    # SOP Common
    ds.SpecificCharacterSet = "ISO_IR 192"  # UTF-8: Swedish names and clinics
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.TimezoneOffsetFromUTC = _offset(study.study_datetime)
    # Patient
    ds.PatientName = (study.patient_name or study.accession_number)[:64]  # PN: 64 characters
    ds.PatientID = study.patient_id
    ds.IssuerOfPatientID = study.patient_id_issuer
    qualifiers = Dataset()
    qualifiers.UniversalEntityID = study.patient_id_issuer
    qualifiers.UniversalEntityIDType = "ISO"
    ds.IssuerOfPatientIDQualifiersSequence = Sequence([qualifiers])
    ds.PatientBirthDate = study.birth_date.strftime("%Y%m%d")
    ds.PatientSex = study.sex
    # General Study
    ds.StudyInstanceUID = study_uid(study.referral_public_id)
    ds.StudyDate, ds.StudyTime = _da_tm(study.study_datetime)
    ds.ReferringPhysicianName = study.referring_physician[:64]
    ds.StudyID = study.accession_number[:16]
    ds.AccessionNumber = study.accession_number[:16]
    ds.StudyDescription = study.study_description[:64]
    ds.InstitutionName = study.institution_name[:64]
    ds.InstitutionalDepartmentName = study.clinic_name[:64]
    return ds


def _local(moment: datetime) -> datetime:
    """Swedish local time; a naive value is taken to be local already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=LOCAL_ZONE)
    return moment.astimezone(LOCAL_ZONE)


def _da_tm(moment: datetime) -> tuple[str, str]:
    local = _local(moment)
    return local.strftime("%Y%m%d"), local.strftime("%H%M%S")


def _offset(moment: datetime) -> str:
    offset = _local(moment).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
