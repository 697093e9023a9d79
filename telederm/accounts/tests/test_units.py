"""The region administrator registers and edits clinics and review units."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from telederm.accounts.models import Organisation, OrganisationKind
from telederm.audit.models import Action, AuditEvent
from telederm.testing import World, login

pytestmark = pytest.mark.django_db


def clinic_form(**overrides: str) -> dict[str, str]:
    data = {
        "name": "Vårdcentral Ny",
        "hsa_id": "se2321000016-ny01",
        "kombikakod": "12345ny",
        "ehr_integrated": "on",
        "telederma_active_from": "2026-01-01",
        "address": "Nygatan 1",
        "phone": "08-111 222 33",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def test_region_admin_registers_a_clinic(client: Client, world: World) -> None:
    login(client, world.region_admin)
    response = client.post(reverse("accounts:unit_new", args=["clinic"]), clinic_form())
    clinic = Organisation.objects.get(kombikakod="12345NY")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:organisation", args=[clinic.public_id])
    assert clinic.kind == OrganisationKind.CLINIC
    assert clinic.region == world.region
    assert clinic.hsa_id == "SE2321000016-NY01"
    assert clinic.ehr_integrated
    assert clinic.telederma_active()
    assert AuditEvent.objects.filter(
        action=Action.ORGANISATION_CREATED, organisation_id=clinic.pk
    ).exists()


def test_clinic_needs_a_unique_kombikakod(client: Client, world: World) -> None:
    login(client, world.region_admin)
    missing = client.post(reverse("accounts:unit_new", args=["clinic"]), clinic_form(kombikakod=""))
    taken = client.post(
        reverse("accounts:unit_new", args=["clinic"]),
        clinic_form(kombikakod=world.clinic_a.kombikakod or ""),
    )
    assert missing.status_code == taken.status_code == 200
    assert "field__error" in taken.content.decode()
    assert not Organisation.objects.filter(name="Vårdcentral Ny").exists()


def test_review_unit_form_has_no_clinic_fields(client: Client, world: World) -> None:
    login(client, world.region_admin)
    page = client.get(reverse("accounts:unit_new", args=["review_unit"])).content.decode()
    assert 'name="kombikakod"' not in page
    response = client.post(
        reverse("accounts:unit_new", args=["review_unit"]),
        {"name": "Hudkliniken Ny", "hsa_id": "SE2321000016-HUD9", "is_active": "on"},
    )
    assert response.status_code == 302
    unit = Organisation.objects.get(name="Hudkliniken Ny")
    assert unit.kind == OrganisationKind.REVIEW_UNIT
    assert unit.kombikakod is None


def test_duplicate_hsa_id_is_refused(client: Client, world: World) -> None:
    login(client, world.region_admin)
    response = client.post(
        reverse("accounts:unit_new", args=["review_unit"]),
        {"name": "Kopia", "hsa_id": world.unit_x.hsa_id or "", "is_active": "on"},
    )
    assert response.status_code == 200
    assert not Organisation.objects.filter(name="Kopia").exists()


def test_region_admin_edits_a_clinic_and_the_change_is_audited(
    client: Client, world: World
) -> None:
    login(client, world.region_admin)
    url = reverse("accounts:unit_edit", args=[world.clinic_a.public_id])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        clinic_form(
            name="Vårdcentral A-huset",
            hsa_id=world.clinic_a.hsa_id or "",
            kombikakod=world.clinic_a.kombikakod or "",
            telederma_active_from="",
        ),
    )
    assert response.status_code == 302
    world.clinic_a.refresh_from_db()
    assert world.clinic_a.name == "Vårdcentral A-huset"
    assert not world.clinic_a.telederma_active()
    event = AuditEvent.objects.get(action=Action.ORGANISATION_CHANGED)
    assert "name" in event.detail["fields"]
    assert "telederma_active_from" in event.detail["fields"]


@pytest.mark.parametrize("persona", ["admin_a", "gp_a", "derm_x"])
def test_only_region_admins_register_units(client: Client, world: World, persona: str) -> None:
    login(client, getattr(world, persona))
    assert client.get(reverse("accounts:unit_new", args=["clinic"])).status_code == 403
    response = client.post(
        reverse("accounts:unit_edit", args=[world.clinic_a.public_id]), clinic_form()
    )
    assert response.status_code == 403
    assert not Organisation.objects.filter(kombikakod="12345NY").exists()


def test_unknown_unit_kind_is_not_found(client: Client, world: World) -> None:
    login(client, world.region_admin)
    assert client.get(reverse("accounts:unit_new", args=["region"])).status_code == 404


def test_region_admin_sets_the_clinics_default_review_unit(client: Client, world: World) -> None:
    login(client, world.region_admin)
    url = reverse("accounts:unit_edit", args=[world.clinic_a.public_id])
    response = client.post(
        url,
        clinic_form(
            name=world.clinic_a.name,
            hsa_id=world.clinic_a.hsa_id or "",
            kombikakod=world.clinic_a.kombikakod or "",
            default_review_unit=str(world.unit_y.public_id),
        ),
    )
    assert response.status_code == 302
    world.clinic_a.refresh_from_db()
    assert world.clinic_a.default_review_unit == world.unit_y


def test_review_unit_can_require_second_reading(client: Client, world: World) -> None:
    login(client, world.region_admin)
    response = client.post(
        reverse("accounts:unit_edit", args=[world.unit_x.public_id]),
        {
            "name": world.unit_x.name,
            "hsa_id": world.unit_x.hsa_id or "",
            "is_active": "on",
            "second_reading": "malignant",
        },
    )
    assert response.status_code == 302
    world.unit_x.refresh_from_db()
    assert world.unit_x.second_reading == "malignant"
