"""Helpers shared by the test suites of every app (imported by conftest and tests only)."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from telederm.accounts.middleware import LOGIN_AT
from telederm.accounts.models import Organisation, User
from telederm.accounts.services.otp import primary_sms_device


def service_missing(name: str, reason: str) -> None:
    """Skip a test whose outside service is absent; fail instead when CI requires services."""
    message = f"{name} not available: {reason}"
    if os.environ.get("TELEDERM_REQUIRE_SERVICES") == "1":
        pytest.fail(message + " (TELEDERM_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def login(client: Client, user: User) -> Client:
    """Log a user in as if both factors had been given (password and code)."""
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = primary_sms_device(user).persistent_id
    session[LOGIN_AT] = time.time()
    session.save()
    return client


def sms_outbox() -> list[dict[str, str]]:
    path = Path(settings.TELEDERM_SMS_FILE_PATH) / "outbox.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def last_code(to: str) -> str:
    """The newest one-time code texted to a number (read from the SMS file backend)."""
    for sms in reversed(sms_outbox()):
        if sms["to"] == to:
            return sms["message"].rsplit("#", 1)[1].strip()
    raise AssertionError(f"no SMS to {to}")


@dataclass
class World:
    """The named personas of the permission matrix (ARCHITECTURE convention 4)."""

    region: Organisation
    clinic_a: Organisation
    clinic_b: Organisation
    unit_x: Organisation
    unit_y: Organisation
    region_admin: User
    admin_a: User
    admin_b: User
    gp_a: User
    gp_b: User
    derm_x: User
    derm_y: User


def photo(kind: str = "dermoscopic", size: tuple[int, int] = (1200, 900), seed: int = 1) -> bytes:
    """A small, plausible JPEG for tests that need an upload (not a quality-calibration image)."""
    import io
    import random

    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(seed)
    width, height = size
    image = Image.new("RGB", size, (205, 160, 135))
    draw = ImageDraw.Draw(image)
    for _ in range(4000):  # skin texture, so that the photo is not "blurry"
        x, y = rng.randrange(width), rng.randrange(height)
        shade = rng.randrange(150, 230)
        draw.point((x, y), fill=(shade, int(shade * 0.78), int(shade * 0.65)))
    cx, cy = width // 2, height // 2
    radius = min(width, height) // (5 if kind == "dermoscopic" else 18)
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=(95, 60, 40))
    for _ in range(200):
        x = cx + rng.randrange(-radius, radius)
        y = cy + rng.randrange(-radius, radius)
        draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=(60, 35, 25))
    image = image.filter(ImageFilter.GaussianBlur(0.6))
    if kind == "dermoscopic":
        # The dermatoscope's round field: dark outside the circle.
        mask = Image.new("L", size, 0)
        ImageDraw.Draw(mask).ellipse(
            (cx - height // 2 + 10, 10, cx + height // 2 - 10, height - 10), fill=255
        )
        image = Image.composite(image, Image.new("RGB", size, (8, 8, 8)), mask)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()
