"""Ingest of hostile and odd uploads: every file is built here, in code."""

from __future__ import annotations

import io
import struct
import time
import zipfile
import zlib
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from telederm.images import synthetic
from telederm.images.processing import (
    REJECTION_MESSAGES,
    WARNING_MESSAGES,
    ImageRejected,
    Limits,
    ingest,
)
from telederm.images.quality import WARNING_CODES
from telederm.images.tests import uploads
from telederm.images.tests.uploads import SECRET, encode


def rejected(raw: bytes, limits: Limits | None = None) -> str:
    with pytest.raises(ImageRejected) as info:
        ingest(raw, kind="dermoscopic", limits=limits or Limits())
    return info.value.code


@pytest.fixture
def photo() -> Image.Image:
    return uploads.photo()


@pytest.fixture
def jpeg() -> bytes:
    return uploads.jpeg()


@pytest.fixture
def png() -> bytes:
    return uploads.png()


# --- format detection and plain rejections -------------------------------------------------------


def test_png_bytes_are_detected_as_png_by_content(png: bytes) -> None:
    result = ingest(png, kind="overview")
    assert (result.format, result.mime_type, result.extension) == ("PNG", "image/png", "png")


def test_jpeg_bytes_are_detected_as_jpeg_by_content(jpeg: bytes) -> None:
    result = ingest(jpeg, kind="overview")
    assert (result.format, result.mime_type, result.extension) == ("JPEG", "image/jpeg", "jpg")


def test_zero_bytes_are_rejected_as_empty() -> None:
    assert rejected(b"") == "empty"


def test_upload_over_the_byte_limit_is_rejected(jpeg: bytes) -> None:
    assert rejected(jpeg, Limits(max_bytes=len(jpeg) - 1)) == "too_large_bytes"
    assert rejected(b"\xff\xd8\xff" + bytes(25 * 1024 * 1024)) == "too_large_bytes"


@pytest.mark.parametrize(
    "raw", [b"hello, this is text", b"%PDF-1.7\n", b"PK\x03\x04" + bytes(300), bytes(1000)]
)
def test_files_that_are_not_images_are_rejected(raw: bytes) -> None:
    assert rejected(raw) == "not_an_image"


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "WEBP", "GIF", "JPEG2000", "AVIF"])
def test_other_image_formats_are_unsupported(photo: Image.Image, fmt: str) -> None:
    assert rejected(encode(photo.resize((300, 225)), fmt)) == "unsupported_format"


def test_animated_gif_is_unsupported(photo: Image.Image) -> None:
    small = photo.resize((300, 225))
    gif = encode(small, "GIF", save_all=True, append_images=[small.rotate(180)], duration=100)
    assert rejected(gif) == "unsupported_format"


def test_apng_is_rejected_as_animated(photo: Image.Image) -> None:
    small = photo.resize((300, 225))
    apng = encode(small, "PNG", save_all=True, append_images=[small.rotate(180)], duration=100)
    assert b"acTL" in apng
    assert rejected(apng) == "animated"


def test_multi_image_heic_is_rejected_as_animated(photo: Image.Image) -> None:
    small = photo.resize((320, 240))
    heic = encode(small, "HEIF", save_all=True, append_images=[small.rotate(180)], quality=50)
    assert rejected(heic) == "animated"


def test_images_below_the_minimum_side_are_rejected(photo: Image.Image) -> None:
    assert rejected(encode(photo.resize((400, 150)), "JPEG")) == "too_small"


@pytest.mark.parametrize("keep", [0.02, 0.5, 0.999])
def test_truncated_jpeg_is_rejected_as_corrupt(jpeg: bytes, keep: float) -> None:
    assert rejected(jpeg[: int(len(jpeg) * keep)]) == "corrupt"


def test_jpeg_without_its_end_marker_is_rejected_as_corrupt(jpeg: bytes) -> None:
    assert rejected(jpeg[:-2]) == "corrupt"


