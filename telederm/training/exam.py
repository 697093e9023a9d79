"""The licence exam: draw questions, take answers, score on the server, issue the licence.

Rules (also in docs/training.md)
--------------------------------
* Any user with an active GP role may sit the exam, with or without a licence; the questions
  come from the question bank of their clinic's region.
* ``TELEDERM_EXAM_QUESTIONS`` questions are drawn at random from the active bank, spread evenly
  over the topics (one from each topic in turn). Starting again while an attempt is open
  resumes that attempt: the same questions, never a fresh draw.
* Each question and each option gets a random token per attempt; the page carries only tokens
  and texts. Which options are correct, and the explanations, stay on the server until the
  attempt is closed.
* A question counts as right when the chosen set equals the correct set (single choice: exactly
  one option, the right one). Tokens that do not belong to the question are dropped, repeats
  count once, so no crafted request can raise the score. Pass: ``correct × 100 ≥ pass mark ×
  questions`` (integers, so exactly 60 % passes).
* Time limit (``TELEDERM_EXAM_MINUTES``, 0 = none): answers must arrive by the deadline plus
  ``GRACE`` for the network. The page sends them by itself when the time is up. Answers that
  arrive later are refused: the attempt closes as "time ran out" and counts as failed.
* The first submission closes the attempt; a repeated submission (double tap, replay) returns
  the closed attempt unchanged.
* A pass registers a licence on the user (source "internal exam", reference = the attempt).
  After a failed attempt a new one can start ``TELEDERM_EXAM_COOLDOWN_HOURS`` later.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from random import SystemRandom

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from telederm.accounts.models import Licence, Membership, Organisation, Role, User
from telederm.audit.models import Action
from telederm.audit.services import Actor, record
from telederm.training.models import (
    AttemptItem,
    AttemptStatus,
    ExamAttempt,
    Question,
    QuestionKind,
    Topic,
)

# Network delay allowed between the deadline and the arrival of the answers.
GRACE = timedelta(seconds=30)
_random = SystemRandom()


@dataclass(frozen=True)
class ExamRules:
    questions: int
    minutes: int
    pass_percent: int
    cooldown_hours: int


def rules() -> ExamRules:
    return ExamRules(
        questions=settings.TELEDERM_EXAM_QUESTIONS,
        minutes=settings.TELEDERM_EXAM_MINUTES,
        pass_percent=settings.TELEDERM_EXAM_PASS_PERCENT,
        cooldown_hours=settings.TELEDERM_EXAM_COOLDOWN_HOURS,
    )


def is_pass(correct: int, total: int, pass_percent: int) -> bool:
    """Integer arithmetic, so that exactly the pass mark passes (12 of 20 at 60 %)."""
    return total > 0 and correct * 100 >= pass_percent * total


def gp_membership(user: User) -> Membership | None:
    """The GP role the exam is taken in (the oldest active one), or None for non-GPs."""
    return (
        Membership.objects.filter(
            user=user, role=Role.GP, ended_at__isnull=True, user__is_active=True
        )
        .select_related("organisation__region")
        .order_by("created_at", "pk")
        .first()
    )


def _user(by: Actor) -> User:
    if by.user is None:
        raise PermissionDenied
    return by.user


def _audit(action: Action, attempt: ExamAttempt, by: Actor, **detail: object) -> None:
    record(
        action,
        by=by,
        role=Role.GP,
        organisation=attempt.clinic,
        target=attempt,
        target_label=attempt.user.full_name,
        detail=detail,
    )


# --- drawing -------------------------------------------------------------------------------------


def active_question_count(region: Organisation) -> int:
    return Question.objects.filter(region=region, is_active=True).count()


def draw(region: Organisation, count: int) -> list[Question]:
    """``count`` active questions, taken from each topic in turn so every topic is covered."""
    by_topic: dict[str, list[Question]] = defaultdict(list)
    for question in Question.objects.filter(region=region, is_active=True).prefetch_related(
        "options"
    ):
        by_topic[question.topic].append(question)
    for questions in by_topic.values():
        _random.shuffle(questions)
    topics = [topic for topic in Topic.values if by_topic[topic]]
    _random.shuffle(topics)
    chosen: list[Question] = []
    while len(chosen) < count and any(by_topic[topic] for topic in topics):
        for topic in topics:
            if by_topic[topic] and len(chosen) < count:
                chosen.append(by_topic[topic].pop())
    _random.shuffle(chosen)
    return chosen


def _token(taken: set[str]) -> str:
    while True:
        token = secrets.token_urlsafe(6)
        if token not in taken:
            taken.add(token)
            return token


def _item(attempt: ExamAttempt, question: Question, position: int, taken: set[str]) -> AttemptItem:
    options = [
        {"token": _token(taken), "text": option.text, "correct": option.is_correct}
        for option in question.options.all()
    ]
    _random.shuffle(options)
    return AttemptItem(
        attempt=attempt,
        question=question,
        position=position,
        token=_token(taken),
        topic=question.topic,
        kind=question.kind,
        text=question.text,
        image=question.image.name or "",
        image_alt=question.image_alt,
        explanation=question.explanation,
        options=options,
    )


# --- starting ------------------------------------------------------------------------------------


def retry_allowed_at(user: User, now: datetime | None = None) -> datetime | None:
    """When a user whose last closed attempt failed may start again (None: now)."""
    now = now or timezone.now()
    last = (
        ExamAttempt.objects.filter(user=user)
        .exclude(status=AttemptStatus.OPEN)
        .order_by("-ended_at", "-pk")
        .first()
    )
    if last is None or last.passed or last.ended_at is None:
        return None
    allowed = last.ended_at + timedelta(hours=rules().cooldown_hours)
    return allowed if allowed > now else None


def open_attempt(user: User) -> ExamAttempt | None:
    return ExamAttempt.objects.filter(user=user, status=AttemptStatus.OPEN).first()


def start_exam(*, by: Actor) -> ExamAttempt:
    """Start an attempt, or return the one already open (resuming, not redrawing)."""
    user = _user(by)
    membership = gp_membership(user)
    if membership is None:
        raise PermissionDenied
    clinic = membership.organisation
    region = clinic.region
    assert region is not None  # a clinic always belongs to a region (database constraint)
    exam = rules()
    with transaction.atomic():
        # The user's row lock makes two simultaneous starts queue; the second one resumes.
        User.objects.select_for_update().filter(pk=user.pk).first()
        current = open_attempt(user)
        if current is not None and not expire_if_overdue(attempt=current, by=by):
            return current
        allowed = retry_allowed_at(user)
        if allowed is not None:
            raise ValidationError(
                _("You can take the exam again from %(when)s.")
                % {"when": date_format(timezone.localtime(allowed), "DATETIME_FORMAT")}
            )
        questions = draw(region, exam.questions)
        if len(questions) < exam.questions:
            raise ValidationError(
                _(
                    "The exam cannot start: the question bank has too few active questions "
                    "(%(have)d of %(need)d). Contact the region administrator."
                )
                % {"have": len(questions), "need": exam.questions}
            )
        now = timezone.now()
        attempt = ExamAttempt.objects.create(
            user=user,
            region=region,
            clinic=clinic,
            started_at=now,
            deadline=now + timedelta(minutes=exam.minutes) if exam.minutes else None,
            question_count=len(questions),
            pass_percent=exam.pass_percent,
        )
        taken: set[str] = set()
        AttemptItem.objects.bulk_create(
            [_item(attempt, q, position, taken) for position, q in enumerate(questions, 1)]
        )
        _audit(
            Action.EXAM_STARTED,
            attempt,
            by,
            questions=len(questions),
            minutes=exam.minutes,
            question_ids=[str(q.public_id) for q in questions],
        )
    return attempt


# --- scoring -------------------------------------------------------------------------------------


def clean_choice(item: AttemptItem, submitted: list[str]) -> list[str]:
    """The submitted tokens that belong to this question, each once, in the order received."""
    valid = {option["token"] for option in item.options}
    chosen: list[str] = []
    for token in submitted:
        if token in valid and token not in chosen:
            chosen.append(token)
    return chosen


def is_right(item: AttemptItem, chosen: list[str]) -> bool:
    correct = {option["token"] for option in item.options if option["correct"]}
    if item.kind == QuestionKind.SINGLE and len(chosen) != 1:
        return False
    return set(chosen) == correct


def _close(attempt: ExamAttempt, *, status: str, correct: int, ended_at: datetime) -> None:
    attempt.status = status
    attempt.correct_count = correct
    attempt.ended_at = ended_at
    attempt.passed = status == AttemptStatus.SUBMITTED and is_pass(
        correct, attempt.question_count, attempt.pass_percent
    )


def expire_if_overdue(*, attempt: ExamAttempt, by: Actor) -> bool:
    """Close an open attempt whose time (and grace) has run out; True if it is now expired."""
    if attempt.status != AttemptStatus.OPEN or attempt.deadline is None:
        return attempt.status == AttemptStatus.EXPIRED
    if timezone.now() <= attempt.deadline + GRACE:
        return False
    with transaction.atomic():
        locked = ExamAttempt.objects.select_for_update().get(pk=attempt.pk)
        if locked.status == AttemptStatus.OPEN:
            ended = locked.deadline or timezone.now()
            _close(locked, status=AttemptStatus.EXPIRED, correct=0, ended_at=ended)
            locked.save()
            _audit(Action.EXAM_FAILED, locked, by, reason="time_limit", correct=0)
        attempt.refresh_from_db()
    return attempt.status == AttemptStatus.EXPIRED


def submit_exam(*, attempt: ExamAttempt, answers: dict[str, list[str]], by: Actor) -> ExamAttempt:
    """Score the answers (item token → chosen option tokens) and close the attempt.

    Idempotent: once closed, the attempt is returned as it is, whatever the new answers say.
    """
    user = _user(by)
    with transaction.atomic():
        locked = (
            ExamAttempt.objects.select_for_update(of=("self",))
            .select_related("user", "clinic", "region")
            .get(pk=attempt.pk)
        )
        if locked.user_id != user.pk:
            raise PermissionDenied
        if locked.status != AttemptStatus.OPEN:
            return locked
        now = timezone.now()
        if locked.deadline is not None and now > locked.deadline + GRACE:
            _close(locked, status=AttemptStatus.EXPIRED, correct=0, ended_at=locked.deadline)
            locked.save()
            _audit(Action.EXAM_FAILED, locked, by, reason="late_submission", correct=0)
            return locked
        items = list(locked.items.all())
        for item in items:
            item.chosen = clean_choice(item, answers.get(item.token, []))
            item.is_correct = is_right(item, item.chosen)
        AttemptItem.objects.bulk_update(items, ["chosen", "is_correct"])
        correct = sum(1 for item in items if item.is_correct)
        _close(locked, status=AttemptStatus.SUBMITTED, correct=correct, ended_at=now)
        _audit(Action.EXAM_SUBMITTED, locked, by, correct=correct, questions=len(items))
        if locked.passed:
            locked.licence = _issue_licence(locked, by)
            _audit(Action.EXAM_PASSED, locked, by, correct=correct, questions=len(items))
        else:
            _audit(Action.EXAM_FAILED, locked, by, reason="score", correct=correct)
        locked.save()
    return locked


def _issue_licence(attempt: ExamAttempt, by: Actor) -> Licence:
    assert attempt.ended_at is not None
    licence = Licence.objects.create(
        user=attempt.user,
        passed_on=timezone.localdate(attempt.ended_at),
        issuer=f"Telederm – {attempt.region.name}"[:200],
        reference=str(attempt.public_id),
        source=Licence.Source.INTERNAL,
    )
    record(
        Action.LICENCE_REGISTERED,
        by=by,
        role=Role.GP,
        organisation=attempt.clinic,
        target=attempt.user,
        target_label=attempt.user.full_name,
        detail={
            "passed_on": licence.passed_on.isoformat(),
            "issuer": licence.issuer,
            "source": licence.source,
            "exam_attempt": str(attempt.public_id),
        },
    )
    return licence
