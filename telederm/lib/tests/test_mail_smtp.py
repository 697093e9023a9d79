"""E-mail leaves Telederm through a real SMTP conversation, and the demo backend keeps files."""

from __future__ import annotations

import email
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage as ParsedMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings
from django.core.mail import EmailMessage, get_connection
from django.test import Client

from telederm.accounts.models import Role
from telederm.accounts.services.users import PersonData, create_user
from telederm.accounts.tests.factories import ClinicFactory
from telederm.audit.services import Actor
from telederm.testing import service_missing

ACTIVATION_PATH = re.compile(r"https?://[^/\s]+(/activate/[^\s/]+/)")


@dataclass
class RecordingHandler:
    """An aiosmtpd handler that accepts every message and keeps its envelope."""

    envelopes: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server(settings: LazySettings) -> Iterator[RecordingHandler]:
    try:
        from aiosmtpd.controller import Controller
    except ImportError as exc:  # pragma: no cover - aiosmtpd is a dev dependency
        service_missing("smtp", f"aiosmtpd is not installed ({exc})")
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    try:
        controller.start()
    except Exception as exc:  # whatever stops the server means "no SMTP here"
        service_missing("smtp", f"aiosmtpd could not start on 127.0.0.1: {exc!r}")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = controller.hostname
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    try:
        yield handler
    finally:
        controller.stop()


def _parse(raw: bytes) -> ParsedMessage:
    message = email.message_from_bytes(raw, policy=default_policy)
    assert isinstance(message, ParsedMessage)
    return message


@pytest.mark.service("smtp")
@pytest.mark.django_db
def test_new_user_receives_activation_link_over_smtp_and_it_opens_the_password_page(
    smtp_server: RecordingHandler, client: Client, django_capture_on_commit_callbacks
) -> None:
    clinic = ClinicFactory.create(name="Vårdcentral Smtp")
    with django_capture_on_commit_callbacks(execute=True):
        user = create_user(
            organisation=clinic,
            role=Role.GP,
            person=PersonData(
                first_name="Sigrid",
                last_name="Smtpsson",
                email="Sigrid.Smtpsson@Example.se",
                hsa_id="SE2321000016-SMTP1",
                mobile="070-174 06 50",
                title="Distriktsläkare",
            ),
            by=Actor.system(),
            check_permission=False,
        )

    assert len(smtp_server.envelopes) == 1
    envelope = smtp_server.envelopes[0]
    assert envelope.rcpt_tos == ["sigrid.smtpsson@example.se"] == [user.email]
    assert envelope.mail_from == "no-reply@telederm.invalid"

    message = _parse(envelope.content)
    assert message["To"] == user.email
    assert message["Subject"]
    body_part = message.get_body(preferencelist=("plain",))
    assert body_part is not None
    body = body_part.get_content()
    assert "Sigrid" in body
    match = ACTIVATION_PATH.search(body)
    assert match, body

    page = client.get(match.group(1))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="password1"' in html
    assert 'name="password2"' in html
    assert user.email in html


def test_demo_backend_writes_each_message_as_an_eml_file(
    settings: LazySettings, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.EMAIL_BACKEND = "telederm.lib.mail.ConsoleFileEmailBackend"
    folder = Path(settings.EMAIL_FILE_PATH)
    assert not folder.exists() or not any(folder.iterdir())

    sent = EmailMessage(
        subject="Välkommen till Telederm",
        body="Öppna länken: https://telederm.example.se/activate/abc/\n",
        to=["nora@example.se"],
    ).send()

    assert sent == 1
    files = sorted(folder.glob("*.eml"))
    assert len(files) == 1
    stored = _parse(files[0].read_bytes())
    assert stored["To"] == "nora@example.se"
    assert stored["Subject"] == "Välkommen till Telederm"
    body_part = stored.get_body(preferencelist=("plain",))
    assert body_part is not None
    assert "https://telederm.example.se/activate/abc/" in body_part.get_content()
    printed = capsys.readouterr().out
    assert "to=nora@example.se" in printed
    assert str(files[0]) in printed


def test_demo_backend_keeps_one_file_per_message(settings: LazySettings) -> None:
    settings.EMAIL_BACKEND = "telederm.lib.mail.ConsoleFileEmailBackend"
    messages = [
        EmailMessage(subject=f"Meddelande {n}", body="Hej", to=[f"user{n}@example.se"])
        for n in range(3)
    ]
    assert get_connection().send_messages(messages) == 3
    recipients = sorted(
        _parse(path.read_bytes())["To"] for path in Path(settings.EMAIL_FILE_PATH).glob("*.eml")
    )
    assert recipients == ["user0@example.se", "user1@example.se", "user2@example.se"]
