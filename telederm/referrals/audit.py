"""One way to log an event about a referral: the patient and the acting unit come with it."""

from __future__ import annotations

from typing import Any

from telederm.accounts.models import Role
from telederm.audit.models import Action
from telederm.audit.services import Actor, record
from telederm.referrals.models import Referral


def audit_referral(
    event: Action, referral: Referral, /, *, by: Actor, role: str = Role.GP, **detail: Any
) -> None:
    """Record ``event`` on ``referral`` (positional, so ``detail`` may hold any name); dermatologists act for the review unit, GPs for the clinic."""
    reviewer = role in (Role.DERMATOLOGIST, Role.UNIT_LEAD)
    record(
        event,
        by=by,
        role=role,
        organisation=referral.review_unit if reviewer else referral.clinic,
        target=referral,
        target_label=referral.number or "",
        patient_id=referral.patient.personal_number if referral.patient else "",
        detail=detail,
    )
