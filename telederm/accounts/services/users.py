"""Services that create and change users, memberships and licences.

Every function validates, runs in one transaction, audits in that transaction and queues e-mail
on commit. Views and commands call these; none of them save the models directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from telederm.accounts import access
from telederm.accounts.models import (
    ROLE_KIND,
    Licence,
    Membership,
    OneTimeLink,
    Organisation,
    User,
)
from telederm.accounts.services.links import issue_link, pending_links
from telederm.accounts.services.otp import primary_sms_device
from telederm.accounts.tasks import send_link_email_task
from telederm.audit.models import Action
from telederm.audit.services import Actor, record
from telederm.lib.identifiers import normalise_hsa_id, normalise_mobile
from telederm.lib.tasks import enqueue_with_transaction


@dataclass(frozen=True)
class PersonData:
    first_name: str
    last_name: str
    email: str
    hsa_id: str
    mobile: str
    title: str = ""

    def normalised(self) -> PersonData:
        return PersonData(
            first_name=self.first_name.strip(),
            last_name=self.last_name.strip(),
            email=self.email.strip().lower(),
            hsa_id=normalise_hsa_id(self.hsa_id),
            mobile=normalise_mobile(self.mobile),
            title=self.title.strip(),
        )


def _send_link(user: User, purpose: OneTimeLink.Purpose) -> OneTimeLink:
    link = issue_link(user=user, purpose=purpose)
    enqueue_with_transaction(send_link_email_task, link.pk)
    return link


def _end_sessions(user: User) -> None:
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])


def add_membership(
    *, user: User, organisation: Organisation, role: str, by: Actor, acting_role: str = ""
) -> Membership:
    if ROLE_KIND.get(role) != organisation.kind:
        raise ValidationError(_("This role does not exist in this kind of organisation."))
    membership, created = Membership.objects.get_or_create(
        user=user,
        organisation=organisation,
        role=role,
        ended_at=None,
        defaults={"organisation_kind": organisation.kind},
    )
    if created:
        if not user.is_active:
            user.is_active = True
            user.save(update_fields=["is_active", "updated_at"])
        record(
            Action.MEMBERSHIP_ADDED,
            by=by,
            role=acting_role,
            organisation=organisation,
            target=user,
            target_label=user.full_name,
            detail={"role": role},
        )
    return membership


def create_user(
    *,
    organisation: Organisation,
    role: str,
    person: PersonData,
    by: Actor,
    acting_role: str = "",
    check_permission: bool = True,
) -> User:
    """Create a user with a role in an organisation and e-mail them an activation link.

    A person who already has an account (same e-mail and HSA-ID, e.g. a GP who also works at
    another clinic) gets the new membership on the existing account instead.
    """
    if check_permission and (
        by.user is None or role not in access.roles_assignable_in(organisation, by.user)
    ):
        raise PermissionDenied
    person = person.normalised()
    with transaction.atomic():
        by_email = User.objects.filter(email__iexact=person.email).first()
        by_hsa = User.objects.filter(hsa_id=person.hsa_id).first()
        if by_email and by_email != by_hsa:
            raise ValidationError(
                {"email": _("This e-mail address belongs to another user (other HSA-ID).")}
            )
        if by_hsa and by_hsa != by_email:
            raise ValidationError(
                {"hsa_id": _("This HSA-ID belongs to another user (other e-mail address).")}
            )
        user = by_email
        if user is None:
            user = User.objects.create_user(
                email=person.email,
                first_name=person.first_name,
                last_name=person.last_name,
                hsa_id=person.hsa_id,
                mobile=person.mobile,
                title=person.title,
            )
            primary_sms_device(user)
            record(
                Action.USER_CREATED,
                by=by,
                role=acting_role,
                organisation=organisation,
                target=user,
                target_label=user.full_name,
                detail={"role": role},
            )
        add_membership(
            user=user, organisation=organisation, role=role, by=by, acting_role=acting_role
        )
        if user.activated_at is None:
            _send_link(user, OneTimeLink.Purpose.ACTIVATION)
            record(
                Action.ACTIVATION_SENT,
                by=by,
                role=acting_role,
                organisation=organisation,
                target=user,
                target_label=user.full_name,
            )
    return user


def update_user(
    *,
    user: User,
    organisation: Organisation,
    person: PersonData,
    identity_checked: bool,
    by: Actor,
    acting_role: str = "",
) -> User:
    """Change a user's personal fields. A new mobile number (lost phone) needs an identity check.

    Changing the number ends the user's sessions and forgets trusted devices: whoever holds the
    old phone must not stay logged in.
    """
    if by.user is None or not access.can_edit_personal_fields(by.user, user):
        raise PermissionDenied
    person = person.normalised()
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        clash = User.objects.filter(email__iexact=person.email).exclude(pk=user.pk).exists()
        if clash:
            raise ValidationError({"email": _("This e-mail address belongs to another user.")})
        if User.objects.filter(hsa_id=person.hsa_id).exclude(pk=user.pk).exists():
            raise ValidationError({"hsa_id": _("This HSA-ID belongs to another user.")})
        mobile_changed = person.mobile != user.mobile
        if mobile_changed and not identity_checked:
            raise ValidationError(
                {
                    "identity_checked": _(
                        "Confirm that you have checked the user's identity before changing "
                        "the mobile number."
                    )
                }
            )
        changed = [
            field
            for field in ("first_name", "last_name", "email", "hsa_id", "mobile", "title")
            if getattr(user, field) != getattr(person, field)
        ]
        for field in changed:
            setattr(user, field, getattr(person, field))
        if changed:
            user.save()
            record(
                Action.USER_CHANGED,
                by=by,
                role=acting_role,
                organisation=organisation,
                target=user,
                target_label=user.full_name,
                detail={"fields": changed},
            )
        if mobile_changed:
            device = primary_sms_device(user)
            device.number = user.mobile
            device.token = None
            device.save()
            # The authenticator app was most likely on the lost phone too.
            TOTPDevice.objects.filter(user=user).delete()
            _end_sessions(user)
            record(
                Action.MOBILE_CHANGED,
                by=by,
                role=acting_role,
                organisation=organisation,
                target=user,
                target_label=user.full_name,
                detail={"identity_checked": True, "by_admin": True},
            )
    return user


def deactivate_in(
    *, user: User, organisation: Organisation, by: Actor, acting_role: str = ""
) -> User:
    """End the user's memberships in this organisation and every session of the user.

    The account itself becomes inactive when no membership remains elsewhere.
    """
    if by.user is not None and by.user.pk == user.pk:
        raise ValidationError(_("You cannot deactivate yourself; ask another administrator."))
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        ended = Membership.objects.filter(
            user=user, organisation=organisation, ended_at__isnull=True
        ).update(ended_at=timezone.now())
        if not ended:
            raise ValidationError(_("The user has no active role in this unit."))
        _end_sessions(user)
        if not Membership.objects.filter(user=user, ended_at__isnull=True).exists():
            user.is_active = False
            user.save(update_fields=["is_active", "updated_at"])
            pending_links(user).update(superseded_at=timezone.now())
        record(
            Action.USER_DEACTIVATED,
            by=by,
            role=acting_role,
            organisation=organisation,
            target=user,
            target_label=user.full_name,
            detail={"account_inactive": not user.is_active},
        )
    return user


def resend_activation(
    *, user: User, organisation: Organisation, by: Actor, acting_role: str = ""
) -> None:
    if user.activated_at is not None:
        raise ValidationError(
            _(
                "The account is already activated. The user can reset the password from the login page."
            )
        )
    if not user.is_active:
        raise ValidationError(_("The account is deactivated."))
    with transaction.atomic():
        _send_link(user, OneTimeLink.Purpose.ACTIVATION)
        record(
            Action.ACTIVATION_SENT,
            by=by,
            role=acting_role,
            organisation=organisation,
            target=user,
            target_label=user.full_name,
            detail={"resend": True},
        )


def register_licence(
    *,
    user: User,
    organisation: Organisation,
    passed_on: date,
    issuer: str,
    reference: str,
    by: Actor,
    valid_until: date | None = None,
    acting_role: str = "",
) -> Licence:
    if passed_on > timezone.localdate():
        raise ValidationError({"passed_on": _("The date passed cannot be in the future.")})
    if valid_until is not None and valid_until < passed_on:
        raise ValidationError({"valid_until": _("Valid until must be after the date passed.")})
    with transaction.atomic():
        licence = Licence.objects.create(
            user=user,
            passed_on=passed_on,
            issuer=issuer.strip(),
            reference=reference.strip(),
            valid_until=valid_until,
            registered_by=by.user,
        )
        record(
            Action.LICENCE_REGISTERED,
            by=by,
            role=acting_role,
            organisation=organisation,
            target=user,
            target_label=user.full_name,
            detail={"passed_on": passed_on.isoformat(), "issuer": licence.issuer},
        )
    return licence


def set_password_from_link(*, link: OneTimeLink, password: str, by: Actor) -> User:
    """Activation and password reset both end here: validate, use the link once, set password."""
    from telederm.accounts.services.links import use_link

    user = link.user
    password_validation.validate_password(password, user)
    with transaction.atomic():
        if not use_link(link):
            raise ValidationError(_("This link has already been used or has expired."))
        user = User.objects.select_for_update().get(pk=user.pk)
        user.set_password(password)
        first_activation = user.activated_at is None
        if first_activation:
            user.activated_at = timezone.now()
        # A new password ends every other session of the user.
        user.session_epoch += 1
        user.save()
        action = (
            Action.ACTIVATED
            if link.purpose == OneTimeLink.Purpose.ACTIVATION
            else Action.PASSWORD_RESET
        )
        record(action, by=by.with_user(user), target=user, target_label=user.full_name)
    return user


def request_password_reset(*, email: str, by: Actor) -> None:
    """Send a reset link if the address belongs to an active, activated account.

    The caller shows the same answer whatever happens, so the page does not reveal which
    addresses have accounts. At most one link per five minutes per account.
    """
    user = User.objects.filter(
        email__iexact=email.strip(), is_active=True, activated_at__isnull=False
    ).first()
    if user is None:
        record(Action.RESET_REQUESTED, by=by, success=False, email=email.strip()[:254])
        return
    recent = OneTimeLink.objects.filter(
        user=user,
        purpose=OneTimeLink.Purpose.PASSWORD_RESET,
        created_at__gt=timezone.now() - timedelta(minutes=5),
    ).exists()
    with transaction.atomic():
        if not recent:
            _send_link(user, OneTimeLink.Purpose.PASSWORD_RESET)
        record(
            Action.RESET_REQUESTED,
            by=by.with_user(user),
            target=user,
            detail={"sent": not recent},
        )


def set_language(*, user: User, language: str) -> None:
    """Remember the user's interface language (a preference, not patient data: not audited)."""
    if language not in User.Language.values:
        raise ValidationError(_("Unknown language."))
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language
