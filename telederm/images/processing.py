"""Ingest one uploaded photo: validate it, strip its metadata, measure its quality and make its
derivatives. Pure: bytes in, ``IngestResult`` out (or ``ImageRejected``); no models, no database.

Pipeline (``ingest``)
---------------------
1. Reject empty and over-size uploads; recognise the format by its magic bytes, never by a name:
   JPEG, PNG and HEIC/HEIF are accepted; GIF, BMP, TIFF, WebP, AVIF, JPEG 2000/XL, PSD… are
   "unsupported_format", anything else "not_an_image" (``containers.sniff``).
2. Walk the file's structure without decoding (``containers``): a truncated structure, bad PNG
   CRCs or a scan without its end is "corrupt"; an APNG or a multi-image HEIC is "animated". The
   declared pixel size is checked against ``Limits`` *before* any decoding ("too_many_pixels",
   "too_small"); Pillow's own ``DecompressionBombError`` is turned into "too_many_pixels" as well
   (``Image.MAX_IMAGE_PIXELS`` is left at Pillow's default: it is process-wide, and our check is
   stricter).
3. Everything after the image's end (a ZIP appended to a JPEG, a motion-photo video after EOI,
   data after PNG's IEND) is cut off: the stored bytes end at the image's end.
4. Metadata is stripped without re-encoding:

   * JPEG: the marker segments are rewritten. Kept: SOF/DHT/DQT/DRI/DAC/DNL, the scans byte for
     byte, APP0 JFIF, APP2 ICC_PROFILE, APP14 Adobe. Dropped: APP1 EXIF and XMP (GPS, times,
     camera, embedded thumbnail), APP13 IPTC, COM, every other APPn (MPF, JFXX thumbnails…) and
     unknown markers. **Orientation decision:** when the EXIF orientation is not 1, a new
     26-byte EXIF APP1 holding *only* the Orientation tag is inserted, so the stored file still
     displays upright anywhere; ``IngestResult.orientation`` records it as well.
   * PNG: the chunks are rewritten keeping IHDR, PLTE, IDAT, IEND, tRNS, iCCP, sRGB, gAMA, cHRM,
     cICP, sBIT and pHYs, each byte for byte (tEXt, zTXt, iTXt, eXIf, tIME… are dropped); an
     orientation other than 1 is kept the same way, in a minimal eXIf chunk.
   * HEIC/HEIF: lossless removal of the EXIF and XMP items would mean rewriting the ISOBMFF box
     tree (iinf/iloc/iref), which pillow-heif cannot do. **HEIC is therefore converted to JPEG at
     quality 95** (chroma subsampling as in the source), with the ICC profile but no EXIF or XMP;
     libheif has already applied the HEIF rotation/mirroring, so the stored orientation is 1.
     ``format``/``mime_type``/``extension`` describe the stored JPEG; ``source_format`` says
     "HEIF". JPEG rather than a re-encoded HEIC because browsers other than Safari cannot show
     HEIC, and DICOM export can embed a JPEG as it is. (nclx colour descriptions are not
     converted: a Display P3 HEIC without an ICC profile is stored as if it were sRGB.)
5. Decode once (of the *stored* bytes, so what is stored is what was proven decodable) and reuse
   that decode for the quality metrics and both derivatives. A JPEG is decoded with libjpeg's
   DCT-domain scaling (``Image.draft``) at the largest 1/2, 1/4 or 1/8 scale that leaves at
   least ``SCREEN_MIN_SIDE`` px on the long side. A scaled decode still reads and Huffman-decodes
   every scan, and Pillow still raises "image file is truncated" in draft mode, so it proves the
   file complete exactly like a full decode — at about half the cost. (Neither catches a scan
   cut short and closed with a forged EOI marker: libjpeg only warns and fills the rest with
   grey, and Pillow does not pass the warning on.)
6. Derivatives apply the orientation: ``thumbnail_jpeg`` has a long side of 320 px,
   ``screen_jpeg`` at most 2048 px (never enlarged). **Deviation from "exactly 2048":** when
   the scaled JPEG decode is not longer than 2048 px it *is* the screen copy, unresized, so its
   long side may be anywhere from 1800 to 2048 px — 2016 px for a 4032×3024 photo; a longer
   decode (or a PNG/HEIC) is resized to 2048. Resizing 2016 up to 2048 would only blur it.
   Both carry the source's RGB ICC profile, so colours stay right in a browser.
7. Quality metrics come from one ~1024 px copy of the same decode (see ``quality``).
"""

