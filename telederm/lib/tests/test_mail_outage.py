"""The SMTP server is down while e-mail tasks run: they are retried with back-off, and each
message arrives exactly once when the server is back (real task worker, real SMTP server)."""

from __future__ import annotations

import email
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.policy import default as default_policy
from typing import Any

import pytest
from django.conf import LazySettings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks.base import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from telederm.accounts.models import Role
from telederm.accounts.services.users import PersonData, create_user
from telederm.accounts.tests.factories import ClinicFactory
from telederm.audit.services import Actor
from telederm.lib.mail import retry_delay
from telederm.lib.tests.test_mail_smtp import RecordingHandler, _free_port
from telederm.referrals import services as referrals
from telederm.referrals.models import Referral, ReferralStatus
from telederm.referrals.tests.helpers import complete
from telederm.testing import World, service_missing

pytestmark = pytest.mark.service("smtp")
MAIL_TASK = "telederm.accounts.tasks.send_plain_email_task"
LINK_TASK = "telederm.accounts.tasks.send_link_email_task"
REAL_NOW: Callable[[], datetime] = timezone.now


class RefusingHandler(RecordingHandler):
    """A server that refuses every recipient for good (550)."""

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        return "550 5.1.1 No such mailbox"


@dataclass
class Smtp:
    """An SMTP server at a fixed address that the test stops and starts."""

    port: int
    handler: RecordingHandler
    controller: Any = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self) -> list[Any]:
        return list(self.handler.envelopes)


@pytest.fixture
def smtp(settings: LazySettings, live_db: None) -> Iterator[Smtp]:
    """A real SMTP server, not running at first (connections are refused), and a database
    task queue with real commits, as in production."""
    try:
        import aiosmtpd  # noqa: F401
    except ImportError as exc:  # pragma: no cover - aiosmtpd is a dev dependency
        service_missing("smtp", f"aiosmtpd is not installed ({exc})")
    server = Smtp(port=_free_port(), handler=RecordingHandler())
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    settings.TELEDERM_MAIL_RETRY_SECONDS = 60
    try:
        yield server
    finally:
        server.stop()


def run_worker() -> None:
    """``manage.py db_worker --batch``: run every task that is due, then stop."""
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="outage-test",
        excluded_queue_names=[],
    ).run()


def later(monkeypatch: pytest.MonkeyPatch, delta: timedelta) -> None:
    """Set the clock ``delta`` ahead of real time (for the worker's "is it due?" and the rest)."""
    monkeypatch.setattr(timezone, "now", lambda: REAL_NOW() + delta)


def mail_tasks(path: str = MAIL_TASK) -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=path).order_by("enqueued_at"))


def _body(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=default_policy)
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_referral_notification_waits_out_an_smtp_outage_and_arrives_once(
    smtp: Smtp, world: World, settings: LazySettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    referral = complete(world)
    referrals.update_history(
        referral=referral, data={"suspicion": "melanoma"}, by=Actor(user=world.gp_a)
    )

    # The SMTP server is down: sending the referral is not affected.
    sent = referrals.submit_referral(referral=referral, by=Actor(user=world.gp_a))
    assert Referral.objects.get(pk=sent.pk).status == ReferralStatus.SENT
    run_worker()

    # The e-mail task failed (connection refused) and queued its next attempt a minute later.
    (failed, retry) = mail_tasks()
    assert failed.status == TaskResultStatus.FAILED
    assert failed.exception_class_path == "telederm.lib.mail.MailDeferred"
    assert "ConnectionRefusedError" in failed.traceback
    assert retry.status == TaskResultStatus.READY
    assert retry.args_kwargs["args"][0] == [world.derm_x.email]
    assert retry.args_kwargs["kwargs"] == {"attempt": 2}
    wait = retry.run_after - failed.finished_at
    assert timedelta(seconds=59) < wait < timedelta(seconds=61)

    # Back-off: before the minute is up, a worker leaves it alone, even with the server back.
    smtp.start()
    run_worker()
    assert smtp.received == []
    assert len(mail_tasks()) == 2

    later(monkeypatch, timedelta(seconds=61))
    run_worker()
    run_worker()  # a second worker pass finds nothing more to send

    assert [envelope.rcpt_tos for envelope in smtp.received] == [[world.derm_x.email]]
    message = email.message_from_bytes(smtp.received[0].content, policy=default_policy)
    assert message["To"] == world.derm_x.email
    with translation.override(world.derm_x.language):  # (a long subject is folded: strip)
        assert message["Subject"].strip() == _(
            "A referral with suspected malignancy has arrived in Telederm"
        )
    body = _body(smtp.received[0].content)
    assert settings.TELEDERM_BASE_URL + reverse("web:start") in body
    assert referral.patient is not None
    assert referral.patient.personal_number not in body  # a link only, never the patient
    assert [task.status for task in mail_tasks()] == [
        TaskResultStatus.FAILED,
        TaskResultStatus.SUCCESSFUL,
    ]
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.READY).exists()


