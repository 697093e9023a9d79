"""The GP's licence exam: overview, start, the questions, submission and the result."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from telederm.accounts.access import me
from telederm.audit.services import Actor
from telederm.training import access, exam
from telederm.training.models import AttemptStatus, ExamAttempt, Topic


def exam_view(request: HttpRequest) -> HttpResponse:
    user = me(request)
    membership = access.require_gp(user)
    current = exam.open_attempt(user)
    if current is not None and exam.expire_if_overdue(
        attempt=current, by=Actor.from_request(request)
    ):
        current = None
    region = membership.organisation.region
    rules = exam.rules()
    return render(
        request,
        "training/exam.html",
        {
            "licence": user.valid_licence(),
            "rules": rules,
            "open_attempt": current,
            "retry_at": exam.retry_allowed_at(user),
            "attempts": ExamAttempt.objects.filter(user=user).exclude(status=AttemptStatus.OPEN),
            "enough_questions": region is not None
            and exam.active_question_count(region) >= rules.questions,
        },
    )


@require_POST
def start_view(request: HttpRequest) -> HttpResponse:
    access.require_gp(me(request))
    try:
        attempt = exam.start_exam(by=Actor.from_request(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("training:exam")
    return redirect("training:attempt", attempt_id=attempt.public_id)


def _questions_context(attempt: ExamAttempt) -> list[dict[str, Any]]:
    """What the page may show before the end: texts and tokens, never correctness."""
    topics = dict(Topic.choices)
    return [
        {
            "token": item.token,
            "position": item.position,
            "multiple": item.kind == "multiple",
            "topic": topics.get(item.topic, ""),
            "text": item.text,
            "has_image": bool(item.image),
            "image_alt": item.image_alt,
            "options": [{"token": o["token"], "text": o["text"]} for o in item.options],
        }
        for item in attempt.items.all()
    ]


def _result_context(attempt: ExamAttempt) -> list[dict[str, Any]]:
    topics = dict(Topic.choices)
    rows = []
    for item in attempt.items.all():
        chosen = set(item.chosen)
        rows.append(
            {
                "item": item,
                "topic": topics.get(item.topic, ""),
                "options": [
                    {"text": o["text"], "correct": o["correct"], "chosen": o["token"] in chosen}
                    for o in item.options
                ],
            }
        )
    return rows


def attempt_view(request: HttpRequest, attempt_id: UUID) -> HttpResponse:
    attempt = access.get_attempt_for(me(request), attempt_id)
    exam.expire_if_overdue(attempt=attempt, by=Actor.from_request(request))
    if attempt.status == AttemptStatus.OPEN:
        remaining = None
        if attempt.deadline is not None:
            remaining = max(0, int((attempt.deadline - timezone.now()).total_seconds()))
        return render(
            request,
            "training/attempt.html",
            {
                "attempt": attempt,
                "questions": _questions_context(attempt),
                "remaining_seconds": remaining,
            },
        )
    return render(
        request,
        "training/result.html",
        {"attempt": attempt, "rows": _result_context(attempt), "rules": exam.rules()},
    )


@require_POST
def submit_view(request: HttpRequest, attempt_id: UUID) -> HttpResponse:
    attempt = access.get_attempt_for(me(request), attempt_id)
    # Only this attempt's own questions are read; any other field in the request is ignored.
    answers = {
        item.token: request.POST.getlist(f"q-{item.token}")
        for item in attempt.items.only("token", "attempt")
    }
    exam.submit_exam(attempt=attempt, answers=answers, by=Actor.from_request(request))
    return redirect("training:attempt", attempt_id=attempt.public_id)


@require_GET
def attempt_image_view(request: HttpRequest, attempt_id: UUID, token: str) -> FileResponse:
    attempt = access.get_attempt_for(me(request), attempt_id)
    item = attempt.items.filter(token=token).exclude(image="").first()
    if item is None or not default_storage.exists(item.image):
        raise Http404
    response = FileResponse(default_storage.open(item.image, "rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response
