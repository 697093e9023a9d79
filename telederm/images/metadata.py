"""The few EXIF facts Telederm keeps from an upload before the metadata is stripped: the
orientation (to show the photo upright), when it was taken, and the camera model.

EXIF is untrusted and often odd; anything unreadable simply yields the defaults — a photo is
never rejected for its metadata, since the metadata is thrown away anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from PIL import Image

STOCKHOLM = ZoneInfo("Europe/Stockholm")
MAX_EXIF_BYTES = 256 * 1024  # a JPEG's EXIF fits in 64 KB; larger PNG eXIf chunks are ignored

_ORIENTATION, _MAKE, _MODEL = 0x0112, 0x010F, 0x0110
_EXIF_IFD, _DATETIME_ORIGINAL, _OFFSET_TIME_ORIGINAL = 0x8769, 0x9003, 0x9011
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ExifFacts:
    orientation: int = 1
    captured_at: datetime | None = None
    device_model: str = ""


def read_exif(block: bytes | None, *, orientation: bool = True) -> ExifFacts:
    """Facts from an EXIF block (a TIFF structure, with or without the "Exif\\0\\0" prefix).
    ``orientation=False`` when the pixels are already upright (HEIF)."""
    if not block or len(block) > MAX_EXIF_BYTES:
        return ExifFacts()
    if not block.startswith(b"Exif\0\0"):
        block = b"Exif\0\0" + block
    try:
        exif = Image.Exif()
        exif.load(block)
        value = exif.get(_ORIENTATION, 1)
        sub = exif.get_ifd(_EXIF_IFD)
        return ExifFacts(
            orientation=value if orientation and isinstance(value, int) and 1 <= value <= 8 else 1,
            captured_at=_taken(sub.get(_DATETIME_ORIGINAL), sub.get(_OFFSET_TIME_ORIGINAL)),
            device_model=_device(exif.get(_MAKE), exif.get(_MODEL)),
        )
    except Exception:
        return ExifFacts()


def _text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return ""
    return _UNPRINTABLE.sub("", value).strip()


def _device(make: object, model: object) -> str:
    """ "Make Model", without repeating the make when the model already starts with it."""
    make_text, model_text = _text(make), _text(model)
    if make_text and model_text.lower().startswith(make_text.lower()):
        return model_text[:200]
    return f"{make_text} {model_text}".strip()[:200]


def _taken(stamp: object, offset: object) -> datetime | None:
    """DateTimeOriginal as an aware datetime: with OffsetTimeOriginal when the camera wrote
    one, otherwise taken to be Swedish local time (where the photos are taken)."""
    text = _text(stamp)
    try:
        naive = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    match = _OFFSET.match(_text(offset))
    if match:
        sign = -1 if match.group(1) == "-" else 1
        delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
        if delta <= timedelta(hours=14):
            return naive.replace(tzinfo=timezone(sign * delta))
    return naive.replace(tzinfo=STOCKHOLM)
