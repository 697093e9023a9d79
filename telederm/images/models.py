"""LesionImage: an immutable original (metadata stripped), its derivatives and quality metrics."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from telederm.referrals.models import ReferralLesion

# Short names of the quality warnings, for places where the full advice does not fit.
WARNING_LABELS = {
    "blurry": _("Blurred"),
    "overexposed": _("Overexposed"),
    "underexposed": _("Underexposed"),
    "low_resolution": _("Low resolution"),
    "no_dermoscopic_field": _("No dermatoscope field"),
}


class ImageKind(models.TextChoices):
    OVERVIEW = "overview", _("Overview photo")
    DERMOSCOPIC = "dermoscopic", _("Dermoscopic photo")


def _original_path(instance: LesionImage, filename: str) -> str:
    return f"originals/{instance.public_id.hex[:2]}/{instance.public_id.hex}.{instance.extension}"


def _derivative_path(instance: LesionImage, filename: str) -> str:
    return f"derivatives/{instance.public_id.hex[:2]}/{filename}"


class LesionImage(models.Model):
    """One photo of one lesion in one referral.

    The original file is written once at ingest and never changed. ``upload_id`` is chosen by
    the browser for each file, so a retried upload returns the image already stored instead of
    storing it twice. Files live in private storage and are served only after the access check.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    referral_lesion = models.ForeignKey(
        ReferralLesion, on_delete=models.CASCADE, related_name="images"
    )
    kind = models.CharField(max_length=12, choices=ImageKind.choices)
    upload_id = models.UUIDField()
    original = models.FileField(upload_to=_original_path, max_length=200)
    thumbnail = models.FileField(upload_to=_derivative_path, max_length=200)
    screen = models.FileField(upload_to=_derivative_path, max_length=200)
    mime_type = models.CharField(max_length=40)
    extension = models.CharField(max_length=5)
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    orientation = models.PositiveSmallIntegerField(default=1)
    captured_at = models.DateTimeField(null=True, blank=True)
    device_model = models.CharField(max_length=120, blank=True)
    metrics = models.JSONField(default=dict)
    warnings = models.JSONField(default=list)
    warnings_accepted = models.BooleanField(default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["referral_lesion", "upload_id"], name="lesion_image_upload_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.public_id}"

    @property
    def needs_attention(self) -> bool:
        return bool(self.warnings) and not self.warnings_accepted


class ChunkedUpload(models.Model):
    """A photo that arrives in pieces (``images.chunks``), possibly through several app servers.

    The row is the one place every server agrees on: the pieces' bytes are in the default
    storage (local files or the object store), the list of pieces received is in
    ``UploadChunk``, and the server that completes the set locks this row, so the photo is
    stored once. ``image`` is set when it was; ``error`` when the whole file was refused.
    Unfinished uploads are swept a day after they started (``cleanup.remove_stale_uploads``).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    referral_lesion = models.ForeignKey(
        ReferralLesion, on_delete=models.CASCADE, related_name="chunked_uploads"
    )
    upload_id = models.UUIDField()
    kind = models.CharField(max_length=12, choices=ImageKind.choices)
    total_bytes = models.PositiveIntegerField()
    chunk_bytes = models.PositiveIntegerField()
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    image = models.ForeignKey(
        LesionImage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["referral_lesion", "upload_id"], name="chunked_upload_once"
            )
        ]

    def __str__(self) -> str:
        return f"upload {self.upload_id} ({self.total_bytes} bytes)"

    @property
    def chunk_count(self) -> int:
        return -(-self.total_bytes // self.chunk_bytes)


class UploadChunk(models.Model):
    """One received piece: where its bytes are stored, and their size and SHA-256 (a repeated
    piece must be the same bytes)."""

    upload = models.ForeignKey(ChunkedUpload, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveSmallIntegerField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["index"]
        constraints = [
            models.UniqueConstraint(fields=["upload", "index"], name="upload_chunk_once")
        ]

    def __str__(self) -> str:
        return f"chunk {self.index} of {self.upload_id}"