from __future__ import annotations

import hashlib
import io
import struct
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from PIL import Image
from pillow_heif import register_heif_opener

from telederm.images import containers
from telederm.images.containers import HEIF, JPEG, PNG, ContainerError
from telederm.images.metadata import ExifFacts, read_exif
from telederm.images.quality import (
    WORK_SIDE,
    QualityMetrics,
    Thresholds,
    measure,
    shrink,
    work_size,
)

__all__ = [
    "REJECTION_MESSAGES",
    "WARNING_MESSAGES",
    "ImageRejected",
    "IngestResult",
    "Limits",
    "QualityMetrics",
    "Thresholds",
    "ingest",
]

register_heif_opener()

KINDS = ("overview", "dermoscopic")
THUMBNAIL_SIDE = 320
SCREEN_SIDE = 2048
SCREEN_MIN_SIDE = 1800
SCREEN_QUALITY = 85
THUMBNAIL_QUALITY = 80
HEIF_TO_JPEG_QUALITY = 95

_MIME = {JPEG: ("image/jpeg", "jpg"), PNG: ("image/png", "png")}
# What Pillow and pillow-heif raise on input they cannot decode.
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    TypeError,
    RuntimeError,
    ZeroDivisionError,
)
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_RETAKE = _("Take the photo again.")
REJECTION_MESSAGES: dict[str, Promise | str] = {
    "empty": format_lazy("{} {}", _("The file is empty."), _RETAKE),
    "too_large_bytes": _(
        "The file is too large. Send the photo straight from the phone's camera, "
        "without enlarging or converting it."
    ),
    "not_an_image": format_lazy(
        "{} {}", _("The file is not a photo (JPEG, PNG or HEIC)."), _RETAKE
    ),
    "unsupported_format": _(
        "This picture format cannot be used. Send the photo as JPEG, PNG or HEIC, straight "
        "from the phone's camera."
    ),
    "corrupt": _(
        "The photo is damaged or did not arrive completely. Send it again, or take it again."
    ),
    "too_many_pixels": _(
        "The photo has too many pixels. Use the phone camera's normal setting (not a panorama "
        "or a maximum-resolution mode) and take it again."
    ),
    "animated": _(
        "Moving pictures and picture series cannot be used. Send one still photo (turn off "
        "Live or Motion photo, or pick a single frame)."
    ),
    "too_small": format_lazy(
        "{} {}", _("The photo is too small to show the lesion's details."), _RETAKE
    ),
}

WARNING_MESSAGES: dict[str, Promise | str] = {
    "blurry": _(
        "The photo looks blurred. Hold still and let the camera focus, then take it again."
    ),
    "overexposed": _(
        "The photo is too bright and details are lost in white. Turn off the flash or move "
        "away from strong light, then take it again."
    ),
    "underexposed": _(
        "The photo is too dark. Turn on the dermatoscope's light or find more light, then take "
        "it again."
    ),
    "low_resolution": _(
        "The photo has few pixels, so details may be lost. Take it with the phone's camera at "
        "full size instead of sending a screenshot or a compressed copy."
    ),
    "no_dermoscopic_field": _(
        "This does not look like a photo through a dermatoscope. Hold the dermatoscope against "
        "the skin over the lesion and take it again, or upload it as an overview photo."
    ),
}


