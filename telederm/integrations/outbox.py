"""Turn referral events into export jobs and deliver the due ones (called by periodic tasks)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from telederm.audit.models import Action
from telederm.audit.services import Actor, record
from telederm.integrations.models import ExportJob
from telederm.referrals.models import ReferralEvent

logger = logging.getLogger(__name__)
BATCH = 20


def enabled_targets() -> list[str]:
    return [ExportJob.Target.DICOM] if settings.TELEDERM_DICOM_URL else []


def plan_jobs() -> int:
    """Create the missing jobs for events that happened since the targets were switched on."""
    created = 0
    for target in enabled_targets():
        events = ReferralEvent.objects.exclude(exports__target=target).order_by("pk")[:500]
        for event in events:
            _job, new = ExportJob.objects.get_or_create(event=event, target=target)
            created += new
    return created


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes, at most an hour between tries."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def deliver_due(send: Callable[[ExportJob], None], *, target: str) -> tuple[int, int]:
    """Send the due jobs of one target; returns (delivered, failed attempts).

    Each job is locked while it is sent (``skip_locked``), so several workers can share the
    outbox without sending one job twice at the same moment.
    """
    delivered = failed = 0
    for _ in range(BATCH):
        with transaction.atomic():
            job = (
                ExportJob.objects.select_for_update(skip_locked=True)
                .select_related("event__referral")
                .filter(
                    target=target,
                    status=ExportJob.Status.PENDING,
                    next_attempt_at__lte=timezone.now(),
                )
                .order_by("next_attempt_at", "pk")
                .first()
            )
            if job is None:
                break
            try:
                send(job)
            except Exception as exc:
                job.attempts += 1
                job.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                if job.attempts >= settings.TELEDERM_EXPORT_MAX_ATTEMPTS:
                    job.status = ExportJob.Status.FAILED
                job.next_attempt_at = timezone.now() + backoff(job.attempts)
                job.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
                logger.warning("export %s failed (%s): %s", job.pk, job.attempts, job.last_error)
                failed += 1
                # One failure usually means the archive is down: try the rest later.
                break
            job.status = ExportJob.Status.DONE
            job.done_at = timezone.now()
            job.attempts += 1
            job.last_error = ""
            job.save(update_fields=["status", "done_at", "attempts", "last_error"])
            delivered += 1
    return delivered, failed


def retry(*, job: ExportJob, by: Actor) -> ExportJob:
    """The region administrator sends a failed job again."""
    with transaction.atomic():
        ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.FAILED).update(
            status=ExportJob.Status.PENDING, next_attempt_at=timezone.now(), attempts=0
        )
        record(Action.EXPORT_RETRIED, by=by, target=job.event.referral, detail={"job": job.pk})
    job.refresh_from_db()
    return job
