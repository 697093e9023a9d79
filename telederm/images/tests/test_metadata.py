"""Metadata is stripped from what is stored, the image data is not touched, and the few facts
Telederm keeps (orientation, capture time, camera) are read first."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime, timedelta

import numpy as np
import pytest
from PIL import ExifTags, Image
from PIL.PngImagePlugin import PngInfo

from telederm.images import synthetic
from telederm.images.metadata import STOCKHOLM
from telederm.images.processing import ingest
from telederm.images.tests import uploads
from telederm.images.tests.uploads import SECRET, encode, pixels


@pytest.fixture
def photo() -> Image.Image:
    return uploads.photo()


@pytest.fixture
def sRGB() -> bytes:
    return uploads.srgb()


@pytest.fixture
def phone_upload() -> bytes:
    return uploads.phone_upload()


def test_jpeg_metadata_is_stripped_but_orientation_kept(phone_upload: bytes, sRGB: bytes) -> None:
    before = Image.open(io.BytesIO(phone_upload)).getexif()
    assert before.get_ifd(ExifTags.IFD.GPSInfo)
    assert before.get_ifd(ExifTags.IFD.IFD1)

    result = ingest(phone_upload, kind="dermoscopic")

    stored = Image.open(io.BytesIO(result.data))
    exif = stored.getexif()
    assert dict(exif) == {ExifTags.Base.Orientation: 6}
    assert exif.get_ifd(ExifTags.IFD.GPSInfo) == {}
    assert exif.get_ifd(ExifTags.IFD.Exif) == {}
    assert exif.get_ifd(ExifTags.IFD.IFD1) == {}
    assert "xmp" not in stored.info
    assert "comment" not in stored.info
    assert stored.info["icc_profile"] == sRGB
    for secret in (SECRET, b"Telederm Phones", b"Synthetic 12", b"2026:03:14", b"GPS"):
        assert secret not in result.data
    assert result.data.count(b"\xff\xd8") == 1  # the embedded EXIF thumbnail is gone


def test_jpeg_image_data_is_byte_identical_and_decodes_the_same(phone_upload: bytes) -> None:
    result = ingest(phone_upload, kind="dermoscopic")
    scan = phone_upload.rindex(b"\xff\xda")
    assert result.data[result.data.rindex(b"\xff\xda") :] == phone_upload[scan:]
    assert np.array_equal(pixels(result.data), pixels(phone_upload))
    assert result.sha256 == hashlib.sha256(result.data).hexdigest()


def test_jpeg_facts_are_read_before_stripping(phone_upload: bytes) -> None:
    result = ingest(phone_upload, kind="dermoscopic")
    assert (result.width, result.height, result.orientation) == (4032, 3024, 6)
    assert result.captured_at == datetime(2026, 3, 14, 10, 30, 5, tzinfo=STOCKHOLM)
    assert result.captured_at.utcoffset() == timedelta(hours=1)
    assert result.device_model == "Telederm Phones Synthetic 12"


def test_derivatives_are_upright_and_sized(phone_upload: bytes) -> None:
    result = ingest(phone_upload, kind="dermoscopic")
    thumb = Image.open(io.BytesIO(result.thumbnail_jpeg))
    screen = Image.open(io.BytesIO(result.screen_jpeg))
    # Orientation 6: the stored 4032×3024 landscape pixels are shown as a portrait photo.
    assert thumb.size == (240, 320)
    assert screen.size == (1512, 2016)  # the 1/2-scale decode, not enlarged to 2048
    assert not screen.getexif()
    assert not thumb.getexif()


def test_camera_offset_time_wins_over_the_swedish_assumption(photo: Image.Image) -> None:
    meta = synthetic.PhotoExif(offset="-05:00", gps=None, thumbnail=False)
    result = ingest(synthetic.encode_jpeg(photo, exif=meta), kind="overview")
    assert result.captured_at is not None
    assert result.captured_at.utcoffset() == timedelta(hours=-5)


def test_upright_jpeg_is_stored_without_any_exif(photo: Image.Image) -> None:
    raw = synthetic.encode_jpeg(photo, exif=synthetic.PhotoExif(orientation=1))
    result = ingest(raw, kind="dermoscopic")
    assert result.orientation == 1
    assert b"Exif" not in result.data
    assert np.array_equal(pixels(result.data), pixels(raw))


def test_progressive_jpeg_scans_are_all_kept(photo: Image.Image) -> None:
    raw = synthetic.encode_jpeg(photo, exif=synthetic.PhotoExif(), progressive=True)
    result = ingest(raw, kind="dermoscopic")
    assert result.data.count(b"\xff\xda") == raw.count(b"\xff\xda") - 1  # minus the thumbnail's
    assert np.array_equal(pixels(result.data), pixels(raw))


def test_png_text_and_exif_chunks_are_removed(photo: Image.Image, sRGB: bytes) -> None:
    info = PngInfo()
    info.add_text("Author", SECRET.decode())
    info.add_text("Comment", "taken at home", zip=True)
    info.add_itxt("Description", "Närbild på ryggen", lang="sv")
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Telederm Phones"
    exif[ExifTags.Base.Orientation] = 3
    raw = encode(photo, "PNG", pnginfo=info, exif=exif, icc_profile=sRGB)
    for kind in (b"tEXt", b"zTXt", b"iTXt", b"eXIf"):
        assert kind in raw

    result = ingest(raw, kind="overview")

    stored = Image.open(io.BytesIO(result.data))
    assert stored.text == {}  # type: ignore[attr-defined]
    assert dict(stored.getexif()) == {ExifTags.Base.Orientation: 3}
    assert stored.info["icc_profile"] == sRGB
    for secret in (SECRET, b"tEXt", b"zTXt", b"iTXt", b"Telederm Phones"):
        assert secret not in result.data
    assert result.orientation == 3
    assert np.array_equal(pixels(result.data), pixels(raw))


def test_heic_is_accepted_and_stored_as_jpeg_without_metadata(photo: Image.Image) -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Telederm Phones"
    exif[ExifTags.Base.Model] = "Synthetic 12"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2026:06:01 12:00:00"
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] = "N"
    raw = encode(photo, "HEIF", quality=90, exif=exif.tobytes(), xmp=b"<xmp>" + SECRET + b"</xmp>")
    assert raw[4:12] == b"ftypheic"

    result = ingest(raw, kind="dermoscopic")

    assert (result.format, result.mime_type, result.extension) == ("JPEG", "image/jpeg", "jpg")
    assert result.source_format == "HEIF"
    stored = Image.open(io.BytesIO(result.data))
    assert stored.format == "JPEG"
    assert stored.size == (1200, 900)
    assert not stored.getexif()
    assert "xmp" not in stored.info
    assert SECRET not in result.data
    assert b"Telederm" not in result.data
    assert result.captured_at == datetime(2026, 6, 1, 12, tzinfo=STOCKHOLM)
    assert result.device_model == "Telederm Phones Synthetic 12"
    difference = np.abs(pixels(result.data).astype(int) - np.asarray(photo).astype(int))
    assert difference.mean() < 3  # HEVC q90 then JPEG q95: close to the source


def test_heic_rotation_is_applied_to_the_stored_pixels(photo: Image.Image) -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # pillow-heif writes this as a HEIF rotation
    raw = encode(photo, "HEIF", quality=80, exif=exif.tobytes())
    result = ingest(raw, kind="dermoscopic")
    assert (result.width, result.height, result.orientation) == (900, 1200, 1)
