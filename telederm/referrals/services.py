"""Services for the referral lifecycle: draft, patient, history, lesions, send, withdraw.

Each function checks the caller's right through ``access``, validates, writes in one
transaction together with its audit event, and queues side effects on commit.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from telederm.accounts.models import Organisation, OrganisationKind, User
from telederm.audit.models import Action
from telederm.audit.services import Actor
from telederm.lib.patient_ids import parse_patient_id
from telederm.lib.tasks import enqueue_with_transaction
from telederm.referrals import access
from telederm.referrals.audit import audit_referral
from telederm.referrals.bodysites import is_valid_site
from telederm.referrals.models import (
    SUBMITTED_STATES,
    Laterality,
    Lesion,
    Patient,
    Referral,
    ReferralCounter,
    ReferralEvent,
    ReferralLesion,
    ReferralStatus,
)
from telederm.referrals.tasks import notify_new_referral_task
from telederm.training.rules import (
    EQUIPMENT_TEST_MISSING,
    equipment_test_required,
    has_passed_equipment_test,
)

DEADLINE_DAYS = 7
HISTORY_FIELDS = (
    "duration",
    "changed_size",
    "changed_shape",
    "changed_colour",
    "itch",
    "bleeding",
    "ulceration",
    "previous_melanoma",
    "family_melanoma",
    "skin_type",
    "naevi_count",
    "question",
    "suspicion",
    "free_text",
)


def _user(by: Actor) -> User:
    if by.user is None:
        raise PermissionDenied
    return by.user


def _audit(event: Action, referral: Referral, by: Actor, /, **detail: Any) -> None:
    audit_referral(event, referral, by=by, **detail)


def _lock_draft(referral: Referral, by: Actor) -> Referral:
    """Re-read the referral under a row lock and check that the caller may still edit it."""
    locked = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("patient", "clinic")
        .get(pk=referral.pk)
    )
    if not access.can_edit(_user(by), locked):
        raise ValidationError(_("This referral has been sent and can no longer be changed."))
    return locked


def equipment_missing(clinic: Organisation) -> bool:
    """Whether the clinic still needs a passed equipment test before its first referral.

    The rule guards the *first* referral: a clinic that has sent referrals before (for example
    before the rule was switched on) is not stopped by it.
    """
    if not equipment_test_required() or has_passed_equipment_test(clinic):
        return False
    return not Referral.objects.filter(clinic=clinic, sent_at__isnull=False).exists()


# A form submitted again within this time (a double click, a retry after a dropped answer)
# opens the draft the first submit made. Later, the same key comes from an old page (the back
# button) and starts a new referral.
REPEAT_WINDOW = timedelta(minutes=2)


def start_referral(
    *, clinic: Organisation, by: Actor, client_key: uuid.UUID | None = None
) -> Referral:
    user = _user(by)
    if not access.gp_clinics(user).filter(pk=clinic.pk).exists():
        raise PermissionDenied
    if not clinic.telederma_active():
        raise ValidationError(_("Teledermoscopy is not active at this clinic yet."))
    if equipment_missing(clinic):
        raise ValidationError(str(EQUIPMENT_TEST_MISSING), code="equipment_test_missing")
    if client_key is not None:
        earlier = Referral.objects.filter(author=user, client_key=client_key).first()
        if earlier is not None:
            if _a_repeat(earlier, clinic):
                return earlier
            client_key = None
    try:
        with transaction.atomic():
            referral = Referral.objects.create(clinic=clinic, author=user, client_key=client_key)
            _audit(Action.REFERRAL_CREATED, referral, by)
    except IntegrityError:
        # The same form, submitted twice at the same moment: the other request made the draft.
        return Referral.objects.get(author=user, client_key=client_key)
    return referral


def _a_repeat(earlier: Referral, clinic: Organisation) -> bool:
    return (
        earlier.status == ReferralStatus.DRAFT
        and earlier.clinic_id == clinic.pk
        and earlier.created_at > timezone.now() - REPEAT_WINDOW
    )


def set_patient(
    *,
    referral: Referral,
    personal_number: str,
    name: str = "",
    protected_identity: bool = False,
    by: Actor,
) -> Patient:
    parsed = parse_patient_id(personal_number)
    with transaction.atomic():
        referral = _lock_draft(referral, by)
        patient, _created = Patient.objects.select_for_update().get_or_create(
            personal_number=parsed.number,
            defaults={
                "coordination_number": parsed.coordination,
                "birth_date": parsed.birth_date,
                "sex": parsed.sex,
            },
        )
        if protected_identity and not patient.protected_identity:
            patient.protected_identity = True
            patient.name = ""
            patient.save(update_fields=["protected_identity", "name", "updated_at"])
        elif not patient.protected_identity and name.strip() and name.strip() != patient.name:
            patient.name = name.strip()[:200]
            patient.save(update_fields=["name", "updated_at"])
        if referral.patient_id not in (None, patient.pk) and referral.lesion_links.exists():
            raise ValidationError(
                _("Remove the lesions of the previous patient before changing the patient.")
            )
        referral.patient = patient
        referral.save(update_fields=["patient", "updated_at"])
        _audit(Action.REFERRAL_PATIENT_SET, referral, by)
    return patient


def update_history(*, referral: Referral, data: dict[str, Any], by: Actor) -> Referral:
    unknown = set(data) - set(HISTORY_FIELDS)
    if unknown:
        raise ValidationError(f"unknown fields: {sorted(unknown)}")
    with transaction.atomic():
        referral = _lock_draft(referral, by)
        changed = [name for name, value in data.items() if getattr(referral, name) != value]
        for name in changed:
            setattr(referral, name, data[name])
        if changed:
            referral.full_clean(exclude=["clinic", "author", "patient"])
            referral.save()
            _audit(Action.REFERRAL_CHANGED, referral, by, fields=changed)
    return referral


def add_lesion(
    *,
    referral: Referral,
    body_site: str,
    laterality: str,
    label: str = "",
    existing: Lesion | None = None,
    by: Actor,
) -> ReferralLesion:
    if not is_valid_site(body_site):
        raise ValidationError({"body_site": _("Choose a body site from the map or the list.")})
    if laterality not in Laterality.values:
        raise ValidationError({"laterality": _("Choose a side.")})
    with transaction.atomic():
        referral = _lock_draft(referral, by)
        if referral.patient is None:
            raise ValidationError(_("Choose the patient first."))
        if existing is not None:
            if existing.patient_id != referral.patient_id:
                raise ValidationError(_("That lesion belongs to another patient."))
            lesion = existing
        else:
            lesion = Lesion.objects.create(
                patient=referral.patient,
                body_site=body_site,
                laterality=laterality,
                label=label.strip()[:100],
                first_clinic=referral.clinic,
            )
        position = referral.lesion_links.count() + 1
        link, created = ReferralLesion.objects.get_or_create(
            referral=referral, lesion=lesion, defaults={"position": position}
        )
        if created:
            _audit(Action.LESION_ADDED, referral, by, lesion=str(lesion.public_id), site=body_site)
    return link


def remove_lesion(*, link: ReferralLesion, by: Actor) -> None:
    with transaction.atomic():
        referral = _lock_draft(link.referral, by)
        lesion = link.lesion
        link.delete()
        # A lesion created for this draft and used nowhere else goes with it.
        if not lesion.referral_links.exists():
            lesion.delete()
        _audit(Action.LESION_REMOVED, referral, by, lesion=str(lesion.public_id))


def problems_before_sending(referral: Referral) -> list[str]:
    """What still stops the referral from being sent, in words the GP can act on."""
    from telederm.images.models import ImageKind

    problems: list[str] = []
    if referral.patient_id is None:
        problems.append(_("Choose the patient (personnummer)."))
    links = list(referral.lesion_links.select_related("lesion").prefetch_related("images"))
    if not links:
        problems.append(_("Add at least one lesion and mark it on the body map."))
    for index, link in enumerate(links, start=1):
        images = [image for image in link.images.all() if image.removed_at is None]
        kinds = {image.kind for image in images}
        if ImageKind.OVERVIEW not in kinds:
            problems.append(_("Lesion %(n)d needs an overview photo.") % {"n": index})
        if ImageKind.DERMOSCOPIC not in kinds:
            problems.append(_("Lesion %(n)d needs a dermoscopic photo.") % {"n": index})
        if any(image.needs_attention for image in images):
            problems.append(
                _(
                    "Lesion %(n)d has a photo with a quality warning: retake it or choose "
                    "“use anyway”."
                )
                % {"n": index}
            )
    if not referral.question.strip():
        problems.append(_("Write your question to the dermatologist."))
    if not referral.suspicion:
        problems.append(_("Give your own assessment (suspicion)."))
    return problems


def _next_number(year: int) -> str:
    counter, _created = ReferralCounter.objects.select_for_update().get_or_create(year=year)
    ReferralCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
    counter.refresh_from_db()
    return f"TD{year % 100:02d}-{counter.last:06d}"


def route(clinic: Organisation) -> Organisation | None:
    """The review unit that gets this clinic's referrals: its default, else the region's first."""
    if clinic.default_review_unit_id is not None:
        return clinic.default_review_unit
    return (
        Organisation.objects.filter(
            region_id=clinic.region_id, kind=OrganisationKind.REVIEW_UNIT, is_active=True
        )
        .order_by("pk")
        .first()
    )


def submit_referral(*, referral: Referral, by: Actor) -> Referral:
    """Send the referral. Idempotent: a double tap, a retry or a second tab changes nothing more.

    The row lock makes concurrent submits queue; the first one sends, the others find the
    referral already sent and return it unchanged.
    """
    user = _user(by)
    with transaction.atomic():
        locked = (
            Referral.objects.select_for_update(of=("self",))
            .select_related("clinic", "patient")
            .get(pk=referral.pk)
        )
        if locked.status in SUBMITTED_STATES and locked.author_id == user.pk:
            return locked
        if not access.can_edit(user, locked):
            raise ValidationError(_("This referral can no longer be sent."))
        if user.valid_licence() is None:
            raise ValidationError(
                _(
                    "You need a valid teledermoscopy licence to send referrals. Ask your center "
                    "administrator to register it."
                )
            )
        if not locked.clinic.telederma_active():
            raise ValidationError(_("Teledermoscopy is not active at this clinic."))
        if equipment_missing(locked.clinic):
            raise ValidationError(str(EQUIPMENT_TEST_MISSING), code="equipment_test_missing")
        problems = problems_before_sending(locked)
        if problems:
            raise ValidationError(problems)
        review_unit = route(locked.clinic)
        if review_unit is None:
            raise ValidationError(
                _("No review unit receives referrals from this clinic yet. Contact the region.")
            )
        locked.review_unit = review_unit
        now = timezone.now()
        locked.number = _next_number(timezone.localdate(now).year)
        locked.status = ReferralStatus.SENT
        locked.sent_at = now
        locked.deadline = timezone.localdate(now) + timedelta(days=DEADLINE_DAYS)
        locked.save()
        _audit(Action.REFERRAL_SENT, locked, by)
        ReferralEvent.objects.create(referral=locked, kind=ReferralEvent.Kind.SENT)
        enqueue_with_transaction(notify_new_referral_task, locked.pk)
    return locked


def withdraw_referral(*, referral: Referral, reason: str, by: Actor) -> Referral:
    user = _user(by)
    with transaction.atomic():
        locked = (
            Referral.objects.select_for_update(of=("self",))
            .select_related("clinic", "patient")
            .get(pk=referral.pk)
        )
        if locked.status == ReferralStatus.WITHDRAWN:
            return locked
        if not access.can_withdraw(user, locked):
            raise ValidationError(_("This referral can no longer be withdrawn."))
        if locked.status == ReferralStatus.SENT and not reason.strip():
            raise ValidationError({"reason": _("Say why the referral is withdrawn.")})
        locked.status = ReferralStatus.WITHDRAWN
        locked.withdrawn_at = timezone.now()
        locked.withdraw_reason = reason.strip()
        locked.save()
        _audit(Action.REFERRAL_WITHDRAWN, locked, by, reason=locked.withdraw_reason[:500])
    return locked


def record_view(*, referral: Referral, by: Actor) -> None:
    """Reading a referral is reading patient data: always logged."""
    audit_referral(Action.REFERRAL_VIEWED, referral, by=by, role=None)
