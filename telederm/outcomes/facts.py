"""The few row sets every statistic is computed from, each fetched once per queryset.

A column of the statistics page is one queryset of referrals, and most of its figures read the
same rows: the answered referrals' answers and times feed the time to answer, the days
histogram, the split by complement, the per-reviewer figures and the decisions; the follow-ups
feed coverage, excisions, lead times and concordance. Each row set is therefore fetched once per
QuerySet *object* and kept on it: a QuerySet lives for one request (the report's columns are
built per request), and a filtered copy is a new object that fetches its own, so nothing is
shared between requests or goes stale.

Every row carries its clinic, so a column that is another column's referrals of some clinics
(the clinic perspective's own clinic and "other clinics", both parts of the region's column)
is cut out of that column's rows instead of being fetched again: ``narrow``.

Counts are grouped in the database. Where an exact median or percentile needs every value, the
value itself is computed in the database — an interval, a local date, the difference between two
local dates (Django expressions, so the same on SQLite and PostgreSQL) — because reading tens of
thousands of timestamps and turning them into local dates in Python costs far more
(bench/stats.py, docs/performance.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any, NamedTuple, TypeVar

from django.db.models import (
    Count,
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    QuerySet,
)
from django.db.models.functions import TruncDate, TruncMonth

from telederm.accounts.models import User
from telederm.images.models import LesionImage
from telederm.referrals.models import ComplementRequest, Referral, ReferralStatus

T = TypeVar("T")
MEMO = "_telederm_stats_facts"
WHOLE = "whole"  # memo key: (the queryset this one is part of, which clinics it keeps)
Keep = Callable[[int], bool]


def _cache(referrals: QuerySet[Referral]) -> dict[str, Any]:
    cache: dict[str, Any] = referrals.__dict__.setdefault(MEMO, {})
    return cache


def narrow(part: QuerySet[Referral], whole: QuerySet[Referral], keep: Keep) -> None:
    """Declare ``part`` to be exactly the referrals of ``whole`` whose clinic ``keep`` accepts
    (the caller builds it so), so its rows are cut out of ``whole``'s rather than fetched."""
    _cache(part)[WHOLE] = (whole, keep)


def memo(
    referrals: QuerySet[Referral],
    key: str,
    fetch: Callable[[], T],
    cut: Callable[[QuerySet[Referral], Keep], T] | None = None,
) -> T:
    """The row set ``key`` of these referrals: fetched once per queryset object, or cut out of
    the whole they are part of (``cut(whole, keep)``)."""
    cache = _cache(referrals)
    if key not in cache:
        whole = cache.get(WHOLE)
        cache[key] = cut(*whole) if whole is not None and cut is not None else fetch()
    result: T = cache[key]
    return result


def answered(referrals: QuerySet[Referral]) -> QuerySet[Referral]:
    return referrals.filter(
        status=ReferralStatus.ANSWERED, answered_at__isnull=False, answer__sent_at__isnull=False
    )


def _between(later: str | Any, earlier: str | Any) -> ExpressionWrapper:
    """``later - earlier`` as an interval (a timedelta in Python)."""
    later = F(later) if isinstance(later, str) else later
    earlier = F(earlier) if isinstance(earlier, str) else earlier
    return ExpressionWrapper(later - earlier, output_field=DurationField())


def _days(value: timedelta) -> float:
    return value.total_seconds() / 86400


def names(user_ids: Iterable[int]) -> dict[int, str]:
    return {
        pk: f"{first} {last}".strip()
        for pk, first, last in User.objects.filter(pk__in=set(user_ids)).values_list(
            "pk", "first_name", "last_name"
        )
    }


class Sent(NamedTuple):
    clinic_id: int
    clinic: str
    month: date  # local month of sending


def sent_by_clinic_month(referrals: QuerySet[Referral]) -> Counter[Sent]:
    """Referrals sent per clinic and local month of sending; their sum is the count."""

    def fetch() -> Counter[Sent]:
        rows = (
            # The local month as a date: made aware again, thousands of truncated timestamps
            # would cost more to convert than the query takes.
            referrals.annotate(_month=TruncMonth("sent_at", output_field=DateField()))
            .values("clinic_id", "clinic__name", "_month")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("clinic_id", "clinic__name", "_month", "n")
        )
        return Counter({Sent(pk, name, month): n for pk, name, month, n in rows})

    def cut(whole: QuerySet[Referral], keep: Keep) -> Counter[Sent]:
        return Counter(
            {row: n for row, n in sent_by_clinic_month(whole).items() if keep(row.clinic_id)}
        )

    return memo(referrals, "sent", fetch, cut)


