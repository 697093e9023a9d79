"""One-time codes: by SMS (our device on django-otp's side-channel base) or authenticator app.

Rules (issue #2): 6 digits, valid 5 minutes, single use, at most 5 wrong tries per code, at most
3 codes sent per user per 10 minutes.
"""

from __future__ import annotations

from enum import Enum
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from django_otp.plugins.otp_totp.models import TOTPDevice

from telederm.accounts.models import SmsCodeSend, SmsDevice, User
from telederm.audit.models import Action
from telederm.audit.services import Actor, record, record_security_event
from telederm.lib.sms import SmsError, send_sms


class SendResult(Enum):
    SENT = "sent"
    LIMITED = "limited"
    FAILED = "failed"


class CodeResult(Enum):
    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"
    USED = "used"
    TOO_MANY_TRIES = "too_many_tries"
    MALFORMED = "malformed"


PRIMARY = "primary"


def primary_sms_device(user: User) -> SmsDevice:
    device, _created = SmsDevice.objects.get_or_create(
        user=user, name=PRIMARY, defaults={"number": user.mobile, "confirmed": True}
    )
    return device


def confirmed_totp(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def _code_message(code: str) -> str:
    host = urlsplit(settings.TELEDERM_BASE_URL).hostname or "localhost"
    minutes = settings.OTP_SMS_VALID_SECONDS // 60
    # The last line is the WebOTP format, so phones offer to fill in the code.
    return (
        _(
            "Your Telederm code is %(code)s. It is valid for %(minutes)d minutes. "
            "Never give it to anyone."
        )
        % {"code": code, "minutes": minutes}
        + f"\n\n@{host} #{code}"
    )


def send_code(*, user: User, device: SmsDevice, by: Actor) -> SendResult:
    """Generate a new code for the device and text it, within the per-user send limit."""
    window_start = timezone.now() - settings.OTP_SMS_SEND_WINDOW
    with transaction.atomic():
        # Lock the user row so that two parallel requests cannot both squeeze under the limit.
        User.objects.select_for_update().filter(pk=user.pk).first()
        sent_recently = SmsCodeSend.objects.filter(user=user, sent_at__gt=window_start).count()
        if sent_recently >= settings.OTP_SMS_MAX_SENDS:
            limited = True
        else:
            limited = False
            device.generate_token(
                length=settings.OTP_SMS_DIGITS,
                valid_secs=settings.OTP_SMS_VALID_SECONDS,
                commit=False,
            )
            device.wrong_tries = 0
            device.save()
            SmsCodeSend.objects.create(user=user)
            code = device.token or ""
    if limited:
        record_security_event(Action.OTP_SEND_REFUSED, by=by.with_user(user), success=False)
        return SendResult.LIMITED
    try:
        with override(user.language):
            send_sms(device.number, _code_message(code))
    except SmsError as exc:
        record_security_event(
            Action.OTP_SENT, by=by.with_user(user), success=False, detail={"error": str(exc)[:200]}
        )
        return SendResult.FAILED
    record(
        Action.OTP_SENT,
        by=by.with_user(user),
        detail={"to": device.number[-2:], "device": device.name},
    )
    return SendResult.SENT


def verify_sms_code(*, user: User, device: SmsDevice, code: str, by: Actor) -> CodeResult:
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == settings.OTP_SMS_DIGITS):
        result = CodeResult.MALFORMED
    else:
        with transaction.atomic():
            locked = SmsDevice.objects.select_for_update().get(pk=device.pk)
            result = _check(locked, code)
    if result is not CodeResult.OK:
        record_security_event(
            Action.OTP_FAILED,
            by=by.with_user(user),
            success=False,
            detail={"reason": result.value, "method": "sms"},
        )
    return result


def _check(device: SmsDevice, code: str) -> CodeResult:
    if device.token is None:
        if device.wrong_tries >= settings.OTP_SMS_MAX_WRONG_TRIES:
            return CodeResult.TOO_MANY_TRIES
        return CodeResult.USED
    if device.valid_until is None or device.valid_until <= timezone.now():
        return CodeResult.EXPIRED
    if device.verify_token(code):
        return CodeResult.OK
    device.wrong_tries += 1
    if device.wrong_tries >= settings.OTP_SMS_MAX_WRONG_TRIES:
        device.token = None  # burn the code: a new one must be sent
        device.save(update_fields=["wrong_tries", "token"])
        return CodeResult.TOO_MANY_TRIES
    device.save(update_fields=["wrong_tries"])
    return CodeResult.WRONG


def verify_totp_code(*, user: User, device: TOTPDevice, code: str, by: Actor) -> CodeResult:
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == device.digits):
        result = CodeResult.MALFORMED
    else:
        allowed, _info = device.verify_is_allowed()
        if not allowed:
            result = CodeResult.TOO_MANY_TRIES
        elif device.verify_token(code):
            result = CodeResult.OK
        else:
            result = CodeResult.WRONG
    if result is not CodeResult.OK:
        record_security_event(
            Action.OTP_FAILED,
            by=by.with_user(user),
            success=False,
            detail={"reason": result.value, "method": "totp"},
        )
    return result


def start_totp_enrolment(*, user: User) -> TOTPDevice:
    """An unconfirmed device whose secret the user scans; confirmed by a first correct code."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="app", confirmed=False)


def confirm_totp_enrolment(*, user: User, device: TOTPDevice, code: str, by: Actor) -> bool:
    if verify_totp_code(user=user, device=device, code=code, by=by) is not CodeResult.OK:
        return False
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        record(Action.TOTP_ENROLLED, by=by.with_user(user), target=user)
    return True


def remove_totp(*, user: User, by: Actor) -> None:
    with transaction.atomic():
        deleted, _rows = TOTPDevice.objects.filter(user=user).delete()
        if deleted:
            record(Action.TOTP_REMOVED, by=by.with_user(user), target=user)


def pending_mobile_device(user: User) -> SmsDevice | None:
    return SmsDevice.objects.filter(user=user, name="pending", confirmed=False).first()


def start_mobile_change(*, user: User, new_mobile: str, by: Actor) -> SendResult:
    """The user changes their own number: a code goes to the new number first."""
    SmsDevice.objects.filter(user=user, name="pending").delete()
    device = SmsDevice.objects.create(user=user, name="pending", number=new_mobile, confirmed=False)
    return send_code(user=user, device=device, by=by)


def finish_mobile_change(*, user: User, code: str, by: Actor) -> CodeResult:
    device = pending_mobile_device(user)
    if device is None:
        return CodeResult.USED
    result = verify_sms_code(user=user, device=device, code=code, by=by)
    if result is not CodeResult.OK:
        return result
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        old = locked.mobile
        locked.mobile = device.number
        locked.save(update_fields=["mobile", "updated_at"])
        primary = primary_sms_device(locked)
        primary.number = device.number
        primary.save(update_fields=["number"])
        device.delete()
        record(
            Action.MOBILE_CHANGED,
            by=by.with_user(locked),
            target=locked,
            detail={"old_end": old[-2:], "new_end": locked.mobile[-2:], "by_admin": False},
        )
    user.mobile = locked.mobile
    return CodeResult.OK
