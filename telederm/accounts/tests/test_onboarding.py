"""Clinic onboarding: the public application form and the region administrator's decision."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from telederm.accounts.models import ClinicApplication, Membership, Organisation, Role, User
from telederm.audit.models import Action, AuditEvent
from telederm.testing import World, login

pytestmark = pytest.mark.django_db


def application_form(**overrides: str) -> dict[str, str]:
    data = {
        "clinic_name": "Vårdcentral Täby",
        "kombikakod": "taby 01",
        "clinic_hsa_id": "se2321000016-taby",
        "ehr_integrated": "on",
        "address": "Storgatan 1, Täby",
        "phone": "08-123 456 78",
        "head_name": "Hedda Chef",
        "head_email": "Hedda.Chef@example.se",
        "head_hsa_id": "SE2321000016-HEDD",
        "admin_first_name": "Ada",
        "admin_last_name": "Admin",
        "admin_email": "ada.admin@example.se",
        "admin_hsa_id": "SE2321000016-ADA1",
        "admin_mobile": "070-174 06 77",
        "admin_title": "Verksamhetschef",
    }
    data.update(overrides)
    return data


def apply(client: Client, **overrides: str):
    return client.post(reverse("accounts:apply"), application_form(**overrides))


@pytest.fixture
def application(world: World) -> ClinicApplication:
    assert apply(Client()).status_code == 302
    return ClinicApplication.objects.get()


def decide(client: Client, application: ClinicApplication, **data: str):
    return client.post(reverse("accounts:application", args=[application.public_id]), data)


def english(user: User) -> User:
    User.objects.filter(pk=user.pk).update(language="en")
    return user


def test_public_application_creates_a_pending_application_and_an_audit_event(
    client: Client, world: World
) -> None:
    response = apply(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:apply_thanks")
    application = ClinicApplication.objects.get()
    assert application.status == ClinicApplication.Status.PENDING
    assert application.region == world.region
    assert application.kombikakod == "TABY01"
    assert application.clinic_hsa_id == "SE2321000016-TABY"
    assert application.head_email == "hedda.chef@example.se"
    assert application.admin_mobile == "+46701740677"
    assert application.ehr_integrated
    event = AuditEvent.objects.get(action=Action.APPLICATION_SUBMITTED)
    assert event.target_id == str(application.public_id)
    assert event.organisation_id == world.region.pk
    assert event.actor_id is None
    assert event.actor_email == "hedda.chef@example.se"
    assert client.get(reverse("accounts:apply_thanks")).status_code == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("clinic_hsa_id", "SE12345-X"),
        ("clinic_hsa_id", "SE1234567890-ABC"),  # bad check digit in the organisation number
        ("admin_hsa_id", "2321000016-ADA1"),
        ("head_hsa_id", "SE2321000016_HEDD"),
        ("admin_mobile", "12345"),
        ("admin_mobile", "08-123 456 78"),  # a landline cannot receive codes
        ("admin_mobile", "+47 412 34 567"),  # not Swedish
        ("kombikakod", "a!"),
    ],
)
def test_application_with_bad_identifiers_is_refused(
    client: Client, world: World, field: str, value: str
) -> None:
    response = apply(client, **{field: value})

    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    assert not ClinicApplication.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.APPLICATION_SUBMITTED).exists()


def test_kombikakod_of_a_connected_clinic_is_refused(client: Client, world: World) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = apply(client, kombikakod=(world.clinic_a.kombikakod or "").lower())

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["kombikakod"]
    assert "already connected" in errors["kombikakod"][0]
    assert not ClinicApplication.objects.exists()


def test_second_pending_application_for_the_same_kombikakod_is_refused(
    client: Client, world: World, application: ClinicApplication
) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = apply(client, clinic_name="Vårdcentral Täby igen", kombikakod="TABY01")

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["kombikakod"]
    assert "already waiting for a decision" in errors["kombikakod"][0]
    assert "already waiting for a decision" in response.content.decode()
    assert ClinicApplication.objects.count() == 1


def test_a_rejected_clinic_may_apply_again(
    client: Client, world: World, application: ClinicApplication, django_capture_on_commit_callbacks
) -> None:
    admin = login(Client(), world.region_admin)
    decide(admin, application, decision="reject", reason="Ingen verksamhetschef angiven.")

    assert apply(client).status_code == 302
    assert ClinicApplication.objects.filter(status=ClinicApplication.Status.PENDING).count() == 1


def test_region_admin_approves_and_the_clinic_and_its_center_admin_are_created(
    client: Client, world: World, application: ClinicApplication, django_capture_on_commit_callbacks
) -> None:
    login(client, world.region_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(client, application, decision="approve")

    clinic = Organisation.objects.get(kombikakod=application.kombikakod)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:organisation", args=[clinic.public_id])
    assert clinic.region == world.region
    assert clinic.is_clinic
    assert clinic.name == "Vårdcentral Täby"
    assert clinic.hsa_id == "SE2321000016-TABY"
    assert clinic.telederma_active_from == timezone.localdate()
    assert clinic.telederma_active()

    application.refresh_from_db()
    assert application.status == ClinicApplication.Status.APPROVED
    assert application.clinic == clinic
    assert application.decided_by == world.region_admin
    assert application.decided_at is not None

    admin = User.objects.get(email="ada.admin@example.se")
    assert admin.hsa_id == "SE2321000016-ADA1"
    assert admin.mobile == "+46701740677"
    assert admin.activated_at is None
    membership = Membership.objects.get(user=admin)
    assert (membership.organisation, membership.role) == (clinic, Role.CENTER_ADMIN)
    assert membership.ended_at is None

    activation = [m for m in mail.outbox if "/activate/" in str(m.body)]
    assert [m.to for m in activation] == [["ada.admin@example.se"]]
    approval = [m for m in mail.outbox if "hedda.chef@example.se" in m.to]
    assert len(approval) == 1
    assert "Vårdcentral Täby" in approval[0].subject
    assert "/activate/" not in str(approval[0].body)
    assert AuditEvent.objects.filter(
        action=Action.APPLICATION_APPROVED, target_id=str(application.public_id)
    ).exists()
    assert AuditEvent.objects.filter(
        action=Action.ORGANISATION_CREATED, organisation_id=clinic.pk
    ).exists()
    # The new clinic's page shows its center administrator.
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "ada.admin@example.se" in page.content.decode()


def test_approval_that_fails_creates_nothing(
    client: Client, world: World, django_capture_on_commit_callbacks
) -> None:
    # The proposed administrator's e-mail belongs to gp_a, whose HSA-ID is another one.
    assert apply(Client(), admin_email=world.gp_a.email).status_code == 302
    application = ClinicApplication.objects.get()
    login(client, world.region_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(client, application, decision="approve")

    assert response.status_code == 200
    page = response.content.decode()
    assert "alert--error" in page
    # The failed approval is not mistaken for a rejection without a reason.
    assert not response.context["reject_form"].errors
    application.refresh_from_db()
    assert application.status == ClinicApplication.Status.PENDING
    assert not Organisation.objects.filter(kombikakod=application.kombikakod).exists()
    assert not AuditEvent.objects.filter(action=Action.ORGANISATION_CREATED).exists()
    assert not Membership.objects.filter(role=Role.CENTER_ADMIN, user=world.gp_a).exists()
    assert mail.outbox == []


def test_application_form_is_closed_while_no_region_exists(client: Client, db: None) -> None:
    assert client.get(reverse("accounts:apply")).status_code == 503
    assert apply(client).status_code == 503
    assert not ClinicApplication.objects.exists()


def test_rejection_requires_a_reason(
    client: Client, world: World, application: ClinicApplication, django_capture_on_commit_callbacks
) -> None:
    login(client, world.region_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(client, application, decision="reject", reason="   ")

    assert response.status_code == 200
    assert "reason" in response.context["reject_form"].errors
    application.refresh_from_db()
    assert application.status == ClinicApplication.Status.PENDING
    assert mail.outbox == []


def test_rejection_emails_the_reason_to_the_clinic(
    client: Client, world: World, application: ClinicApplication, django_capture_on_commit_callbacks
) -> None:
    reason = "Kombikakoden finns inte i regionens register."
    login(client, world.region_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(client, application, decision="reject", reason=reason)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:applications")
    application.refresh_from_db()
    assert application.status == ClinicApplication.Status.REJECTED
    assert application.decision_reason == reason
    assert application.decided_by == world.region_admin
    assert not Organisation.objects.filter(kombikakod=application.kombikakod).exists()
    assert not User.objects.filter(email="ada.admin@example.se").exists()
    assert len(mail.outbox) == 1
    assert "hedda.chef@example.se" in mail.outbox[0].to
    assert reason in str(mail.outbox[0].body)
    event = AuditEvent.objects.get(action=Action.APPLICATION_REJECTED)
    assert event.detail["reason"] == reason


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"decision": "approve"}, {"decision": "approve"}),
        ({"decision": "approve"}, {"decision": "reject", "reason": "För sent."}),
        ({"decision": "reject", "reason": "Nej."}, {"decision": "approve"}),
        ({"decision": "reject", "reason": "Nej."}, {"decision": "reject", "reason": "Nej igen."}),
    ],
)
def test_an_application_that_has_been_decided_cannot_be_decided_again(
    client: Client,
    world: World,
    application: ClinicApplication,
    django_capture_on_commit_callbacks,
    first: dict[str, str],
    second: dict[str, str],
) -> None:
    login(client, english(world.region_admin))
    assert decide(client, application, **first).status_code == 302
    application.refresh_from_db()
    decided = (application.status, application.decision_reason, application.decided_at)
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(client, application, **second)

    assert response.status_code == 200
    assert "already been decided" in response.content.decode()
    application.refresh_from_db()
    assert (application.status, application.decision_reason, application.decided_at) == decided
    assert Organisation.objects.filter(kombikakod=application.kombikakod).count() <= 1
    assert mail.outbox == []


@pytest.mark.parametrize("persona", ["admin_a", "gp_a", "derm_x"])
def test_only_a_region_admin_can_decide(
    client: Client, world: World, application: ClinicApplication, persona: str
) -> None:
    login(client, getattr(world, persona))
    url = reverse("accounts:application", args=[application.public_id])

    assert client.get(url).status_code == 403
    assert decide(client, application, decision="approve").status_code == 403
    assert decide(client, application, decision="reject", reason="Nej.").status_code == 403

    application.refresh_from_db()
    assert application.status == ClinicApplication.Status.PENDING
    assert not Organisation.objects.filter(kombikakod=application.kombikakod).exists()
    assert client.get(reverse("accounts:applications")).status_code == 403
