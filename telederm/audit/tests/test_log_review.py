"""Log review: scoped to the region, flagged reads, safe CSV export, the patient's log extract."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from telederm.accounts.models import Role
from telederm.accounts.tests.factories import ClinicFactory, RegionFactory, member
from telederm.audit.models import Action, AuditEvent
from telederm.audit.review import csv_cell
from telederm.audit.services import Actor, record
from telederm.referrals.audit import audit_referral
from telederm.referrals.tests.helpers import PATIENT, send
from telederm.testing import World, login

pytestmark = pytest.mark.django_db
PATIENT_NUMBER = PATIENT.replace("-", "")


def _shown(client: Client, **criteria: str) -> list[AuditEvent]:
    client.post(reverse("audit:search"), criteria)
    return list(client.get(reverse("audit:search")).context["page"].object_list)


def test_reads_record_the_readers_tie_to_the_referral(client: Client, world: World) -> None:
    referral = send(world)
    login(client, world.gp_a)
    client.get(reverse("referrals:detail", args=[referral.public_id]))
    client.logout()
    login(client, world.derm_x)
    client.get(reverse("review:case", args=[referral.public_id]))
    reads = AuditEvent.objects.filter(action=Action.REFERRAL_VIEWED).order_by("id")
    gp_read, derm_read = reads.get(actor_id=world.gp_a.pk), reads.get(actor_id=world.derm_x.pk)
    assert gp_read.detail["relation"] == "clinic"
    assert gp_read.actor_role == Role.GP
    assert derm_read.detail["relation"] == "unit"
    assert derm_read.actor_role == Role.DERMATOLOGIST
    assert derm_read.organisation_id == world.unit_x.pk


def test_a_read_without_a_role_is_flagged_and_can_be_filtered(client: Client, world: World) -> None:
    referral = send(world)
    # A read by someone with no role on the referral: what a leak through a bug would look like.
    audit_referral(Action.REFERRAL_VIEWED, referral, by=Actor(user=world.gp_b), role=None)
    login(client, world.region_admin)
    flagged = _shown(client, flagged_only="on")
    assert [(e.actor_id, e.action) for e in flagged] == [(world.gp_b.pk, Action.REFERRAL_VIEWED)]
    html = client.get(reverse("audit:search")).content.decode()
    with translation.override("sv"):
        assert "Ingen roll på remissen" in html


def test_another_regions_events_are_not_shown(client: Client, world: World) -> None:
    elsewhere = ClinicFactory.create(region=RegionFactory.create(name="Region Annan"))
    stranger = member(elsewhere, Role.GP)
    record(Action.LOGIN_SUCCEEDED, by=Actor(user=stranger), organisation=elsewhere)
    record(Action.LOGIN_SUCCEEDED, by=Actor(user=world.gp_a), organisation=world.clinic_a)
    login(client, world.region_admin)
    actors = {e.actor_id for e in _shown(client, action=Action.LOGIN_SUCCEEDED)}
    assert world.gp_a.pk in actors
    assert stranger.pk not in actors


def test_search_criteria_never_appear_in_the_url(client: Client, world: World) -> None:
    login(client, world.region_admin)
    response = client.post(reverse("audit:search"), {"patient": PATIENT})
    assert response.status_code == 302
    assert PATIENT_NUMBER not in response["Location"]
    assert "1212" not in response["Location"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+46701234567", "'+46701234567"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("Anna Läkare", "Anna Läkare"),
        (None, ""),
    ],
)
def test_csv_cells_cannot_start_a_formula(value: str | None, expected: str) -> None:
    assert csv_cell(value) == expected


def test_csv_export_follows_the_search_and_is_logged(client: Client, world: World) -> None:
    world.gp_a.first_name = "=cmd|' /C calc'!A0"
    world.gp_a.save()
    record(Action.LOGIN_SUCCEEDED, by=Actor(user=world.gp_a), organisation=world.clinic_a)
    record(Action.LOGOUT, by=Actor(user=world.derm_x), organisation=world.unit_x)
    login(client, world.region_admin)
    client.post(reverse("audit:search"), {"action": Action.LOGIN_SUCCEEDED})
    response = client.get(reverse("audit:export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    users = [row[3] for row in rows[1:]]
    assert any(user.startswith("'=cmd") for user in users)
    assert all(not user.startswith("=") for user in users)
    assert world.derm_x.full_name not in users  # only the searched event kind
    assert AuditEvent.objects.filter(
        action=Action.AUDIT_EXPORTED, actor_id=world.region_admin.pk
    ).exists()


def test_patient_log_extract_lists_every_access_and_is_logged(client: Client, world: World) -> None:
    referral = send(world)
    login(client, world.derm_x)
    client.get(reverse("review:case", args=[referral.public_id]))
    client.logout()
    record(
        Action.REFERRAL_VIEWED,
        by=Actor(user=world.gp_a),
        organisation=world.clinic_a,
        patient_id="201212121212",  # another patient
    )
    login(client, world.region_admin)
    response = client.post(reverse("audit:patient_extract"), {"personal_number": PATIENT})
    assert response.status_code == 200
    events = response.context["events"]
    assert {e.patient_id for e in events} == {PATIENT_NUMBER}
    assert world.derm_x.pk in {e.actor_id for e in events}
    assert [e.occurred_at for e in events] == sorted(e.occurred_at for e in events)
    logged = AuditEvent.objects.get(action=Action.PATIENT_LOG_EXTRACTED)
    assert logged.patient_id == PATIENT_NUMBER
    assert logged.actor_id == world.region_admin.pk

    pdf = client.post(reverse("audit:patient_extract"), {"personal_number": PATIENT, "pdf": "1"})
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert pdf["Cache-Control"] == "no-store"
    assert AuditEvent.objects.filter(action=Action.PATIENT_LOG_EXTRACTED).count() == 2


def test_patient_log_extract_refuses_a_wrong_number(client: Client, world: World) -> None:
    login(client, world.region_admin)
    with translation.override("en"):
        response = client.post(
            reverse("audit:patient_extract"), {"personal_number": "19121212-1213"}
        )
    assert response.status_code == 422
    assert not AuditEvent.objects.filter(action=Action.PATIENT_LOG_EXTRACTED).exists()


@pytest.mark.parametrize("persona", ["gp_a", "admin_a", "derm_x"])
def test_only_region_admins_make_extracts(client: Client, world: World, persona: str) -> None:
    login(client, getattr(world, persona))
    response = client.post(reverse("audit:patient_extract"), {"personal_number": PATIENT})
    assert response.status_code == 403
    assert client.get(reverse("audit:export")).status_code == 403
