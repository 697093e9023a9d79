"""Registering and changing the follow-up of a referral.

One follow-up per referral, written under a row lock on the referral; every registration and
every change is audited (``outcome.registered`` / ``outcome.changed`` with the changed fields),
so the history of a PAD result can always be traced.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from telederm.accounts.models import User
from telederm.audit.models import Action as AuditAction
from telederm.audit.services import Actor
from telederm.outcomes import access
from telederm.outcomes.models import FollowUp, Invasion, Outcome, Place
from telederm.referrals.audit import audit_referral
from telederm.referrals.models import Referral
from telederm.review.models import MALIGNANT, Diagnosis

BRESLOW_MAX_MM = Decimal("50")
# Free text is not copied into the audit log's change list, only marked as changed.
FREE_TEXT = {"pad_reference"}


@dataclass(frozen=True)
class FollowUpData:
    outcome: str
    done_on: date | None = None
    place: str = ""
    pad_diagnosis: str = ""
    pad_invasion: str = ""
    breslow_mm: Decimal | None = None
    pad_reference: str = ""


def check(data: FollowUpData, referral: Referral, today: date | None = None) -> FollowUpData:
    """The data as it will be stored, or a ValidationError naming each wrong field."""
    today = today or timezone.localdate()
    errors: dict[str, str] = {}
    data = replace(data, pad_reference=data.pad_reference.strip())
    if data.outcome not in Outcome.values:
        errors["outcome"] = _("Choose what happened.")
    happened = data.outcome in (Outcome.EXCISED, Outcome.SEEN)
    if happened and data.done_on is None:
        errors["done_on"] = _("Give the date of the excision or visit.")
    if happened and data.place not in Place.values:
        errors["place"] = _("Choose where it was done.")
    if data.done_on is not None:
        sent = timezone.localdate(referral.sent_at) if referral.sent_at else None
        if sent is not None and data.done_on < sent:
            errors["done_on"] = _("The date cannot be before the referral was sent (%(date)s).") % {
                "date": sent.isoformat()
            }
        elif data.done_on > today:
            errors["done_on"] = _("The date cannot be in the future.")
    if not happened:
        data = replace(data, place="")
    if data.outcome != Outcome.EXCISED:
        if data.pad_diagnosis or data.pad_invasion or data.breslow_mm or data.pad_reference:
            errors["pad_diagnosis"] = _("A PAD result can only be registered for an excision.")
    else:
        data = _check_pad(data, errors)
    if errors:
        raise ValidationError(errors)
    return data


def _check_pad(data: FollowUpData, errors: dict[str, str]) -> FollowUpData:
    diagnosis = data.pad_diagnosis
    if diagnosis and diagnosis not in Diagnosis.values:
        errors["pad_diagnosis"] = _("Choose a diagnosis from the list.")
        return data
    if data.pad_invasion and data.pad_invasion not in Invasion.values:
        errors["pad_invasion"] = _("Choose in situ or invasive.")
    fixed = {
        Diagnosis.MELANOMA_IN_SITU: Invasion.IN_SITU,
        Diagnosis.INVASIVE_MELANOMA: Invasion.INVASIVE,
    }.get(diagnosis)  # type: ignore[call-overload]
    if fixed is not None:
        if data.pad_invasion and data.pad_invasion != fixed:
            errors["pad_invasion"] = _("This does not match the diagnosis.")
        data = replace(data, pad_invasion=fixed)
    elif data.pad_invasion and diagnosis not in MALIGNANT:
        errors["pad_invasion"] = _("Only a malignant diagnosis is in situ or invasive.")
    if data.breslow_mm is not None:
        if diagnosis != Diagnosis.INVASIVE_MELANOMA:
            errors["breslow_mm"] = _("Breslow thickness is given only for an invasive melanoma.")
        elif not Decimal("0") < data.breslow_mm <= BRESLOW_MAX_MM:
            errors["breslow_mm"] = _("Give the Breslow thickness in mm, from 0.01 to 50.")
    return data


def _audit_value(value: object) -> object:
    if isinstance(value, date | Decimal):
        return str(value)
    return value


def save_follow_up(
    *, referral: Referral, data: FollowUpData, version: int | None = None, by: Actor
) -> FollowUp:
    """Register the follow-up, or change it. ``version`` is the one the editor started from
    (0: none existed yet): if someone else saved meanwhile, nothing is saved and the editor is
    told. ``None`` skips the check (a system import)."""
    user = by.user
    if not isinstance(user, User):
        raise PermissionDenied
    with transaction.atomic():
        locked = (
            Referral.objects.select_for_update(of=("self",))
            .select_related("patient", "clinic", "review_unit")
            .get(pk=referral.pk)
        )
        if not access.follow_up_referrals(user).filter(pk=locked.pk).exists():
            raise PermissionDenied
        role = access.role_for(user, locked)
        clean = check(data, locked)
        existing = FollowUp.objects.filter(referral=locked).first()
        if existing is None:
            follow_up = FollowUp.objects.create(
                referral=locked, registered_by=user, changed_by=user, **asdict(clean)
            )
            audit_referral(
                AuditAction.OUTCOME_REGISTERED,
                locked,
                by=by,
                role=role,
                outcome=clean.outcome,
                place=clean.place,
                pad=clean.pad_diagnosis,
            )
            return follow_up
        if version is not None and version != existing.version:
            raise ValidationError(
                _(
                    "%(name)s changed this follow-up while you were editing it. Check the "
                    "current version below and make your change again."
                )
                % {"name": existing.changed_by.full_name}
            )
        changes: dict[str, list[object]] = {
            name: ["…", "…"] if name in FREE_TEXT else [_audit_value(old), _audit_value(new)]
            for name, new in asdict(clean).items()
            if (old := getattr(existing, name)) != new
        }
        if not changes:
            return existing
        for name, value in asdict(clean).items():
            setattr(existing, name, value)
        existing.version += 1
        existing.changed_by = user
        existing.save()
        audit_referral(
            AuditAction.OUTCOME_CHANGED,
            locked,
            by=by,
            role=role,
            changes=changes,
            version=existing.version,
        )
    return existing
