"""Will the seven-day promise hold? A review unit's capacity and a forecast for its queue.

The model, deliberately simple (``docs/outcomes.md`` explains it to its users):

1. **Incoming rate**: referrals sent to the unit over the last N weeks
   (``TELEDERM_FORECAST_WEEKS``, default 4), per calendar day.
2. **Capacity**: answers the unit sent over the same weeks, per *dermatologist-day* (a day on
   which one dermatologist sent at least one answer), times the dermatologist-days per
   calendar day — measured, or as planned when the page is given a planned number per week.
3. **Queue**: the cases open now, answered first come first served *by deadline* at that
   capacity, starting today (today counts as a whole day). Case k is answered on day
   ⌈k / capacity⌉ − 1 counted from today; it keeps the promise if that day is on or before its
   deadline. Cases waiting for the clinic's complement are counted as if the reply came at once.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone

from telederm.accounts.models import Organisation
from telederm.outcomes.numbers import Ratio
from telederm.outcomes.queries import local_midnight
from telederm.referrals.models import SUBMITTED_STATES, Referral, ReferralStatus

OPEN = (
    ReferralStatus.SENT,
    ReferralStatus.IN_REVIEW,
    ReferralStatus.COMPLEMENT_REQUESTED,
    ReferralStatus.SECOND_READING,
)


def forecast_weeks() -> int:
    return int(getattr(settings, "TELEDERM_FORECAST_WEEKS", 4))


@dataclass(frozen=True)
class Capacity:
    start: date  # first day of the window
    days: int  # calendar days in the window (it ends yesterday)
    incoming: int
    answers: int
    dermatologist_days: int

    @property
    def incoming_per_day(self) -> float:
        return self.incoming / self.days

    @property
    def answers_per_dermatologist_day(self) -> float | None:
        return self.answers / self.dermatologist_days if self.dermatologist_days else None

    @property
    def dermatologist_days_per_week(self) -> float:
        return 7 * self.dermatologist_days / self.days

    def per_day(self, dermatologist_days_per_week: float | None = None) -> float:
        """Answers per calendar day: measured, or with a planned staffing."""
        rate = self.answers_per_dermatologist_day or 0.0
        staffing = (
            self.dermatologist_days_per_week
            if dermatologist_days_per_week is None
            else dermatologist_days_per_week
        )
        return rate * staffing / 7


def measure(unit: Organisation, today: date | None = None, weeks: int | None = None) -> Capacity:
    today = today or timezone.localdate()
    days = 7 * (weeks or forecast_weeks())
    start = today - timedelta(days=days)
    window = {"review_unit": unit}
    incoming = Referral.objects.filter(
        **window,
        status__in=SUBMITTED_STATES,
        sent_at__gte=local_midnight(start),
        sent_at__lt=local_midnight(today),
    ).count()
    answered = Referral.objects.filter(
        **window,
        status=ReferralStatus.ANSWERED,
        answered_at__gte=local_midnight(start),
        answered_at__lt=local_midnight(today),
    ).values_list("answer__author_id", "answered_at")
    author_days = [(author, timezone.localdate(at)) for author, at in answered]
    return Capacity(
        start=start,
        days=days,
        incoming=incoming,
        answers=len(author_days),
        dermatologist_days=len(set(author_days)),
    )


def answer_days(count: int, per_day: float) -> list[int | None]:
    """Days from today until each of ``count`` queued cases is answered (None: never)."""
    if per_day <= 0:
        return [None] * count
    # The small tolerance keeps exact ratios (k / 2.0 = 3) from rounding up a day.
    return [math.ceil(k / per_day - 1e-9) - 1 for k in range(1, count + 1)]


@dataclass(frozen=True)
class Forecast:
    today: date
    capacity: Capacity
    per_day: float
    deadlines: list[date]  # of the open cases, earliest first
    expected: list[date | None]  # the day each is expected to be answered

    @property
    def meets(self) -> Ratio:
        kept = sum(
            1
            for deadline, on in zip(self.deadlines, self.expected, strict=True)
            if on is not None and on <= deadline
        )
        return Ratio(kept, len(self.deadlines))

    @property
    def utilisation(self) -> float | None:
        """Incoming per day over capacity per day: above 1 the queue grows."""
        return None if self.per_day <= 0 else self.capacity.incoming_per_day / self.per_day

    @property
    def new_case_days(self) -> int | None:
        """Days until a case sent today would be answered, behind the whole current queue."""
        return answer_days(len(self.deadlines) + 1, self.per_day)[-1]

    def by_deadline(self) -> list[tuple[date, Ratio]]:
        """Per deadline date: how many of its cases are expected to keep it."""
        total: Counter[date] = Counter()
        kept: Counter[date] = Counter()
        for deadline, on in zip(self.deadlines, self.expected, strict=True):
            total[deadline] += 1
            kept[deadline] += on is not None and on <= deadline
        return [(day, Ratio(kept[day], total[day])) for day in sorted(total)]


def forecast(
    unit: Organisation,
    today: date | None = None,
    weeks: int | None = None,
    dermatologist_days_per_week: float | None = None,
) -> Forecast:
    today = today or timezone.localdate()
    capacity = measure(unit, today, weeks)
    per_day = capacity.per_day(dermatologist_days_per_week)
    deadlines = [
        deadline
        for deadline in Referral.objects.filter(review_unit=unit, status__in=OPEN)
        .order_by("deadline", "sent_at", "pk")
        .values_list("deadline", flat=True)
        if deadline is not None
    ]
    expected = [
        None if days is None else today + timedelta(days=days)
        for days in answer_days(len(deadlines), per_day)
    ]
    return Forecast(
        today=today, capacity=capacity, per_day=per_day, deadlines=deadlines, expected=expected
    )
