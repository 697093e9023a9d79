"""The exam through its pages: nothing to game in the page or in the request, and the result."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from telederm.accounts.models import Licence, Role
from telederm.accounts.tests.factories import member
from telederm.audit.models import Action, AuditEvent
from telederm.audit.services import Actor
from telederm.testing import World, login
from telederm.training import exam
from telederm.training.models import AttemptStatus, ExamAttempt, Option, Question
from telederm.training.tests.helpers import (
    answers_with,
    make_bank,
    post_data,
    right_answers,
    wrong_answers,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def novice(settings: Any, world: World) -> Any:
    settings.TELEDERM_EXAM_QUESTIONS = 5
    settings.TELEDERM_EXAM_PASS_PERCENT = 60
    make_bank(world.region)
    user = member(world.clinic_a, Role.GP, first_name="Nils", language="en")
    return user


def _started(client: Client, user: Any) -> ExamAttempt:
    login(client, user)
    response = client.post(reverse("training:exam_start"))
    assert response.status_code == 302
    attempt = ExamAttempt.objects.get(user=user)
    assert response["Location"] == reverse("training:attempt", args=[attempt.public_id])
    return attempt


def _submit(client: Client, attempt: ExamAttempt, data: dict[str, Any]) -> ExamAttempt:
    url = reverse("training:attempt_submit", args=[attempt.public_id])
    response = client.post(url, data)
    assert response.status_code == 302
    attempt.refresh_from_db()
    return attempt


def test_the_page_carries_no_correctness_no_explanation_and_no_bank_ids(
    client: Client, novice: Any
) -> None:
    attempt = _started(client, novice)
    html = client.get(reverse("training:attempt", args=[attempt.public_id])).content.decode()

    for item in attempt.items.all():
        assert item.text.split("?")[0] in html
        assert item.explanation not in html
        for option in item.options:
            assert f'value="{option["token"]}"' in html
    for question in Question.objects.all():
        assert str(question.public_id) not in html
        assert question.explanation not in html
    # "correct" appears only in the instruction of multiple-choice questions, nowhere in markup.
    multiple = sum(1 for item in attempt.items.all() if item.kind == "multiple")
    assert html.lower().count("correct") == html.count("Choose every correct option.") == multiple
    assert not re.search(r"explanation|r[äa]tt svar|förklaring", html, re.IGNORECASE)
    option_pks = {str(pk) for pk in Option.objects.values_list("pk", flat=True)}
    values = set(re.findall(r'name="q-[^"]+" value="([^"]+)"', html))
    assert values
    assert not values & option_pks
    # The options of a question are in the page in a shuffled order of tokens; nothing in the
    # markup tells the right option from the others.
    for item in attempt.items.all():
        pattern = rf'<label class="exam-option"><input type="(?:radio|checkbox)" name="q-{re.escape(item.token)}" value="[^"]+"><span>'
        labels = re.findall(pattern, html)
        assert len(labels) == len(item.options)


def test_each_question_is_a_fieldset_with_a_legend_and_labelled_options(
    client: Client, novice: Any
) -> None:
    attempt = _started(client, novice)
    html = client.get(reverse("training:attempt", args=[attempt.public_id])).content.decode()
    assert html.count("<fieldset") == attempt.question_count
    assert html.count("<legend") == attempt.question_count
    assert html.count('<label class="exam-option">') == sum(
        len(item.options) for item in attempt.items.all()
    )


def test_right_answers_through_the_page_pass_and_show_the_explanations(
    client: Client, novice: Any
) -> None:
    attempt = _started(client, novice)
    attempt = _submit(client, attempt, post_data(right_answers(attempt)))
    assert attempt.passed
    result = client.get(reverse("training:attempt", args=[attempt.public_id])).content.decode()
    assert "Passed" in result
    for item in attempt.items.all():
        assert item.explanation in result
    assert "correct answer" in result
    assert "your answer" in result


@pytest.mark.parametrize("craft", ["extra", "repeated", "foreign", "every_option", "other_attempt"])
def test_a_crafted_request_cannot_raise_the_score(
    client: Client, world: World, novice: Any, craft: str
) -> None:
    """Two questions answered right, the rest wrong, plus the crafted additions: still 2."""
    attempt = _started(client, novice)
    honest = answers_with(attempt, 2)
    right = right_answers(attempt)
    data: dict[str, Any] = post_data(honest)
    items = list(attempt.items.all())
    if craft == "extra":
        # Fields that are no question of this attempt, and a score of our own making.
        data.update({"q-nonexistent": [items[0].options[0]["token"]], "score": "100"})
        data["correct_count"] = str(len(items))
    elif craft == "repeated":
        for item in items[2:]:
            data[f"q-{item.token}"] = honest[item.token] * 3
    elif craft == "foreign":
        # Under each wrongly answered question, the right tokens of the other questions.
        for item in items[2:]:
            others = [t for other in items if other.pk != item.pk for t in right[other.token]]
            data[f"q-{item.token}"] = honest[item.token] + others
    elif craft == "every_option":
        for item in items[2:]:
            data[f"q-{item.token}"] = [o["token"] for o in item.options]
    elif craft == "other_attempt":
        other_gp = member(world.clinic_a, Role.GP, first_name="Olle")
        other = exam.start_exam(by=Actor(user=other_gp))
        stolen = list(right_answers(other).values())
        for index, item in enumerate(items[2:]):
            data[f"q-{item.token}"] = honest[item.token] + stolen[index % len(stolen)]
    attempt = _submit(client, attempt, data)
    assert attempt.correct_count == 2
    assert attempt.passed is False
    assert not Licence.objects.filter(user=novice).exists()


def test_repeating_the_right_option_of_a_single_choice_question_counts_once(
    client: Client, novice: Any
) -> None:
    attempt = _started(client, novice)
    right = right_answers(attempt)
    data = post_data(wrong_answers(attempt))
    single = next(item for item in attempt.items.all() if item.kind == "single")
    data[f"q-{single.token}"] = right[single.token] * 4
    attempt = _submit(client, attempt, data)
    assert attempt.correct_count == 1
    assert attempt.items.get(pk=single.pk).chosen == right[single.token]


def test_submitting_twice_keeps_the_first_result(client: Client, novice: Any) -> None:
    attempt = _started(client, novice)
    first = _submit(client, attempt, post_data(right_answers(attempt)))
    assert first.passed
    second = _submit(client, attempt, post_data(wrong_answers(attempt)))
    assert second.correct_count == first.correct_count == attempt.question_count
    assert second.ended_at == first.ended_at
    assert Licence.objects.filter(user=novice).count() == 1
    assert AuditEvent.objects.filter(action=Action.EXAM_SUBMITTED).count() == 1


def test_a_failed_attempt_shows_the_score_and_the_cool_down(client: Client, novice: Any) -> None:
    attempt = _started(client, novice)
    attempt = _submit(client, attempt, post_data(answers_with(attempt, 2)))
    assert attempt.status == AttemptStatus.SUBMITTED
    assert attempt.passed is False
    html = client.get(reverse("training:attempt", args=[attempt.public_id])).content.decode()
    assert "2 of 5 correct; at least 60 % is needed." in html
    assert "You can try again after 24 hours." in html


def test_the_exam_page_explains_the_rules_and_offers_the_start(client: Client, novice: Any) -> None:
    login(client, novice)
    html = client.get(reverse("training:exam")).content.decode()
    assert "5 questions" in html
    assert "at least 60 % correct" in html
    assert reverse("training:exam_start") in html


def test_the_start_page_of_a_gp_without_licence_links_to_the_exam(
    client: Client, novice: Any
) -> None:
    login(client, novice)
    assert reverse("training:exam") in client.get(reverse("web:start")).content.decode()


def test_the_question_image_is_served_only_through_the_attempt(
    client: Client, world: World, novice: Any
) -> None:
    attempt = _started(client, novice)
    item = attempt.items.exclude(image="").first()
    if item is None:  # the question with the image was not drawn: show its image anyway
        item = attempt.items.all()[0]
        item.image = Question.objects.exclude(image="").get().image.name
        item.save(update_fields=["image"])
    html = client.get(reverse("training:attempt", args=[attempt.public_id])).content.decode()
    assert Question.objects.exclude(image="").get().image.name not in html
    url = reverse("training:attempt_image", args=[attempt.public_id, item.token])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"  # type: ignore[attr-defined]
    login(client, world.gp_b)
    assert client.get(url).status_code == 404