def test_png_with_a_damaged_chunk_is_rejected_as_corrupt(png: bytes) -> None:
    broken = bytearray(png)
    broken[len(png) // 2] ^= 0xFF  # inside IDAT: its CRC no longer matches
    assert rejected(bytes(broken)) == "corrupt"


def test_truncated_png_is_rejected_as_corrupt(png: bytes) -> None:
    assert rejected(png[: len(png) // 2]) == "corrupt"


# --- pixel bombs ---------------------------------------------------------------------------------


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width×height; its IDAT holds a few rows of zeros."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(data, zlib.crc32(kind))
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(bytes((width + 1) * 4), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def jpeg_declaring(jpeg: bytes, width: int, height: int) -> bytes:
    sof = jpeg.rindex(b"\xff\xc0", 0, jpeg.rindex(b"\xff\xda"))  # not the EXIF thumbnail's
    return jpeg[: sof + 5] + struct.pack(">HH", height, width) + jpeg[sof + 9 :]


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("Image.open was called for a pixel bomb")

    monkeypatch.setattr(Image, "open", refuse)


@pytest.mark.usefixtures("no_decoding")
def test_png_pixel_bomb_is_rejected_before_any_decoding() -> None:
    bomb = png_declaring(10_000, 10_000)
    assert len(bomb) < 1000
    started = time.perf_counter()
    assert rejected(bomb) == "too_many_pixels"
    assert time.perf_counter() - started < 0.5


@pytest.mark.usefixtures("no_decoding")
def test_jpeg_pixel_bomb_is_rejected_before_any_decoding(jpeg: bytes) -> None:
    assert rejected(jpeg_declaring(jpeg, 10_000, 10_000)) == "too_many_pixels"


def test_pillows_decompression_bomb_error_becomes_a_rejection() -> None:
    # With our own limit lifted, Pillow's (about 179 MP) still stops it at open.
    huge = png_declaring(20_000, 20_000)
    assert rejected(huge, Limits(max_pixels=10**10)) == "too_many_pixels"


# --- data after the image's end ------------------------------------------------------------------


def zip_archive() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("patients.csv", SECRET)
    return out.getvalue()


def test_zip_appended_to_a_jpeg_is_cut_off(jpeg: bytes) -> None:
    raw = jpeg + zip_archive()
    assert zipfile.is_zipfile(io.BytesIO(raw))
    result = ingest(raw, kind="dermoscopic")
    assert not zipfile.is_zipfile(io.BytesIO(result.data))
    assert result.data.endswith(b"\xff\xd9")
    assert SECRET not in result.data


def test_motion_photo_video_after_the_jpeg_is_cut_off(jpeg: bytes) -> None:
    video = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom" + bytes(5000)
    result = ingest(jpeg + video, kind="dermoscopic")
    assert result.data.endswith(b"\xff\xd9")
    assert b"ftypmp42" not in result.data


def test_data_after_png_iend_is_cut_off(png: bytes) -> None:
    result = ingest(png + zip_archive(), kind="dermoscopic")
    assert result.data.endswith(b"IEND\xaeB`\x82")
    assert not zipfile.is_zipfile(io.BytesIO(result.data))


# --- unusual but valid images --------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["L", "CMYK", "RGBA", "P", "I;16"])
def test_unusual_pixel_formats_are_accepted(photo: Image.Image, mode: str) -> None:
    if mode == "I;16":  # 16-bit grey: the full 0–65535 range
        im = Image.fromarray(np.asarray(photo.convert("L")).astype(np.uint16) * 257)
        assert im.mode == "I;16"
    else:
        im = photo.convert(mode)
    fmt = "JPEG" if mode in ("L", "CMYK") else "PNG"
    result = ingest(encode(im, fmt), kind="overview")
    assert Image.open(io.BytesIO(result.screen_jpeg)).mode == "RGB"
    assert result.quality.mean_brightness > 20


def test_jpeg_is_decoded_once_at_half_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = synthetic.encode_jpeg(synthetic.grey_photo(size=(4032, 3024)), quality=80)
    decoders: list[tuple[str, tuple]] = []
    original = Image._getdecoder

    def counting(mode: str, name: str, args: object, extra: tuple = ()) -> object:
        decoders.append((name, extra))
        return original(mode, name, args, extra)

    monkeypatch.setattr(Image, "_getdecoder", counting)
    ingest(raw, kind="overview")
    # One decoder, libjpeg scaling by 1/2 (Pillow passes the draft scale as decoder config).
    assert decoders == [("jpeg", (2, 0))]


def test_messages_exist_for_every_code() -> None:
    for code in (
        "empty",
        "too_large_bytes",
        "not_an_image",
        "unsupported_format",
        "corrupt",
        "too_many_pixels",
        "animated",
        "too_small",
    ):
        assert str(ImageRejected(code).message).endswith(".")
    assert set(REJECTION_MESSAGES) == {
        "empty",
        "too_large_bytes",
        "not_an_image",
        "unsupported_format",
        "corrupt",
        "too_many_pixels",
        "animated",
        "too_small",
    }
    assert set(WARNING_MESSAGES) == set(WARNING_CODES)


def test_unknown_kind_is_a_programming_error(jpeg: bytes) -> None:
    with pytest.raises(ValueError, match="kind"):
        ingest(jpeg, kind="selfie")


# --- fuzzing -------------------------------------------------------------------------------------

_SEED = synthetic.dermoscopic_photo(size=(256, 240), seed=3)
_VALID = {
    "jpeg": synthetic.encode_jpeg(_SEED, exif=synthetic.PhotoExif(orientation=8)),
    "png": encode(_SEED, "PNG"),
    "heic": encode(_SEED, "HEIF", quality=60),
}


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(_VALID[draw(st.sampled_from(sorted(_VALID)))])
    for _ in range(draw(st.integers(1, 4))):
        # Most structure lives in the first kilobytes; aim there more often than not.
        limit = len(data) if draw(st.booleans()) else min(len(data), 2048)
        if not data:
            break
        at = draw(st.integers(0, max(0, limit - 1)))
        # Mostly single-byte changes, which often still decode; cuts and splices less often.
        operation = draw(st.sampled_from(["set"] * 5 + ["insert", "delete", "truncate"]))
        if operation == "set":
            data[at] = draw(st.integers(0, 255))
        elif operation == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif operation == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        else:
            del data[at:]
    return bytes(data)


@pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")  # mangled EXIF, expected
@settings(
    max_examples=300, deadline=timedelta(seconds=2), suppress_health_check=[HealthCheck.too_slow]
)
@given(raw=mutated())
def test_mutated_uploads_are_ingested_or_rejected_never_crash(raw: bytes) -> None:
    code = None
    try:
        result = ingest(raw, kind="dermoscopic")
    except ImageRejected as exc:
        code = exc.code
    else:
        assert result.data
        assert result.thumbnail_jpeg
        assert result.screen_jpeg
    assert code is None or code in REJECTION_MESSAGES
