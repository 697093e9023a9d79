"""Pixels for the DICOM file: a stored JPEG carried as it is, turned upright without loss, or
decoded and re-encoded; a PNG as uncompressed RGB (the decisions are in ``mapping.py``).

Turning a JPEG upright without decoding it: ``jpegtran`` (Debian ``libjpeg-turbo-progs``) moves
the compressed blocks, so the archived photo keeps exactly the quality it was taken with. A phone
photo taken upright has EXIF orientation 6 or 8, and DICOM has no way to say "show this turned":
the pixels themselves must be upright. Decoding and re-encoding costs ~0.17 s per 12 MP photo and
a second generation of JPEG loss; the lossless transform re-packs the same coefficients (~0.1 s).
``-perfect`` refuses when the image's edges are not whole blocks (then, and when ``jpegtran`` is
not installed, the photo is re-encoded).
"""

from __future__ import annotations

import io
import logging
import shutil
import struct
import subprocess
from dataclasses import dataclass
from functools import cache

from PIL import Image
from pydicom import Dataset
from pydicom.encaps import encapsulate
from pydicom.uid import UID, ExplicitVRLittleEndian, JPEGBaseline8Bit

logger = logging.getLogger(__name__)

# EXIF orientation → jpegtran's transform that makes the picture upright.
_TRANSFORM = {
    2: ["-flip", "horizontal"],
    3: ["-rotate", "180"],
    4: ["-flip", "vertical"],
    5: ["-transpose"],
    6: ["-rotate", "90"],
    7: ["-transverse"],
    8: ["-rotate", "270"],
}
TIMEOUT_SECONDS = 30
REENCODE_QUALITY = 95
_T = Image.Transpose
_TRANSPOSE = {2: _T.FLIP_LEFT_RIGHT, 3: _T.ROTATE_180, 4: _T.FLIP_TOP_BOTTOM, 5: _T.TRANSPOSE}
_TRANSPOSE |= {6: _T.ROTATE_270, 7: _T.TRANSVERSE, 8: _T.ROTATE_90}


@cache
def jpegtran() -> str | None:
    return shutil.which("jpegtran")


def upright_jpeg(data: bytes, orientation: int) -> bytes | None:
    """The JPEG turned upright without loss, or None when that cannot be done here."""
    program, transform = jpegtran(), _TRANSFORM.get(orientation)
    if program is None or transform is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603 (a fixed program and fixed arguments)
            [program, "-perfect", "-copy", "icc", *transform],
            input=data,
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        logger.warning("jpegtran failed (%s); re-encoding instead", exc)
        return None
    if done.returncode != 0 or not done.stdout:
        return None
    return done.stdout


@dataclass(frozen=True)
class _Pixels:
    transfer_syntax: UID
    data: bytes
    rows: int
    columns: int
    samples: int
    photometric: str
    lossy: bool
    derivation: str  # "" when the stored bytes are used unchanged
    icc: bytes | None  # the photo's ICC profile, also written as (0028,2000) ICC Profile


def pixels_for(data: bytes, mime_type: str, orientation: int) -> _Pixels:
    if mime_type == "image/jpeg":
        sof = _jpeg_frame(data)
        if orientation == 1 and sof.baseline_compatible:
            return _jpeg_as_is(data, derivation="")
        if orientation != 1 and sof.baseline_compatible:
            turned = upright_jpeg(data, orientation)
            if turned is not None:
                return _jpeg_as_is(
                    turned,
                    derivation=f"EXIF orientation {orientation} applied by lossless JPEG "
                    "transform (jpegtran)",
                )
        return _reencode(data, orientation)
    if mime_type == "image/png":
        with Image.open(io.BytesIO(data)) as im:
            rgb, icc = _upright(im.convert("RGB"), orientation), im.info.get("icc_profile")
        return _Pixels(
            transfer_syntax=ExplicitVRLittleEndian,
            data=rgb.tobytes(),
            rows=rgb.height,
            columns=rgb.width,
            samples=3,
            photometric="RGB",
            lossy=False,
            derivation=f"PNG orientation {orientation} applied" if orientation != 1 else "",
            icc=icc,
        )
    raise ValueError(f"cannot export {mime_type!r} to DICOM")


