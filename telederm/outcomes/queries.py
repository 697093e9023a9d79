"""The figures of the statistics page, each computed from a queryset of referrals.

Every function takes the referrals already limited to what the viewer may see and to the
period (``sent_between``: referrals *sent* in the period, whatever happened to them later). They
use the ORM only (no SQL of their own); medians and percentiles are computed in Python from the
period's values, so they are exact and the same on SQLite and PostgreSQL. Definitions of every
figure: ``docs/outcomes.md``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from telederm.outcomes.models import FollowUp, Outcome
from telederm.outcomes.numbers import Ratio, median, percentile
from telederm.referrals.models import ComplementRequest, Referral, ReferralStatus
from telederm.review.models import MALIGNANT, Action, Diagnosis

PROMISE_DAYS = 7
MELANOMA = "melanoma"
OTHER_MALIGNANT = "other_malignant"
BENIGN = "benign"
GROUPS = (MELANOMA, OTHER_MALIGNANT, BENIGN)
MELANOMAS = {Diagnosis.MELANOMA_IN_SITU, Diagnosis.INVASIVE_MELANOMA}


def group_of(diagnosis: str) -> str:
    """Diagnosis group for concordance: melanoma (in situ or invasive), other malignant, benign."""
    if diagnosis in MELANOMAS:
        return MELANOMA
    if diagnosis in MALIGNANT:
        return OTHER_MALIGNANT
    return BENIGN


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def sent_between(referrals: QuerySet[Referral], start: date, end: date) -> QuerySet[Referral]:
    """Referrals sent from ``start`` to ``end`` (both included, local dates)."""
    return referrals.filter(
        sent_at__gte=local_midnight(start), sent_at__lt=local_midnight(end + timedelta(1))
    )


def answered(referrals: QuerySet[Referral]) -> QuerySet[Referral]:
    return referrals.filter(
        status=ReferralStatus.ANSWERED, answered_at__isnull=False, answer__sent_at__isnull=False
    )


# The querysets below select rows where these timestamps are set: None never reaches here.
def _elapsed_days(start: datetime | None, end: datetime | None) -> float:
    assert start is not None
    assert end is not None
    return (end - start).total_seconds() / 86400


def _calendar_days(start: datetime | None, end: datetime | None) -> int:
    assert start is not None
    assert end is not None
    return (timezone.localdate(end) - timezone.localdate(start)).days


# --- Turnaround and complements -----------------------------------------------------------


@dataclass(frozen=True)
class Turnaround:
    """Sent → answered: ``days`` elapsed (fractional), ``calendar`` days between the dates."""

    days: list[float]
    calendar: list[int]

    @property
    def n(self) -> int:
        return len(self.days)

    @property
    def median(self) -> float | None:
        return median(self.days)

    @property
    def p90(self) -> float | None:
        return percentile(self.days, 90)

    def _share(self, limit: int) -> Ratio:
        return Ratio(sum(1 for d in self.calendar if d <= limit), self.n)

    @property
    def within_promise(self) -> Ratio:
        return self._share(PROMISE_DAYS)

    @property
    def same_day(self) -> Ratio:
        return self._share(0)

    @property
    def by_next_day(self) -> Ratio:
        return self._share(1)

    def histogram(self) -> list[tuple[str, int]]:
        """Answers per calendar day after sending: 0 (same day) … 7, 8–14, 15 and more."""
        days = self.calendar
        rows = [(str(d), sum(1 for c in days if c == d)) for d in range(PROMISE_DAYS + 1)]
        rows.append(("8–14", sum(1 for c in days if PROMISE_DAYS < c <= 14)))
        rows.append(("15+", sum(1 for c in days if c >= 15)))
        return rows


def turnaround(referrals: QuerySet[Referral]) -> Turnaround:
    pairs = list(answered(referrals).values_list("sent_at", "answered_at"))
    return Turnaround(
        days=[_elapsed_days(s, a) for s, a in pairs],
        calendar=[_calendar_days(s, a) for s, a in pairs],
    )


@dataclass(frozen=True)
class Complements:
    """Complement rounds among the answered referrals and what they cost."""

    with_complement: Ratio
    rounds: int
    round_days: list[float]  # asked → replied, for the replied rounds
    turnaround_with: list[float]
    turnaround_without: list[float]


def complements(referrals: QuerySet[Referral]) -> Complements:
    done = answered(referrals)
    rounds_by_referral: Counter[int] = Counter()
    round_days = []
    for referral_id, asked, replied in ComplementRequest.objects.filter(
        referral__in=done
    ).values_list("referral_id", "asked_at", "replied_at"):
        rounds_by_referral[referral_id] += 1
        if replied is not None:
            round_days.append(_elapsed_days(asked, replied))
    with_: list[float] = []
    without: list[float] = []
    for pk, sent, answered_at in done.values_list("pk", "sent_at", "answered_at"):
        (with_ if pk in rounds_by_referral else without).append(_elapsed_days(sent, answered_at))
    return Complements(
        with_complement=Ratio(len(with_), len(with_) + len(without)),
        rounds=sum(rounds_by_referral.values()),
        round_days=round_days,
        turnaround_with=with_,
        turnaround_without=without,
    )


# --- Volumes and quality ------------------------------------------------------------------


def months_between(start: date, end: date) -> list[date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _month(value: datetime | date) -> date:
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.date().replace(day=1)
    return value.replace(day=1)


def monthly_volumes(referrals: QuerySet[Referral]) -> dict[date, int]:
    rows = referrals.annotate(month=TruncMonth("sent_at")).values("month").annotate(n=Count("pk"))
    totals: Counter[date] = Counter()
    for row in rows:
        totals[_month(row["month"])] += row["n"]
    return dict(totals)


def clinic_monthly_volumes(referrals: QuerySet[Referral]) -> dict[str, dict[date, int]]:
    """Per clinic name: referrals sent per month."""
    rows = (
        referrals.annotate(month=TruncMonth("sent_at"))
        .values("clinic__name", "month")
        .annotate(n=Count("pk"))
    )
    table: dict[str, Counter[date]] = defaultdict(Counter)
    for row in rows:
        table[row["clinic__name"]][_month(row["month"])] += row["n"]
    return {name: dict(months) for name, months in sorted(table.items())}


@dataclass(frozen=True)
class ReviewerFigures:
    user_id: int
    name: str
    turnaround: list[float] = field(default_factory=list)

    @property
    def answers(self) -> int:
        return len(self.turnaround)


def reviewer_volumes(referrals: QuerySet[Referral]) -> list[ReviewerFigures]:
    """Answers per reviewer (the answer's author), with their turnaround, most answers first."""
    people: dict[int, ReviewerFigures] = {}
    for user_id, first, last, sent, answered_at in answered(referrals).values_list(
        "answer__author_id",
        "answer__author__first_name",
        "answer__author__last_name",
        "sent_at",
        "answered_at",
    ):
        figures = people.setdefault(user_id, ReviewerFigures(user_id, f"{first} {last}".strip()))
        figures.turnaround.append(_elapsed_days(sent, answered_at))
    return sorted(people.values(), key=lambda f: (-f.answers, f.name))


def quality_warnings(referrals: QuerySet[Referral]) -> Ratio:
    """Referrals with at least one photo (not removed) that carries a quality warning."""
    flagged = (
        referrals.filter(
            lesion_links__images__removed_at__isnull=True,
            lesion_links__images__warnings__0__isnull=False,
        )
        .values("pk")
        .distinct()
        .count()
    )
    return Ratio(flagged, referrals.count())


# --- Decisions ----------------------------------------------------------------------------


def _mix(referrals: QuerySet[Referral], column: str, choices: list[str]) -> list[tuple[str, int]]:
    counts = {
        row[column]: row["n"]
        for row in answered(referrals).values(column).annotate(n=Count("pk")).order_by()
    }
    return [(value, counts.get(value, 0)) for value in choices]


def diagnosis_mix(referrals: QuerySet[Referral]) -> list[tuple[str, int]]:
    return _mix(referrals, "answer__diagnosis", list(Diagnosis.values))


def action_mix(referrals: QuerySet[Referral]) -> list[tuple[str, int]]:
    return _mix(referrals, "answer__action", list(Action.values))


def closed_without_action(referrals: QuerySet[Referral]) -> Ratio:
    """Answers that needed neither excision, referral, SVF nor a check-up ("no action")."""
    done = answered(referrals)
    return Ratio(done.filter(answer__action=Action.NONE).count(), done.count())


# --- Outcomes -----------------------------------------------------------------------------


def follow_ups(referrals: QuerySet[Referral]) -> QuerySet[FollowUp]:
    return FollowUp.objects.filter(referral__in=answered(referrals))


def follow_up_coverage(referrals: QuerySet[Referral], actions: tuple[str, ...]) -> Ratio:
    """Answers recommending excision, referral or SVF that have a registered follow-up."""
    due = answered(referrals).filter(answer__action__in=actions)
    return Ratio(due.filter(follow_up__isnull=False).count(), due.count())


def lead_times(referrals: QuerySet[Referral]) -> dict[str, list[int]]:
    """Days from the referral's sending (its local date) to the excision, per place."""
    result: dict[str, list[int]] = defaultdict(list)
    for place, done_on, sent in (
        follow_ups(referrals)
        .filter(outcome=Outcome.EXCISED, done_on__isnull=False)
        .values_list("place", "done_on", "referral__sent_at")
    ):
        if done_on is not None and sent is not None:
            result[place].append((done_on - timezone.localdate(sent)).days)
    return dict(result)


LEAD_TIME_BUCKETS = ((0, 7), (8, 14), (15, 30), (31, 60), (61, 90), (91, None))


def lead_time_histogram(days: list[int]) -> list[tuple[str, int]]:
    rows = []
    for low, high in LEAD_TIME_BUCKETS:
        label = f"{low}–{high}" if high is not None else f"{low}+"
        rows.append((label, sum(1 for d in days if d >= low and (high is None or d <= high))))
    return rows


@dataclass(frozen=True)
class Excisions:
    excised: int  # every registered excision
    with_pad: int  # of them, with a histopathology result
    melanoma_in_situ: int
    melanoma_invasive: int
    other_malignant: int

    @property
    def melanomas(self) -> int:
        return self.melanoma_in_situ + self.melanoma_invasive

    @property
    def benign(self) -> Ratio:
        return Ratio(self.with_pad - self.melanomas - self.other_malignant, self.with_pad)

    @property
    def number_needed_to_excise(self) -> float | None:
        """Excisions with PAD per melanoma found (in situ + invasive)."""
        return None if self.melanomas == 0 else self.with_pad / self.melanomas


def excisions(referrals: QuerySet[Referral]) -> Excisions:
    excised = follow_ups(referrals).filter(outcome=Outcome.EXCISED)
    pads = Counter(excised.exclude(pad_diagnosis="").values_list("pad_diagnosis", flat=True))
    return Excisions(
        excised=excised.count(),
        with_pad=sum(pads.values()),
        melanoma_in_situ=pads[Diagnosis.MELANOMA_IN_SITU],
        melanoma_invasive=pads[Diagnosis.INVASIVE_MELANOMA],
        other_malignant=sum(n for d, n in pads.items() if group_of(d) == OTHER_MALIGNANT),
    )


@dataclass(frozen=True)
class Concordance:
    """Teledermoscopy diagnosis against PAD, for the excised lesions with a PAD result."""

    pairs: list[tuple[str, str]]  # (teledermoscopy diagnosis, PAD diagnosis)

    def matrix(self) -> dict[tuple[str, str], int]:
        """Counts per (teledermoscopy group, PAD group)."""
        counts = Counter((group_of(t), group_of(p)) for t, p in self.pairs)
        return {(t, p): counts[(t, p)] for t in GROUPS for p in GROUPS}

    def by_pad_group(self) -> dict[str, Ratio]:
        """Per PAD group: how many of its lesions teledermoscopy put in the same group."""
        matrix = self.matrix()
        return {p: Ratio(matrix[(p, p)], sum(matrix[(t, p)] for t in GROUPS)) for p in GROUPS}

    @property
    def group_agreement(self) -> Ratio:
        return Ratio(sum(1 for t, p in self.pairs if group_of(t) == group_of(p)), len(self.pairs))

    @property
    def exact_agreement(self) -> Ratio:
        return Ratio(sum(1 for t, p in self.pairs if t == p), len(self.pairs))


def _pad_pairs(referrals: QuerySet[Referral]) -> QuerySet[FollowUp]:
    return follow_ups(referrals).filter(outcome=Outcome.EXCISED).exclude(pad_diagnosis="")


def concordance(referrals: QuerySet[Referral]) -> Concordance:
    pairs = _pad_pairs(referrals).values_list("referral__answer__diagnosis", "pad_diagnosis")
    return Concordance(pairs=list(pairs))


def concordance_by_reviewer(referrals: QuerySet[Referral]) -> list[tuple[int, str, Concordance]]:
    people: dict[int, tuple[str, list[tuple[str, str]]]] = {}
    for user_id, first, last, tele, pad in _pad_pairs(referrals).values_list(
        "referral__answer__author_id",
        "referral__answer__author__first_name",
        "referral__answer__author__last_name",
        "referral__answer__diagnosis",
        "pad_diagnosis",
    ):
        people.setdefault(user_id, (f"{first} {last}".strip(), []))[1].append((tele, pad))
    return sorted(
        ((uid, name, Concordance(pairs)) for uid, (name, pairs) in people.items()),
        key=lambda row: row[1],
    )
