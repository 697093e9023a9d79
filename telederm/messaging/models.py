"""Threads on a referral: the clinic ↔ dermatologist thread and the dermatologists' internal
consultation thread, which the clinic never sees."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from telederm.referrals.models import Referral


class Channel(models.TextChoices):
    CLINIC = "clinic", _("Messages with the clinic")
    CONSULTATION = "consultation", _("Consultation (dermatologists only)")


class Message(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="messages")
    # Copies of the referral's clinic and review unit (kept in step when a case moves to another
    # unit): the unread count on every page starts from these indexes instead of from every
    # referral a user may read (docs/performance.md).
    clinic = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    review_unit = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+", null=True
    )
    channel = models.CharField(max_length=12, choices=Channel.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_role = models.CharField(max_length=20)
    body = models.TextField()
    # The browser's key for this message: a double submit stores it once.
    client_key = models.UUIDField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["referral", "channel", "created_at"]),
            models.Index(fields=["clinic", "created_at"]),
            models.Index(fields=["review_unit", "created_at"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["author", "client_key"], name="message_sent_once")
        ]

    def __str__(self) -> str:
        return f"{self.channel} message on {self.referral_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.clinic_id is None:
            self.clinic_id = self.referral.clinic_id
            self.review_unit_id = self.referral.review_unit_id
        super().save(*args, **kwargs)


class ThreadRead(models.Model):
    """How far one user has read one thread (for unread counts)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=12, choices=Channel.choices)
    last_read_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "referral", "channel"], name="thread_read_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.referral_id}/{self.channel}"
