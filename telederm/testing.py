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
