"""The licence exam: drawing, scoring, the pass mark, licences, time limit, cool-down."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any, cast

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from telederm.accounts.models import Licence, Role
from telederm.accounts.queries import clinics_with_licence_counts, licensed_gp_count
from telederm.accounts.tests.factories import member
from telederm.audit.models import Action, AuditEvent
from telederm.audit.services import Actor
from telederm.referrals import services as referral_services
from telederm.referrals.models import ReferralStatus
from telederm.referrals.tests.helpers import complete
from telederm.testing import World, login
from telederm.training import exam
from telederm.training.models import AttemptStatus, ExamAttempt, Question, Topic
from telederm.training.questions import set_active
from telederm.training.tests.helpers import (
    answers_with,
    make_bank,
    right_answers,
    wrong_answers,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def five(settings: Any, world: World) -> None:
    """Five questions per exam from a bank of 2 per topic (+1), 30 minutes, pass at 60 %."""
    settings.TELEDERM_EXAM_QUESTIONS = 5
    settings.TELEDERM_EXAM_MINUTES = 30
    settings.TELEDERM_EXAM_PASS_PERCENT = 60
    settings.TELEDERM_EXAM_COOLDOWN_HOURS = 24
    make_bank(world.region)


@pytest.fixture
def novice(world: World) -> Any:
    """A GP at clinic A without a licence."""
    return member(world.clinic_a, Role.GP, first_name="Nils")


def _start(user: Any) -> ExamAttempt:
    return exam.start_exam(by=Actor(user=user))


def _submit(attempt: ExamAttempt, answers: dict[str, list[str]], user: Any) -> ExamAttempt:
    return exam.submit_exam(attempt=attempt, answers=answers, by=Actor(user=user))


# --- the pass mark ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("correct", "total", "passed"),
    [(12, 20, True), (11, 20, False), (3, 5, True), (2, 5, False), (13, 22, False), (20, 20, True)],
)
def test_exactly_the_pass_mark_passes_and_anything_under_fails(
    correct: int, total: int, passed: bool
) -> None:
    assert exam.is_pass(correct, total, 60) is passed


@pytest.mark.parametrize(("right", "passed"), [(3, True), (2, False)])
def test_three_of_five_passes_and_two_of_five_fails(
    five: None, novice: Any, right: int, passed: bool
) -> None:
    attempt = _start(novice)
    attempt = _submit(attempt, answers_with(attempt, right), novice)
    assert attempt.status == AttemptStatus.SUBMITTED
    assert attempt.correct_count == right
    assert attempt.passed is passed
    assert (novice.valid_licence() is not None) is passed


# --- the licence ----------------------------------------------------------------------------


def test_a_pass_issues_a_licence_from_the_internal_exam_with_a_reference_to_the_attempt(
    five: None, novice: Any
) -> None:
    attempt = _start(novice)
    attempt = _submit(attempt, right_answers(attempt), novice)
    licence = novice.valid_licence()
    assert licence is not None
    assert licence.source == Licence.Source.INTERNAL
    assert licence.reference == str(attempt.public_id)
    assert licence.passed_on == timezone.localdate()
    assert attempt.licence == licence
    assert licence.exam_attempt == attempt
    actions = list(
        AuditEvent.objects.filter(action__startswith="training.exam").values_list(
            "action", flat=True
        )
    )
    assert Counter(actions) == Counter(
        {Action.EXAM_STARTED: 1, Action.EXAM_SUBMITTED: 1, Action.EXAM_PASSED: 1}
    )
    assert AuditEvent.objects.filter(
        action=Action.LICENCE_REGISTERED, detail__source="internal"
    ).exists()


def test_the_exam_licence_shows_on_the_clinic_page_and_counts_for_the_region(
    client: Client, world: World, five: None, novice: Any
) -> None:
    before = licensed_gp_count(world.clinic_a)
    attempt = _start(novice)
    _submit(attempt, right_answers(attempt), novice)

    assert licensed_gp_count(world.clinic_a) == before + 1
    counts = {c.pk: cast(Any, c).licensed_gps for c in clinics_with_licence_counts(world.region)}
    assert counts[world.clinic_a.pk] == before + 1
    world.admin_a.language = "en"
    world.admin_a.save(update_fields=["language"])
    login(client, world.admin_a)
    page = client.get(reverse("accounts:organisation", args=[world.clinic_a.public_id]))
    text = page.content.decode()
    row = text[text.index(novice.email) :].split("</tr>", 1)[0]
    assert f"Valid, {timezone.localdate().isoformat()}" in row
    assert "(exam in Telederm)" in row
    user_page = client.get(
        reverse("accounts:user_edit", args=[world.clinic_a.public_id, novice.public_id])
    )
    assert "Internal exam" in user_page.content.decode()


def test_a_gp_without_a_licence_cannot_send_but_can_after_passing_the_exam(
    world: World, five: None, novice: Any
) -> None:
    referral = complete(world, novice)
    with pytest.raises(ValidationError, match="licen"):
        referral_services.submit_referral(referral=referral, by=Actor(user=novice))
    attempt = _start(novice)
    _submit(attempt, right_answers(attempt), novice)
    sent = referral_services.submit_referral(referral=referral, by=Actor(user=novice))
    assert sent.status == ReferralStatus.SENT


def test_external_licences_are_still_registered_by_the_center_admin(
    client: Client, world: World, novice: Any
) -> None:
    login(client, world.admin_a)
    url = reverse("accounts:licence_add", args=[world.clinic_a.public_id, novice.public_id])
    client.post(url, {"passed_on": "2025-01-15", "issuer": "Regional course", "reference": "R-9"})
    licence = novice.valid_licence()
    assert licence is not None
    assert licence.source == Licence.Source.EXTERNAL


# --- drawing --------------------------------------------------------------------------------


def test_questions_are_spread_over_the_topics(settings: Any, world: World, novice: Any) -> None:
    settings.TELEDERM_EXAM_QUESTIONS = 10
    make_bank(world.region, per_topic=4)
    attempt = _start(novice)
    per_topic = Counter(attempt.items.values_list("topic", flat=True))
    assert per_topic == dict.fromkeys(Topic.values, 2)


def test_retired_questions_are_not_drawn(settings: Any, world: World, novice: Any) -> None:
    settings.TELEDERM_EXAM_QUESTIONS = 5
    bank = make_bank(world.region, per_topic=1, image=False)
    retired = bank[0]
    set_active(question=retired, active=False, by=Actor(user=world.region_admin))
    attempt = _start(novice)
    assert retired.pk not in set(attempt.items.values_list("question_id", flat=True))


def test_the_exam_does_not_start_when_the_bank_is_too_small(
    settings: Any, world: World, novice: Any
) -> None:
    settings.TELEDERM_EXAM_QUESTIONS = 20
    make_bank(world.region, per_topic=1, image=False)  # 6 questions
    with translation.override("en"), pytest.raises(ValidationError, match="too few"):
        _start(novice)
    assert not ExamAttempt.objects.exists()


def test_starting_again_resumes_the_open_attempt_with_the_same_questions(
    five: None, novice: Any
) -> None:
    first = _start(novice)
    again = _start(novice)
    assert again.pk == first.pk
    assert ExamAttempt.objects.count() == 1


def test_tokens_are_random_per_attempt(five: None, novice: Any, world: World) -> None:
    one = _start(novice)
    other = _start(world.gp_b)
    tokens_one = {i.token for i in one.items.all()} | {
        o["token"] for i in one.items.all() for o in i.options
    }
    tokens_other = {i.token for i in other.items.all()} | {
        o["token"] for i in other.items.all() for o in i.options
    }
    assert not tokens_one & tokens_other
    ids = {str(q.public_id) for q in Question.objects.all()} | {
        str(pk) for pk in Question.objects.values_list("pk", flat=True)
    }
    assert not tokens_one & ids


# --- cool-down ------------------------------------------------------------------------------


def test_after_a_failed_attempt_the_next_one_waits_for_the_cool_down(
    five: None, novice: Any
) -> None:
    attempt = _start(novice)
    _submit(attempt, wrong_answers(attempt), novice)
    with translation.override("en"), pytest.raises(ValidationError, match="again from"):
        _start(novice)
    ExamAttempt.objects.filter(pk=attempt.pk).update(
        ended_at=timezone.now() - timedelta(hours=24, minutes=1)
    )
    assert _start(novice).pk != attempt.pk


def test_the_cool_down_is_shown_and_enforced_through_the_pages(
    client: Client, five: None, novice: Any
) -> None:
    attempt = _start(novice)
    _submit(attempt, wrong_answers(attempt), novice)
    login(client, novice)
    page = client.get(reverse("training:exam"))
    assert page.status_code == 200
    assert b'action="/training/exam/start/"' not in page.content
    response = client.post(reverse("training:exam_start"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("training:exam")
    assert ExamAttempt.objects.filter(user=novice).count() == 1


def test_a_pass_has_no_cool_down(five: None, novice: Any) -> None:
    attempt = _start(novice)
    _submit(attempt, right_answers(attempt), novice)
    assert exam.retry_allowed_at(novice) is None


# --- time limit -------------------------------------------------------------------------------


def test_answers_arriving_within_the_grace_after_the_deadline_are_scored(
    five: None, novice: Any
) -> None:
    attempt = _start(novice)
    ExamAttempt.objects.filter(pk=attempt.pk).update(
        deadline=timezone.now() - exam.GRACE + timedelta(seconds=5)
    )
    attempt.refresh_from_db()
    done = _submit(attempt, right_answers(attempt), novice)
    assert done.status == AttemptStatus.SUBMITTED
    assert done.passed


def test_answers_arriving_after_the_time_limit_are_refused_and_the_attempt_fails(
    five: None, novice: Any
) -> None:
    attempt = _start(novice)
    ExamAttempt.objects.filter(pk=attempt.pk).update(
        deadline=timezone.now() - exam.GRACE - timedelta(seconds=1)
    )
    attempt.refresh_from_db()
    done = _submit(attempt, right_answers(attempt), novice)
    assert done.status == AttemptStatus.EXPIRED
    assert done.passed is False
    assert done.correct_count == 0
    assert done.ended_at == done.deadline
    assert novice.valid_licence() is None
    assert not any(item.chosen for item in done.items.all())
    assert AuditEvent.objects.filter(
        action=Action.EXAM_FAILED, detail__reason="late_submission"
    ).exists()


def test_an_abandoned_attempt_expires_when_next_opened_and_starts_the_cool_down(
    client: Client, five: None, novice: Any
) -> None:
    attempt = _start(novice)
    ExamAttempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(minutes=5))
    login(client, novice)
    page = client.get(reverse("training:attempt", args=[attempt.public_id]))
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.EXPIRED
    assert b"q-" not in page.content  # the result page, not the questions
    assert exam.retry_allowed_at(novice) is not None


def test_without_a_time_limit_the_attempt_has_no_deadline(
    settings: Any, five: None, novice: Any
) -> None:
    settings.TELEDERM_EXAM_MINUTES = 0
    attempt = _start(novice)
    assert attempt.deadline is None
    ExamAttempt.objects.filter(pk=attempt.pk).update(started_at=timezone.now() - timedelta(days=3))
    attempt.refresh_from_db()
    assert _submit(attempt, right_answers(attempt), novice).passed