class AnsweredRow(NamedTuple):
    """A tuple, not a dataclass: tens of thousands are made per column, and tuples are cheap."""

    referral_id: int
    clinic_id: int
    author_id: int
    diagnosis: str
    action: str
    days: float  # sent → answered, elapsed
    calendar: int  # local date of the answer − local date of sending
    month: date  # local month of the answer


def answered_rows(referrals: QuerySet[Referral]) -> list[AnsweredRow]:
    """One row per answered referral: its answer and how long it took."""

    def fetch() -> list[AnsweredRow]:
        rows = (
            answered(referrals)
            .annotate(
                _elapsed=_between("answered_at", "sent_at"),
                _calendar=_between(TruncDate("answered_at"), TruncDate("sent_at")),
                _month=TruncMonth("answered_at", output_field=DateField()),
            )
            .order_by()
            .values_list(
                "pk",
                "clinic_id",
                "answer__author_id",
                "answer__diagnosis",
                "answer__action",
                "_elapsed",
                "_calendar",
                "_month",
            )
        )
        return [
            AnsweredRow(pk, clinic, by, d, a, _days(took), calendar.days, month)
            for pk, clinic, by, d, a, took, calendar, month in rows
        ]

    def cut(whole: QuerySet[Referral], keep: Keep) -> list[AnsweredRow]:
        return [row for row in answered_rows(whole) if keep(row.clinic_id)]

    return memo(referrals, "answered", fetch, cut)


def complement_rounds(referrals: QuerySet[Referral]) -> list[tuple[int, float | None]]:
    """(referral, days from question to reply or None) per complement round of the answered."""

    def fetch() -> list[tuple[int, float | None]]:
        rows = (
            ComplementRequest.objects.filter(referral__in=answered(referrals))
            .annotate(_took=_between("replied_at", "asked_at"))
            .order_by()
            .values_list("referral_id", "_took")
        )
        return [(pk, None if took is None else _days(took)) for pk, took in rows]

    def cut(whole: QuerySet[Referral], keep: Keep) -> list[tuple[int, float | None]]:
        mine = {row.referral_id for row in answered_rows(referrals)}
        return [item for item in complement_rounds(whole) if item[0] in mine]

    return memo(referrals, "rounds", fetch, cut)


def answer_mix(referrals: QuerySet[Referral]) -> Counter[tuple[str, str]]:
    """Answered referrals per (diagnosis, recommended action)."""
    return memo(
        referrals,
        "mix",
        lambda: Counter((row.diagnosis, row.action) for row in answered_rows(referrals)),
    )


class FollowUpRow(NamedTuple):
    clinic_id: int
    outcome: str
    place: str
    pad_diagnosis: str
    lead_days: int | None  # excision or visit date − local date of sending
    diagnosis: str  # the teledermoscopy answer's
    action: str
    author_id: int


def follow_up_rows(referrals: QuerySet[Referral]) -> list[FollowUpRow]:
    """The follow-ups of the answered referrals, with their answer."""

    def fetch() -> list[FollowUpRow]:
        # From the referrals' side: one pass over referral, answer and follow-up.
        rows = (
            answered(referrals)
            .filter(follow_up__isnull=False)
            .annotate(_lead=_between("follow_up__done_on", TruncDate("sent_at")))
            .order_by()
            .values_list(
                "clinic_id",
                "follow_up__outcome",
                "follow_up__place",
                "follow_up__pad_diagnosis",
                "_lead",
                "answer__diagnosis",
                "answer__action",
                "answer__author_id",
            )
        )
        return [
            FollowUpRow(clinic, outcome, place, pad, None if lead is None else lead.days, d, a, by)
            for clinic, outcome, place, pad, lead, d, a, by in rows
        ]

    def cut(whole: QuerySet[Referral], keep: Keep) -> list[FollowUpRow]:
        return [row for row in follow_up_rows(whole) if keep(row.clinic_id)]

    return memo(referrals, "follow_ups", fetch, cut)


def warned_by_clinic(referrals: QuerySet[Referral]) -> Counter[int]:
    """Per clinic: referrals with at least one photo (not removed) carrying a quality warning."""

    def fetch() -> Counter[int]:
        flagged = LesionImage.objects.filter(
            referral_lesion__referral=OuterRef("pk"),
            removed_at__isnull=True,
            warnings__0__isnull=False,
        )
        rows = (
            referrals.filter(Exists(flagged))
            .values("clinic_id")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("clinic_id", "n")
        )
        return Counter(dict(rows))

    def cut(whole: QuerySet[Referral], keep: Keep) -> Counter[int]:
        return Counter({pk: n for pk, n in warned_by_clinic(whole).items() if keep(pk)})

    return memo(referrals, "warned", fetch, cut)
