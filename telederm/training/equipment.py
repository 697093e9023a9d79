"""The clinic's equipment register and the equipment test.

The test photo goes through the same ingest as a referral photo (``images.processing``) and is
judged against the same quality thresholds (``settings.TELEDERM_QUALITY_THRESHOLDS``):

* **resolution**: the camera must deliver what every kind of referral photo needs, i.e. at
  least the larger of the overview and dermoscopic megapixel minimums;
* **focus**: sharpness (variance of the Laplacian, inside the dermatoscope's field when there
  is one) at least ``min_sharpness``; judged at every size, unlike in a referral, since a test
  photo too small to judge fails on resolution anyway;
* **exposure**: neither over- nor under-exposed by the referral rules (clipped highlights and
  shadows, mean brightness).

Whether the photo shows a dermatoscope's field is shown but does not decide: a test card
photographed through the dermatoscope may fill the frame without any lesion.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from telederm.accounts.access import managed_organisations
from telederm.accounts.models import Organisation, OrganisationKind, Role
from telederm.audit.models import Action
from telederm.audit.services import Actor, record
from telederm.images.processing import ImageRejected, Limits, QualityMetrics, Thresholds, ingest
from telederm.training.models import Equipment, EquipmentTest

logger = logging.getLogger(__name__)

CHECKS = ("resolution", "focus", "exposure")


def thresholds() -> Thresholds:
    return Thresholds(**settings.TELEDERM_QUALITY_THRESHOLDS)


def evaluate(quality: QualityMetrics, t: Thresholds) -> list[dict[str, Any]]:
    """One verdict per check, with the measured values and the limits they were held to."""
    min_mp = max(t.min_megapixels_overview, t.min_megapixels_dermoscopic)
    overexposed = (
        quality.clipped_highlights > t.max_clipped_highlights
        or quality.mean_brightness > t.max_mean_brightness
    )
    underexposed = (
        quality.clipped_shadows > t.max_clipped_shadows
        or quality.mean_brightness < t.min_mean_brightness
    )
    return [
        {
            "code": "resolution",
            "passed": quality.megapixels >= min_mp,
            "width": quality.width,
            "height": quality.height,
            "megapixels": round(quality.megapixels, 2),
            "minimum": min_mp,
        },
        {
            "code": "focus",
            "passed": quality.sharpness >= t.min_sharpness,
            "sharpness": round(quality.sharpness, 1),
            "minimum": t.min_sharpness,
        },
        {
            "code": "exposure",
            "passed": not overexposed and not underexposed,
            "verdict": "over" if overexposed else "under" if underexposed else "ok",
            "mean_brightness": round(quality.mean_brightness, 1),
            "brightness_range": [t.min_mean_brightness, t.max_mean_brightness],
            "clipped_highlights": round(quality.clipped_highlights, 4),
            "max_clipped_highlights": t.max_clipped_highlights,
            "clipped_shadows": round(quality.clipped_shadows, 4),
            "max_clipped_shadows": t.max_clipped_shadows,
        },
    ]


@dataclass(frozen=True)
class EquipmentData:
    phone_model: str
    dermatoscope_model: str
    serial_number: str = ""
    received_on: date | None = None
    in_use: bool = True


def _acting_role(clinic: Organisation, by: Actor) -> str:
    assert by.user is not None
    own = by.user.memberships.filter(
        organisation=clinic, role=Role.CENTER_ADMIN, ended_at__isnull=True
    )
    return Role.CENTER_ADMIN if own.exists() else Role.REGION_ADMIN


def _check_clinic(clinic: Organisation, by: Actor) -> None:
    if clinic.kind != OrganisationKind.CLINIC:
        raise PermissionDenied
    if by.user is None:
        if by != Actor.system():
            raise PermissionDenied
        return
    if not managed_organisations(by.user).filter(pk=clinic.pk).exists():
        raise PermissionDenied


def _audit(action: Action, equipment: Equipment, by: Actor, **detail: object) -> None:
    record(
        action,
        by=by,
        role=_acting_role(equipment.clinic, by) if by.user else "",
        organisation=equipment.clinic,
        target=equipment,
        target_label=str(equipment)[:200],
        detail=detail,
    )


def _validated(data: EquipmentData) -> EquipmentData:
    errors: dict[str, list[str]] = {}
    if not data.phone_model.strip():
        errors["phone_model"] = [_("Give the phone model.")]
    if not data.dermatoscope_model.strip():
        errors["dermatoscope_model"] = [_("Give the dermatoscope model.")]
    if data.received_on is not None and data.received_on > timezone.localdate():
        errors["received_on"] = [_("The date received cannot be in the future.")]
    if errors:
        raise ValidationError(errors)
    return EquipmentData(
        phone_model=data.phone_model.strip()[:120],
        dermatoscope_model=data.dermatoscope_model.strip()[:120],
        serial_number=data.serial_number.strip()[:80],
        received_on=data.received_on,
        in_use=data.in_use,
    )


def register_equipment(*, clinic: Organisation, data: EquipmentData, by: Actor) -> Equipment:
    _check_clinic(clinic, by)
    data = _validated(data)
    with transaction.atomic():
        equipment = Equipment.objects.create(
            clinic=clinic,
            phone_model=data.phone_model,
            dermatoscope_model=data.dermatoscope_model,
            serial_number=data.serial_number,
            received_on=data.received_on,
            in_use=data.in_use,
            registered_by=by.user,
        )
        _audit(Action.EQUIPMENT_REGISTERED, equipment, by)
    return equipment


def update_equipment(*, equipment: Equipment, data: EquipmentData, by: Actor) -> Equipment:
    _check_clinic(equipment.clinic, by)
    data = _validated(data)
    with transaction.atomic():
        locked = Equipment.objects.select_for_update().select_related("clinic").get(pk=equipment.pk)
        changed = [
            name
            for name in (
                "phone_model",
                "dermatoscope_model",
                "serial_number",
                "received_on",
                "in_use",
            )
            if getattr(locked, name) != getattr(data, name)
        ]
        for name in changed:
            setattr(locked, name, getattr(data, name))
        if changed:
            locked.save()
            _audit(Action.EQUIPMENT_CHANGED, locked, by, fields=changed)
    return locked


def run_equipment_test(
    *, equipment: Equipment, raw: bytes, upload_id: UUID, by: Actor
) -> tuple[EquipmentTest, bool]:
    """Measure one test photo and record the verdict; returns (test, created).

    A repeated ``upload_id`` (a retried upload) returns the test already recorded. A file that
    is no usable photo at all raises ``ValidationError`` with the same advice a GP would get,
    and records nothing: there is nothing to measure.
    """
    _check_clinic(equipment.clinic, by)
    existing = EquipmentTest.objects.filter(equipment=equipment, upload_id=upload_id).first()
    if existing is not None:
        return existing, False
    limits = Limits(
        max_bytes=settings.TELEDERM_IMAGE_MAX_BYTES, max_pixels=settings.TELEDERM_IMAGE_MAX_PIXELS
    )
    t = thresholds()
    try:
        result = ingest(raw, kind="dermoscopic", limits=limits, thresholds=t)
    except ImageRejected as exc:
        raise ValidationError(str(exc.message), code=exc.code) from exc
    quality = result.quality
    checks = evaluate(quality, t)
    test = EquipmentTest(
        equipment=equipment,
        upload_id=upload_id,
        passed=all(check["passed"] for check in checks),
        metrics={
            "sharpness": round(quality.sharpness, 2),
            "clipped_highlights": round(quality.clipped_highlights, 4),
            "clipped_shadows": round(quality.clipped_shadows, 4),
            "mean_brightness": round(quality.mean_brightness, 1),
            "megapixels": round(quality.megapixels, 2),
            "width": quality.width,
            "height": quality.height,
            "dermoscopic_field": quality.dermoscopic_field,
            "warnings": list(quality.warnings),
        },
        checks=checks,
        device_model=result.device_model[:120],
        tested_by=by.user,
        tested_at=timezone.now(),
    )
    test.thumbnail.save("thumb.jpg", ContentFile(result.thumbnail_jpeg), save=False)
    try:
        with transaction.atomic():
            test.save()
            _audit(
                Action.EQUIPMENT_TESTED,
                equipment,
                by,
                test=str(test.public_id),
                passed=test.passed,
                failed_checks=[c["code"] for c in checks if not c["passed"]],
            )
    except IntegrityError:
        # The same upload raced in twice; the other request recorded it.
        _delete_thumbnail(test)
        return EquipmentTest.objects.get(equipment=equipment, upload_id=upload_id), False
    except Exception:
        _delete_thumbnail(test)
        raise
    return test, True


def _delete_thumbnail(test: EquipmentTest) -> None:
    if test.thumbnail.name:
        try:
            test.thumbnail.storage.delete(test.thumbnail.name)
        except OSError:
            logger.warning("could not delete %s", test.thumbnail.name)


def last_tests(clinic: Organisation) -> dict[int, EquipmentTest]:
    """The newest test of each piece of the clinic's equipment, by equipment pk."""
    newest: dict[int, EquipmentTest] = {}
    for test in EquipmentTest.objects.filter(equipment__clinic=clinic).order_by("tested_at", "pk"):
        newest[test.equipment_id] = test
    return newest