def _jpeg_as_is(data: bytes, *, derivation: str) -> _Pixels:
    """A baseline JPEG carried into the DICOM file as it is (its frame header gives the size)."""
    sof = _jpeg_frame(data)
    with Image.open(io.BytesIO(data)) as im:
        icc = im.info.get("icc_profile")
    return _Pixels(
        transfer_syntax=JPEGBaseline8Bit,
        data=data,
        rows=sof.height,
        columns=sof.width,
        samples=sof.components,
        photometric="MONOCHROME2" if sof.components == 1 else "YBR_FULL_422",
        lossy=True,
        derivation=derivation,
        icc=icc,
    )


def _reencode(data: bytes, orientation: int) -> _Pixels:
    with Image.open(io.BytesIO(data)) as im:
        rgb, icc = _upright(im.convert("RGB"), orientation), im.info.get("icc_profile")
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=REENCODE_QUALITY, subsampling=1, icc_profile=icc)  # 4:2:2
    why = f"EXIF orientation {orientation} applied" if orientation != 1 else "not baseline"
    return _Pixels(
        transfer_syntax=JPEGBaseline8Bit,
        data=out.getvalue(),
        rows=rgb.height,
        columns=rgb.width,
        samples=3,
        photometric="YBR_FULL_422",
        lossy=True,
        derivation=f"Lossy JPEG re-encoded by Pillow at quality {REENCODE_QUALITY} ({why})",
        icc=icc,
    )


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    method = _TRANSPOSE.get(orientation)
    return image.transpose(method) if method is not None else image


def set_pixels(ds: Dataset, px: _Pixels) -> None:
    ds.SamplesPerPixel = px.samples
    ds.PhotometricInterpretation = px.photometric
    if px.samples > 1:
        ds.PlanarConfiguration = 0
    ds.Rows = px.rows
    ds.Columns = px.columns
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    if px.lossy:
        ds.LossyImageCompression = "01"
        ratio = px.rows * px.columns * px.samples / len(px.data)
        ds.LossyImageCompressionRatio = f"{ratio:.2f}"
        ds.LossyImageCompressionMethod = "ISO_10918_1"
    else:
        ds.LossyImageCompression = "00"
    if px.derivation:
        ds.DerivationDescription = px.derivation
    if px.icc:
        ds.ICCProfile = px.icc
    if px.transfer_syntax == JPEGBaseline8Bit:
        ds.PixelData = encapsulate([px.data])
        ds["PixelData"].VR = "OB"
        ds["PixelData"].is_undefined_length = True
    else:
        ds.PixelData = px.data + b"\0" * (len(px.data) % 2)
        ds["PixelData"].VR = "OB"


@dataclass(frozen=True)
class _JpegFrame:
    marker: int
    precision: int
    height: int
    width: int
    components: int
    sampling: tuple[tuple[int, int], ...]
    adobe_transform: int | None

    @property
    def baseline_compatible(self) -> bool:
        """Allowed unchanged in JPEG Baseline with a photometric a VL image may have."""
        if self.marker != 0xC0 or self.precision != 8:
            return False
        if self.components == 1:
            return True
        if self.components != 3 or self.adobe_transform == 0:
            return False
        return self.sampling[0] != (1, 1) and self.sampling[1:] == ((1, 1), (1, 1))


def _jpeg_frame(data: bytes) -> _JpegFrame:
    """The frame header (SOFn) of a JPEG, found by walking its marker segments."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    pos, adobe = 2, None
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError("JPEG marker expected")
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        body = data[pos + 4 : pos + 2 + length]
        if marker == 0xEE and body[:5] == b"Adobe" and len(body) >= 12:
            adobe = body[11]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            precision, height, width, count = struct.unpack(">BHHB", body[:6])
            sampling = tuple((body[7 + 3 * i] >> 4, body[7 + 3 * i] & 0x0F) for i in range(count))
            return _JpegFrame(marker, precision, height, width, count, sampling, adobe)
        pos += 2 + length
    raise ValueError("JPEG without a frame header")


# --- documents -----------------------------------------------------------------------------------