def test_activation_email_is_retried_with_growing_waits_and_delivered_once(
    smtp: Smtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic = ClinicFactory.create(name="Vårdcentral Avbrott")
    user = create_user(
        organisation=clinic,
        role=Role.GP,
        person=PersonData(
            first_name="Sigrid",
            last_name="Stormsson",
            email="sigrid.stormsson@example.se",
            hsa_id="SE2321000016-STRM1",
            mobile="070-174 06 51",
            title="Distriktsläkare",
        ),
        by=Actor.system(),
        check_permission=False,
    )
    run_worker()
    later(monkeypatch, retry_delay(1) + timedelta(seconds=1))
    run_worker()  # second attempt, still down

    first, second, third = mail_tasks(LINK_TASK)
    assert [first.status, second.status, third.status] == [
        TaskResultStatus.FAILED,
        TaskResultStatus.FAILED,
        TaskResultStatus.READY,
    ]
    assert third.args_kwargs["kwargs"] == {"attempt": 3}
    assert retry_delay(2) == timedelta(minutes=2)
    assert third.run_after - second.finished_at >= timedelta(minutes=2) - timedelta(seconds=1)

    smtp.start()
    later(monkeypatch, retry_delay(1) + retry_delay(2) + timedelta(seconds=2))
    run_worker()
    run_worker()

    assert len(smtp.received) == 1
    assert smtp.received[0].rcpt_tos == [user.email]
    assert re.search(r"https?://[^/\s]+/activate/[^\s/]+/", _body(smtp.received[0].content))
    assert mail_tasks(LINK_TASK)[-1].status == TaskResultStatus.SUCCESSFUL


def test_after_the_last_attempt_the_message_stays_in_the_task_table(
    smtp: Smtp, settings: LazySettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from telederm.accounts.tasks import send_plain_email_task

    settings.TELEDERM_MAIL_MAX_ATTEMPTS = 2
    send_plain_email_task.enqueue(["nora@example.se"], "Ämne", "Text")
    run_worker()
    later(monkeypatch, timedelta(hours=1))
    run_worker()
    later(monkeypatch, timedelta(hours=2))
    run_worker()

    first, last = mail_tasks()
    assert first.exception_class_path == "telederm.lib.mail.MailDeferred"
    assert last.exception_class_path == "builtins.ConnectionRefusedError"
    assert last.status == TaskResultStatus.FAILED
    # What was to be sent is kept, so it can be found and sent again by hand.
    assert last.args_kwargs == {
        "args": [["nora@example.se"], "Ämne", "Text"],
        "kwargs": {"attempt": 2},
    }


def test_a_permanent_refusal_is_not_retried(smtp: Smtp) -> None:
    from telederm.accounts.tasks import send_plain_email_task

    smtp.handler = RefusingHandler()
    smtp.start()
    send_plain_email_task.enqueue(["gone@example.se"], "Ämne", "Text")
    run_worker()

    (only,) = mail_tasks()
    assert only.status == TaskResultStatus.FAILED
    assert only.exception_class_path == "smtplib.SMTPRecipientsRefused"
    assert smtp.received == []
