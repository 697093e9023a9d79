"""The region administrator registers and changes clinics and review units."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from telederm.accounts import access
from telederm.accounts.models import Organisation, OrganisationKind, Role
from telederm.audit.models import Action
from telederm.audit.services import Actor, record
from telederm.lib.identifiers import normalise_hsa_id, normalise_kombikakod


@dataclass(frozen=True)
class UnitData:
    name: str
    hsa_id: str
    kombikakod: str = ""
    ehr_integrated: bool = False
    telederma_active_from: date | None = None
    address: str = ""
    phone: str = ""
    is_active: bool = True
    second_reading: str = ""
    default_review_unit: Organisation | None = None


def _clean(kind: str, data: UnitData, instance: Organisation | None) -> dict[str, object]:
    values: dict[str, object] = {
        "name": data.name.strip(),
        "hsa_id": normalise_hsa_id(data.hsa_id),
        "address": data.address.strip(),
        "phone": data.phone.strip(),
        "is_active": data.is_active,
    }
    clash = Organisation.objects.filter(hsa_id=values["hsa_id"])
    if instance is not None:
        clash = clash.exclude(pk=instance.pk)
    if clash.exists():
        raise ValidationError({"hsa_id": _("A unit with this HSA-ID already exists.")})
    if kind == OrganisationKind.CLINIC:
        if not data.kombikakod:
            raise ValidationError({"kombikakod": _("A clinic needs its kombikakod.")})
        values["kombikakod"] = normalise_kombikakod(data.kombikakod)
        taken = Organisation.objects.filter(kombikakod=values["kombikakod"])
        if instance is not None:
            taken = taken.exclude(pk=instance.pk)
        if taken.exists():
            raise ValidationError(
                {"kombikakod": _("A clinic with this kombikakod is already connected.")}
            )
        values["ehr_integrated"] = data.ehr_integrated
        values["telederma_active_from"] = data.telederma_active_from
        unit = data.default_review_unit
        if unit is not None and unit.kind != OrganisationKind.REVIEW_UNIT:
            raise ValidationError({"default_review_unit": _("Choose a review unit.")})
        values["default_review_unit"] = unit
    elif kind == OrganisationKind.REVIEW_UNIT:
        values["second_reading"] = data.second_reading or Organisation.SecondReading.OFF
    return values


def create_unit(*, region: Organisation, kind: str, data: UnitData, by: Actor) -> Organisation:
    if kind not in (OrganisationKind.CLINIC, OrganisationKind.REVIEW_UNIT):
        raise ValidationError(_("Only clinics and review units can be created here."))
    if by.user is None or region not in access.administered_regions(by.user):
        raise PermissionDenied
    with transaction.atomic():
        unit = Organisation.objects.create(kind=kind, region=region, **_clean(kind, data, None))
        record(
            Action.ORGANISATION_CREATED,
            by=by,
            role=Role.REGION_ADMIN,
            organisation=unit,
            target=unit,
            target_label=unit.name,
        )
    return unit


def update_unit(*, unit: Organisation, data: UnitData, by: Actor) -> Organisation:
    if by.user is None or unit.region_id is None:
        raise PermissionDenied
    if not access.administered_regions(by.user).filter(pk=unit.region_id).exists():
        raise PermissionDenied
    with transaction.atomic():
        unit = Organisation.objects.select_for_update().get(pk=unit.pk)
        values = _clean(unit.kind, data, unit)
        changed = [name for name, value in values.items() if getattr(unit, name) != value]
        for name in changed:
            setattr(unit, name, values[name])
        if changed:
            unit.save()
            record(
                Action.ORGANISATION_CHANGED,
                by=by,
                role=Role.REGION_ADMIN,
                organisation=unit,
                target=unit,
                target_label=unit.name,
                detail={"fields": changed},
            )
    return unit
