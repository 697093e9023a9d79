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
Measured through ``processing.ingest`` on the 400 usable images of the ISIC UDA-1 set
(ISIC_0000150–0549; 0000–0149 are smeared vertically, every column nearly constant), on the 12
copied into ``testdata/``, and on synthetic 12 MP JPEGs from ``synthetic.py`` built around six
of them: dermoscopic and overview photos, sharp and defocused (Gaussian sigma 2–12 px at
4032 px, applied before the sensor noise, as in a camera), over- and under-exposed, and plain
grey surfaces.

* ``min_sharpness = 20``. Sharp photos measure 1250–2200 (dermoscopic, inside the field) and
  1970–2460 (overview). Defocus sigma 2 px: 237–469; 3 px: 76–146; 4 px: 31–55 (sigma 4 px is
  0.03 mm on the skin through a dermatoscope, 1 px on the 1024 px copy: soft but still usable);
  6 px: 11.8–15.7; 8 px: 8.8–9.6; 12 px: 7.8–8.0. The floor, ~7.6, is the sensor noise (a plain
  grey surface measures the same), so 20 sits between "usable" and "clearly blurred"
  (sigma ≥ 6 px at 12 MP) with a margin on both sides. Heavy sensor noise (a dim room) raises the
  floor and can hide blur; the measure does not try to separate the two.
* ``min_sharpness_side = 640``: below this long side blur is not judged. The ISIC thumbnails are
  250 px images holding only about 32 px of real detail (scaling them down to 32 px and back
  changes them by 1–2 grey levels RMS); any blur measure calls them blurred (Laplacian variance
  2.1–62, median 4.4). For images this small the ``low_resolution`` warning already asks for what
  ``blurry`` would ask: take the photo again with the phone's camera at full size.
* ``max_clipped_highlights = 0.10`` and ``max_mean_brightness = 220``: ISIC's 99th percentiles are
  0.054 and 210; 4 of 400 (0155, 0175, 0220, 0239, all burnt-out white skin) are flagged.
  Synthetic dermoscopic photos exposed ×1.8 clip 0.17–0.68 of the field; overview photos ×1.5
  clip 0.10–0.36 with a mean of 231–243; all are flagged.
* ``min_mean_brightness = 60`` and ``max_clipped_shadows = 0.25``: ISIC region means are 84–225
  (1st percentile 99) with at most 0.01 crushed shadows; photos exposed ×0.3 have means of 39–54,
  ×0.25 of 32–45. The dark vignette is outside the region, so it never counts as shadow. The
  lower bound is deliberately low: dark skin (Fitzpatrick V–VI, scarce in ISIC) photographs
  darker, and must not be called under-exposed for its colour.
* ``min_megapixels_overview = 2.0``, ``min_megapixels_dermoscopic = 1.0``: phone cameras give
  8–50 MP; under 2 MP usually means a screenshot or a copy squeezed by a messaging app. A
  dermoscopic photo is already magnified; ISIC's 1024×768 (0.8 MP) is about the least still used.
* Field detection: ``vignette_dark_level = 0.3`` (mean of the four corners at most 0.3 of the
  image's 95th-percentile grey, none above 0.45), ``min_vignette_fraction = 0.015`` of the frame,
  ``min_lesion_fraction = 0.02``. Recognised: 383 of the 400 ISIC images (96 %; the 17 misses are
  faint, low-contrast lesions with neither vignette nor a clearly darker blob), every synthetic
  dermoscopic photo (also under-exposed), and the ISIC lesions cropped to fill the frame. Not
  recognised: every synthetic overview photo and grey surface. It is a heuristic to catch an
  overview photo or a blank picture filed as dermoscopic, not a classifier: an arm photographed
  against a dark background, or a dark object on a wall, can pass as a field.
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
