"""The outbox: every referral event becomes one job per target, retried until delivered."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from telederm.audit.models import Action, AuditEvent
from telederm.audit.services import Actor
from telederm.integrations import outbox
from telederm.integrations.models import ExportJob
from telederm.referrals.models import ReferralEvent
from telederm.referrals.tests.helpers import send
from telederm.testing import World

pytestmark = pytest.mark.django_db


class Archive:
    """A stand-in receiver that is down for the first ``down`` deliveries."""

    def __init__(self, down: int = 0) -> None:
        self.down = down
        self.received: list[int] = []

    def __call__(self, job: ExportJob) -> None:
        if self.down > 0:
            self.down -= 1
            raise ConnectionError("archive unreachable")
        self.received.append(job.event_id)


@pytest.fixture
def dicom_on(settings: Any) -> None:
    settings.TELEDERM_DICOM_URL = "http://127.0.0.1:9/dicom-web"


def test_sending_a_referral_writes_an_event_in_the_same_transaction(world: World) -> None:
    referral = send(world)
    assert list(ReferralEvent.objects.values_list("referral_id", "kind")) == [(referral.pk, "sent")]


def test_no_jobs_while_the_archive_is_not_configured(world: World) -> None:
    send(world)
    assert outbox.plan_jobs() == 0
    assert not ExportJob.objects.exists()


def test_one_job_per_event_and_target(world: World, dicom_on: None) -> None:
    send(world)
    send(world)
    assert outbox.plan_jobs() == 2
    assert outbox.plan_jobs() == 0


def test_archive_down_then_up_delivers_everything_exactly_once(
    world: World, dicom_on: None
) -> None:
    send(world)
    send(world)
    outbox.plan_jobs()
    archive = Archive(down=1)
    assert outbox.deliver_due(archive, target="dicom") == (0, 1)
    job = ExportJob.objects.get(attempts=1)
    assert job.status == ExportJob.Status.PENDING
    assert "unreachable" in job.last_error
    assert job.next_attempt_at > timezone.now()
    # Not due yet: nothing is sent.
    assert outbox.deliver_due(archive, target="dicom") == (1, 0)  # the other job was due
    ExportJob.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert outbox.deliver_due(archive, target="dicom") == (1, 0)
    assert sorted(archive.received) == sorted(ReferralEvent.objects.values_list("pk", flat=True))
    assert ExportJob.objects.filter(status=ExportJob.Status.DONE).count() == 2
    assert outbox.deliver_due(archive, target="dicom") == (0, 0)


def test_backoff_grows_and_is_capped() -> None:
    assert [outbox.backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4, 10)] == [1, 2, 4, 8, 60]


def test_job_fails_after_the_limit_and_the_region_admin_retries(
    world: World, dicom_on: None, settings: Any
) -> None:
    settings.TELEDERM_EXPORT_MAX_ATTEMPTS = 2
    send(world)
    outbox.plan_jobs()
    archive = Archive(down=5)
    for _ in range(2):
        ExportJob.objects.update(next_attempt_at=timezone.now())
        outbox.deliver_due(archive, target="dicom")
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.FAILED
    archive.down = 0
    outbox.retry(job=job, by=Actor(user=world.region_admin))
    assert outbox.deliver_due(archive, target="dicom") == (1, 0)
    assert AuditEvent.objects.filter(action=Action.EXPORT_RETRIED).exists()
