"""Builders for the training tests (and the permission matrix's extras)."""

from __future__ import annotations

import io
import uuid
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from telederm.accounts.models import Organisation
from telederm.audit.services import Actor
from telederm.images.synthetic import TESTDATA
from telederm.training.equipment import run_equipment_test
from telederm.training.models import Equipment, EquipmentTest, ExamAttempt, Question, Topic
from telederm.training.questions import QuestionData, create_question


def isic_bytes(name: str = "ISIC_0000249") -> bytes:
    return (TESTDATA / f"{name}.jpg").read_bytes()


def make_bank(region: Organisation, per_topic: int = 2, *, image: bool = True) -> list[Question]:
    """``per_topic`` single-choice questions in each topic (option A right, B and C wrong), and
    one multiple-choice question (A and B right) in the dermoscopy topic, with an image."""
    questions = []
    for topic in Topic.values:
        for n in range(per_topic):
            questions.append(
                create_question(
                    region=region,
                    data=QuestionData(
                        topic=topic,
                        kind="single",
                        text=f"Fråga {topic} {n}?",
                        explanation=f"Förklaring {topic} {n}: rätt är A.",
                        options=[(f"A {topic} {n}", True), ("B", False), ("C", False)],
                    ),
                    by=Actor.system(),
                )
            )
    questions.append(
        create_question(
            region=region,
            data=QuestionData(
                topic=Topic.DERMOSCOPY,
                kind="multiple",
                text="Vilka två stämmer?",
                explanation="Förklaring flerval: A och B.",
                options=[("A flerval", True), ("B flerval", True), ("C flerval", False)],
                image_alt="Dermatoskopisk bild",
            ),
            image=isic_bytes() if image else None,
            by=Actor.system(),
        )
    )
    return questions


def right_answers(attempt: ExamAttempt) -> dict[str, list[str]]:
    """Item token → the correct option tokens (read from the server side, as a test may)."""
    return {
        item.token: [o["token"] for o in item.options if o["correct"]]
        for item in attempt.items.all()
    }


def wrong_answers(attempt: ExamAttempt) -> dict[str, list[str]]:
    return {
        item.token: [next(o["token"] for o in item.options if not o["correct"])]
        for item in attempt.items.all()
    }


def answers_with(attempt: ExamAttempt, right: int) -> dict[str, list[str]]:
    """The first ``right`` items answered correctly, the rest wrongly."""
    good, bad = right_answers(attempt), wrong_answers(attempt)
    return {
        item.token: (good if item.position <= right else bad)[item.token]
        for item in attempt.items.all()
    }


def post_data(answers: dict[str, list[str]]) -> dict[str, Any]:
    return {f"q-{token}": tokens for token, tokens in answers.items()}


def jpeg(image: Image.Image, quality: int = 92) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def photo_test(equipment: Equipment, raw: bytes, by: Actor) -> EquipmentTest:
    test, _created = run_equipment_test(equipment=equipment, raw=raw, upload_id=uuid.uuid4(), by=by)
    return test


def upload(client: Client, url: str, raw: bytes, *, htmx: bool = True, upload_id: str = "") -> Any:
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        url,
        {
            "file": SimpleUploadedFile("photo.jpg", raw, content_type="image/jpeg"),
            "kind": "dermoscopic",
            "upload_id": upload_id or str(uuid.uuid4()),
        },
        headers=headers,
    )


def training_extras(world: Any) -> dict[str, Any]:
    """URL arguments of the training pages for the permission matrix."""
    from telederm.testing import photo
    from telederm.training.exam import start_exam

    bank = make_bank(world.region)
    attempt = start_exam(by=Actor(user=world.gp_a))
    image_item = attempt.items.exclude(image="").first()
    if image_item is None:  # the question with the image was not drawn: put it in
        item = attempt.items.first()
        assert item is not None
        item.image = bank[-1].image.name
        item.save(update_fields=["image"])
        image_item = item
    equipment = Equipment.objects.filter(clinic=world.clinic_a).get()
    return {
        "attempt_a": attempt.public_id,
        "image_item_a": image_item.token,
        "question": bank[0].public_id,
        "image_question": bank[-1].public_id,
        "equipment_a": equipment.public_id,
        "equipment_test_a": photo_test(equipment, photo(), Actor(user=world.admin_a)).public_id,
    }