class ImageRejected(Exception):
    """The upload cannot be used. ``code`` is for machines, ``message`` tells the GP what to do."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.message: Promise | str = REJECTION_MESSAGES[code]


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 50_000_000
    min_side: int = 200


@dataclass(frozen=True)
class IngestResult:
    data: bytes
    format: str
    mime_type: str
    extension: str
    width: int
    height: int
    orientation: int
    sha256: str
    captured_at: datetime | None
    device_model: str
    quality: QualityMetrics
    thumbnail_jpeg: bytes = field(repr=False)
    screen_jpeg: bytes = field(repr=False)
    source_format: str = ""  # the uploaded format ("HEIF" when a HEIC was stored as JPEG)


@dataclass
class _Decoded:
    stored: bytes
    format: str
    width: int
    height: int
    facts: ExifFacts
    image: Image.Image  # loaded, possibly scaled down by draft()


_DEFAULT_LIMITS = Limits()
_DEFAULT_THRESHOLDS = Thresholds()


def ingest(
    raw: bytes,
    *,
    kind: str,
    limits: Limits = _DEFAULT_LIMITS,
    thresholds: Thresholds = _DEFAULT_THRESHOLDS,
) -> IngestResult:
    """Validate, clean, measure and derive one uploaded photo; raises ``ImageRejected``."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    if not raw:
        raise ImageRejected("empty")
    if len(raw) > limits.max_bytes:
        raise ImageRejected("too_large_bytes", f"{len(raw)} bytes")
    try:
        source = containers.sniff(raw)
        if source == JPEG:
            decoded = _jpeg(raw, limits)
        elif source == PNG:
            decoded = _png(raw, limits)
        else:
            decoded = _heif(raw, limits)
    except ContainerError as exc:
        raise ImageRejected(exc.code, str(exc)) from exc

    rgb, icc = _rgb(decoded.image)
    work, thumbnail, screen = _derivatives(rgb, decoded.facts.orientation, icc)
    quality = measure(
        work, width=decoded.width, height=decoded.height, kind=kind, thresholds=thresholds
    )
    mime_type, extension = _MIME[decoded.format]
    return IngestResult(
        data=decoded.stored,
        format=decoded.format,
        mime_type=mime_type,
        extension=extension,
        width=decoded.width,
        height=decoded.height,
        orientation=decoded.facts.orientation,
        sha256=hashlib.sha256(decoded.stored).hexdigest(),
        captured_at=decoded.facts.captured_at,
        device_model=decoded.facts.device_model,
        quality=quality,
        thumbnail_jpeg=thumbnail,
        screen_jpeg=screen,
        source_format=source,
    )


# --- per format ----------------------------------------------------------------------------------


def _check_size(width: int, height: int, limits: Limits) -> None:
    if width * height > limits.max_pixels:
        raise ImageRejected("too_many_pixels", f"{width}×{height}")
    if min(width, height) < limits.min_side:
        raise ImageRejected("too_small", f"{width}×{height}")


