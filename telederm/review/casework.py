"""Case work around the answer: complement from the clinic, hand-over, moving between review
units, and amendments of a sent answer. Same rules as ``services``: row lock, audit, notify on
commit, never patient data in e-mail."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from telederm.accounts.models import Organisation, OrganisationKind, Role, User
from telederm.audit.models import Action as AuditAction
from telederm.audit.services import Actor
from telederm.messaging.models import Message
from telederm.referrals import access
from telederm.referrals.models import ComplementRequest, Referral, ReferralEvent, ReferralStatus
from telederm.review.models import Amendment, Answer
from telederm.review.services import _audit, _clinic_gps, _lock, _notify, _user


def request_complement(*, referral: Referral, question: str, by: Actor) -> ComplementRequest:
    """Ask the clinic for more information or photos; the case waits with the same dermatologist."""
    user = _user(by)
    if not question.strip():
        raise ValidationError({"question": _("Write what the clinic should add.")})
    with transaction.atomic():
        locked = _lock(referral)
        if locked.status != ReferralStatus.IN_REVIEW or locked.assigned_to_id != user.pk:
            raise ValidationError(_("Take the case before you ask for a complement."))
        complement = ComplementRequest.objects.create(
            referral=locked, question=question.strip(), asked_by=user
        )
        locked.status = ReferralStatus.COMPLEMENT_REQUESTED
        locked.save(update_fields=["status", "updated_at"])
        _audit(AuditAction.COMPLEMENT_REQUESTED, locked, by, Role.DERMATOLOGIST)
        _notify(_clinic_gps(locked), "review/email/complement_requested.txt")
    return complement


def reply_complement(*, referral: Referral, reply: str, by: Actor) -> ComplementRequest:
    """The clinic answers (and may have added photos): the case returns to its dermatologist."""
    user = _user(by)
    if not access.gp_clinics(user).filter(pk=referral.clinic_id).exists():
        raise PermissionDenied
    with transaction.atomic():
        locked = _lock(referral)
        if locked.status != ReferralStatus.COMPLEMENT_REQUESTED:
            raise ValidationError(_("No complement is requested for this referral."))
        complement = locked.complements.filter(replied_at__isnull=True).latest("asked_at")
        added = locked.lesion_links.filter(images__created_at__gt=complement.asked_at).exists()
        if not reply.strip() and not added:
            raise ValidationError({"reply": _("Answer the question or add a photo.")})
        complement.reply = reply.strip()
        complement.replied_by = user
        complement.replied_at = timezone.now()
        complement.save(update_fields=["reply", "replied_by", "replied_at"])
        locked.status = ReferralStatus.IN_REVIEW
        locked.save(update_fields=["status", "updated_at"])
        _audit(AuditAction.COMPLEMENT_REPLIED, locked, by, Role.GP, photos_added=added)
        if added:
            ReferralEvent.objects.create(referral=locked, kind=ReferralEvent.Kind.IMAGES_ADDED)
        if locked.assigned_to is not None:
            _notify([locked.assigned_to], "review/email/complement_replied.txt")
    return complement


def hand_over(*, referral: Referral, colleague: User, by: Actor) -> Referral:
    """Give a taken case to a named colleague of the same review unit."""
    user = _user(by)
    with transaction.atomic():
        locked = _lock(referral)
        if locked.status != ReferralStatus.IN_REVIEW or locked.assigned_to_id != user.pk:
            raise ValidationError(_("Only the dermatologist who took the case can hand it over."))
        if colleague.pk == user.pk or not access.is_reviewer(colleague, locked):
            raise ValidationError(_("Choose a dermatologist of the case's review unit."))
        locked.assigned_to = colleague
        locked.assigned_at = timezone.now()
        locked.save(update_fields=["assigned_to", "assigned_at", "updated_at"])
        _audit(AuditAction.CASE_HANDED_OVER, locked, by, Role.DERMATOLOGIST, to=colleague.hsa_id)
        _notify([colleague], "review/email/case_handed_over.txt")
    return locked


def move_to_unit(*, referral: Referral, unit: Organisation, reason: str, by: Actor) -> Referral:
    """Send a case to another review unit of the region (capacity, sub-speciality), with a reason."""
    user = _user(by)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the case moves.")})
    with transaction.atomic():
        locked = _lock(referral)
        if not access.is_reviewer(user, locked):
            raise PermissionDenied
        if locked.status not in (ReferralStatus.SENT, ReferralStatus.IN_REVIEW):
            raise ValidationError(_("Only a case that waits or is being assessed can move."))
        if locked.status == ReferralStatus.IN_REVIEW and locked.assigned_to_id != user.pk:
            raise ValidationError(_("Another dermatologist has taken this case."))
        if (
            unit.kind != OrganisationKind.REVIEW_UNIT
            or unit.region_id != locked.clinic.region_id
            or unit.pk == locked.review_unit_id
            or not unit.is_active
        ):
            raise ValidationError(_("Choose another review unit of the region."))
        previous = locked.review_unit
        locked.review_unit = unit
        locked.status = ReferralStatus.SENT
        locked.assigned_to = None
        locked.assigned_at = None
        locked.save(
            update_fields=["review_unit", "status", "assigned_to", "assigned_at", "updated_at"]
        )
        Message.objects.filter(referral=locked).update(review_unit=unit)
        _audit(
            AuditAction.CASE_MOVED,
            locked,
            by,
            Role.DERMATOLOGIST,
            reason=reason.strip()[:500],
            from_unit=previous.name if previous else "",
            to_unit=unit.name,
        )
    return locked


def amend_answer(*, referral: Referral, text: str, reason: str, by: Actor) -> Amendment:
    """Add an addendum to a sent answer (never an edit in place); the clinic is told again."""
    user = _user(by)
    if not text.strip() or not reason.strip():
        raise ValidationError(_("Write both the addendum and the reason for it."))
    with transaction.atomic():
        locked = _lock(referral)
        if locked.status != ReferralStatus.ANSWERED:
            raise ValidationError(_("Only a sent answer can be amended."))
        if not access.is_reviewer(user, locked):
            raise PermissionDenied
        answer = Answer.objects.select_for_update().get(referral=locked)
        amendment = Amendment.objects.create(
            answer=answer, text=text.strip(), reason=reason.strip(), author=user
        )
        # The clinic must read the answer again.
        answer.read_at = None
        answer.read_by = None
        answer.save(update_fields=["read_at", "read_by"])
        _audit(
            AuditAction.ANSWER_AMENDED, locked, by, Role.DERMATOLOGIST, reason=reason.strip()[:500]
        )
        ReferralEvent.objects.create(referral=locked, kind=ReferralEvent.Kind.AMENDED)
        _notify(_clinic_gps(locked), "review/email/answer_amended.txt")
    return amendment
