"""Quality metrics and warnings for an uploaded photo (pure: numpy, OpenCV and Pillow only).

Everything is measured on one small copy that ``processing`` has already decoded: RGB, about
1024 px on the long side (``WORK_SIDE``), orientation not applied (none of the measures care).
Warnings never reject a photo; the GP sees them in plain words (``processing.WARNING_MESSAGES``)
and may retake the photo or accept it.

Measures
--------
* **Region of interest.** For a dermoscopic photo the dark vignette around the dermatoscope's
  field is no part of the picture: exposure and sharpness are measured inside the field
  (eroded a little, so the field's edge does not count as detail). Otherwise the whole frame.
* **sharpness**: variance of the 3×3 Laplacian (``cv2.Laplacian``) of the grey copy inside the
  region of interest. The copy is always ~1024 px on the long side (box-filtered down from the
  decoded image), so the value describes blur at screen scale and does not depend on whether
  the phone took 8 or 48 MP; smaller inputs are measured at their own size.
* **clipped_highlights / clipped_shadows**: fraction of region pixels with grey ≥ 250 / ≤ 5.
* **mean_brightness**: mean grey level (0–255) of the region.
* **dermoscopic_field** (dermoscopic photos only; ``None`` for overview photos): see
  ``detect_field``. A photo through a dermatoscope shows either (a) a bright field with a dark
  surround that reaches every corner (the vignette), or (b) in contact dermoscopy with the field
  filling the frame, a lesion that fills a good part of the picture: a central dark blob of at
  least ``min_lesion_fraction`` of the frame. An overview photo (lesion small on skin seen from a
  distance), a wall or a sheet of paper shows neither.

Calibration (defaults of ``Thresholds``)
----------------------------------------
Calibrated on the 400 usable images of the ISIC UDA-1 set (ISIC_0000150–0549; 0000–0149 are
damaged thumbnails, every row identical), on the 12 copied into ``testdata/`` and on the
synthetic 12 MP photos of ``synthetic.py`` (dermoscopic and overview, each sharp and
Gaussian-blurred with sigma 1–8 px at 4032 px, over- and under-exposed, plain grey).

* ``min_sharpness = 12``: sharp synthetic photos measure 150–350 (dermoscopic, inside the
  field) and 500–550 (overview); blurred with sigma 2 px at 12 MP (barely visible at 100 %) 40–90,
  sigma 3 px 13–26, sigma 4 px (soft on a screen) 5–9, sigma 8 px 1.5–2. A plain grey
  surface with sensor noise measures ~7, so the noise floor sits below the threshold.
* ``min_sharpness_side = 640``: below this long side blur is not judged. The ISIC thumbnails are
  250 px images that hold only ~32 px of real detail (down-scaling them to 32 px and back changes
  them by 1–2 grey levels RMS): every blur measure calls them blurred (their Laplacian variance is
  2–62, median 4.6). For such small images the ``low_resolution`` warning already asks for what a
  ``blurry`` warning would ask — retake the photo with the phone's camera at full size.
* ``max_clipped_highlights = 0.10``: ISIC 99th percentile 0.05 (2 of 400 above 0.10, both with
  burnt-out white skin); synthetic photos over-exposed ×1.8 clip 0.38–0.42 of the field,
  overview ×1.5 clips 0.29. ``max_mean_brightness = 235`` catches over-exposure without clipping.
* ``max_clipped_shadows = 0.25`` and ``min_mean_brightness = 60``: ISIC field means are ≥ 85
  (1st percentile 98) with almost no crushed shadows; a photo exposed ×0.3 has a field mean of 30–40.
  The dark vignette is outside the region, so it never counts as shadow.
* ``min_megapixels_overview = 2.0``, ``min_megapixels_dermoscopic = 1.0``: any phone camera of the
  last decade gives 8–50 MP; under 2 MP usually means a screenshot or a photo squeezed by a
  messaging app. A dermoscopic photo is already magnified, so ISIC's 1024×768 (0.8 MP) is about
  the least that is still used clinically; 1 MP leaves a margin.
* Field detection: ``vignette_dark_level = 0.25`` (surround at most a quarter of the field's 95th
  percentile grey, and at most 60), ``min_vignette_fraction = 0.04`` of the frame,
  ``min_lesion_fraction = 0.02``. On the 400 ISIC images 93 % are recognised (the misses are faint,
  low-contrast lesions without a vignette); all synthetic dermoscopic photos are recognised; no
  synthetic overview photo, no grey surface.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

WORK_SIDE = 1024  # long side of the copy the metrics are computed on
FIELD_SIDE = 256  # long side of the copy the field detector looks at

BLURRY, OVEREXPOSED, UNDEREXPOSED = "blurry", "overexposed", "underexposed"
LOW_RESOLUTION, NO_DERMOSCOPIC_FIELD = "low_resolution", "no_dermoscopic_field"
WARNING_CODES = (BLURRY, OVEREXPOSED, UNDEREXPOSED, LOW_RESOLUTION, NO_DERMOSCOPIC_FIELD)


@dataclass(frozen=True)
class Thresholds:
    """When a photo earns a warning. Defaults calibrated as described in the module docstring."""

    min_sharpness: float = 20.0
    min_sharpness_side: float = 640.0
    max_clipped_highlights: float = 0.10
    max_clipped_shadows: float = 0.25
    min_mean_brightness: float = 60.0
    max_mean_brightness: float = 220.0
    min_megapixels_overview: float = 2.0
    min_megapixels_dermoscopic: float = 1.0
    vignette_dark_level: float = 0.3
    min_vignette_fraction: float = 0.015
    min_lesion_fraction: float = 0.02


@dataclass(frozen=True)
class QualityMetrics:
    sharpness: float
    clipped_highlights: float
    clipped_shadows: float
    mean_brightness: float
    width: int
    height: int
    megapixels: float
    dermoscopic_field: bool | None  # None for overview photos
    warnings: tuple[str, ...]


def work_size(size: tuple[int, int], side: int = WORK_SIDE) -> tuple[int, int]:
    """``size`` scaled so the long side is at most ``side`` (never enlarged)."""
    w, h = size
    scale = side / max(w, h)
    if scale >= 1:
        return size
    return max(1, round(w * scale)), max(1, round(h * scale))


def shrink(image: Image.Image, side: int) -> Image.Image:
    """``image`` box-filtered down to about ``side`` px on the long side (never enlarged):
    Pillow's fast integer ``reduce`` first, an exact box resize only when that is far off."""
    factor = max(1, round(max(image.size) / side))
    if factor > 1:
        image = image.reduce(factor)
    if max(image.size) > 1.25 * side:
        image = image.resize(work_size(image.size, side), Image.Resampling.BOX)
    return image


