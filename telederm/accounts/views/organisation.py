"""User management of one organisation: a clinic (center admin) or a review unit (region admin)."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from telederm.accounts import access
from telederm.accounts.forms import EditUserForm, LicenceForm, NewUserForm
from telederm.accounts.models import Organisation, OrganisationKind, Role, User
from telederm.accounts.queries import MIN_LICENSED_GPS, licensed_gp_count, members_of
from telederm.accounts.services import users as user_services
from telederm.audit.services import Actor
from telederm.lib.forms import add_validation_error


def _acting_role(request: HttpRequest, organisation: Organisation) -> str:
    own = access.active_memberships(access.me(request)).filter(
        organisation=organisation, role=Role.CENTER_ADMIN
    )
    return Role.CENTER_ADMIN if own.exists() else Role.REGION_ADMIN


def organisation_view(request: HttpRequest, org_id: UUID) -> HttpResponse:
    organisation = access.get_managed_organisation(access.me(request), org_id)
    licensed = licensed_gp_count(organisation) if organisation.is_clinic else None
    return render(
        request,
        "accounts/organisation.html",
        {
            "organisation": organisation,
            "rows": members_of(organisation),
            "licensed_gps": licensed,
            "too_few_licensed": licensed is not None and licensed < MIN_LICENSED_GPS,
            "min_licensed": MIN_LICENSED_GPS,
            "can_add": bool(access.roles_assignable_in(organisation, access.me(request))),
            "can_edit_unit": organisation.kind != OrganisationKind.REGION
            and access.is_region_admin(access.me(request)),
        },
    )


def user_new_view(request: HttpRequest, org_id: UUID) -> HttpResponse:
    user = access.me(request)
    organisation = access.get_managed_organisation(user, org_id)
    roles = access.roles_assignable_in(organisation, user)
    if not roles:
        return redirect("accounts:organisation", org_id=org_id)
    form = NewUserForm(request.POST or None, roles=roles)
    if request.method == "POST" and form.is_valid():
        try:
            created = user_services.create_user(
                organisation=organisation,
                role=form.cleaned_data["role"],
                person=form.person(),
                by=Actor.from_request(request),
                acting_role=_acting_role(request, organisation),
            )
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s has been added. An activation link has been e-mailed to %(email)s.")
                % {"name": created.full_name, "email": created.email}
                if created.activated_at is None
                else _("%(name)s already had an account and now has the new role.")
                % {"name": created.full_name},
            )
            return redirect("accounts:organisation", org_id=org_id)
    return render(request, "accounts/user_new.html", {"organisation": organisation, "form": form})


def _person_initial(member: User) -> dict[str, str]:
    return {
        "first_name": member.first_name,
        "last_name": member.last_name,
        "email": member.email,
        "hsa_id": member.hsa_id,
        "title": member.title,
        "mobile": member.mobile,
    }


def user_edit_view(request: HttpRequest, org_id: UUID, user_id: UUID) -> HttpResponse:
    organisation = access.get_managed_organisation(access.me(request), org_id)
    member = access.get_member_for_admin(organisation, user_id)
    can_edit = access.can_edit_personal_fields(access.me(request), member)
    form = EditUserForm(
        request.POST if request.method == "POST" and can_edit else None,
        initial=_person_initial(member),
    )
    if not can_edit:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and can_edit and form.is_valid():
        try:
            user_services.update_user(
                user=member,
                organisation=organisation,
                person=form.person(),
                identity_checked=form.cleaned_data["identity_checked"],
                by=Actor.from_request(request),
                acting_role=_acting_role(request, organisation),
            )
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(request, _("The changes have been saved."))
            return redirect("accounts:organisation", org_id=org_id)
    return render(
        request,
        "accounts/user_edit.html",
        {
            "organisation": organisation,
            "member": member,
            "form": form,
            "can_edit": can_edit,
            "licence_form": LicenceForm(),
            "licences": member.licences.all(),
            "active_roles": [
                m.get_role_display()
                for m in member.memberships.filter(organisation=organisation, ended_at__isnull=True)
            ],
        },
    )


@require_POST
def licence_add_view(request: HttpRequest, org_id: UUID, user_id: UUID) -> HttpResponse:
    organisation = access.get_managed_organisation(access.me(request), org_id)
    member = access.get_member_for_admin(organisation, user_id)
    form = LicenceForm(request.POST)
    if form.is_valid():
        try:
            user_services.register_licence(
                user=member,
                organisation=organisation,
                passed_on=form.cleaned_data["passed_on"],
                issuer=form.cleaned_data["issuer"],
                reference=form.cleaned_data["reference"],
                valid_until=form.cleaned_data["valid_until"],
                by=Actor.from_request(request),
                acting_role=_acting_role(request, organisation),
            )
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(request, _("The licence has been registered."))
            return redirect("accounts:user_edit", org_id=org_id, user_id=user_id)
    messages.error(
        request,
        _("The licence was not registered: %(errors)s")
        % {"errors": " ".join(str(e) for errors in form.errors.values() for e in errors)},
    )
    return redirect("accounts:user_edit", org_id=org_id, user_id=user_id)


def user_deactivate_view(request: HttpRequest, org_id: UUID, user_id: UUID) -> HttpResponse:
    organisation = access.get_managed_organisation(access.me(request), org_id)
    member = access.get_member_for_admin(organisation, user_id)
    if request.method == "POST":
        try:
            user_services.deactivate_in(
                user=member,
                organisation=organisation,
                by=Actor.from_request(request),
                acting_role=_acting_role(request, organisation),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("%(name)s no longer has a role here and has been logged out everywhere.")
                % {"name": member.full_name},
            )
        return redirect("accounts:organisation", org_id=org_id)
    return render(
        request, "accounts/user_deactivate.html", {"organisation": organisation, "member": member}
    )


@require_POST
def user_resend_view(request: HttpRequest, org_id: UUID, user_id: UUID) -> HttpResponse:
    organisation = access.get_managed_organisation(access.me(request), org_id)
    member = access.get_member_for_admin(organisation, user_id)
    try:
        user_services.resend_activation(
            user=member,
            organisation=organisation,
            by=Actor.from_request(request),
            acting_role=_acting_role(request, organisation),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("A new activation link has been e-mailed to %(email)s. Older links no longer work.")
            % {"email": member.email},
        )
    return redirect("accounts:organisation", org_id=org_id)