def _jpeg(raw: bytes, limits: Limits) -> _Decoded:
    layout = containers.read_jpeg(raw)
    _check_size(layout.width, layout.height, limits)
    facts = read_exif(layout.exif)
    stored = containers.write_jpeg(raw, layout, facts.orientation)
    image = _open(stored, JPEG)
    scale = jpeg_scale(layout.width, layout.height)
    if scale > 1:
        image.draft("RGB", (layout.width // scale, layout.height // scale))
    _load(image)
    return _Decoded(stored, JPEG, layout.width, layout.height, facts, image)


def jpeg_scale(width: int, height: int) -> int:
    """The largest DCT scaling denominator that keeps SCREEN_MIN_SIDE px on the long side."""
    for scale in (8, 4, 2):
        if max(width, height) // scale >= SCREEN_MIN_SIDE:
            return scale
    return 1


def _png(raw: bytes, limits: Limits) -> _Decoded:
    layout = containers.read_png(raw)
    if layout.animated:
        raise ImageRejected("animated", "APNG")
    _check_size(layout.width, layout.height, limits)
    facts = read_exif(layout.exif)
    stored = containers.write_png(raw, layout, facts.orientation)
    image = _open(stored, PNG)
    _load(image)
    return _Decoded(stored, PNG, layout.width, layout.height, facts, image)


def _heif(raw: bytes, limits: Limits) -> _Decoded:
    image = _open(raw, HEIF)
    if getattr(image, "n_frames", 1) != 1:
        raise ImageRejected("animated", "several images in one HEIF file")
    _check_size(image.width, image.height, limits)
    # libheif applies the HEIF rotation/mirroring while decoding: the pixels come out upright.
    facts = read_exif(image.info.get("exif"), orientation=False)
    _load(image)
    rgb, icc = _rgb(image)
    out = io.BytesIO()
    subsampling = "4:4:4" if image.info.get("chroma") == 444 else "4:2:0"
    rgb.save(out, "JPEG", quality=HEIF_TO_JPEG_QUALITY, subsampling=subsampling, icc_profile=icc)
    if icc:
        rgb.info["icc_profile"] = icc  # for the derivatives, even when _rgb made a new image
    return _Decoded(out.getvalue(), JPEG, rgb.width, rgb.height, facts, rgb)


# --- decoding ------------------------------------------------------------------------------------


def _open(data: bytes, fmt: str) -> Image.Image:
    try:
        return Image.open(io.BytesIO(data), formats=[fmt])
    except Image.DecompressionBombError as exc:
        raise ImageRejected("too_many_pixels", str(exc)) from exc
    except _DECODE_ERRORS as exc:
        raise ImageRejected("corrupt", str(exc)) from exc


def _load(image: Image.Image) -> None:
    try:
        image.load()
    except Image.DecompressionBombError as exc:
        raise ImageRejected("too_many_pixels", str(exc)) from exc
    except _DECODE_ERRORS as exc:
        raise ImageRejected("corrupt", str(exc)) from exc


def _rgb(image: Image.Image) -> tuple[Image.Image, bytes | None]:
    """The image as 8-bit RGB (transparency flattened onto white) and its ICC profile when the
    profile describes RGB (a CMYK profile no longer fits the converted pixels)."""
    icc = image.info.get("icc_profile")
    if not isinstance(icc, bytes) or icc[16:20] != b"RGB ":
        icc = None
    try:
        if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
            image = image.convert("I").point(lambda v: v * (1 / 256)).convert("L")
        if image.mode == "RGB":
            return image, icc
        if image.has_transparency_data:
            rgba = image.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            return Image.alpha_composite(white, rgba).convert("RGB"), icc
        return image.convert("RGB"), icc
    except _DECODE_ERRORS as exc:
        raise ImageRejected("corrupt", f"cannot convert {image.mode}: {exc}") from exc


def _derivatives(
    rgb: Image.Image, orientation: int, icc: bytes | None
) -> tuple[Image.Image, bytes, bytes]:
    """(the ~1024 px working copy, thumbnail JPEG, screen JPEG), from one decoded image."""
    screen = rgb
    if max(rgb.size) > SCREEN_SIDE:
        target = work_size(rgb.size, SCREEN_SIDE)
        screen = rgb.resize(target, Image.Resampling.LANCZOS, reducing_gap=2.0)
    work = shrink(screen, WORK_SIDE)
    thumb = work
    if max(work.size) > THUMBNAIL_SIDE:
        target = work_size(work.size, THUMBNAIL_SIDE)
        thumb = work.resize(target, Image.Resampling.BICUBIC, reducing_gap=1.0)
    return (
        work,
        _jpeg_bytes(_upright(thumb, orientation), THUMBNAIL_QUALITY, icc),
        _jpeg_bytes(_upright(screen, orientation), SCREEN_QUALITY, icc),
    )


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    method = _TRANSPOSE.get(orientation)
    return image.transpose(method) if method is not None else image


def _jpeg_bytes(image: Image.Image, quality: int, icc: bytes | None) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, icc_profile=icc)
    return out.getvalue()