def measure(
    work: Image.Image, *, width: int, height: int, kind: str, thresholds: Thresholds
) -> QualityMetrics:
    """Metrics and warnings for a photo; ``work`` is its RGB copy at most ~WORK_SIDE px long,
    ``width``/``height`` the stored photo's own size."""
    gray = np.asarray(work.convert("L"))
    field: bool | None = None
    region: np.ndarray | None = None
    if kind == "dermoscopic":
        field, region = detect_field(work, thresholds)
    pixels = gray[region] if region is not None else gray.ravel()
    highlights = float(np.count_nonzero(pixels >= 250)) / pixels.size
    shadows = float(np.count_nonzero(pixels <= 5)) / pixels.size
    brightness = float(pixels.mean())
    sharp = sharpness(gray, region)
    megapixels = width * height / 1e6

    t = thresholds
    warnings = []
    if max(width, height) >= t.min_sharpness_side and sharp < t.min_sharpness:
        warnings.append(BLURRY)
    if highlights > t.max_clipped_highlights or brightness > t.max_mean_brightness:
        warnings.append(OVEREXPOSED)
    if shadows > t.max_clipped_shadows or brightness < t.min_mean_brightness:
        warnings.append(UNDEREXPOSED)
    min_mp = t.min_megapixels_dermoscopic if kind == "dermoscopic" else t.min_megapixels_overview
    if megapixels < min_mp:
        warnings.append(LOW_RESOLUTION)
    if field is False:
        warnings.append(NO_DERMOSCOPIC_FIELD)
    return QualityMetrics(
        sharpness=sharp,
        clipped_highlights=highlights,
        clipped_shadows=shadows,
        mean_brightness=brightness,
        width=width,
        height=height,
        megapixels=megapixels,
        dermoscopic_field=field,
        warnings=tuple(warnings),
    )


