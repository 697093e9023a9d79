"""The durable outbox: one export job per referral event and target system."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from telederm.referrals.models import ReferralEvent


class ExportJob(models.Model):
    """Deliver one referral event to one outside system, with retries.

    ``pending`` → ``done``; on each failure ``attempts`` grows and ``next_attempt_at`` moves out
    exponentially; after the limit the job is ``failed`` and waits for the region administrator's
    retry (back to ``pending``). Delivery is idempotent at the receiver (stable DICOM UIDs), so a
    crash between sending and marking done never duplicates anything in the archive.
    """

    class Target(models.TextChoices):
        DICOM = "dicom", _("Image archive (DICOM)")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DONE = "done", _("Delivered")
        FAILED = "failed", _("Failed")

    event = models.ForeignKey(ReferralEvent, on_delete=models.PROTECT, related_name="exports")
    target = models.CharField(max_length=10, choices=Target.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["event", "target"], name="export_job_once")]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.target} {self.event_id} {self.status}"
