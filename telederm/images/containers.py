"""Byte-level work on uploaded image files: recognise the format by its magic bytes, walk the
JPEG and PNG structures, cut data after the image's end and drop every metadata segment or
chunk without touching the compressed image data.

Pure and defensive: every function takes untrusted bytes and either returns or raises
``ContainerError`` with a rejection code (see ``processing.ImageRejected``).
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass

JPEG, PNG, HEIF = "JPEG", "PNG", "HEIF"

# Formats recognised only to say "unsupported" (rather than "not an image").
_UNSUPPORTED_MAGIC = (
    (0, b"GIF87a"),
    (0, b"GIF89a"),
    (0, b"BM"),
    (0, b"II*\0"),
    (0, b"MM\0*"),
    (0, b"\0\0\0\x0cjP  \r\n\x87\n"),  # JPEG 2000
    (0, b"\xff\x4f\xff\x51"),  # JPEG 2000 codestream
    (0, b"\xff\x0a"),  # JPEG XL codestream
    (0, b"\0\0\0\x0cJXL \r\n\x87\n"),  # JPEG XL container
    (0, b"8BPS"),  # Photoshop
    (0, b"\0\0\1\0"),  # ICO
    (128, b"DICM"),
)
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis"}
_HEIF_SEQUENCE_BRANDS = {b"hevc", b"hevx", b"msf1"}
_HEIF_GENERIC_BRANDS = {b"mif1", b"mif2", b"miaf"}

MAX_JPEG_SEGMENTS = 2000  # phone JPEGs have < 30; a flood of segments is an attack
MAX_JPEG_SCANS = 100  # progressive JPEGs have ~10; thousands make decoding crawl
MAX_PNG_CHUNKS = 100_000


class ContainerError(ValueError):
    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


def sniff(raw: bytes) -> str:
    """JPEG, PNG or HEIF by content; ContainerError("unsupported_format"/"not_an_image")."""
    if raw.startswith(b"\xff\xd8\xff"):
        return JPEG
    if raw.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if raw[4:8] == b"ftyp":
        size = struct.unpack(">I", raw[:4])[0]
        brands = {raw[8:12]} | {raw[i : i + 4] for i in range(16, min(size, 64, len(raw)), 4)}
        if raw[8:12] in _HEIF_SEQUENCE_BRANDS:
            raise ContainerError("animated", "HEIF image sequence")
        if brands & _HEIF_BRANDS or (raw[8:12] in _HEIF_GENERIC_BRANDS and b"avif" not in brands):
            return HEIF
        raise ContainerError("unsupported_format", f"ftyp {raw[8:12]!r}")
    if raw.startswith(b"RIFF") and raw[8:12] == b"WEBP":
        raise ContainerError("unsupported_format", "WebP")
    for offset, magic in _UNSUPPORTED_MAGIC:
        if raw[offset : offset + len(magic)] == magic:
            raise ContainerError("unsupported_format", repr(magic))
    raise ContainerError("not_an_image")


# --- JPEG ----------------------------------------------------------------------------------------

_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_SOF_UNSUPPORTED = {0xC3, 0xC5, 0xC6, 0xC7, 0xCB, 0xCD, 0xCE, 0xCF}  # lossless, hierarchical
_TABLES = {0xC4, 0xCC, 0xDB, 0xDD}  # DHT, DAC, DQT, DRI
_SOS, _EOI, _DNL = 0xDA, 0xD9, 0xDC
# A marker inside entropy-coded data: 0xFF followed by anything but a stuffed zero, a restart
# marker or another fill byte.
_ENTROPY_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


@dataclass(frozen=True)
class JpegLayout:
    width: int
    height: int
    exif: bytes | None  # the first EXIF APP1 payload (after "Exif\0\0"), for reading only
    kept: tuple[tuple[int, int], ...]  # byte ranges that make up the cleaned file, after SOI
    end: int  # offset just after EOI


def read_jpeg(raw: bytes) -> JpegLayout:
    """Walk the JPEG's segments up to EOI; note what to keep, its size and EXIF."""
    n = len(raw)
    pos, kept, exif = 2, [], None
    size: tuple[int, int] | None = None
    segments = scans = 0
    while True:
        if pos >= n or raw[pos] != 0xFF:
            raise ContainerError("corrupt", f"no marker at {pos}")
        while pos < n and raw[pos] == 0xFF:  # fill bytes before a marker
            pos += 1
        if pos >= n:
            raise ContainerError("corrupt", "ends inside a marker")
        marker, start = raw[pos], pos - 1
        pos += 1
        if marker == _EOI:
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue  # stray parameterless markers carry nothing
        if marker == 0xD8:
            raise ContainerError("corrupt", "second SOI")
        if pos + 2 > n:
            raise ContainerError("corrupt", "truncated segment length")
        length = struct.unpack(">H", raw[pos : pos + 2])[0]
        end = pos + length
        if length < 2 or end > n:
            raise ContainerError("corrupt", "truncated segment")
        segments += 1
        if segments > MAX_JPEG_SEGMENTS:
            raise ContainerError("corrupt", "too many segments")
        payload = raw[pos + 2 : end]
        if marker in _SOF:
            if size is not None:
                raise ContainerError("unsupported_format", "several frames")
            if marker in _SOF_UNSUPPORTED:
                raise ContainerError("unsupported_format", f"SOF{marker - 0xC0}")
            if len(payload) < 6:
                raise ContainerError("corrupt", "short SOF")
            height, width = struct.unpack(">HH", payload[1:5])
            if width == 0 or height == 0:
                raise ContainerError("corrupt", "zero size")
            size = (width, height)
            kept.append((start, end))
        elif marker == _SOS:
            if size is None:
                raise ContainerError("corrupt", "scan before frame header")
            scans += 1
            if scans > MAX_JPEG_SCANS:
                raise ContainerError("corrupt", "too many scans")
            found = _ENTROPY_END.search(raw, end)
            if found is None:
                raise ContainerError("corrupt", "truncated scan")
            kept.append((start, found.start()))
            end = found.start()
        elif marker in _TABLES or marker == _DNL or _keep_app(marker, payload):
            kept.append((start, end))
        elif marker == 0xE1 and exif is None and payload.startswith(b"Exif\0\0"):
            exif = payload[6:]
        pos = end
    if size is None or scans == 0:
        raise ContainerError("corrupt", "no image data")
    return JpegLayout(width=size[0], height=size[1], exif=exif, kept=tuple(kept), end=pos)