def sharpness(gray: np.ndarray, region: np.ndarray | None = None) -> float:
    """Variance of the Laplacian, inside ``region`` (a boolean mask) when given."""
    lap = cv2.Laplacian(gray, cv2.CV_32F)
    values = lap[region] if region is not None else lap
    return float(values.var()) if values.size else 0.0


def detect_field(work: Image.Image, t: Thresholds) -> tuple[bool, np.ndarray | None]:
    """Whether ``work`` shows a dermatoscope's field, and the field as a mask at ``work``'s size
    when a vignette bounds it (None: the whole frame is the region of interest)."""
    small = shrink(work, FIELD_SIDE)
    gray = cv2.GaussianBlur(np.asarray(small.convert("L")), (5, 5), 0)
    surround = _vignette(gray, t)
    if surround is not None:
        field = np.logical_not(surround).astype(np.uint8)
        # Leave out the field's rim: its edge is the scope's, not the skin's, sharpness.
        rim = max(3, round(0.03 * max(work.size)))
        full = cv2.resize(field, work.size, interpolation=cv2.INTER_NEAREST)
        inner = cv2.erode(full, np.ones((rim, rim), np.uint8)).astype(bool)
        return True, inner if inner.any() else full.astype(bool)
    return _central_lesion(gray, t), None


def _vignette(gray: np.ndarray, t: Thresholds) -> np.ndarray | None:
    """The dark surround of a dermatoscope's field as a mask, or None when there is none.

    All four corners must be dark compared with the field (their mean at most
    ``vignette_dark_level`` of the image's 95th percentile, none above 1.5 times that); the
    surround is then everything connected to the frame's edge that is at most twice as bright
    as the corners' mean level.
    """
    h, w = gray.shape
    bright = float(np.percentile(gray, 95))
    c = max(2, min(h, w) // 20)
    corners = [
        float(gray[ys, xs].mean())
        for ys in (slice(0, c), slice(h - c, h))
        for xs in (slice(0, c), slice(w - c, w))
    ]
    corner_level = sum(corners) / 4
    if bright < 20 or corner_level > t.vignette_dark_level * bright:
        return None
    if max(corners) > 1.5 * t.vignette_dark_level * bright:
        return None
    level = min(0.5 * bright, max(2 * corner_level, corner_level + 10))
    dark = (gray <= level).astype(np.uint8)
    _, labels = cv2.connectedComponents(dark, connectivity=8)
    edge_labels = np.unique(
        np.concatenate([labels[0, :], labels[-1, :], labels[:, 0], labels[:, -1]])
    )
    surround = np.isin(labels, edge_labels[edge_labels != 0])
    if not t.min_vignette_fraction <= float(surround.mean()) <= 0.9:
        return None
    return surround


def _central_lesion(gray: np.ndarray, t: Thresholds) -> bool:
    """Contact dermoscopy filling the frame: a dark blob, clearly darker than the skin around the
    frame's edge, that touches the middle of the picture and covers a good part of it."""
    h, w = gray.shape
    ring = np.ones_like(gray, dtype=bool)
    bh, bw = max(1, h // 10), max(1, w // 10)
    ring[bh:-bh, bw:-bw] = False
    skin = float(np.median(gray[ring]))
    dark = (gray < min(0.85 * skin, skin - 15)).astype(np.uint8)
    _count, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    middle = labels[h // 4 : h - h // 4, w // 4 : w - w // 4]
    best = 0
    for label in np.unique(middle):
        if label != 0:
            best = max(best, int(stats[label, cv2.CC_STAT_AREA]))
    return best / (h * w) >= t.min_lesion_fraction
