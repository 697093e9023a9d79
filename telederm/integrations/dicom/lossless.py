"""Turning a JPEG upright without decoding it: ``jpegtran`` (Debian ``libjpeg-turbo-progs``)
moves the compressed blocks, so the archived photo keeps exactly the quality it was taken with.

A phone photo taken upright has EXIF orientation 6 or 8, and DICOM has no way to say "show this
turned": the pixels themselves must be upright. Decoding and re-encoding costs ~0.2 s per 12 MP
photo and a second generation of JPEG loss; the lossless transform re-packs the same
coefficients (~0.1 s, no loss). ``-perfect`` refuses when the image's edges are not whole blocks (then, and when
``jpegtran`` is not installed, the caller re-encodes).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from functools import cache

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


@cache
def jpegtran() -> str | None:
    return shutil.which("jpegtran")


def upright(data: bytes, orientation: int) -> bytes | None:
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