def _keep_app(marker: int, payload: bytes) -> bool:
    """Application segments that describe pixels, not people: JFIF, ICC profile, Adobe."""
    return (
        (marker == 0xE0 and payload.startswith(b"JFIF\0"))
        or (marker == 0xE2 and payload.startswith(b"ICC_PROFILE\0"))
        or (marker == 0xEE and payload.startswith(b"Adobe"))
    )


def orientation_exif(orientation: int) -> bytes:
    """A minimal big-endian EXIF (TIFF) block holding only the Orientation tag."""
    return (
        b"MM\0*\0\0\0\x08\0\x01" + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + b"\0" * 4
    )


def write_jpeg(raw: bytes, layout: JpegLayout, orientation: int) -> bytes:
    """The kept segments and scans, byte for byte, with a minimal EXIF APP1 holding only the
    orientation when it is not 1, placed after JFIF APP0 (or SOI) as the EXIF standard asks."""
    parts = [b"\xff\xd8"]
    app1 = b""
    if orientation != 1:
        body = b"Exif\0\0" + orientation_exif(orientation)
        app1 = b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
    inserted = not app1
    for start, end in layout.kept:
        if not inserted and raw[start + 1] != 0xE0:
            parts.append(app1)
            inserted = True
        parts.append(raw[start:end])
    if not inserted:
        parts.append(app1)
    parts.append(b"\xff\xd9")
    return b"".join(parts)


# --- PNG -----------------------------------------------------------------------------------------

_PNG_KEEP = {
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS",  # pixels
    b"iCCP", b"sRGB", b"gAMA", b"cHRM", b"cICP", b"sBIT", b"pHYs",  # colour and scale
}  # fmt: skip


@dataclass(frozen=True)
class PngLayout:
    width: int
    height: int
    exif: bytes | None  # eXIf chunk (TIFF block), for reading only
    chunks: tuple[tuple[bytes, int, int], ...]  # (type, start, end) of chunks to keep
    animated: bool


def read_png(raw: bytes) -> PngLayout:
    """Walk the PNG's chunks up to IEND, checking every CRC."""
    pos, n = 8, len(raw)
    chunks: list[tuple[bytes, int, int]] = []
    exif, animated, size = None, False, None
    seen_idat = False
    while True:
        if pos + 8 > n:
            raise ContainerError("corrupt", "truncated chunk header")
        length, kind = struct.unpack(">I4s", raw[pos : pos + 8])
        end = pos + 12 + length
        if length > 0x7FFFFFFF or end > n:
            raise ContainerError("corrupt", "truncated chunk")
        data = raw[pos + 8 : pos + 8 + length]
        if zlib.crc32(data, zlib.crc32(kind)) != struct.unpack(">I", raw[end - 4 : end])[0]:
            raise ContainerError("corrupt", f"bad CRC in {kind!r}")
        if not chunks and kind != b"IHDR":
            raise ContainerError("corrupt", "IHDR is not first")
        if kind == b"IHDR":
            if chunks or length != 13:
                raise ContainerError("corrupt", "bad IHDR")
            size = struct.unpack(">II", data[:8])
        elif kind == b"acTL":
            animated = True
        elif kind == b"eXIf" and exif is None:
            exif = data
        elif kind == b"IDAT":
            seen_idat = True
        if kind in _PNG_KEEP:
            chunks.append((kind, pos, end))
        elif kind[0] & 0x20 == 0:  # an unknown critical chunk: nobody can decode it
            raise ContainerError("unsupported_format", f"critical chunk {kind!r}")
        if len(chunks) > MAX_PNG_CHUNKS:
            raise ContainerError("corrupt", "too many chunks")
        pos = end
        if kind == b"IEND":
            break
    assert size is not None  # IHDR is always the first kept chunk
    if size[0] == 0 or size[1] == 0 or not seen_idat:
        raise ContainerError("corrupt", "no image data")
    return PngLayout(
        width=size[0], height=size[1], exif=exif, chunks=tuple(chunks), animated=animated
    )


def write_png(raw: bytes, layout: PngLayout, orientation: int) -> bytes:
    """The kept chunks byte for byte, plus an eXIf chunk holding only the orientation when it
    is not 1 (before the first IDAT, as the PNG specification asks)."""
    parts = [raw[:8]]
    exif = b""
    if orientation != 1:
        block = orientation_exif(orientation)
        crc = zlib.crc32(block, zlib.crc32(b"eXIf"))
        exif = struct.pack(">I", len(block)) + b"eXIf" + block + struct.pack(">I", crc)
    for kind, start, end in layout.chunks:
        if kind == b"IDAT" and exif:
            parts.append(exif)
            exif = b""
        parts.append(raw[start:end])
    return b"".join(parts)
