"""The referral lifecycle through its services."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from telederm.accounts.models import Licence
from telederm.audit.models import Action, AuditEvent
from telederm.audit.services import Actor
from telederm.images.models import LesionImage
from telederm.images.services import remove_image
from telederm.referrals import services
from telederm.referrals.models import Patient, ReferralStatus
from telederm.referrals.tests.helpers import PATIENT, _a_site, complete, draft, send
from telederm.testing import World

pytestmark = pytest.mark.django_db


def test_gp_starts_a_draft_owned_by_the_clinic(world: World) -> None:
    referral = services.start_referral(clinic=world.clinic_a, by=Actor(user=world.gp_a))
    assert referral.status == ReferralStatus.DRAFT
    assert referral.clinic == world.clinic_a
    assert referral.number is None
    assert AuditEvent.objects.filter(action=Action.REFERRAL_CREATED).count() == 1


@pytest.mark.parametrize("persona", ["gp_b", "admin_a", "derm_x"])
def test_only_gps_of_the_clinic_start_referrals(world: World, persona: str) -> None:
    with pytest.raises(PermissionDenied):
        services.start_referral(clinic=world.clinic_a, by=Actor(user=getattr(world, persona)))


def test_no_referrals_before_telederma_is_active(world: World) -> None:
    world.clinic_a.telederma_active_from = timezone.localdate() + timedelta(days=3)
    world.clinic_a.save()
    with pytest.raises(ValidationError):
        services.start_referral(clinic=world.clinic_a, by=Actor(user=world.gp_a))


def test_patient_sex_and_birth_date_are_derived(world: World) -> None:
    referral = draft(world)
    patient = Patient.objects.get()
    assert referral.patient == patient
    assert patient.personal_number == "191212121212"
    assert patient.sex == "male"
    assert patient.birth_date.isoformat() == "1912-12-12"
    event = AuditEvent.objects.get(action=Action.REFERRAL_PATIENT_SET)
    assert event.patient_id == "191212121212"


def test_protected_identity_stores_no_name(world: World) -> None:
    referral = services.start_referral(clinic=world.clinic_a, by=Actor(user=world.gp_a))
    services.set_patient(
        referral=referral,
        personal_number=PATIENT,
        name="Tolvan Tolvansson",
        protected_identity=True,
        by=Actor(user=world.gp_a),
    )
    patient = Patient.objects.get()
    assert patient.protected_identity
    assert patient.name == ""
    # A later referral cannot put the name back.
    again = services.start_referral(clinic=world.clinic_a, by=Actor(user=world.gp_a))
    services.set_patient(
        referral=again, personal_number=PATIENT, name="Tolvan", by=Actor(user=world.gp_a)
    )
    patient.refresh_from_db()
    assert patient.name == ""


def test_invalid_body_site_is_refused(world: World) -> None:
    referral = draft(world)
    with pytest.raises(ValidationError):
        services.add_lesion(
            referral=referral, body_site="elbow-of-mars", laterality="U", by=Actor(user=world.gp_a)
        )


@translation.override("en")
def test_problems_list_what_is_missing(world: World) -> None:
    referral = draft(world)
    problems = services.problems_before_sending(referral)
    assert any("lesion" in str(p).lower() or "lesion" in str(p) for p in problems)
    link = services.add_lesion(
        referral=referral, body_site=_a_site(), laterality="R", by=Actor(user=world.gp_a)
    )
    problems = services.problems_before_sending(referral)
    assert len([p for p in problems if "1" in str(p)]) == 2  # overview and dermoscopic missing
    assert link.position == 1


def test_sending_gives_number_deadline_and_one_audit_event(world: World) -> None:
    referral = send(world)
    assert referral.status == ReferralStatus.SENT
    assert re.fullmatch(r"TD\d{2}-\d{6}", referral.number or "")
    assert referral.deadline == timezone.localdate() + timedelta(days=7)
    assert AuditEvent.objects.filter(action=Action.REFERRAL_SENT).count() == 1


def test_numbers_follow_each_other(world: World) -> None:
    first = send(world)
    second = send(world)
    assert int(second.number[-6:]) == int(first.number[-6:]) + 1  # type: ignore[index]


def test_sending_twice_changes_nothing(world: World) -> None:
    referral = complete(world)
    first = services.submit_referral(referral=referral, by=Actor(user=world.gp_a))
    again = services.submit_referral(referral=referral, by=Actor(user=world.gp_a))
    assert again.number == first.number
    assert again.sent_at == first.sent_at
    assert AuditEvent.objects.filter(action=Action.REFERRAL_SENT).count() == 1


def test_incomplete_referral_is_not_sent(world: World) -> None:
    referral = complete(world)
    image = LesionImage.objects.filter(kind="dermoscopic").get()
    remove_image(image=image, by=Actor(user=world.gp_a))
    with pytest.raises(ValidationError):
        services.submit_referral(referral=referral, by=Actor(user=world.gp_a))
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.DRAFT
    assert referral.number is None


def test_gp_without_licence_cannot_send(world: World) -> None:
    referral = complete(world)
    Licence.objects.filter(user=world.gp_a).update(revoked_at=timezone.now())
    with pytest.raises(ValidationError):
        services.submit_referral(referral=referral, by=Actor(user=world.gp_a))
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.DRAFT


def test_sent_referral_can_no_longer_be_changed(world: World) -> None:
    referral = send(world)
    with pytest.raises(ValidationError):
        services.update_history(
            referral=referral, data={"question": "ändrad"}, by=Actor(user=world.gp_a)
        )
    with pytest.raises(ValidationError):
        services.set_patient(referral=referral, personal_number=PATIENT, by=Actor(user=world.gp_a))


def test_withdrawing_a_sent_referral_needs_a_reason(world: World) -> None:
    referral = send(world)
    with pytest.raises(ValidationError):
        services.withdraw_referral(referral=referral, reason=" ", by=Actor(user=world.gp_a))
    withdrawn = services.withdraw_referral(
        referral=referral, reason="Patienten remitterad direkt", by=Actor(user=world.gp_a)
    )
    assert withdrawn.status == ReferralStatus.WITHDRAWN
    assert AuditEvent.objects.filter(action=Action.REFERRAL_WITHDRAWN).count() == 1


def test_later_referral_points_to_the_same_lesion(world: World) -> None:
    first = send(world)
    lesion = first.lesion_links.get().lesion
    later = draft(world)
    link = services.add_lesion(
        referral=later,
        body_site=lesion.body_site,
        laterality=lesion.laterality,
        existing=lesion,
        by=Actor(user=world.gp_a),
    )
    assert link.lesion == lesion
    assert lesion.referral_links.count() == 2


def test_lesion_of_another_patient_is_refused(world: World) -> None:
    first = send(world)
    lesion = first.lesion_links.get().lesion
    other = draft(world, patient="701063-2391")
    with pytest.raises(ValidationError):
        services.add_lesion(
            referral=other,
            body_site=lesion.body_site,
            laterality="L",
            existing=lesion,
            by=Actor(user=world.gp_a),
        )


def test_suspected_melanoma_alerts_the_review_unit_at_once(
    world: World, django_capture_on_commit_callbacks
) -> None:
    from django.core import mail

    referral = complete(world)
    services.update_history(
        referral=referral, data={"suspicion": "melanoma"}, by=Actor(user=world.gp_a)
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_referral(referral=referral, by=Actor(user=world.gp_a))
    assert [m.to for m in mail.outbox] == [[world.derm_x.email]]
    assert "1912" not in str(mail.outbox[0].body)


def test_ordinary_referral_sends_no_email(world: World, django_capture_on_commit_callbacks) -> None:
    from django.core import mail

    referral = complete(world)
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_referral(referral=referral, by=Actor(user=world.gp_a))
    assert mail.outbox == []
