"""Synthetic phone photos for tests, benchmarks and the demo.

The CC0 ISIC images in ``testdata/`` are 250 px dermoscopic thumbnails; real uploads are 12 MP
phone photos. This module builds the latter from the former, in code, so nothing outside the
repository is needed:

* ``dermoscopic_photo``: a 4032×3024 photo through a phone-mounted dermatoscope — the ISIC image
  upscaled into a round bright field, dark vignette around it, skin texture, a few hairs and
  sensor noise.
* ``overview_photo``: the lesion small on a larger skin-toned canvas with gentle shading.
* ``blurred``, ``exposed`` and ``grey_photo``: degraded versions and a non-skin control.
* ``encode_jpeg`` with ``PhotoExif``: phone-like EXIF (Make/Model, DateTimeOriginal, GPS,
  Orientation and an embedded thumbnail), optionally XMP and a comment, so tests can prove all
  of it is stripped.

Everything is deterministic for a given seed.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

TESTDATA = Path(__file__).resolve().parent / "testdata"
PHONE_SIZE = (4032, 3024)


def isic_paths() -> list[Path]:
    """The CC0 ISIC thumbnails copied into the repository (see testdata/README.md)."""
    return sorted(TESTDATA.glob("ISIC_*.jpg"))


def isic_image(name: str = "ISIC_0000164") -> Image.Image:
    with Image.open(TESTDATA / f"{name}.jpg") as im:
        return im.convert("RGB")


# --- building blocks ---------------------------------------------------------------------------


def _smooth_noise(
    rng: np.random.Generator, size: tuple[int, int], scale: int, amplitude: float
) -> np.ndarray:
    """Zero-mean noise whose features are about ``scale`` pixels wide (float32, H×W)."""
    w, h = size
    small = rng.standard_normal((max(2, h // scale), max(2, w // scale)), dtype=np.float32)
    im = Image.fromarray(small, mode="F").resize((w, h), Image.Resampling.BICUBIC)
    return np.asarray(im, dtype=np.float32) * amplitude


def _texture_gain(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """Multiplicative skin texture: blotches of ~40 px, furrows of ~8 px and pores of ~3 px (12 MP scale)."""
    scale = max(size) / 4032
    gain = _smooth_noise(rng, size, max(2, round(40 * scale)), 0.035)
    gain += _smooth_noise(rng, size, max(1, round(8 * scale)), 0.06)
    gain += _smooth_noise(rng, size, max(1, round(3 * scale)), 0.11)
    gain += 1.0
    return gain


def _radial(size: tuple[int, int], centre: tuple[float, float]) -> np.ndarray:
    w, h = size
    ys = np.arange(h, dtype=np.float32)[:, None] - centre[1]
    xs = np.arange(w, dtype=np.float32)[None, :] - centre[0]
    return np.sqrt(xs * xs + ys * ys)


def _draw_hairs(im: Image.Image, rng: np.random.Generator, count: int, box: tuple) -> None:
    """Thin dark curved hairs: sharp, high-contrast detail like in real dermoscopy."""
    draw = ImageDraw.Draw(im)
    x0, y0, x1, y1 = box
    width = max(2, round(max(im.size) / 900))
    for _ in range(count):
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        angle = rng.uniform(0, 2 * np.pi)
        points = [(x, y)]
        for _ in range(12):
            angle += rng.normal(0, 0.15)
            x += np.cos(angle) * (x1 - x0) / 30
            y += np.sin(angle) * (y1 - y0) / 30
            points.append((x, y))
        shade = int(rng.integers(25, 60))
        draw.line(points, fill=(shade + 15, shade, shade - 10), width=width, joint="curve")


def _finish(
    rgb: np.ndarray, rng: np.random.Generator, *, noise: float, defocus: float
) -> Image.Image:
    """Camera: optical blur (Gaussian, sigma ``defocus`` px), then sensor noise, then 8 bits."""
    if defocus > 0:
        rgb = cv2.GaussianBlur(rgb, (0, 0), defocus)
    rgb += rng.standard_normal(rgb.shape[:2], dtype=np.float32)[:, :, None] * noise
    np.clip(rgb, 0, 255, out=rgb)
    return Image.fromarray(rgb.astype(np.uint8), "RGB")


# --- photos ------------------------------------------------------------------------------------


def dermoscopic_photo(
    lesion: Image.Image | None = None,
    *,
    size: tuple[int, int] = PHONE_SIZE,
    seed: int = 0,
    defocus: float = 0.0,
) -> Image.Image:
    """A phone photo through a contact dermatoscope: round bright field, dark surround.
    ``defocus``: Gaussian blur sigma in pixels, applied before the sensor noise as in a camera."""
    rng = np.random.default_rng(seed)
    lesion = lesion if lesion is not None else isic_image()
    w, h = size
    radius = 0.47 * h
    centre = (w / 2 + rng.uniform(-0.02, 0.02) * w, h / 2 + rng.uniform(-0.02, 0.02) * h)
    side = round(2 * radius)
    field = Image.new("RGB", size, (0, 0, 0))
    field.paste(
        lesion.resize((side, side), Image.Resampling.BICUBIC),
        (round(centre[0] - radius), round(centre[1] - radius)),
    )
    box = (centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius)
    _draw_hairs(field, rng, 6, box)
    # The field's optical edge and the dim glow outside it are smooth: compute them at a
    # quarter of the resolution and let Pillow interpolate.
    q = 4
    small = (w // q, h // q)
    r = _radial(small, (centre[0] / q, centre[1] / q))
    edge = np.clip((radius / q - r) / (0.04 * radius / q), 0.0, 1.0) ** 2
    glow = 14.0 * np.exp(-np.maximum(r - radius / q, 0) / (0.15 * radius / q)) * (1 - edge)
    edge_full = np.asarray(Image.fromarray(edge, "F").resize(size, Image.Resampling.BILINEAR))
    glow_full = np.asarray(Image.fromarray(glow, "F").resize(size, Image.Resampling.BILINEAR))
    rgb = np.asarray(field, dtype=np.float32)
    rgb *= (_texture_gain(rng, size) * edge_full)[:, :, None]
    rgb += glow_full[:, :, None] * np.array([1.0, 0.8, 0.7], dtype=np.float32)
    return _finish(rgb, rng, noise=2.0, defocus=defocus)


def overview_photo(
    lesion: Image.Image | None = None,
    *,
    size: tuple[int, int] = PHONE_SIZE,
    seed: int = 0,
    lesion_fraction: float = 0.06,
    defocus: float = 0.0,
) -> Image.Image:
    """Clinical overview: skin fills the frame, the lesion is small (``lesion_fraction`` of the
    width), with a soft lighting gradient as on a curved body surface."""
    rng = np.random.default_rng(seed)
    lesion = lesion if lesion is not None else isic_image()
    w, h = size
    tone = np.array([222, 178, 152], dtype=np.float32) * rng.uniform(0.9, 1.05)
    canvas = Image.new("RGB", size, tuple(int(c) for c in tone))
    # Only the lesion's middle, faded into the canvas with a round soft mask.
    side = max(8, round(lesion_fraction * w))
    patch = lesion.crop((40, 40, 210, 210)).resize((side, side), Image.Resampling.BICUBIC)
    mask_r = _radial((side, side), (side / 2, side / 2))
    mask = np.clip((side / 2 - mask_r) / (0.25 * side), 0, 1) * 255
    mask_im = Image.fromarray(mask.astype(np.uint8), "L")
    at = (round(w * rng.uniform(0.4, 0.55)), round(h * rng.uniform(0.4, 0.55)))
    canvas.paste(patch, at, mask_im)
    _draw_hairs(canvas, rng, 10, (0, 0, w, h))
    rgb = np.asarray(canvas, dtype=np.float32)
    shade = 0.88 + 0.18 * np.linspace(0, 1, w, dtype=np.float32)[None, :]
    shade = shade - 0.06 * np.linspace(-1, 1, h, dtype=np.float32)[:, None] ** 2
    rgb *= (_texture_gain(rng, size) * shade)[:, :, None]
    return _finish(rgb, rng, noise=2.0, defocus=defocus)


def grey_photo(
    *, size: tuple[int, int] = PHONE_SIZE, level: int = 128, seed: int = 0
) -> Image.Image:
    """A featureless grey surface (a wall, a sheet of paper): no skin, no dermoscopic field."""
    rng = np.random.default_rng(seed)
    rgb = np.full((size[1], size[0], 3), float(level), dtype=np.float32)
    return _finish(rgb, rng, noise=2.0, defocus=0.0)


def blurred(im: Image.Image, sigma_fraction: float = 0.002) -> Image.Image:
    """Blur a finished photo: Gaussian with sigma as a fraction of the long side (8 px at 4032).
    Unlike ``defocus`` this blurs the sensor noise too, so it flatters the blur detector."""
    return im.filter(ImageFilter.GaussianBlur(sigma_fraction * max(im.size)))


def exposed(im: Image.Image, factor: float) -> Image.Image:
    """Scale the light: factor > 1 over-exposes (clips highlights), < 1 under-exposes."""
    return im.point(lambda v: min(255, round(v * factor)))


# --- encoding with phone-like metadata ---------------------------------------------------------


@dataclass(frozen=True)
class PhotoExif:
    make: str = "Telederm Phones"
    model: str = "Synthetic 12"
    taken: datetime = datetime(2026, 3, 14, 10, 30, 5)
    offset: str | None = None  # OffsetTimeOriginal, e.g. "+01:00"
    orientation: int = 1
    gps: tuple[float, float] | None = (59.3293, 18.0686)
    thumbnail: bool = True


_ASCII, _SHORT, _LONG, _RATIONAL = 2, 3, 4, 5


def _rationals(values: Iterable[float]) -> tuple[int, bytes]:
    parts = [struct.pack(">II", round(v * 10000), 10000) for v in values]
    return len(parts), b"".join(parts)


def _ascii(text: str) -> tuple[int, bytes]:
    raw = text.encode("ascii") + b"\0"
    return len(raw), raw


def _ifd(entries: list[tuple[int, int, int, bytes]], start: int, next_ifd: int) -> bytes:
    """One big-endian TIFF IFD placed at ``start``, its out-of-line values right after it."""
    entries = sorted(entries)
    data_at = start + 2 + 12 * len(entries) + 4
    table, data = [struct.pack(">H", len(entries))], b""
    for tag, kind, count, value in entries:
        if len(value) <= 4:
            table.append(struct.pack(">HHI", tag, kind, count) + value.ljust(4, b"\0"))
        else:
            table.append(struct.pack(">HHII", tag, kind, count, data_at + len(data)))
            data += value + b"\0" * (len(value) % 2)
    table.append(struct.pack(">I", next_ifd))
    return b"".join(table) + data


def exif_bytes(meta: PhotoExif, thumbnail_jpeg: bytes = b"") -> bytes:
    """A complete EXIF block (without the "Exif\\0\\0" prefix): IFD0, Exif IFD, GPS IFD and
    IFD1 with an embedded JPEG thumbnail."""
    stamp = meta.taken.strftime("%Y:%m:%d %H:%M:%S")
    exif: list[tuple[int, int, int, bytes]] = [
        (0x9003, _ASCII, *_ascii(stamp)),
        (0x9004, _ASCII, *_ascii(stamp)),
    ]
    if meta.offset:
        exif.append((0x9011, _ASCII, *_ascii(meta.offset)))
    gps: list[tuple[int, int, int, bytes]] = []
    if meta.gps:
        lat, lon = meta.gps
        gps = [
            (0x0000, 1, 4, bytes([2, 3, 0, 0])),
            (0x0001, _ASCII, *_ascii("N" if lat >= 0 else "S")),
            (0x0002, _RATIONAL, *_rationals(_dms(abs(lat)))),
            (0x0003, _ASCII, *_ascii("E" if lon >= 0 else "W")),
            (0x0004, _RATIONAL, *_rationals(_dms(abs(lon)))),
        ]

    def ifd0(exif_at: int, gps_at: int) -> list[tuple[int, int, int, bytes]]:
        entries = [
            (0x010F, _ASCII, *_ascii(meta.make)),
            (0x0110, _ASCII, *_ascii(meta.model)),
            (0x0112, _SHORT, 1, struct.pack(">H", meta.orientation)),
            (0x0131, _ASCII, *_ascii("Synthetic Camera 1.0")),
            (0x0132, _ASCII, *_ascii(stamp)),
            (0x8769, _LONG, 1, struct.pack(">I", exif_at)),
        ]
        if gps:
            entries.append((0x8825, _LONG, 1, struct.pack(">I", gps_at)))
        return entries

    # Two passes: sizes do not depend on the offsets, so lay out once with zeros.
    size0 = len(_ifd(ifd0(0, 0), 8, 0))
    exif_at = 8 + size0
    gps_at = exif_at + len(_ifd(exif, exif_at, 0))
    ifd1_at = gps_at + (len(_ifd(gps, gps_at, 0)) if gps else 0)
    ifd1: list[tuple[int, int, int, bytes]] = []
    if thumbnail_jpeg:
        thumb_at = ifd1_at + 2 + 12 * 3 + 4
        ifd1 = [
            (0x0103, _SHORT, 1, struct.pack(">H", 6)),
            (0x0201, _LONG, 1, struct.pack(">I", thumb_at)),
            (0x0202, _LONG, 1, struct.pack(">I", len(thumbnail_jpeg))),
        ]
    out = b"MM\0*" + struct.pack(">I", 8)
    out += _ifd(ifd0(exif_at, gps_at), 8, ifd1_at if ifd1 else 0)
    out += _ifd(exif, exif_at, 0)
    if gps:
        out += _ifd(gps, gps_at, 0)
    if ifd1:
        out += _ifd(ifd1, ifd1_at, 0) + thumbnail_jpeg
    return out


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return float(degrees), float(minutes), round(((value - degrees) * 60 - minutes) * 60, 4)


def encode_jpeg(
    im: Image.Image,
    *,
    quality: int = 92,
    exif: PhotoExif | None = None,
    xmp: bytes | None = None,
    comment: bytes | None = None,
    icc_profile: bytes | None = None,
    progressive: bool = False,
) -> bytes:
    """Encode like a phone camera: 4:2:0 JPEG, EXIF with a thumbnail, optional XMP/comment."""
    options: dict[str, object] = {"quality": quality, "progressive": progressive}
    if exif is not None:
        thumb = b""
        if exif.thumbnail:
            small = im.copy()
            small.thumbnail((160, 160))
            buf = io.BytesIO()
            small.save(buf, "JPEG", quality=80)
            thumb = buf.getvalue()
        options["exif"] = b"Exif\0\0" + exif_bytes(exif, thumb)
    if xmp is not None:
        options["xmp"] = xmp
    if comment is not None:
        options["comment"] = comment
    if icc_profile is not None:
        options["icc_profile"] = icc_profile
    buf = io.BytesIO()
    im.save(buf, "JPEG", **options)
    return buf.getvalue()


def phone_jpeg(*, seed: int = 0, orientation: int = 6) -> bytes:
    """The standard benchmark/demo upload: 12 MP dermoscopic photo, q92, full phone EXIF."""
    return encode_jpeg(dermoscopic_photo(seed=seed), exif=PhotoExif(orientation=orientation))
