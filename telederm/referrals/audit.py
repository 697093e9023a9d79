"""One way to log an event about a referral: the patient and the acting unit come with it."""

from __future__ import annotations

from typing import Any

from telederm.accounts.models import Membership, Role
from telederm.audit.models import Action
from telederm.audit.services import Actor, record
from telederm.referrals.models import Referral, ReferralConsultant

# Reads of patient data: each carries the reader's relation to the referral at that moment, so
# that the log review can flag reads by someone with no role on its clinic or unit.
READ_EVENTS = {Action.REFERRAL_VIEWED, Action.IMAGE_VIEWED, Action.THREAD_READ}
NO_RELATION = "none"


def relation(user_id: int, referral: Referral) -> str:
    """How a user is tied to a referral now: ``clinic``, ``unit``, ``consultant`` or ``none``."""
    units = {referral.clinic_id: "clinic"}
    if referral.review_unit_id:
        units[referral.review_unit_id] = "unit"
    held = Membership.objects.filter(
        user_id=user_id, organisation_id__in=units, ended_at__isnull=True
    ).values_list("organisation_id", flat=True)
    for organisation_id in held:
        return units[organisation_id]
    if ReferralConsultant.objects.filter(referral=referral, user_id=user_id).exists():
        return "consultant"
    return NO_RELATION


def audit_referral(
    event: Action, referral: Referral, /, *, by: Actor, role: str | None = Role.GP, **detail: Any
) -> None:
    """Record ``event`` on ``referral`` (positional, so ``detail`` may hold any name); dermatologists act for the review unit, GPs for the clinic."""
    if event in READ_EVENTS and by.user is not None:
        detail["relation"] = relation(by.user.pk, referral)
        if role is None:  # the reader's role follows from their tie to the referral
            role = Role.DERMATOLOGIST if detail["relation"] in ("unit", "consultant") else Role.GP
    role = role or Role.GP
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
