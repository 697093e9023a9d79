"""The review side: queue, take, release, answer, and the GP reading the answer."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from telederm.accounts.models import Role, User
from telederm.accounts.tests.factories import member
from telederm.audit.models import Action as AuditAction
from telederm.audit.models import AuditEvent
from telederm.audit.services import Actor
from telederm.referrals import services as referral_services
from telederm.referrals.models import Referral, ReferralStatus
from telederm.referrals.tests.helpers import send
from telederm.review import services
from telederm.review.models import Answer
from telederm.testing import World, login

pytestmark = pytest.mark.django_db

ANSWER: dict[str, Any] = {
    "diagnosis": "atypical_naevus",
    "certainty": "probable",
    "action": "follow_up",
    "follow_up_months": 6,
    "text_to_gp": "Atypiskt nevus. Ny bild om 6 månader.",
}


def answer(world: World, referral: Referral, by: User | None = None) -> Answer:
    return services.send_answer(referral=referral, by=Actor(user=by or world.derm_x), **ANSWER)


def test_sent_referral_is_routed_to_the_regions_review_unit(world: World) -> None:
    referral = send(world)
    assert referral.review_unit == world.unit_x  # the region's first unit without a default


def test_clinic_default_review_unit_wins(world: World) -> None:
    world.clinic_a.default_review_unit = world.unit_y
    world.clinic_a.save()
    assert send(world).review_unit == world.unit_y


def test_full_loop_gp_sends_dermatologist_answers_gp_reads(
    client: Client, world: World, django_capture_on_commit_callbacks
) -> None:
    referral = send(world)
    derm = Client()
    login(derm, world.derm_x)
    queue = derm.get(reverse("review:queue"))
    assert str(referral.number) in queue.content.decode()
    assert derm.get(reverse("review:case", args=[referral.public_id])).status_code == 200
    derm.post(reverse("review:take", args=[referral.public_id]))
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.IN_REVIEW
    assert referral.assigned_to == world.derm_x

    # Consult a colleague of another unit (the clinic never sees this thread).
    from telederm.messaging.services import invite_consultant, post_message

    invite_consultant(referral=referral, colleague=world.derm_y, by=Actor(user=world.derm_x))
    post_message(
        referral=referral, channel="consultation", body="Clark-nevus?", by=Actor(user=world.derm_y)
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = derm.post(
            reverse("review:answer", args=[referral.public_id]),
            {**ANSWER, "teaching_comment": ""},
        )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ANSWERED
    assert referral.answer.icd10 == "D22.9"
    # The clinic's GPs are told by e-mail, without any patient data.
    assert [m.to for m in mail.outbox] == [[world.gp_a.email]]
    body = str(mail.outbox[0].body) + str(mail.outbox[0].subject)
    assert "1912" not in body
    assert str(referral.number) not in body

    login(client, world.gp_a)
    start = client.get(reverse("web:start")).content.decode()
    assert "1 ny" in start or "1 new answer" in start
    detail = client.get(reverse("referrals:detail", args=[referral.public_id])).content.decode()
    assert ANSWER["text_to_gp"] in detail
    assert "Clark-nevus" not in detail
    client.post(reverse("review:answer_read", args=[referral.public_id]))
    referral.answer.refresh_from_db()
    assert referral.answer.read_by == world.gp_a
    post_message(referral=referral, channel="clinic", body="Tack!", by=Actor(user=world.gp_a))

    steps = list(
        AuditEvent.objects.filter(target_id=str(referral.public_id))
        .order_by("id")
        .values_list("action", "actor_id", "patient_id")
    )
    actions = [step[0] for step in steps]
    for expected, actor in [
        (AuditAction.REFERRAL_SENT, world.gp_a),
        (AuditAction.CASE_TAKEN, world.derm_x),
        (AuditAction.ANSWER_SENT, world.derm_x),
        (AuditAction.ANSWER_READ, world.gp_a),
        (AuditAction.CONSULTANT_INVITED, world.derm_x),
        (AuditAction.MESSAGE_SENT, world.derm_y),
        (AuditAction.MESSAGE_SENT, world.gp_a),
    ]:
        assert (expected, actor.pk, "191212121212") in steps
    assert actions.index(AuditAction.REFERRAL_SENT) < actions.index(AuditAction.CASE_TAKEN)
    assert actions.index(AuditAction.ANSWER_SENT) < actions.index(AuditAction.ANSWER_READ)


def test_other_units_dermatologist_sees_nothing(client: Client, world: World) -> None:
    referral = send(world)
    login(client, world.derm_y)
    assert str(referral.number) not in client.get(reverse("review:queue")).content.decode()
    for name in ("case", "take", "release", "answer"):
        method = client.get if name == "case" else client.post
        assert method(reverse(f"review:{name}", args=[referral.public_id])).status_code == 404
    assert client.get(reverse("referrals:detail", args=[referral.public_id])).status_code == 404
    with pytest.raises(PermissionDenied):
        services.take_case(referral=referral, by=Actor(user=world.derm_y))


def test_gp_cannot_reach_the_review_pages(client: Client, world: World) -> None:
    referral = send(world)
    login(client, world.gp_a)
    assert client.get(reverse("review:queue")).status_code == 403
    assert client.get(reverse("review:case", args=[referral.public_id])).status_code == 404
    assert client.post(reverse("review:take", args=[referral.public_id])).status_code == 404


def test_second_dermatologist_cannot_take_a_taken_case(world: World) -> None:
    colleague = member(world.unit_x, Role.DERMATOLOGIST)
    referral = send(world)
    services.take_case(referral=referral, by=Actor(user=world.derm_x))
    with pytest.raises(ValidationError):
        services.take_case(referral=referral, by=Actor(user=colleague))
    with pytest.raises(ValidationError):
        answer(world, referral, by=colleague)
    # Taking twice by the same dermatologist is harmless.
    assert (
        services.take_case(referral=referral, by=Actor(user=world.derm_x)).assigned_to
        == world.derm_x
    )


# (state, action, allowed) — every transition of the review part of the lifecycle.
TRANSITIONS = [
    ("sent", "take", True),
    ("sent", "release", False),
    ("sent", "answer", False),
    ("sent", "withdraw", True),
    ("in_review", "take", True),  # same dermatologist: idempotent
    ("in_review", "release", True),
    ("in_review", "answer", True),
    ("in_review", "withdraw", False),
    ("answered", "take", False),
    ("answered", "release", False),
    ("answered", "answer", True),  # same author: idempotent
    ("answered", "withdraw", False),
    ("complement", "take", False),
    ("complement", "release", False),
    ("complement", "answer", False),
    ("complement", "withdraw", False),
    ("second_reading", "take", False),
    ("second_reading", "release", False),
    ("second_reading", "answer", True),  # same author: idempotent
    ("second_reading", "withdraw", False),
]


@pytest.mark.parametrize(("state", "action", "allowed"), TRANSITIONS)
def test_state_machine(world: World, state: str, action: str, allowed: bool) -> None:
    if state == "second_reading":
        world.unit_x.second_reading = "all"
        world.unit_x.save()
    referral = send(world)
    if state in ("in_review", "answered", "complement", "second_reading"):
        services.take_case(referral=referral, by=Actor(user=world.derm_x))
    if state in ("answered", "second_reading"):
        answer(world, referral)
    if state == "complement":
        from telederm.review.casework import request_complement

        request_complement(referral=referral, question="Storlek?", by=Actor(user=world.derm_x))
    referral.refresh_from_db()
    assert referral.status == state
    run = {
        "take": lambda: services.take_case(referral=referral, by=Actor(user=world.derm_x)),
        "release": lambda: services.release_case(referral=referral, by=Actor(user=world.derm_x)),
        "answer": lambda: answer(world, referral),
        "withdraw": lambda: referral_services.withdraw_referral(
            referral=referral, reason="Fel patient", by=Actor(user=world.gp_a)
        ),
    }[action]
    if allowed:
        run()
    else:
        with pytest.raises(ValidationError):
            run()


def test_answer_is_sent_once(world: World) -> None:
    referral = send(world)
    services.take_case(referral=referral, by=Actor(user=world.derm_x))
    first = answer(world, referral)
    again = answer(world, referral)
    assert first.pk == again.pk
    assert AuditEvent.objects.filter(action=AuditAction.ANSWER_SENT).count() == 1


def test_follow_up_needs_months(world: World) -> None:
    referral = send(world)
    services.take_case(referral=referral, by=Actor(user=world.derm_x))
    with pytest.raises(ValidationError):
        services.send_answer(
            referral=referral, by=Actor(user=world.derm_x), **{**ANSWER, "follow_up_months": None}
        )


def test_queue_puts_suspected_melanoma_first(world: World) -> None:
    ordinary = send(world)
    urgent = send(world)
    type(urgent).objects.filter(pk=urgent.pk).update(suspicion="melanoma")
    queue = list(services.queue_for(world.derm_x))
    assert queue.index(urgent) < queue.index(ordinary)


def test_take_next_takes_the_most_urgent_unassigned(world: World) -> None:
    send(world)
    urgent = send(world)
    type(urgent).objects.filter(pk=urgent.pk).update(suspicion="melanoma")
    taken = services.take_next(by=Actor(user=world.derm_x))
    assert taken is not None
    assert taken.pk == urgent.pk


def test_answer_draft_autosaves_and_comes_back(client: Client, world: World) -> None:
    referral = send(world)
    services.take_case(referral=referral, by=Actor(user=world.derm_x))
    login(client, world.derm_x)
    response = client.post(
        reverse("review:answer_draft", args=[referral.public_id]),
        {"diagnosis": "dermatofibroma", "text_to_gp": "Halvfärdigt svar"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    page = client.get(reverse("review:case", args=[referral.public_id])).content.decode()
    assert "Halvfärdigt svar" in page
    answer(world, referral)
    from telederm.review.models import AnswerDraft

    assert not AnswerDraft.objects.exists()  # sending clears the draft


def test_only_the_assignee_saves_an_answer_draft(client: Client, world: World) -> None:
    colleague = member(world.unit_x, Role.DERMATOLOGIST)
    referral = send(world)
    services.take_case(referral=referral, by=Actor(user=world.derm_x))
    login(client, colleague)
    response = client.post(
        reverse("review:answer_draft", args=[referral.public_id]), {"text_to_gp": "x"}
    )
    assert response.status_code == 409
