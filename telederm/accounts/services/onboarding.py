"""Clinic onboarding: a clinic applies, the region administrator approves or rejects.

On approval the clinic is created with telederma active from today and the proposed center
administrator gets an account (or a new role on an existing one) and an activation link.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from telederm.accounts import access
from telederm.accounts.models import (
    ClinicApplication,
    Organisation,
    OrganisationKind,
    Role,
)
from telederm.accounts.services.users import PersonData, create_user
from telederm.accounts.tasks import send_plain_email_task
from telederm.audit.models import Action
from telederm.audit.services import Actor, record
from telederm.lib.identifiers import normalise_hsa_id, normalise_kombikakod, normalise_mobile
from telederm.lib.tasks import enqueue_with_transaction


@dataclass(frozen=True)
class ClinicData:
    name: str
    kombikakod: str
    hsa_id: str
    ehr_integrated: bool = False
    address: str = ""
    phone: str = ""


def kombikakod_taken(kombikakod: str) -> bool:
    return Organisation.objects.filter(kombikakod=kombikakod).exists()


def submit_application(
    *,
    region: Organisation,
    clinic: ClinicData,
    head_name: str,
    head_email: str,
    head_hsa_id: str,
    admin: PersonData,
    by: Actor,
) -> ClinicApplication:
    kombikakod = normalise_kombikakod(clinic.kombikakod)
    if kombikakod_taken(kombikakod):
        raise ValidationError(
            {"kombikakod": _("A clinic with this kombikakod is already connected.")}
        )
    if Organisation.objects.filter(hsa_id=normalise_hsa_id(clinic.hsa_id)).exists():
        raise ValidationError({"clinic_hsa_id": _("A unit with this HSA-ID already exists.")})
    admin = admin.normalised()
    try:
        with transaction.atomic():
            application = ClinicApplication.objects.create(
                region=region,
                clinic_name=clinic.name.strip(),
                kombikakod=kombikakod,
                clinic_hsa_id=normalise_hsa_id(clinic.hsa_id),
                ehr_integrated=clinic.ehr_integrated,
                address=clinic.address.strip(),
                phone=clinic.phone.strip(),
                head_name=head_name.strip(),
                head_email=head_email.strip().lower(),
                head_hsa_id=normalise_hsa_id(head_hsa_id),
                admin_first_name=admin.first_name,
                admin_last_name=admin.last_name,
                admin_email=admin.email,
                admin_hsa_id=admin.hsa_id,
                admin_mobile=normalise_mobile(admin.mobile),
                admin_title=admin.title,
            )
            record(
                Action.APPLICATION_SUBMITTED,
                by=by,
                organisation=region,
                target=application,
                target_label=application.clinic_name,
                email=application.head_email,
            )
    except IntegrityError as exc:
        raise ValidationError(
            {
                "kombikakod": _(
                    "An application for this kombikakod is already waiting for a decision."
                )
            }
        ) from exc
    return application


def _notify_head(application: ClinicApplication, template: str) -> None:
    with translation.override("sv"):
        text = render_to_string(template, {"application": application})
    subject, _sep, body = text.partition("\n")
    recipients = sorted({application.head_email, application.admin_email})
    enqueue_with_transaction(send_plain_email_task, recipients, subject.strip(), body.lstrip())


def _lock_pending(application: ClinicApplication) -> ClinicApplication:
    locked = ClinicApplication.objects.select_for_update().get(pk=application.pk)
    if locked.status != ClinicApplication.Status.PENDING:
        raise ValidationError(_("This application has already been decided."))
    return locked


def approve_application(*, application: ClinicApplication, by: Actor) -> Organisation:
    if by.user is None or not access.is_region_admin(by.user):
        raise ValidationError(_("Only a region administrator can decide applications."))
    with transaction.atomic():
        application = _lock_pending(application)
        if kombikakod_taken(application.kombikakod):
            raise ValidationError(_("A clinic with this kombikakod is already connected."))
        if Organisation.objects.filter(hsa_id=application.clinic_hsa_id).exists():
            raise ValidationError(_("A unit with this HSA-ID already exists."))
        clinic = Organisation.objects.create(
            kind=OrganisationKind.CLINIC,
            region=application.region,
            name=application.clinic_name,
            kombikakod=application.kombikakod,
            hsa_id=application.clinic_hsa_id,
            ehr_integrated=application.ehr_integrated,
            address=application.address,
            phone=application.phone,
            telederma_active_from=timezone.localdate(),
        )
        record(
            Action.ORGANISATION_CREATED,
            by=by,
            role=Role.REGION_ADMIN,
            organisation=clinic,
            target=clinic,
            target_label=clinic.name,
        )
        create_user(
            organisation=clinic,
            role=Role.CENTER_ADMIN,
            person=PersonData(
                first_name=application.admin_first_name,
                last_name=application.admin_last_name,
                email=application.admin_email,
                hsa_id=application.admin_hsa_id,
                mobile=application.admin_mobile,
                title=application.admin_title,
            ),
            by=by,
            acting_role=Role.REGION_ADMIN,
        )
        application.status = ClinicApplication.Status.APPROVED
        application.decided_at = timezone.now()
        application.decided_by = by.user
        application.clinic = clinic
        application.save()
        record(
            Action.APPLICATION_APPROVED,
            by=by,
            role=Role.REGION_ADMIN,
            organisation=application.region,
            target=application,
            target_label=application.clinic_name,
        )
        _notify_head(application, "accounts/email/application_approved.txt")
    return clinic


def reject_application(*, application: ClinicApplication, reason: str, by: Actor) -> None:
    if by.user is None or not access.is_region_admin(by.user):
        raise ValidationError(_("Only a region administrator can decide applications."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason: the clinic will read it.")})
    with transaction.atomic():
        application = _lock_pending(application)
        application.status = ClinicApplication.Status.REJECTED
        application.decision_reason = reason.strip()
        application.decided_at = timezone.now()
        application.decided_by = by.user
        application.save()
        record(
            Action.APPLICATION_REJECTED,
            by=by,
            role=Role.REGION_ADMIN,
            organisation=application.region,
            target=application,
            target_label=application.clinic_name,
            detail={"reason": application.decision_reason[:500]},
        )
        _notify_head(application, "accounts/email/application_rejected.txt")
