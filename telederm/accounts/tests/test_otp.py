"""One-time codes: each way a code can be refused, the send limit, and the authenticator app."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from telederm.accounts.models import SmsCodeSend, SmsDevice
from telederm.accounts.services.otp import (
    CodeResult,
    SendResult,
    primary_sms_device,
    send_code,
    verify_sms_code,
)
from telederm.accounts.tests.factories import PASSWORD
from telederm.audit.models import Action, AuditEvent
from telederm.audit.services import Actor
from telederm.testing import World, last_code, login, sms_outbox

pytestmark = pytest.mark.django_db
ACTOR = Actor(user=None, ip="127.0.0.1")


def start_login(client: Client, world: World) -> None:
    client.post(reverse("accounts:login"), {"email": world.gp_a.email, "password": PASSWORD})


def submit(client: Client, code: str):
    return client.post(reverse("accounts:code"), {"code": code, "method": "sms"})


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_code_is_six_digits_and_texted_to_the_users_mobile(world: World) -> None:
    device = primary_sms_device(world.gp_a)
    assert send_code(user=world.gp_a, device=device, by=ACTOR) is SendResult.SENT
    code = last_code(world.gp_a.mobile)
    assert len(code) == 6
    assert code.isdigit()
    assert "Telederm" in sms_outbox()[-1]["message"]
    device.refresh_from_db()
    assert device.valid_until is not None
    lifetime = device.valid_until - timezone.now()
    assert timedelta(minutes=4, seconds=50) < lifetime <= timedelta(minutes=5)


def test_wrong_code_is_refused_with_a_message(client: Client, world: World) -> None:
    start_login(client, world)
    response = submit(client, wrong(last_code(world.gp_a.mobile)))
    assert response.status_code == 200
    assert "field__error" in response.content.decode()
    assert client.get(reverse("web:start")).status_code == 302
    assert AuditEvent.objects.filter(
        action=Action.OTP_FAILED, success=False, detail__reason="wrong"
    ).exists()


def test_malformed_code_is_refused(world: World) -> None:
    device = primary_sms_device(world.gp_a)
    send_code(user=world.gp_a, device=device, by=ACTOR)
    assert verify_sms_code(user=world.gp_a, device=device, code="12ab56", by=ACTOR) is (
        CodeResult.MALFORMED
    )


def test_expired_code_is_refused(world: World) -> None:
    device = primary_sms_device(world.gp_a)
    send_code(user=world.gp_a, device=device, by=ACTOR)
    code = last_code(world.gp_a.mobile)
    SmsDevice.objects.filter(pk=device.pk).update(valid_until=timezone.now() - timedelta(seconds=1))
    assert verify_sms_code(user=world.gp_a, device=device, code=code, by=ACTOR) is (
        CodeResult.EXPIRED
    )


def test_code_works_only_once(world: World) -> None:
    device = primary_sms_device(world.gp_a)
    send_code(user=world.gp_a, device=device, by=ACTOR)
    code = last_code(world.gp_a.mobile)
    assert verify_sms_code(user=world.gp_a, device=device, code=code, by=ACTOR) is CodeResult.OK
    assert verify_sms_code(user=world.gp_a, device=device, code=code, by=ACTOR) is CodeResult.USED


def test_fifth_wrong_try_burns_the_code(world: World) -> None:
    device = primary_sms_device(world.gp_a)
    send_code(user=world.gp_a, device=device, by=ACTOR)
    code = last_code(world.gp_a.mobile)
    results = [
        verify_sms_code(user=world.gp_a, device=device, code=wrong(code), by=ACTOR)
        for _ in range(5)
    ]
    assert results == [CodeResult.WRONG] * 4 + [CodeResult.TOO_MANY_TRIES]
    # Even the right code no longer works: a new one must be sent.
    assert verify_sms_code(user=world.gp_a, device=device, code=code, by=ACTOR) is (
        CodeResult.TOO_MANY_TRIES
    )
    send_code(user=world.gp_a, device=device, by=ACTOR)
    fresh = last_code(world.gp_a.mobile)
    assert verify_sms_code(user=world.gp_a, device=device, code=fresh, by=ACTOR) is CodeResult.OK


def test_too_many_tries_message_on_the_page(client: Client, world: World) -> None:
    start_login(client, world)
    code = last_code(world.gp_a.mobile)
    for _ in range(5):
        response = submit(client, wrong(code))
    page = response.content.decode()
    assert ("Too many wrong tries" in page) or ("För många felaktiga försök" in page)
    assert submit(client, code).status_code == 200  # still refused
    assert client.get(reverse("web:start")).status_code == 302


def test_at_most_three_codes_per_ten_minutes(client: Client, world: World) -> None:
    start_login(client, world)  # first code
    client.post(reverse("accounts:resend_code"))  # second
    client.post(reverse("accounts:resend_code"))  # third
    response = client.post(reverse("accounts:resend_code"), follow=True)  # refused
    assert len([s for s in sms_outbox() if s["to"] == world.gp_a.mobile]) == 3
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action=Action.OTP_SEND_REFUSED, success=False).count() == 1
    # The newest code still works.
    assert submit(client, last_code(world.gp_a.mobile)).status_code == 302


def test_send_limit_window_slides(world: World) -> None:
    device = primary_sms_device(world.gp_a)
    for _ in range(3):
        assert send_code(user=world.gp_a, device=device, by=ACTOR) is SendResult.SENT
    assert send_code(user=world.gp_a, device=device, by=ACTOR) is SendResult.LIMITED
    SmsCodeSend.objects.filter(user=world.gp_a).update(
        sent_at=timezone.now() - timedelta(minutes=11)
    )
    assert send_code(user=world.gp_a, device=device, by=ACTOR) is SendResult.SENT


def test_a_new_code_replaces_the_previous_one(world: World) -> None:
    device = primary_sms_device(world.gp_a)
    send_code(user=world.gp_a, device=device, by=ACTOR)
    first = last_code(world.gp_a.mobile)
    send_code(user=world.gp_a, device=device, by=ACTOR)
    second = last_code(world.gp_a.mobile)
    if first != second:
        assert verify_sms_code(user=world.gp_a, device=device, code=first, by=ACTOR) is (
            CodeResult.WRONG
        )
    assert verify_sms_code(user=world.gp_a, device=device, code=second, by=ACTOR) is CodeResult.OK


def test_authenticator_app_enrolment_and_login(client: Client, world: World, settings) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's back-off would make us wait a second
    login(client, world.gp_a)
    page = client.get(reverse("accounts:totp_enrol"))
    assert page.status_code == 200
    assert "data:image/svg+xml;base64," in page.content.decode()
    device = TOTPDevice.objects.get(user=world.gp_a, confirmed=False)

    refused = client.post(reverse("accounts:totp_enrol"), {"code": "000000"})
    assert refused.status_code == 200
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    done = client.post(reverse("accounts:totp_enrol"), {"code": code})
    assert done.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEvent.objects.filter(action=Action.TOTP_ENROLLED, actor_id=world.gp_a.pk).exists()

    client.post(reverse("accounts:logout"))
    client.cookies.clear()
    response = client.post(
        reverse("accounts:login"), {"email": world.gp_a.email, "password": PASSWORD}
    )
    assert response["Location"] == reverse("accounts:code") + "?method=totp"
    # No SMS is sent when the user has an app.
    assert [s for s in sms_outbox() if s["to"] == world.gp_a.mobile] == []
    device.refresh_from_db()
    device.last_t = -1  # allow the same time step again in this fast test
    device.save()
    response = client.post(reverse("accounts:code"), {"code": code, "method": "totp"})
    assert response.status_code == 302
    assert client.get(reverse("web:start")).status_code == 200


def test_user_changes_own_mobile_with_password_and_code_to_new_number(
    client: Client, world: World
) -> None:
    login(client, world.gp_a)
    wrong_password = client.post(
        reverse("accounts:mobile_change"), {"password": "nope nope nope", "mobile": "0701740650"}
    )
    assert wrong_password.status_code == 200
    assert sms_outbox() == []

    response = client.post(
        reverse("accounts:mobile_change"), {"password": PASSWORD, "mobile": "070-174 06 50"}
    )
    assert response["Location"] == reverse("accounts:mobile_confirm")
    world.gp_a.refresh_from_db()
    assert world.gp_a.mobile != "+46701740650"  # not changed until the code is confirmed

    response = client.post(reverse("accounts:mobile_confirm"), {"code": last_code("+46701740650")})
    assert response.status_code == 302
    world.gp_a.refresh_from_db()
    assert world.gp_a.mobile == "+46701740650"
    assert primary_sms_device(world.gp_a).number == "+46701740650"
    assert AuditEvent.objects.filter(action=Action.MOBILE_CHANGED, actor_id=world.gp_a.pk).exists()
