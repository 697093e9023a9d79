"""Activation and password-reset links: once, within 24 hours, and only the real token."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from telederm.accounts.models import OneTimeLink, Role, User
from telederm.accounts.services.users import PersonData, create_user
from telederm.accounts.tests.factories import PASSWORD
from telederm.audit.models import Action, AuditEvent
from telederm.audit.services import Actor
from telederm.testing import World, last_code

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "blåbärssylt på fredag"


def link_path(message: mail.EmailMessage) -> str:
    match = re.search(r"https?://[^/\s]+(/(?:activate|password-reset)/[^\s]+/)", str(message.body))
    assert match, message.body
    return match.group(1)


@pytest.fixture
def new_user(world: World, django_capture_on_commit_callbacks) -> User:
    with django_capture_on_commit_callbacks(execute=True):
        return create_user(
            organisation=world.clinic_a,
            role=Role.GP,
            person=PersonData(
                first_name="Nora",
                last_name="Nyberg",
                email="nora@example.se",
                hsa_id="SE2321000016-NORA1",
                mobile="0701740660",
                title="Distriktsläkare",
            ),
            by=Actor(user=world.admin_a),
            acting_role=Role.CENTER_ADMIN,
        )


def set_password(client: Client, path: str, password: str = NEW_PASSWORD):
    return client.post(path, {"password1": password, "password2": password})


def test_activation_link_works_once(client: Client, new_user: User) -> None:
    assert len(mail.outbox) == 1
    path = link_path(mail.outbox[0])
    assert client.get(path).status_code == 200

    response = set_password(client, path)
    assert response.status_code == 302
    new_user.refresh_from_db()
    assert new_user.activated_at is not None
    assert new_user.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(action=Action.ACTIVATED, actor_id=new_user.pk).exists()

    second = client.get(path)
    assert second.status_code == 410
    again = set_password(client, path, "ett helt annat lösenord")
    assert again.status_code == 410
    new_user.refresh_from_db()
    assert new_user.check_password(NEW_PASSWORD)


def test_activated_user_logs_in_with_new_password_and_code(client: Client, new_user: User) -> None:
    set_password(client, link_path(mail.outbox[0]))
    client.post(reverse("accounts:login"), {"email": new_user.email, "password": NEW_PASSWORD})
    response = client.post(
        reverse("accounts:code"), {"code": last_code(new_user.mobile), "method": "sms"}
    )
    assert response.status_code == 302
    assert client.get(reverse("web:start")).status_code == 200


def test_expired_activation_link_is_refused(client: Client, new_user: User) -> None:
    path = link_path(mail.outbox[0])
    OneTimeLink.objects.filter(user=new_user).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = client.get(path)
    assert response.status_code == 410
    assert set_password(client, path).status_code == 410
    new_user.refresh_from_db()
    assert new_user.activated_at is None
    assert AuditEvent.objects.filter(action=Action.LINK_REFUSED, detail__state="expired").exists()


def test_link_expires_within_24_hours(new_user: User) -> None:
    link = OneTimeLink.objects.get(user=new_user)
    assert link.expires_at - link.created_at <= timedelta(hours=24)


@pytest.mark.parametrize("tamper", ["flip_last", "truncate", "append", "other"])
def test_tampered_activation_token_is_refused(client: Client, new_user: User, tamper: str) -> None:
    path = link_path(mail.outbox[0])
    token = path.rstrip("/").rsplit("/", 1)[1]
    bad = {
        "flip_last": token[:-1] + ("A" if token[-1] != "A" else "B"),
        "truncate": token[:-3],
        "append": token + "x",
        "other": "x" * len(token),
    }[tamper]
    response = client.get(reverse("accounts:activate", kwargs={"token": bad}))
    assert response.status_code == 404
    assert (
        set_password(client, reverse("accounts:activate", kwargs={"token": bad})).status_code == 404
    )
    new_user.refresh_from_db()
    assert new_user.activated_at is None


def test_database_holds_only_a_digest_of_the_token(new_user: User) -> None:
    token = link_path(mail.outbox[0]).rstrip("/").rsplit("/", 1)[1]
    link = OneTimeLink.objects.get(user=new_user)
    assert token not in link.token_digest
    assert token not in link.salt


def test_weak_password_is_refused_with_reasons(client: Client, new_user: User) -> None:
    path = link_path(mail.outbox[0])
    response = set_password(client, path, "short")
    assert response.status_code == 200
    assert "field__error" in response.content.decode()
    response = set_password(client, path, "password1234")  # long but common
    assert response.status_code == 200
    new_user.refresh_from_db()
    assert new_user.activated_at is None


def test_password_reset_sends_a_link_and_still_needs_the_code(
    client: Client, world: World, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:reset_request"), {"email": world.gp_a.email})
    assert response.status_code == 200
    assert len(mail.outbox) == 1
    path = link_path(mail.outbox[0])
    assert "/password-reset/" in path
    assert set_password(client, path).status_code == 302
    world.gp_a.refresh_from_db()
    assert world.gp_a.check_password(NEW_PASSWORD)
    assert not world.gp_a.check_password(PASSWORD)

    response = client.post(
        reverse("accounts:login"), {"email": world.gp_a.email, "password": NEW_PASSWORD}
    )
    assert response["Location"] == reverse("accounts:code")
    assert client.get(reverse("web:start")).status_code == 302
    assert set_password(client, path, "tredje lösenordet här").status_code == 410


def test_password_reset_does_not_reveal_whether_an_account_exists(
    client: Client, world: World, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(reverse("accounts:reset_request"), {"email": world.gp_a.email})
        unknown = client.post(reverse("accounts:reset_request"), {"email": "nobody@example.se"})
    assert known.status_code == unknown.status_code == 200

    def without_tokens(html: str) -> str:
        # CSRF tokens are masked differently in every response; everything else must match.
        return re.sub(r'(csrfmiddlewaretoken" value=|X-CSRFToken": )"[^"]+"', "", html)

    assert without_tokens(known.content.decode()) == without_tokens(unknown.content.decode())
    assert [m.to for m in mail.outbox] == [[world.gp_a.email]]


def test_password_reset_ends_other_sessions(
    client: Client, world: World, django_capture_on_commit_callbacks
) -> None:
    from telederm.testing import login

    other = Client()
    login(other, world.gp_a)
    assert other.get(reverse("web:start")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:reset_request"), {"email": world.gp_a.email})
    set_password(client, link_path(mail.outbox[0]))
    assert other.get(reverse("web:start")).status_code == 302


def test_a_newer_activation_link_supersedes_the_older(
    client: Client, world: World, new_user: User, django_capture_on_commit_callbacks
) -> None:
    from telederm.accounts.services.users import resend_activation

    old_path = link_path(mail.outbox[0])
    with django_capture_on_commit_callbacks(execute=True):
        resend_activation(user=new_user, organisation=world.clinic_a, by=Actor(user=world.admin_a))
    new_path = link_path(mail.outbox[1])
    assert old_path != new_path
    assert client.get(old_path).status_code == 410
    assert client.get(new_path).status_code == 200
