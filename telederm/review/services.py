"""The dermatologist's work on a case: take, release, answer; and the GP reading the answer.

Taking and answering run under a row lock on the referral, so two dermatologists can never both
take or answer the same case: the second one gets a clear message.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from telederm.accounts.models import Membership, Organisation, Role, User
from telederm.accounts.tasks import send_plain_email_task
from telederm.audit.models import Action as AuditAction
from telederm.audit.services import Actor
from telederm.lib.tasks import enqueue_with_transaction
from telederm.referrals import access
from telederm.referrals.audit import audit_referral
from telederm.referrals.models import Referral, ReferralEvent, ReferralStatus, Suspicion
from telederm.review.models import ICD10, MALIGNANT, Action, Answer, AnswerDraft


def _user(by: Actor) -> User:
    if by.user is None:
        raise PermissionDenied
    return by.user


def _audit(
    event: AuditAction, referral: Referral, by: Actor, role: str, /, **detail: object
) -> None:
    audit_referral(event, referral, by=by, role=role, **detail)


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
            # Ids as constants: the (review_unit, status, deadline) index then applies.
            review_unit__in=list(access.review_units(user).values_list("pk", flat=True)),
            status__in=[
                ReferralStatus.SENT,
                ReferralStatus.IN_REVIEW,
                ReferralStatus.COMPLEMENT_REQUESTED,
                ReferralStatus.SECOND_READING,
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


def needs_second_reading(referral: Referral, diagnosis: str, action: str) -> bool:
    policy = referral.review_unit.second_reading if referral.review_unit else "off"
    if policy == Organisation.SecondReading.ALL:
        return True
    if policy == Organisation.SecondReading.MALIGNANT:
        return (
            diagnosis in MALIGNANT
            or action == Action.SVF
            or referral.suspicion in (Suspicion.MELANOMA, Suspicion.OTHER_MALIGNANCY)
        )
    return False


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
    """Send the answer: to the clinic, or first to a second reader where the unit requires it.

    Idempotent for its author: a repeat returns the answer already sent or waiting.
    """
    user = _user(by)
    if action == Action.FOLLOW_UP and not follow_up_months:
        raise ValidationError({"follow_up_months": _("Say in how many months.")})
    if not text_to_gp.strip():
        raise ValidationError({"text_to_gp": _("Write a few words to the GP.")})
    with transaction.atomic():
        locked = _lock(referral)
        if locked.status in (ReferralStatus.ANSWERED, ReferralStatus.SECOND_READING):
            existing = Answer.objects.get(referral=locked)
            if existing.author_id == user.pk:
                return existing
            raise ValidationError(_("This case has already been answered."))
        if locked.status != ReferralStatus.IN_REVIEW or locked.assigned_to_id != user.pk:
            raise ValidationError(_("Take the case before you answer it."))
        fields = {
            "diagnosis": diagnosis,
            "icd10": ICD10.get(diagnosis, ""),  # type: ignore[call-overload]
            "certainty": certainty,
            "action": action,
            "follow_up_months": follow_up_months if action == Action.FOLLOW_UP else None,
            "text_to_gp": text_to_gp.strip(),
            "teaching_comment": teaching_comment.strip(),
            "author": user,
            "sent_at": None,
        }
        # A version sent back by a second reader is revised, not duplicated.
        answer, _created = Answer.objects.update_or_create(referral=locked, defaults=fields)
        answer.full_clean()
        AnswerDraft.objects.filter(referral=locked, author=user).delete()
        if needs_second_reading(locked, diagnosis, action):
            locked.status = ReferralStatus.SECOND_READING
            locked.save(update_fields=["status", "updated_at"])
            _audit(AuditAction.SECOND_READING_REQUESTED, locked, by, Role.DERMATOLOGIST)
            readers = [
                person
                for person in User.objects.filter(
                    memberships__organisation=locked.review_unit,
                    memberships__role__in=[Role.DERMATOLOGIST, Role.UNIT_LEAD],
                    memberships__ended_at__isnull=True,
                    is_active=True,
                ).distinct()
                if person.pk != user.pk
            ]
            _notify(readers, "review/email/second_reading.txt")
            return answer
        _release_answer(locked, answer, by, diagnosis=diagnosis, action=action)
    return answer


def _release_answer(referral: Referral, answer: Answer, by: Actor, **detail: object) -> None:
    now = timezone.now()
    answer.sent_at = now
    answer.save(update_fields=["sent_at"])
    referral.status = ReferralStatus.ANSWERED
    referral.answered_at = now
    referral.save(update_fields=["status", "answered_at", "updated_at"])
    _audit(AuditAction.ANSWER_SENT, referral, by, Role.DERMATOLOGIST, **detail)
    ReferralEvent.objects.create(referral=referral, kind=ReferralEvent.Kind.ANSWERED)
    _notify_clinic(referral)


def second_read(*, referral: Referral, agree: bool, comment: str = "", by: Actor) -> Answer:
    """Another dermatologist of the unit agrees (the answer goes, with both names) or sends it
    back to its author with proposed changes."""
    user = _user(by)
    with transaction.atomic():
        locked = _lock(referral)
        if locked.status != ReferralStatus.SECOND_READING:
            raise ValidationError(_("This answer is not waiting for a second reading."))
        if not access.is_reviewer(user, locked):
            raise PermissionDenied
        answer = Answer.objects.select_for_update().get(referral=locked)
        if answer.author_id == user.pk:
            raise ValidationError(_("The second reader must be another dermatologist."))
        answer.second_reader = user
        answer.second_read_at = timezone.now()
        answer.second_reading_comment = comment.strip()
        answer.save(update_fields=["second_reader", "second_read_at", "second_reading_comment"])
        if agree:
            _audit(AuditAction.SECOND_READING_AGREED, locked, by, Role.DERMATOLOGIST)
            _release_answer(locked, answer, by, diagnosis=answer.diagnosis, action=answer.action)
        else:
            if not comment.strip():
                raise ValidationError({"comment": _("Say what you propose to change.")})
            locked.status = ReferralStatus.IN_REVIEW
            locked.save(update_fields=["status", "updated_at"])
            _audit(AuditAction.SECOND_READING_CHANGES, locked, by, Role.DERMATOLOGIST)
            _notify([answer.author], "review/email/second_reading_changes.txt")
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
        enqueue_with_transaction(
            send_plain_email_task, [person.email], subject.strip(), body.lstrip()
        )


DRAFT_FIELDS = (
    "diagnosis",
    "certainty",
    "action",
    "follow_up_months",
    "text_to_gp",
    "teaching_comment",
)


def save_answer_draft(*, referral: Referral, data: dict[str, str], by: Actor) -> AnswerDraft:
    """Keep the half-written answer of the dermatologist who has the case."""
    user = _user(by)
    if referral.status != ReferralStatus.IN_REVIEW or referral.assigned_to_id != user.pk:
        raise ValidationError(_("Take the case before you answer it."))
    clean = {name: str(data.get(name, ""))[:5000] for name in DRAFT_FIELDS}
    draft, _created = AnswerDraft.objects.update_or_create(
        referral=referral, author=user, defaults={"data": clean}
    )
    return draft
