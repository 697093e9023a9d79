"""Equipment with a passed test, written directly: for the test suite's clinics and the demo.

Real clinics get theirs only through ``equipment.run_equipment_test`` with a real photo. The
figures below are those of a sharp 12 MP photo from ``images.synthetic.dermoscopic_photo``.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from telederm.accounts.models import Organisation
from telederm.images.processing import QualityMetrics
from telederm.training.equipment import evaluate, thresholds
from telederm.training.models import Equipment, EquipmentTest

SHARP_12MP = QualityMetrics(
    sharpness=1480.0,
    clipped_highlights=0.0,
    clipped_shadows=0.0,
    mean_brightness=158.0,
    width=4032,
    height=3024,
    megapixels=12.19,
    dermoscopic_field=True,
    warnings=(),
)


def give_tested_equipment(
    clinic: Organisation,
    *,
    phone_model: str = "iPhone 13",
    dermatoscope_model: str = "DermLite DL4",
    serial_number: str = "",
) -> Equipment:
    """Register a phone + dermatoscope at the clinic with one passed equipment test."""
    now = timezone.now()
    equipment = Equipment.objects.create(
        clinic=clinic,
        phone_model=phone_model,
        dermatoscope_model=dermatoscope_model,
        serial_number=serial_number,
        received_on=timezone.localdate(now) - timedelta(days=60),
    )
    q = SHARP_12MP
    EquipmentTest.objects.create(
        equipment=equipment,
        upload_id=equipment.public_id,
        passed=True,
        metrics={
            "sharpness": q.sharpness,
            "clipped_highlights": q.clipped_highlights,
            "clipped_shadows": q.clipped_shadows,
            "mean_brightness": q.mean_brightness,
            "megapixels": q.megapixels,
            "width": q.width,
            "height": q.height,
            "dermoscopic_field": q.dermoscopic_field,
            "warnings": [],
        },
        checks=evaluate(q, thresholds()),
        tested_at=now - timedelta(days=59),
    )
    return equipment
