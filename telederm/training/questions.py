"""The question bank: region administrators create, change, retire and restore questions.

A question's image goes through the same ingest as a patient photo (format sniffing, size
limits, metadata stripped); the upright screen copy is stored. Replaced images are kept, since
closed attempts still point at the image they showed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from telederm.accounts.access import administered_regions
from telederm.accounts.models import Organisation, Role
from telederm.audit.models import Action
from telederm.audit.services import Actor, record
from telederm.images.processing import ImageRejected, Limits, ingest
from telederm.training.models import Option, Question, QuestionKind, Topic

MAX_OPTIONS = 6


@dataclass(frozen=True)
class QuestionData:
    topic: str
    kind: str
    text: str
    explanation: str
    options: list[tuple[str, bool]] = field(default_factory=list)  # (text, correct)
    image_alt: str = ""


def validate(data: QuestionData) -> QuestionData:
    """Trimmed data, or a ValidationError that says what to fix."""
    options = [(text.strip(), correct) for text, correct in data.options if text.strip()]
    errors: dict[str, list[str]] = {}
    if data.topic not in Topic.values:
        errors.setdefault("topic", []).append(_("Choose a topic."))
    if data.kind not in QuestionKind.values:
        errors.setdefault("kind", []).append(_("Choose the kind of question."))
    if not data.text.strip():
        errors.setdefault("text", []).append(_("Write the question."))
    if not data.explanation.strip():
        errors.setdefault("explanation", []).append(
            _("Write the explanation shown after the exam.")
        )
    if len(options) < 2:
        errors.setdefault("__all__", []).append(_("Give at least two answer options."))
    if len(options) > MAX_OPTIONS:
        errors.setdefault("__all__", []).append(
            _("Give at most %(n)d answer options.") % {"n": MAX_OPTIONS}
        )
    correct = sum(1 for _text, is_correct in options if is_correct)
    if correct == 0:
        errors.setdefault("__all__", []).append(_("Mark at least one option as correct."))
    elif data.kind == QuestionKind.SINGLE and correct > 1:
        errors.setdefault("__all__", []).append(
            _("A single-choice question has exactly one correct option.")
        )
    if errors:
        raise ValidationError(errors)
    return QuestionData(
        topic=data.topic,
        kind=data.kind,
        text=data.text.strip(),
        explanation=data.explanation.strip(),
        options=options,
        image_alt=data.image_alt.strip()[:300],
    )


def _check_region(region: Organisation, by: Actor) -> None:
    """Region admins change their own region's bank; the system (seed command) any bank."""
    if by.user is None:
        if by != Actor.system():
            raise PermissionDenied
        return
    if not administered_regions(by.user).filter(pk=region.pk).exists():
        raise PermissionDenied


def _image(raw: bytes) -> bytes:
    """The cleaned, upright screen copy of an uploaded teaching image."""
    try:
        result = ingest(
            raw,
            kind="dermoscopic",
            limits=Limits(
                max_bytes=settings.TELEDERM_IMAGE_MAX_BYTES,
                max_pixels=settings.TELEDERM_IMAGE_MAX_PIXELS,
            ),
        )
    except ImageRejected as exc:
        raise ValidationError({"image": [str(exc.message)]}, code=exc.code) from exc
    return result.screen_jpeg


def _save_options(question: Question, options: list[tuple[str, bool]]) -> None:
    # Attempts keep their own copy of the options, so the bank's rows can simply be replaced.
    question.options.all().delete()
    Option.objects.bulk_create(
        Option(question=question, text=text[:500], is_correct=correct, position=position)
        for position, (text, correct) in enumerate(options, 1)
    )


def _audit(action: Action, question: Question, by: Actor, **detail: object) -> None:
    record(
        action,
        by=by,
        role=Role.REGION_ADMIN,
        organisation=question.region,
        target=question,
        target_label=question.text[:200],
        detail=detail,
    )


def create_question(
    *,
    region: Organisation,
    data: QuestionData,
    by: Actor,
    image: bytes | None = None,
    seed_key: str = "",
) -> Question:
    _check_region(region, by)
    data = validate(data)
    cleaned = _image(image) if image else None
    with transaction.atomic():
        question = Question(
            region=region,
            topic=data.topic,
            kind=data.kind,
            text=data.text,
            explanation=data.explanation,
            image_alt=data.image_alt,
            seed_key=seed_key,
            created_by=by.user,
        )
        if cleaned is not None:
            question.image.save("image.jpg", ContentFile(cleaned), save=False)
        question.save()
        _save_options(question, data.options)
        _audit(Action.QUESTION_CREATED, question, by, topic=data.topic, seed=bool(seed_key))
    return question


def update_question(
    *,
    question: Question,
    data: QuestionData,
    by: Actor,
    image: bytes | None = None,
    remove_image: bool = False,
) -> Question:
    _check_region(question.region, by)
    data = validate(data)
    cleaned = _image(image) if image else None
    with transaction.atomic():
        locked = Question.objects.select_for_update().get(pk=question.pk)
        locked.topic = data.topic
        locked.kind = data.kind
        locked.text = data.text
        locked.explanation = data.explanation
        locked.image_alt = data.image_alt
        if cleaned is not None:
            locked.image.save("image.jpg", ContentFile(cleaned), save=False)
        elif remove_image:
            locked.image = ""
        locked.save()
        _save_options(locked, data.options)
        _audit(Action.QUESTION_CHANGED, locked, by, topic=data.topic)
    return locked


def set_active(*, question: Question, active: bool, by: Actor) -> Question:
    """Retire a question (no longer drawn) or bring it back. Repeating either changes nothing."""
    _check_region(question.region, by)
    with transaction.atomic():
        locked = Question.objects.select_for_update().get(pk=question.pk)
        if locked.is_active == active:
            return locked
        locked.is_active = active
        locked.retired_at = None if active else timezone.now()
        locked.save(update_fields=["is_active", "retired_at", "updated_at"])
        _audit(Action.QUESTION_RESTORED if active else Action.QUESTION_RETIRED, locked, by)
    return locked
