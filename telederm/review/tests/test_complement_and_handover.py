"""Complement (komplettering), hand-over and moving a case between review units."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from telederm.accounts.models import Role
from telederm.accounts.tests.factories import member
from telederm.audit.models import Action, AuditEvent
from telederm.audit.services import Actor
from telederm.images.models import LesionImage
from telederm.referrals import services as referral_services
from telederm.referrals.models import Referral, ReferralStatus
from telederm.referrals.tests.helpers import send
from telederm.review import casework, services
from telederm.testing import World, login, photo

pytestmark = pytest.mark.django_db


def taken(world: World) -> Referral:
    referral = send(world)
    services.take_case(referral=referral, by=Actor(user=world.derm_x))
    referral.refresh_from_db()
    return referral


def test_complement_round_trip_with_a_new_photo(
    client: Client, world: World, django_capture_on_commit_callbacks
) -> None:
    referral = taken(world)
    with django_capture_on_commit_callbacks(execute=True):
        casework.request_complement(
            referral=referral,
            question="Ta en skarpare dermatoskopisk bild.",
            by=Actor(user=world.derm_x),
        )
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.COMPLEMENT_REQUESTED
    assert [m.to for m in mail.outbox] == [[world.gp_a.email]]
    deadline = referral.deadline

    login(client, world.gp_a)
    detail = client.get(reverse("referrals:detail", args=[referral.public_id])).content.decode()
    assert "Ta en skarpare" in detail
    link = referral.lesion_links.get()
    page = client.get(reverse("referrals:complement_photos", args=[referral.public_id, link.pk]))
    assert page.status_code == 200
    # Old photos cannot be removed during a complement; new ones go in.
    old = LesionImage.objects.filter(referral_lesion=link).first()
    assert old is not None
    assert (
        client.post(
            reverse("referrals:image_remove", args=[referral.public_id, old.public_id])
        ).status_code
        == 403
    )
    upload = client.post(
        reverse("referrals:upload", args=[referral.public_id, link.pk]),
        {
            "file": io.BytesIO(photo("dermoscopic", seed=9)),
            "kind": "dermoscopic",
            "upload_id": str(uuid.uuid4()),
        },
    )
    assert upload.status_code == 201

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("review:complement_reply", args=[referral.public_id]),
            {"reply": "Ny bild bifogad."},
        )
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.IN_REVIEW
    assert referral.assigned_to == world.derm_x
    assert referral.deadline == deadline  # the clock is kept visible, not reset
    complement = referral.complements.get()
    assert complement.reply == "Ny bild bifogad."
    assert complement.replied_by == world.gp_a
    assert mail.outbox[-1].to == [world.derm_x.email]
    assert AuditEvent.objects.filter(
        action=Action.COMPLEMENT_REPLIED, detail__photos_added=True
    ).exists()


def test_complement_needs_a_question_and_the_assignee(world: World) -> None:
    referral = taken(world)
    with pytest.raises(ValidationError):
        casework.request_complement(referral=referral, question=" ", by=Actor(user=world.derm_x))
    colleague = member(world.unit_x, Role.DERMATOLOGIST)
    with pytest.raises(ValidationError):
        casework.request_complement(referral=referral, question="?", by=Actor(user=colleague))


def test_clinic_must_answer_or_add_a_photo(world: World) -> None:
    referral = taken(world)
    casework.request_complement(referral=referral, question="Storlek?", by=Actor(user=world.derm_x))
    with pytest.raises(ValidationError):
        casework.reply_complement(referral=referral, reply="", by=Actor(user=world.gp_a))
    with pytest.raises(PermissionDenied):
        casework.reply_complement(referral=referral, reply="6 mm", by=Actor(user=world.gp_b))


def test_answer_is_refused_while_waiting_for_the_clinic(world: World) -> None:
    referral = taken(world)
    casework.request_complement(referral=referral, question="Storlek?", by=Actor(user=world.derm_x))
    with pytest.raises(ValidationError):
        services.send_answer(
            referral=referral,
            diagnosis="benign_naevus",
            certainty="certain",
            action="none",
            text_to_gp="ok",
            by=Actor(user=world.derm_x),
        )
    with pytest.raises(ValidationError):
        referral_services.withdraw_referral(
            referral=referral, reason="x", by=Actor(user=world.gp_a)
        )


def test_hand_over_to_a_named_colleague(world: World) -> None:
    colleague = member(world.unit_x, Role.DERMATOLOGIST)
    referral = taken(world)
    casework.hand_over(referral=referral, colleague=colleague, by=Actor(user=world.derm_x))
    referral.refresh_from_db()
    assert referral.assigned_to == colleague
    with pytest.raises(ValidationError):  # only the assignee hands over
        casework.hand_over(referral=referral, colleague=world.derm_x, by=Actor(user=world.derm_x))
    with pytest.raises(ValidationError):  # never to another unit's dermatologist
        casework.hand_over(referral=referral, colleague=world.derm_y, by=Actor(user=colleague))


def test_move_to_another_unit_needs_a_reason_and_unassigns(world: World) -> None:
    referral = taken(world)
    with pytest.raises(ValidationError):
        casework.move_to_unit(
            referral=referral, unit=world.unit_y, reason="", by=Actor(user=world.derm_x)
        )
    casework.move_to_unit(
        referral=referral, unit=world.unit_y, reason="Kapacitet", by=Actor(user=world.derm_x)
    )
    referral.refresh_from_db()
    assert referral.review_unit == world.unit_y
    assert referral.status == ReferralStatus.SENT
    assert referral.assigned_to is None
    assert referral in services.queue_for(world.derm_y)
    assert referral not in services.queue_for(world.derm_x)
    event = AuditEvent.objects.get(action=Action.CASE_MOVED)
    assert event.detail["reason"] == "Kapacitet"


def test_consultant_cannot_move_or_hand_over(world: World) -> None:
    referral = taken(world)
    from telederm.messaging.services import invite_consultant

    invite_consultant(referral=referral, colleague=world.derm_y, by=Actor(user=world.derm_x))
    with pytest.raises(PermissionDenied):
        casework.move_to_unit(
            referral=referral, unit=world.unit_y, reason="x", by=Actor(user=world.derm_y)
        )


def test_amendment_keeps_the_original_and_asks_the_clinic_to_read_again(
    world: World, django_capture_on_commit_callbacks
) -> None:
    referral = taken(world)
    answer = services.send_answer(
        referral=referral,
        diagnosis="benign_naevus",
        certainty="certain",
        action="none",
        text_to_gp="Benignt nevus.",
        by=Actor(user=world.derm_x),
    )
    services.mark_answer_read(referral=referral, by=Actor(user=world.gp_a))
    with django_capture_on_commit_callbacks(execute=True):
        casework.amend_answer(
            referral=referral,
            text="Kontroll om 12 månader rekommenderas ändå.",
            reason="Familjehistoria av melanom",
            by=Actor(user=world.derm_x),
        )
    answer.refresh_from_db()
    assert answer.text_to_gp == "Benignt nevus."  # never edited in place
    assert answer.read_at is None
    assert answer.amendments.count() == 1
    assert mail.outbox[-1].to == [world.gp_a.email]
    with pytest.raises(ValidationError):
        casework.amend_answer(referral=referral, text="x", reason="", by=Actor(user=world.derm_x))
    with pytest.raises(PermissionDenied):
        casework.amend_answer(referral=referral, text="x", reason="y", by=Actor(user=world.derm_y))


def test_second_reading_agreed_sends_with_both_names(
    world: World, django_capture_on_commit_callbacks
) -> None:
    world.unit_x.second_reading = "malignant"
    world.unit_x.save()
    reader = member(world.unit_x, Role.DERMATOLOGIST)
    referral = taken(world)
    with django_capture_on_commit_callbacks(execute=True):
        answer = services.send_answer(
            referral=referral,
            diagnosis="invasive_melanoma",
            certainty="probable",
            action="svf",
            text_to_gp="Misstänkt melanom, SVF.",
            by=Actor(user=world.derm_x),
        )
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SECOND_READING
    assert answer.sent_at is None
    assert [m.to for m in mail.outbox] == [[reader.email]]  # not the author, not the clinic
    with pytest.raises(ValidationError):  # the author cannot be their own second reader
        services.second_read(referral=referral, agree=True, by=Actor(user=world.derm_x))
    with django_capture_on_commit_callbacks(execute=True):
        services.second_read(referral=referral, agree=True, by=Actor(user=reader))
    referral.refresh_from_db()
    answer.refresh_from_db()
    assert referral.status == ReferralStatus.ANSWERED
    assert answer.sent_at is not None
    assert answer.second_reader == reader
    assert mail.outbox[-1].to == [world.gp_a.email]


def test_second_reader_proposes_changes_and_the_author_revises(world: World) -> None:
    world.unit_x.second_reading = "all"
    world.unit_x.save()
    reader = member(world.unit_x, Role.DERMATOLOGIST)
    referral = taken(world)
    services.send_answer(
        referral=referral,
        diagnosis="benign_naevus",
        certainty="certain",
        action="none",
        text_to_gp="Benignt.",
        by=Actor(user=world.derm_x),
    )
    with pytest.raises(ValidationError):  # changes need a comment
        services.second_read(referral=referral, agree=False, by=Actor(user=reader))
    services.second_read(
        referral=referral, agree=False, comment="Föreslår kontroll om 6 mån.", by=Actor(user=reader)
    )
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.IN_REVIEW
    revised = services.send_answer(
        referral=referral,
        diagnosis="atypical_naevus",
        certainty="probable",
        action="follow_up",
        follow_up_months=6,
        text_to_gp="Atypiskt, ny bild om 6 månader.",
        by=Actor(user=world.derm_x),
    )
    assert revised.diagnosis == "atypical_naevus"
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SECOND_READING  # "all": read again
    services.second_read(referral=referral, agree=True, by=Actor(user=reader))
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ANSWERED
    assert referral.answer.diagnosis == "atypical_naevus"


def test_no_second_reading_when_the_unit_does_not_ask(world: World) -> None:
    referral = taken(world)
    services.send_answer(
        referral=referral,
        diagnosis="invasive_melanoma",
        certainty="probable",
        action="svf",
        text_to_gp="SVF.",
        by=Actor(user=world.derm_x),
    )
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ANSWERED
