"""The dermatologist's work on a case: take, release, answer; and the GP reading the answer.

Taking and answering run under a row lock on the referral, so two dermatologists can never both
take or answer the same case: the second one gets a clear message.
"""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from telederm.accounts.models import Membership, Organisation, OrganisationKind, Role, User
from telederm.accounts.tasks import send_plain_email_task
from telederm.audit.models import Action as AuditAction
from telederm.audit.services import Actor, record
from telederm.referrals import access
from telederm.referrals.models import ComplementRequest, Referral, ReferralStatus, Suspicion
from telederm.review.models import ICD10, Action, Amendment, Answer


def _user(by: Actor) -> User:
    if by.user is None:
        raise PermissionDenied
    return by.user


def _audit(event: AuditAction, referral: Referral, by: Actor, role: str, **detail: object) -> None:
    record(
        event,
        by=by,
        role=role,
        organisation=referral.review_unit if role != Role.GP else referral.clinic,
        target=referral,
        target_label=referral.number or "",
        patient_id=referral.patient.personal_number if referral.patient else "",
        detail=detail,
    )


def _lock(referral: Referral) -> Referral:
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related("patient", "clinic", "review_unit", "assigned_to")
        .get(pk=referral.pk)
    )


def queue_for(user: User) -> QuerySet[Referral]:
    """Cases waiting in the user's review units, most urgent first.

    Suspected melanoma comes first, then the nearest deadline (overdue ones before all others).
    """
    return (
        Referral.objects.filter(
            review_unit__in=access.review_units(user),
            status__in=[
                ReferralStatus.SENT,
                ReferralStatus.IN_REVIEW,
                ReferralStatus.COMPLEMENT_REQUESTED,
            ],
        )
        .select_related("patient", "clinic", "assigned_to", "review_unit")
        .annotate(
            melanoma_first=Case(
                When(suspicion=Suspicion.MELANOMA, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("melanoma_first", "deadline", "sent_at")
    )


def consultations_for(user: User) -> QuerySet[Referral]:
    """Open cases where a colleague asked this dermatologist to consult."""
    return (
        Referral.objects.filter(
            consultants__user=user,
            status__in=[ReferralStatus.SENT, ReferralStatus.IN_REVIEW],
        )
        .select_related("patient", "clinic", "assigned_to", "review_unit")
        .order_by("deadline", "sent_at")
    )


def take_case(*, referral: Referral, by: Actor) -> Referral:
    user = _user(by)
    with transaction.atomic():
        locked = _lock(referral)
        if not access.is_reviewer(user, locked):
            raise PermissionDenied
        if locked.status == ReferralStatus.IN_REVIEW and locked.assigned_to_id == user.pk:
            return locked
        if locked.status == ReferralStatus.IN_REVIEW:
            raise ValidationError(
                _("%(name)s has already taken this case.")
                % {"name": locked.assigned_to.full_name if locked.assigned_to else "?"}
            )
        if locked.status != ReferralStatus.SENT:
            raise ValidationError(_("This case is no longer waiting in the queue."))
        locked.status = ReferralStatus.IN_REVIEW
        locked.assigned_to = user
        locked.assigned_at = timezone.now()
        locked.save(update_fields=["status", "assigned_to", "assigned_at", "updated_at"])
        _audit(AuditAction.CASE_TAKEN, locked, by, Role.DERMATOLOGIST)
    return locked


def take_next(*, by: Actor) -> Referral | None:
    """Take the most urgent case nobody has taken yet (skipping any taken in the meantime)."""
    user = _user(by)
    for referral in queue_for(user).filter(status=ReferralStatus.SENT)[:20]:
        try:
            return take_case(referral=referral, by=by)
        except ValidationError:
            continue
    return None


def release_case(*, referral: Referral, by: Actor) -> Referral:
    user = _user(by)
    with transaction.atomic():
        locked = _lock(referral)
        if locked.status != ReferralStatus.IN_REVIEW or locked.assigned_to_id != user.pk:
            raise ValidationError(_("Only the dermatologist who took the case can release it."))
        locked.status = ReferralStatus.SENT
        locked.assigned_to = None
        locked.assigned_at = None
        locked.save(update_fields=["status", "assigned_to", "assigned_at", "updated_at"])
        _audit(AuditAction.CASE_RELEASED, locked, by, Role.DERMATOLOGIST)
    return locked


def send_answer(
    *,
    referral: Referral,
    diagnosis: str,
    certainty: str,
    action: str,
    text_to_gp: str,
    follow_up_months: int | None = None,
    teaching_comment: str = "",
    by: Actor,
) -> Answer:
    """Send the answer to the clinic. Idempotent for its author: a repeat returns the answer."""
    user = _user(by)
    if action == Action.FOLLOW_UP and not follow_up_months:
        raise ValidationError({"follow_up_months": _("Say in how many months.")})
    if not text_to_gp.strip():
        raise ValidationError({"text_to_gp": _("Write a few words to the GP.")})
    with transaction.atomic():
        locked = _lock(referral)
        if locked.status == ReferralStatus.ANSWERED:
            existing = Answer.objects.get(referral=locked)
            if existing.author_id == user.pk:
                return existing
            raise ValidationError(_("This case has already been answered."))
        if locked.status != ReferralStatus.IN_REVIEW or locked.assigned_to_id != user.pk:
            raise ValidationError(_("Take the case before you answer it."))
        now = timezone.now()
        answer = Answer.objects.create(
            referral=locked,
            diagnosis=diagnosis,
            icd10=ICD10.get(diagnosis, ""),  # type: ignore[call-overload]
            certainty=certainty,
            action=action,
            follow_up_months=follow_up_months if action == Action.FOLLOW_UP else None,
            text_to_gp=text_to_gp.strip(),
            teaching_comment=teaching_comment.strip(),
            author=user,
            sent_at=now,
        )
        answer.full_clean()
        locked.status = ReferralStatus.ANSWERED
        locked.answered_at = now
        locked.save(update_fields=["status", "answered_at", "updated_at"])
        _audit(
            AuditAction.ANSWER_SENT,
            locked,
            by,
            Role.DERMATOLOGIST,
            diagnosis=diagnosis,
            action=action,
        )
        _notify_clinic(locked)
    return answer


def _notify_clinic(referral: Referral) -> None:
    """E-mail the clinic's GPs that an answer is waiting: a link, never any patient data."""
    _notify(_clinic_gps(referral), "review/email/answer_waiting.txt")


def mark_answer_read(*, referral: Referral, by: Actor) -> Answer:
    user = _user(by)
    if not access.gp_clinics(user).filter(pk=referral.clinic_id).exists():
        raise PermissionDenied
    with transaction.atomic():
        answer = Answer.objects.select_for_update().get(referral=referral)
        if answer.read_at is None:
            answer.read_at = timezone.now()
            answer.read_by = user
            answer.save(update_fields=["read_at", "read_by"])
            _audit(AuditAction.ANSWER_READ, referral, by, Role.GP)
    return answer


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


def _clinic_gps(referral: Referral) -> list[User]:
    return list(
        User.objects.filter(
            memberships__in=Membership.objects.filter(
                organisation=referral.clinic, role=Role.GP, ended_at__isnull=True
            ),
            is_active=True,
        ).distinct()
    )


def _notify(people: list[User], template: str) -> None:
    """A short e-mail with a link: never any patient data."""
    link = settings.TELEDERM_BASE_URL + reverse("web:start")
    for person in people:
        with translation.override(person.language):
            text = render_to_string(template, {"link": link})
        subject, _sep, body = text.partition("\n")
        transaction.on_commit(
            partial(send_plain_email_task.enqueue, [person.email], subject.strip(), body.lstrip())
        )


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
        _notify(_clinic_gps(locked), "review/email/answer_amended.txt")
    return amendment
