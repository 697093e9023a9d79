"""Uploads shared by the ingest tests, built in code once per test run."""

from __future__ import annotations

import io
from functools import cache

import numpy as np
import pillow_heif
from PIL import Image, ImageCms

from telederm.images import synthetic

pillow_heif.register_heif_opener()

SECRET = b"Anna Andersson 19121212-1212"


def encode(im: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **options)
    return out.getvalue()


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


@cache
def photo() -> Image.Image:
    """A small (1200×900) dermoscopic photo: quick to build, big enough for every check."""
    return synthetic.dermoscopic_photo(size=(1200, 900), seed=7)


@cache
def jpeg() -> bytes:
    return synthetic.encode_jpeg(photo(), exif=synthetic.PhotoExif(orientation=6))


@cache
def png() -> bytes:
    return encode(photo(), "PNG")


@cache
def srgb() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@cache
def phone_upload() -> bytes:
    """A 12 MP phone JPEG with everything a phone writes: EXIF with GPS, times, camera and a
    thumbnail, XMP, a comment and an ICC profile."""
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>59,19.76N</exif:GPSLatitude>'
    xmp += b"<dc:creator>" + SECRET + b"</dc:creator></x:xmpmeta>"
    return synthetic.encode_jpeg(
        synthetic.dermoscopic_photo(seed=1),
        exif=synthetic.PhotoExif(orientation=6),
        xmp=xmp,
        comment=SECRET,
        icc_profile=srgb(),
    )
