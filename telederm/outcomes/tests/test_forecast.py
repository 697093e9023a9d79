"""The capacity forecast against a simulated history whose answer is known."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from telederm.outcomes.forecast import answer_days, forecast, measure
from telederm.outcomes.numbers import Ratio
from telederm.outcomes.tests import helpers
from telederm.referrals.models import ReferralStatus
from telederm.testing import World, login

pytestmark = pytest.mark.django_db


def test_answer_days_first_come_first_served() -> None:
    assert answer_days(5, 1.0) == [0, 1, 2, 3, 4]
    assert answer_days(5, 2.0) == [0, 0, 1, 1, 2]
    assert answer_days(3, 0.5) == [1, 3, 5]
    assert answer_days(2, 0) == [None, None]
    assert answer_days(0, 3.0) == []


@pytest.fixture
def simulated(world: World) -> None:
    """Unit X over the last four weeks: Disa answered two cases on every other day (14 days,
    28 answers, each sent the same morning); unit Y's work must not count. Now five cases are
    open, with deadlines today, tomorrow (two), in five days and in seven days."""
    today = timezone.localdate()
    for day in range(1, 29, 2):
        for _n in range(2):
            sent = helpers.local(today - timedelta(days=day), 8)
            referral = helpers.bare_referral(world, sent_at=sent, status=ReferralStatus.IN_REVIEW)
            helpers.bare_answer(referral, world.derm_x, sent + timedelta(hours=5))
    other = helpers.bare_referral(
        world,
        sent_at=helpers.local(today - timedelta(days=3)),
        status=ReferralStatus.IN_REVIEW,
        unit=world.unit_y,
    )
    helpers.bare_answer(other, world.derm_y, helpers.local(today - timedelta(days=2)))
    for deadline_in in (0, 1, 1, 5, 7):
        helpers.bare_referral(world, sent_at=helpers.local(today + timedelta(days=deadline_in - 7)))


def test_capacity_is_measured_from_the_history(world: World, simulated: None) -> None:
    capacity = measure(world.unit_x, weeks=4)
    assert capacity.days == 28
    assert capacity.answers == 28
    assert capacity.dermatologist_days == 14
    assert capacity.answers_per_dermatologist_day == pytest.approx(2.0)
    assert capacity.dermatologist_days_per_week == pytest.approx(3.5)
    assert capacity.per_day() == pytest.approx(1.0)
    assert capacity.incoming == 28 + 4  # the open case sent today is not in the window
    assert capacity.incoming_per_day == pytest.approx(32 / 28)


def test_forecast_of_the_queue(world: World, simulated: None) -> None:
    today = timezone.localdate()
    result = forecast(world.unit_x, weeks=4)
    assert result.per_day == pytest.approx(1.0)
    # Answered today, +1, +2, +3, +4 against deadlines today, +1, +1, +5, +7.
    assert result.expected == [today + timedelta(days=d) for d in range(5)]
    assert result.meets == Ratio(4, 5)
    assert result.by_deadline() == [
        (today, Ratio(1, 1)),
        (today + timedelta(days=1), Ratio(1, 2)),
        (today + timedelta(days=5), Ratio(1, 1)),
        (today + timedelta(days=7), Ratio(1, 1)),
    ]
    assert result.new_case_days == 5
    assert result.utilisation == pytest.approx(32 / 28)
    # Twice the staffing: two answers a day, every case on time.
    planned = forecast(world.unit_x, weeks=4, dermatologist_days_per_week=7)
    assert planned.per_day == pytest.approx(2.0)
    assert planned.meets == Ratio(5, 5)
    # Unit Y: one answer on one day in four weeks, nothing open.
    other = forecast(world.unit_y, weeks=4)
    assert other.capacity.answers == 1
    assert other.meets == Ratio(0, 0)


def test_without_history_nothing_is_expected(world: World) -> None:
    helpers.bare_referral(world, sent_at=timezone.now())
    result = forecast(world.unit_x)
    assert result.per_day == 0
    assert result.meets == Ratio(0, 1)
    assert result.new_case_days is None
    assert result.utilisation is None


@pytest.mark.parametrize(
    ("persona", "unit", "status"),
    [
        ("derm_x", "unit_x", 200),
        ("derm_x", "unit_y", 404),
        ("region_admin", "unit_y", 200),
        ("gp_a", "unit_x", 403),
        ("admin_a", "unit_x", 403),
    ],
)
def test_who_sees_a_units_forecast(
    client: Client, world: World, persona: str, unit: str, status: int
) -> None:
    login(client, getattr(world, persona))
    url = reverse("outcomes:unit", args=[getattr(world, unit).public_id])
    assert client.get(url).status_code == status


def test_the_unit_page(client: Client, world: World, simulated: None) -> None:
    login(client, world.derm_x)
    url = reverse("outcomes:unit", args=[world.unit_x.public_id])
    page = client.get(url).content.decode()
    assert "4 of the 5 open cases are expected to be answered by their deadline." in page
    assert "the queue grows" in page
    assert "How the forecast is made" in page
    planned = client.get(url, {"staffing": "7"}).content.decode()
    assert "5 of the 5 open cases" in planned
    wrong = client.get(url, {"staffing": "many"}).content.decode()
    assert "Give the dermatologist-days per week as a number" in wrong
