"""Trusted devices: after a code, a signed cookie lets the same browser skip the code for 12 hours.

The cookie names the user, the session epoch and the OTP device. Raising the epoch (new phone,
new password, deactivation) makes every such cookie worthless. Administrators are never trusted:
their role is sensitive, so they give a code at every login.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django_otp.models import Device

from telederm.accounts import access
from telederm.accounts.models import Role, User

COOKIE = "telederm_trusted_device"
_SALT = "telederm.accounts.trusted-device"


def may_trust(user: User) -> bool:
    return not access.has_role(user, Role.REGION_ADMIN, Role.CENTER_ADMIN)


def remember(response: HttpResponse, user: User, device: Device) -> None:
    value = signing.dumps(
        {"u": user.pk, "e": user.session_epoch, "d": device.persistent_id}, salt=_SALT
    )
    response.set_cookie(
        COOKIE,
        value,
        max_age=settings.TELEDERM_TRUSTED_DEVICE_SECONDS,
        httponly=True,
        samesite="Lax",
        secure=not settings.DEMO,
    )


def forget(response: HttpResponse) -> None:
    response.delete_cookie(COOKIE, samesite="Lax")


def trusted_device(request: HttpRequest, user: User) -> Device | None:
    raw = request.COOKIES.get(COOKIE)
    if not raw or not may_trust(user):
        return None
    try:
        data = signing.loads(raw, salt=_SALT, max_age=settings.TELEDERM_TRUSTED_DEVICE_SECONDS)
    except signing.BadSignature:
        return None
    if data.get("u") != user.pk or data.get("e") != user.session_epoch:
        return None
    device = Device.from_persistent_id(str(data.get("d", "")))
    if device is None or device.user_id != user.pk or not device.confirmed:
        return None
    return device
