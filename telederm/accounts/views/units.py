"""The region administrator registers and edits clinics and review units."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from telederm.accounts import access
from telederm.accounts.forms import UnitForm
from telederm.accounts.models import OrganisationKind
from telederm.accounts.services.organisations import UnitData, create_unit, update_unit
from telederm.audit.services import Actor
from telederm.lib.forms import add_validation_error

UNIT_FIELDS = (
    "name",
    "hsa_id",
    "kombikakod",
    "ehr_integrated",
    "telederma_active_from",
    "address",
    "phone",
    "is_active",
    "second_reading",
    "default_review_unit",
)


def _unit_data(cleaned: dict[str, Any]) -> UnitData:
    return UnitData(**{name: cleaned[name] for name in UNIT_FIELDS if name in cleaned})


def unit_new_view(request: HttpRequest, kind: str) -> HttpResponse:
    user = access.me(request)
    access.require_region_admin(user)
    if kind not in (OrganisationKind.CLINIC, OrganisationKind.REVIEW_UNIT):
        raise Http404
    region = access.administered_regions(user).first()
    if region is None:
        raise Http404
    form = UnitForm(request.POST or None, kind=kind, region=region)
    if request.method == "POST" and form.is_valid():
        try:
            unit = create_unit(
                region=region,
                kind=kind,
                data=_unit_data(form.cleaned_data),
                by=Actor.from_request(request),
            )
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(request, _("%(name)s has been registered.") % {"name": unit.name})
            return redirect("accounts:organisation", org_id=unit.public_id)
    return render(
        request,
        "accounts/unit_form.html",
        {"form": form, "kind": kind, "kind_label": OrganisationKind(kind).label, "unit": None},
    )


def unit_edit_view(request: HttpRequest, org_id: UUID) -> HttpResponse:
    user = access.me(request)
    access.require_region_admin(user)
    unit = access.get_managed_organisation(user, org_id)
    if unit.kind == OrganisationKind.REGION:
        raise Http404
    initial = {name: getattr(unit, name) for name in UNIT_FIELDS}
    form = UnitForm(request.POST or None, kind=unit.kind, initial=initial, region=unit.region)
    if request.method == "POST" and form.is_valid():
        try:
            update_unit(
                unit=unit, data=_unit_data(form.cleaned_data), by=Actor.from_request(request)
            )
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(request, _("The changes have been saved."))
            return redirect("accounts:organisation", org_id=unit.public_id)
    return render(
        request,
        "accounts/unit_form.html",
        {"form": form, "kind": unit.kind, "kind_label": unit.get_kind_display(), "unit": unit},
    )
