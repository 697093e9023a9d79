"""The question bank: region administrators only, validation, retiring, the seed."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from PIL import Image

from telederm.accounts.models import Role
from telederm.accounts.tests.factories import RegionFactory, member
from telederm.audit.models import Action, AuditEvent
from telederm.audit.services import Actor
from telederm.images.synthetic import TESTDATA, PhotoExif, encode_jpeg, isic_image
from telederm.testing import World, login
from telederm.training import exam
from telederm.training.models import Question
from telederm.training.seed_questions import QUESTIONS
from telederm.training.tests.helpers import make_bank

pytestmark = pytest.mark.django_db


def _form(**overrides: Any) -> dict[str, Any]:
    data = {
        "topic": "dermoscopy",
        "kind": "single",
        "text": "Vad visar bilden?",
        "explanation": "Ett nevus.",
        "image_alt": "Dermatoskopisk bild",
        "option_1": "Nevus",
        "correct_1": "on",
        "option_2": "Melanom",
        "option_3": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_region_admin_creates_a_question_with_an_image_stripped_of_metadata(
    client: Client, world: World
) -> None:
    login(client, world.region_admin)
    raw = encode_jpeg(isic_image("ISIC_0000204").resize((600, 600)), exif=PhotoExif())
    data = _form(image=SimpleUploadedFile("nevus.jpg", raw, content_type="image/jpeg"))
    response = client.post(reverse("training:question_new"), data)
    assert response.status_code == 302
    question = Question.objects.get()
    assert question.region == world.region
    assert [(o.text, o.is_correct) for o in question.options.all()] == [
        ("Nevus", True),
        ("Melanom", False),
    ]
    stored = question.image.read()
    assert stored[:2] == b"\xff\xd8"
    assert b"Exif" not in stored
    assert b"Synthetic 12" not in stored
    image = client.get(reverse("training:question_image", args=[question.public_id]))
    assert image.status_code == 200
    assert AuditEvent.objects.filter(action=Action.QUESTION_CREATED).count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"correct_2": "on"}, "exactly one correct option"),
        ({"option_2": ""}, "at least two answer options"),
        ({"correct_1": None}, "at least one option as correct"),
        ({"explanation": ""}, "This field is required"),
    ],
)
def test_invalid_questions_are_refused_with_a_reason(
    client: Client, world: World, overrides: dict[str, Any], message: str
) -> None:
    world.region_admin.language = "en"
    world.region_admin.save(update_fields=["language"])
    login(client, world.region_admin)
    response = client.post(reverse("training:question_new"), _form(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Question.objects.exists()


def test_a_multiple_choice_question_may_have_several_correct_options(
    client: Client, world: World
) -> None:
    login(client, world.region_admin)
    client.post(reverse("training:question_new"), _form(kind="multiple", correct_2="on"))
    assert Question.objects.get().options.filter(is_correct=True).count() == 2


def test_a_non_image_upload_is_refused(client: Client, world: World) -> None:
    login(client, world.region_admin)
    upload = SimpleUploadedFile("x.jpg", b"not an image at all", content_type="image/jpeg")
    response = client.post(reverse("training:question_new"), _form(image=upload))
    assert response.status_code == 200
    assert not Question.objects.exists()


def test_editing_changes_the_bank_but_not_an_attempt_already_started(
    client: Client, settings: Any, world: World
) -> None:
    settings.TELEDERM_EXAM_QUESTIONS = 5
    bank = make_bank(world.region, per_topic=1, image=False)
    attempt = exam.start_exam(by=Actor(user=world.gp_a))
    item = attempt.items.first()
    assert item is not None
    question = item.question
    login(client, world.region_admin)
    url = reverse("training:question_edit", args=[question.public_id])
    assert client.get(url).status_code == 200
    response = client.post(
        url, _form(topic=question.topic, text="Ny text?", option_1="Ny rätt", option_2="Ny fel")
    )
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.text == "Ny text?"
    assert [o.text for o in question.options.all()] == ["Ny rätt", "Ny fel"]
    item.refresh_from_db()
    assert item.text != "Ny text?"
    assert "Ny rätt" not in json.dumps(item.options)
    assert AuditEvent.objects.filter(action=Action.QUESTION_CHANGED).count() == 1
    assert len(bank) == 6


def test_retiring_and_restoring_a_question(client: Client, world: World) -> None:
    question = make_bank(world.region, per_topic=1, image=False)[0]
    login(client, world.region_admin)
    url = reverse("training:question_retire", args=[question.public_id])
    client.post(url)
    client.post(url)  # twice: one event
    question.refresh_from_db()
    assert not question.is_active
    assert question.retired_at is not None
    assert AuditEvent.objects.filter(action=Action.QUESTION_RETIRED).count() == 1
    listing = client.get(reverse("training:questions")).content.decode()
    assert question.text not in listing
    assert (
        question.text
        in client.get(reverse("training:questions") + "?show=retired").content.decode()
    )
    client.post(url, {"restore": "1"})
    question.refresh_from_db()
    assert question.is_active
    assert question.retired_at is None
    assert AuditEvent.objects.filter(action=Action.QUESTION_RESTORED).count() == 1


def test_another_regions_admin_cannot_see_or_change_the_bank(client: Client, world: World) -> None:
    question = make_bank(world.region, per_topic=1, image=False)[0]
    stranger = member(RegionFactory.create(name="Region Annan"), Role.REGION_ADMIN)
    login(client, stranger)
    assert question.text not in client.get(reverse("training:questions")).content.decode()
    edit = reverse("training:question_edit", args=[question.public_id])
    assert client.get(edit).status_code == 404
    assert client.post(edit, _form(text="Kapad?")).status_code == 404
    retire = reverse("training:question_retire", args=[question.public_id])
    assert client.post(retire).status_code == 404
    question.refresh_from_db()
    assert question.is_active
    assert question.text != "Kapad?"


def test_the_question_list_warns_when_the_bank_is_too_small(
    client: Client, settings: Any, world: World
) -> None:
    settings.TELEDERM_EXAM_QUESTIONS = 20
    world.region_admin.language = "en"
    world.region_admin.save(update_fields=["language"])
    make_bank(world.region, per_topic=1, image=False)
    login(client, world.region_admin)
    html = client.get(reverse("training:questions")).content.decode()
    assert "6 active questions, but an exam draws 20" in html


def test_the_seed_loads_the_starter_bank_once_with_images_that_match_their_diagnosis(
    world: World,
) -> None:
    out = io.StringIO()
    call_command("seed_exam_questions", stdout=out)
    call_command("seed_exam_questions", stdout=out)
    questions = Question.objects.filter(region=world.region)
    assert questions.count() == len(QUESTIONS) >= 25
    assert {q.topic for q in questions} == {
        "clinical",
        "dermoscopy",
        "excision",
        "patient",
        "system",
    }
    assert "0 exam questions added" in out.getvalue()
    metadata = json.loads((TESTDATA / "metadata.json").read_text())
    for seed in (s for s in QUESTIONS if s.image):
        question = questions.get(seed_key=seed.key)
        assert Image.open(question.image.open("rb")).size == (250, 250)
        right = [text for text, correct in seed.options if correct]
        melanoma = metadata[seed.image]["diagnosis"] == "melanoma"
        assert ("melanom" in right[0].lower()) is melanoma, seed.key
        assert seed.image in seed.explanation
    # A region whose bank is seeded can hold an exam at the default size.
    assert exam.active_question_count(world.region) >= 20
