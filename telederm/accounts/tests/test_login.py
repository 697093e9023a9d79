"""The two-step login through the real views: password, then a code read from the SMS file."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse

from telederm.accounts import trust
from telederm.accounts.middleware import LOGIN_AT
from telederm.accounts.models import Role, User
from telederm.accounts.services.users import deactivate_in
from telederm.accounts.tests.factories import PASSWORD
from telederm.audit.models import Action, AuditEvent
from telederm.audit.services import Actor
from telederm.testing import World, last_code, login, sms_outbox

pytestmark = pytest.mark.django_db


def password_step(client: Client, user: User, password: str = PASSWORD):
    return client.post(reverse("accounts:login"), {"email": user.email, "password": password})


def code_step(client: Client, code: str, remember: bool = False):
    data = {"code": code, "method": "sms"}
    if remember:
        data["remember"] = "on"
    return client.post(reverse("accounts:code"), data)


def test_gp_logs_in_with_password_and_sms_code(client: Client, world: World) -> None:
    response = password_step(client, world.gp_a)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:code")
    # Not logged in yet: the start page still sends us to login.
    assert client.get(reverse("web:start")).status_code == 302

    response = code_step(client, last_code(world.gp_a.mobile))
    assert response.status_code == 302
    assert response["Location"] == reverse("web:start")
    page = client.get(reverse("web:start"))
    assert page.status_code == 200
    assert world.gp_a.first_name in page.content.decode()
    assert AuditEvent.objects.filter(
        action=Action.LOGIN_SUCCEEDED, actor_id=world.gp_a.pk, detail__method="sms"
    ).exists()


def test_email_is_case_insensitive_at_login(client: Client, world: World) -> None:
    response = client.post(
        reverse("accounts:login"), {"email": world.gp_a.email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:code")


def test_wrong_password_gives_the_same_message_as_unknown_account(
    client: Client, world: World
) -> None:
    wrong = password_step(client, world.gp_a, password="not the password at all")
    unknown = client.post(
        reverse("accounts:login"), {"email": "nobody@example.se", "password": "whatever12345"}
    )
    assert wrong.status_code == unknown.status_code == 200
    message = "E-postadressen eller lösenordet är fel"
    english = "The e-mail address or the password is wrong."
    assert (message in wrong.content.decode()) or (english in wrong.content.decode())
    assert wrong.content.decode().count("alert--error") == unknown.content.decode().count(
        "alert--error"
    )
    failures = AuditEvent.objects.filter(action=Action.LOGIN_FAILED, success=False)
    assert set(failures.values_list("actor_email", flat=True)) == {
        world.gp_a.email,
        "nobody@example.se",
    }
    assert sms_outbox() == []


def test_lockout_after_five_failures_looks_the_same_for_unknown_accounts(
    client: Client, world: World
) -> None:
    for _ in range(5):
        password_step(client, world.gp_a, password="wrong password 123")
        client.post(
            reverse("accounts:login"), {"email": "ghost@example.se", "password": "wrong 12345678"}
        )
    locked_real = password_step(client, world.gp_a)  # even the right password is refused now
    locked_ghost = client.post(
        reverse("accounts:login"), {"email": "ghost@example.se", "password": "wrong 12345678"}
    )
    assert locked_real.status_code == locked_ghost.status_code == 429
    assert sms_outbox() == []
    assert AuditEvent.objects.filter(action=Action.LOGIN_LOCKED_OUT).count() >= 2


def test_trusted_device_skips_the_code_for_a_gp(client: Client, world: World) -> None:
    password_step(client, world.gp_a)
    response = code_step(client, last_code(world.gp_a.mobile), remember=True)
    assert trust.COOKIE in response.cookies
    client.post(reverse("accounts:logout"))
    sent_before = len(sms_outbox())

    response = password_step(client, world.gp_a)
    assert response.status_code == 302
    assert response["Location"] == reverse("web:start")
    assert len(sms_outbox()) == sent_before
    assert client.get(reverse("web:start")).status_code == 200


def test_trusted_device_cookie_dies_when_sessions_are_ended(client: Client, world: World) -> None:
    password_step(client, world.gp_a)
    code_step(client, last_code(world.gp_a.mobile), remember=True)
    client.post(reverse("accounts:logout"))
    User.objects.filter(pk=world.gp_a.pk).update(session_epoch=99)

    response = password_step(client, world.gp_a)
    assert response["Location"] == reverse("accounts:code")


def test_administrators_are_never_trusted(client: Client, world: World) -> None:
    password_step(client, world.admin_a)
    response = code_step(client, last_code(world.admin_a.mobile), remember=True)
    assert trust.COOKIE not in response.cookies
    client.post(reverse("accounts:logout"))
    response = password_step(client, world.admin_a)
    assert response["Location"] == reverse("accounts:code")


def test_next_parameter_is_followed_only_within_the_site(client: Client, world: World) -> None:
    client.post(
        reverse("accounts:login") + "?next=https://evil.example/steal",
        {"email": world.gp_a.email, "password": PASSWORD},
    )
    response = code_step(client, last_code(world.gp_a.mobile))
    assert response["Location"] == reverse("web:start")

    client.post(reverse("accounts:logout"))
    client.post(
        reverse("accounts:login") + "?next=/account/",
        {"email": world.gp_a.email, "password": PASSWORD},
    )
    response = code_step(client, last_code(world.gp_a.mobile))
    assert response["Location"] == "/account/"


def test_code_page_without_password_step_sends_back_to_login(client: Client) -> None:
    response = client.get(reverse("accounts:code"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")


def test_session_ends_twelve_hours_after_login(client: Client, world: World) -> None:
    login(client, world.gp_a)
    session = client.session
    session[LOGIN_AT] = time.time() - 12 * 3600 - 5
    session.save()
    response = client.get(reverse("web:start"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert AuditEvent.objects.filter(action=Action.SESSION_EXPIRED, actor_id=world.gp_a.pk).exists()


def test_idle_timeout_is_thirty_minutes_and_renewed_on_each_request(settings) -> None:
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


def test_deactivated_users_existing_session_is_dead_on_next_request(
    client: Client, world: World
) -> None:
    login(client, world.gp_a)
    assert client.get(reverse("web:start")).status_code == 200
    deactivate_in(
        user=world.gp_a,
        organisation=world.clinic_a,
        by=Actor(user=world.admin_a),
        acting_role=Role.CENTER_ADMIN,
    )
    response = client.get(reverse("web:start"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_password_alone_without_code_gives_no_access(client: Client, world: World) -> None:
    password_step(client, world.gp_a)
    for name in ("web:start", "accounts:profile"):
        assert client.get(reverse(name)).status_code == 302


def test_logout_is_audited_and_ends_the_session(client: Client, world: World) -> None:
    login(client, world.gp_a)
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("web:start")).status_code == 302
    assert AuditEvent.objects.filter(action=Action.LOGOUT, actor_id=world.gp_a.pk).exists()
