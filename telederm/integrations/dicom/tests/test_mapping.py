"""The DICOM mapping, without an archive: SOP classes, pixels, UIDs, identity, validation."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import shutil
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageCms, ImageStat
from pydicom import Dataset, dcmread, dcmwrite
from pydicom.encaps import generate_frames
from pydicom.uid import ExplicitVRLittleEndian, JPEGBaseline8Bit

from telederm.integrations.dicom import pixels
from telederm.integrations.dicom.mapping import (
    DERMOSCOPIC_PHOTOGRAPHY_IMAGE_STORAGE,
    ENCAPSULATED_PDF_STORAGE,
    VL_PHOTOGRAPHIC_IMAGE_STORAGE,
    StudyFacts,
    image_dataset,
    report_pdf_dataset,
    series_uid,
)
from telederm.integrations.dicom.tests.conftest import MakeFacts
from telederm.testing import service_missing

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def frame(ds: Dataset) -> bytes:
    return next(generate_frames(ds.PixelData, number_of_frames=1))


def assert_same_frame(stored: bytes, original: bytes) -> None:
    """Encapsulation pads an odd-length frame with one byte."""
    assert stored[: len(original)] == original
    assert len(stored) - len(original) == len(original) % 2


def written(ds: Dataset, path: Path | None = None) -> bytes:
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)
    if path is not None:
        path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("kind", "sop_class", "modality"),
    [
        ("dermoscopic", DERMOSCOPIC_PHOTOGRAPHY_IMAGE_STORAGE, "DMS"),
        ("overview", VL_PHOTOGRAPHIC_IMAGE_STORAGE, "XC"),
    ],
)
def test_sop_class_and_modality_by_kind(
    kind: str, sop_class: str, modality: str, study: StudyFacts, make_facts: MakeFacts
) -> None:
    from telederm.testing import photo

    data = photo(kind, size=(640, 480))
    ds = image_dataset(image_bytes=data, image=make_facts(data, kind), study=study)
    assert ds.SOPClassUID == sop_class == ds.file_meta.MediaStorageSOPClassUID
    assert ds.Modality == modality
    assert ds.SeriesInstanceUID == series_uid(study.referral_public_id, kind)
    assert ("FrameOfReferenceUID" in ds) == (kind == "dermoscopic")
    assert ds.preamble == b"\0" * 128


def test_jpeg_is_encapsulated_unchanged(
    study: StudyFacts, make_facts: MakeFacts, pipeline_jpeg: Callable[[int], bytes]
) -> None:
    data = pipeline_jpeg(1)
    ds = image_dataset(image_bytes=data, image=make_facts(data), study=study)
    assert ds.file_meta.TransferSyntaxUID == JPEGBaseline8Bit
    assert ds.PhotometricInterpretation == "YBR_FULL_422"
    assert ds.LossyImageCompression == "01"
    assert ds.LossyImageCompressionMethod == "ISO_10918_1"
    assert list(ds.ImageType) == ["ORIGINAL", "PRIMARY"]
    assert "DerivationDescription" not in ds
    assert (ds.Columns, ds.Rows) == (1600, 1200)
    assert_same_frame(frame(ds), data)
    # ... and after a write and a read.
    assert_same_frame(frame(dcmread(io.BytesIO(written(ds)))), data)


def test_odd_length_jpeg_is_padded_by_one_byte(study: StudyFacts, make_facts: MakeFacts) -> None:
    from telederm.testing import photo

    data = photo("dermoscopic", size=(640, 480))
    data = data if len(data) % 2 else data[:-2] + b"\0" + data[-2:]  # a fill byte before EOI
    ds = image_dataset(image_bytes=data, image=make_facts(data), study=study)
    assert_same_frame(frame(dcmread(io.BytesIO(written(ds)))), data)


def test_rotated_jpeg_is_turned_upright_without_loss(
    study: StudyFacts, make_facts: MakeFacts, pipeline_jpeg: Callable[[int], bytes]
) -> None:
    if pixels.jpegtran() is None:
        service_missing("jpegtran", "install the Debian package libjpeg-turbo-progs")
    data = pipeline_jpeg(6)
    ds = image_dataset(image_bytes=data, image=make_facts(data, orientation=6), study=study)
    assert ds.file_meta.TransferSyntaxUID == JPEGBaseline8Bit
    assert (ds.Columns, ds.Rows) == (1200, 1600)
    assert "lossless" in ds.DerivationDescription
    assert "orientation 6" in ds.DerivationDescription
    turned = frame(ds)
    # The same compressed blocks, moved: about the same size, and the picture decodes to the
    # original turned clockwise, pixel for pixel up to the decoder's rounding.
    assert abs(len(turned) - len(data)) < 0.05 * len(data)
    with Image.open(io.BytesIO(turned)) as got, Image.open(io.BytesIO(data)) as original:
        expected = original.convert("RGB").transpose(Image.Transpose.ROTATE_270)
        difference = ImageStat.Stat(ImageChops.difference(got.convert("RGB"), expected)).mean
        assert max(difference) < 0.5


def test_rotated_jpeg_is_reencoded_upright_without_jpegtran(
    study: StudyFacts,
    make_facts: MakeFacts,
    pipeline_jpeg: Callable[[int], bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pixels, "upright_jpeg", lambda data, orientation: None)
    data = pipeline_jpeg(6)
    ds = image_dataset(image_bytes=data, image=make_facts(data, orientation=6), study=study)
    assert ds.file_meta.TransferSyntaxUID == JPEGBaseline8Bit
    assert (ds.Columns, ds.Rows) == (1200, 1600)  # width and height swapped
    assert ds.LossyImageCompression == "01"
    assert float(ds.LossyImageCompressionRatio) > 1
    assert list(ds.ImageType) == ["DERIVED", "PRIMARY"]
    assert "orientation 6" in ds.DerivationDescription
    reencoded = frame(ds)
    assert reencoded[: len(data)] != data
    with Image.open(io.BytesIO(reencoded)) as got, Image.open(io.BytesIO(data)) as original:
        assert got.size == (1200, 1600)
        expected = original.convert("RGB").transpose(Image.Transpose.ROTATE_270)
        difference = ImageStat.Stat(ImageChops.difference(got.convert("RGB"), expected)).mean
        assert max(difference) < 3  # the same picture, turned; not a mirror or another turn
        wrong = ImageStat.Stat(
            ImageChops.difference(
                got.convert("RGB"), original.convert("RGB").transpose(Image.Transpose.ROTATE_90)
            )
        ).mean
        assert max(wrong) > 3 * max(difference)


def test_png_is_stored_lossless_and_upright(study: StudyFacts, make_facts: MakeFacts) -> None:
    picture = Image.new("RGB", (300, 200), (200, 150, 120))
    picture.putpixel((0, 0), (255, 0, 0))  # top left before the turn
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    data = buffer.getvalue()
    facts = make_facts(data, "overview", mime_type="image/png", orientation=6)
    ds = image_dataset(image_bytes=data, image=facts, study=study)
    assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert (ds.PhotometricInterpretation, ds.LossyImageCompression) == ("RGB", "00")
    assert (ds.Columns, ds.Rows) == (200, 300)
    assert list(ds.ImageType) == ["DERIVED", "PRIMARY"]  # turned, though lossless
    array = dcmread(io.BytesIO(written(ds))).pixel_array
    assert tuple(array[0, -1]) == (255, 0, 0)  # turned clockwise: now top right


@pytest.mark.parametrize("orientation", [1, 8])
def test_icc_profile_is_kept(orientation: int, study: StudyFacts, make_facts: MakeFacts) -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (180, 120, 100)).save(buffer, "JPEG", icc_profile=icc)
    data = buffer.getvalue()
    facts = make_facts(data, orientation=orientation)
    ds = image_dataset(image_bytes=data, image=facts, study=study)
    assert ds.ICCProfile == icc
    with Image.open(io.BytesIO(frame(ds))) as got:
        assert got.info["icc_profile"] == icc


def test_sop_instance_uid_is_stable(
    study: StudyFacts, make_facts: MakeFacts, dermoscopic_jpeg: bytes
) -> None:
    facts = make_facts(dermoscopic_jpeg)
    first = image_dataset(image_bytes=dermoscopic_jpeg, image=facts, study=study)
    again = image_dataset(image_bytes=dermoscopic_jpeg, image=facts, study=study)
    other = image_dataset(
        image_bytes=dermoscopic_jpeg, image=make_facts(dermoscopic_jpeg), study=study
    )
    assert first.SOPInstanceUID == again.SOPInstanceUID == f"2.25.{facts.public_id.int}"
    assert first.StudyInstanceUID == f"2.25.{study.referral_public_id.int}"
    assert other.SOPInstanceUID != first.SOPInstanceUID
    assert other.SeriesInstanceUID == first.SeriesInstanceUID
    assert written(first) == written(again)  # byte for byte: nothing depends on the clock
    assert all(len(uid) <= 64 for uid in (first.SOPInstanceUID, first.SeriesInstanceUID))


def test_protected_identity_never_writes_a_name(
    study: StudyFacts, make_facts: MakeFacts, overview_jpeg: bytes
) -> None:
    protected = dataclasses.replace(study, patient_name="")
    ds = image_dataset(
        image_bytes=overview_jpeg, image=make_facts(overview_jpeg, "overview"), study=protected
    )
    pdf = report_pdf_dataset(
        pdf_bytes=PDF, study=protected, title="Remiss", document_uid_seed=uuid.uuid4()
    )
    for instance in (ds, pdf):
        assert str(instance.PatientName) == "TD26-000001"
        assert b"Tolvansson" not in written(instance)


def test_patient_study_and_site_attributes(
    study: StudyFacts, make_facts: MakeFacts, dermoscopic_jpeg: bytes
) -> None:
    facts = make_facts(dermoscopic_jpeg, laterality="R", instance_number=4)
    ds = image_dataset(image_bytes=dermoscopic_jpeg, image=facts, study=study)
    assert ds.PatientID == "191212121212"
    assert ds.IssuerOfPatientID == "1.2.752.129.2.1.3.1"
    assert ds.IssuerOfPatientIDQualifiersSequence[0].UniversalEntityIDType == "ISO"
    assert str(ds.PatientName) == "Tolvansson^Tolvan"
    assert (ds.PatientBirthDate, ds.PatientSex) == ("19121212", "M")
    assert ds.AccessionNumber == "TD26-000001"
    assert ds.StudyDescription == "Teledermatoskopi"
    assert (ds.StudyDate, ds.StudyTime) == ("20260314", "104500")  # Swedish local time
    assert (ds.ContentDate, ds.ContentTime) == ("20260314", "103005")
    assert ds.TimezoneOffsetFromUTC == "+0100"
    assert (ds.Manufacturer, ds.ManufacturerModelName) == ("Apple", "Apple iPhone 15 Pro")
    assert ds.InstanceNumber == 4
    assert ds.ImageLaterality == "R"
    (region,) = ds.AnatomicRegionSequence
    assert (region.CodeValue, region.CodingSchemeDesignator, region.CodeMeaning) == (
        "14975008",
        "SCT",
        "Forearm",
    )
    assert "Forearm" in ds.ImageComments


def test_unknown_site_and_capture_time(
    study: StudyFacts, make_facts: MakeFacts, overview_jpeg: bytes
) -> None:
    facts = make_facts(
        overview_jpeg, "overview", body_site_code=None, body_site_meaning="Other", captured_at=None
    )
    ds = image_dataset(image_bytes=overview_jpeg, image=facts, study=study)
    assert len(ds.AnatomicRegionSequence) == 0
    assert ds.ContentDate == ""
    assert ds.ImageLaterality == "L"


def test_bytes_must_match_the_stored_hash(
    study: StudyFacts, make_facts: MakeFacts, dermoscopic_jpeg: bytes
) -> None:
    facts = dataclasses.replace(
        make_facts(dermoscopic_jpeg), sha256=hashlib.sha256(b"x").hexdigest()
    )
    with pytest.raises(ValueError, match="SHA-256"):
        image_dataset(image_bytes=dermoscopic_jpeg, image=facts, study=study)


def test_report_pdf(study: StudyFacts) -> None:
    seed = uuid.uuid4()
    ds = report_pdf_dataset(
        pdf_bytes=PDF, study=study, title="Svar på remiss", document_uid_seed=seed
    )
    assert ds.SOPClassUID == ENCAPSULATED_PDF_STORAGE
    assert ds.SOPInstanceUID == f"2.25.{seed.int}"
    assert ds.StudyInstanceUID == f"2.25.{study.referral_public_id.int}"
    assert ds.SeriesInstanceUID == series_uid(study.referral_public_id, "documents")
    assert ds.Modality == "DOC"
    assert ds.DocumentTitle == "Svar på remiss"
    back = dcmread(io.BytesIO(written(ds)))
    assert back.EncapsulatedDocument[: len(PDF)] == PDF
    assert back.EncapsulatedDocumentLength == len(PDF)
    with pytest.raises(ValueError, match="PDF"):
        report_pdf_dataset(pdf_bytes=b"<html>", study=study, title="x", document_uid_seed=seed)


@pytest.mark.service("dciodvfy")
@pytest.mark.parametrize("kind", ["dermoscopic", "overview", "rotated", "png", "icc", "pdf"])
def test_dciodvfy_finds_no_errors(
    kind: str,
    tmp_path: Path,
    study: StudyFacts,
    make_facts: MakeFacts,
    dermoscopic_jpeg: bytes,
    overview_jpeg: bytes,
) -> None:
    tool = shutil.which("dciodvfy")
    if tool is None:
        service_missing("dciodvfy", "not installed (apt-get install dicom3tools)")
    if kind == "pdf":
        ds = report_pdf_dataset(
            pdf_bytes=PDF, study=study, title="Remiss", document_uid_seed=uuid.uuid4()
        )
    elif kind in ("png", "icc"):
        icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        buffer = io.BytesIO()
        fmt = "PNG" if kind == "png" else "JPEG"
        Image.new("RGB", (320, 240), (180, 120, 100)).save(buffer, fmt, icc_profile=icc)
        data = buffer.getvalue()
        facts = make_facts(data, mime_type=f"image/{fmt.lower()}")
        ds = image_dataset(image_bytes=data, image=facts, study=study)
    else:
        data = overview_jpeg if kind == "overview" else dermoscopic_jpeg
        facts = make_facts(
            data,
            "overview" if kind == "overview" else "dermoscopic",
            orientation=6 if kind == "rotated" else 1,
        )
        ds = image_dataset(image_bytes=data, image=facts, study=study)
    path = tmp_path / f"{kind}.dcm"
    written(ds, path)
    result = subprocess.run(  # noqa: S603 (a fixed tool on our own file)
        [str(tool), str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    output = result.stdout + result.stderr
    errors = [line for line in output.splitlines() if line.startswith("Error")]
    assert not errors, output
