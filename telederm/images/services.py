"""Storing uploaded photos: validate and clean them (``processing.ingest``), then write the
original and its derivatives once, with the audit event, in one transaction.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from telederm.audit.models import Action
from telederm.audit.services import Actor
from telederm.images.models import ImageKind, LesionImage
from telederm.images.processing import ImageRejected, IngestResult, Limits, Thresholds, ingest
from telederm.referrals import access
from telederm.referrals.audit import audit_referral
from telederm.referrals.models import Referral, ReferralLesion, ReferralStatus

logger = logging.getLogger(__name__)


def limits() -> Limits:
    return Limits(
        max_bytes=settings.TELEDERM_IMAGE_MAX_BYTES, max_pixels=settings.TELEDERM_IMAGE_MAX_PIXELS
    )


def thresholds() -> Thresholds:
    return Thresholds(**settings.TELEDERM_QUALITY_THRESHOLDS)


def _audit(event: Action, referral: Referral, by: Actor, /, **detail: Any) -> None:
    audit_referral(event, referral, by=by, **detail)


def _check_editable(link: ReferralLesion, by: Actor) -> Referral:
    referral = link.referral
    if by.user is None or not access.can_add_images(by.user, referral):
        raise PermissionDenied
    return referral


def _check_removable(image: LesionImage, by: Actor) -> Referral:
    """In a draft any photo may go; during a complement only the photos added for it."""
    referral = _check_editable(image.referral_lesion, by)
    if referral.status != ReferralStatus.DRAFT:
        asked = referral.complements.filter(replied_at__isnull=True).order_by("-asked_at").first()
        if asked is None or image.created_at < asked.asked_at:
            raise PermissionDenied
    return referral


def add_image(
    *, link: ReferralLesion, kind: str, raw: bytes, upload_id: UUID, by: Actor
) -> tuple[LesionImage, bool]:
    """Store one photo; returns (image, created). A repeated ``upload_id`` returns the first."""
    referral = _check_editable(link, by)
    if kind not in ImageKind.values:
        raise ValidationError(_("Say whether this is an overview or a dermoscopic photo."))
    existing = LesionImage.objects.filter(referral_lesion=link, upload_id=upload_id).first()
    if existing is not None:
        return existing, False
    try:
        result = ingest(raw, kind=kind, limits=limits(), thresholds=thresholds())
    except ImageRejected as exc:
        _audit(Action.IMAGE_REJECTED, referral, by, code=exc.code, bytes=len(raw))
        raise ValidationError(str(exc.message), code=exc.code) from exc
    image = _new_image(link, kind, upload_id, result, by)
    try:
        with transaction.atomic():
            image.save()
            _audit(
                Action.IMAGE_UPLOADED,
                referral,
                by,
                image=str(image.public_id),
                kind=kind,
                sha256=result.sha256,
                warnings=list(result.quality.warnings),
            )
    except IntegrityError:
        # Two requests with the same upload_id raced; the other one stored the image.
        delete_files(image)
        return LesionImage.objects.get(referral_lesion=link, upload_id=upload_id), False
    except Exception:
        delete_files(image)
        raise
    return image, True


def _new_image(
    link: ReferralLesion, kind: str, upload_id: UUID, result: IngestResult, by: Actor
) -> LesionImage:
    assert by.user is not None
    quality = result.quality
    image = LesionImage(
        referral_lesion=link,
        kind=kind,
        upload_id=upload_id,
        mime_type=result.mime_type,
        extension=result.extension,
        size_bytes=len(result.data),
        sha256=result.sha256,
        width=result.width,
        height=result.height,
        orientation=result.orientation,
        captured_at=result.captured_at,
        device_model=result.device_model[:120],
        metrics={
            "sharpness": round(quality.sharpness, 2),
            "clipped_highlights": round(quality.clipped_highlights, 4),
            "clipped_shadows": round(quality.clipped_shadows, 4),
            "mean_brightness": round(quality.mean_brightness, 1),
            "megapixels": round(quality.megapixels, 2),
            "dermoscopic_field": quality.dermoscopic_field,
        },
        warnings=list(quality.warnings),
        uploaded_by=by.user,
    )
    # The files are written before the row; on failure they are deleted again.
    image.original.save(f"original.{result.extension}", ContentFile(result.data), save=False)
    image.thumbnail.save(
        f"{image.public_id.hex}-thumb.jpg", ContentFile(result.thumbnail_jpeg), save=False
    )
    image.screen.save(
        f"{image.public_id.hex}-screen.jpg", ContentFile(result.screen_jpeg), save=False
    )
    return image


def delete_files(image: LesionImage) -> None:
    """Remove a photo's three files (its row was never committed or is gone)."""
    for field in (image.original, image.thumbnail, image.screen):
        if field.name:
            try:
                field.storage.delete(field.name)
            except OSError:
                logger.warning("could not delete %s", field.name)


def accept_warnings(*, image: LesionImage, by: Actor) -> LesionImage:
    referral = _check_removable(image, by)
    with transaction.atomic():
        LesionImage.objects.filter(pk=image.pk).update(warnings_accepted=True)
        image.warnings_accepted = True
        _audit(Action.IMAGE_WARNINGS_ACCEPTED, referral, by, image=str(image.public_id))
    return image


def remove_image(*, image: LesionImage, by: Actor) -> None:
    """A retaken photo replaces a bad one; the removed one stays on file but leaves the referral."""
    referral = _check_removable(image, by)
    with transaction.atomic():
        LesionImage.objects.filter(pk=image.pk, removed_at__isnull=True).update(
            removed_at=timezone.now()
        )
        _audit(Action.IMAGE_REMOVED, referral, by, image=str(image.public_id))


def record_image_view(*, image: LesionImage, referral: Referral, variant: str, by: Actor) -> None:
    audit_referral(
        Action.IMAGE_VIEWED,
        referral,
        by=by,
        role=None,
        image=str(image.public_id),
        variant=variant,
    )
