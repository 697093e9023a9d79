"""The figures of the statistics page, each computed from a queryset of referrals.

Every function takes the referrals already limited to what the viewer may see and to the
period (``sent_between``: referrals *sent* in the period, whatever happened to them later). They
use the ORM only (no SQL of their own) and read the row sets of ``facts``, each fetched once per
queryset; medians and percentiles are computed in Python from the period's values, so they are
exact and the same on SQLite and PostgreSQL. Definitions of every figure: ``docs/outcomes.md``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from telederm.outcomes import facts
from telederm.outcomes.models import Outcome
from telederm.outcomes.numbers import Ratio, median, percentile
from telederm.referrals.models import Referral
from telederm.review.models import MALIGNANT, Action, Diagnosis

__all__ = ["median", "percentile"]  # used through this module by the report modules and tests

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


def sent_count(referrals: QuerySet[Referral]) -> int:
    return sum(facts.sent_by_clinic_month(referrals).values())


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
    times = facts.answered_rows(referrals)
    return Turnaround(days=[t.days for t in times], calendar=[t.calendar for t in times])


@dataclass(frozen=True)
class Complements:
    """Complement rounds among the answered referrals and what they cost."""

    with_complement: Ratio
    rounds: int
    round_days: list[float]  # asked → replied, for the replied rounds
    turnaround_with: list[float]
    turnaround_without: list[float]


def complements(referrals: QuerySet[Referral]) -> Complements:
    rounds = facts.complement_rounds(referrals)
    asked = {referral_id for referral_id, _days in rounds}
    with_: list[float] = []
    without: list[float] = []
    for time_ in facts.answered_rows(referrals):
        (with_ if time_.referral_id in asked else without).append(time_.days)
    return Complements(
        with_complement=Ratio(len(with_), len(with_) + len(without)),
        rounds=len(rounds),
        round_days=[days for _pk, days in rounds if days is not None],
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


def monthly_volumes(referrals: QuerySet[Referral]) -> dict[date, int]:
    totals: Counter[date] = Counter()
    for sent, n in facts.sent_by_clinic_month(referrals).items():
        totals[sent.month] += n
    return dict(totals)


def clinic_monthly_volumes(referrals: QuerySet[Referral]) -> dict[str, dict[date, int]]:
    """Per clinic name: referrals sent per month."""
    table: dict[str, Counter[date]] = defaultdict(Counter)
    for sent, n in facts.sent_by_clinic_month(referrals).items():
        table[sent.clinic][sent.month] += n
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
    days: dict[int, list[float]] = defaultdict(list)
    for time_ in facts.answered_rows(referrals):
        days[time_.author_id].append(time_.days)
    who = facts.names(days)
    people = [ReviewerFigures(pk, who.get(pk, ""), values) for pk, values in days.items()]
    return sorted(people, key=lambda f: (-f.answers, f.name))


@dataclass(frozen=True)
class ReviewerMonths:
    user_id: int
    name: str
    months: dict[date, int]  # answers per local month of the answer

    @property
    def answers(self) -> int:
        return sum(self.months.values())


def reviewer_monthly_volumes(referrals: QuerySet[Referral]) -> list[ReviewerMonths]:
    """Answers per reviewer and local month of the answer, most answers first."""
    months: dict[int, Counter[date]] = defaultdict(Counter)
    for row in facts.answered_rows(referrals):
        months[row.author_id][row.month] += 1
    who = facts.names(months)
    people = [ReviewerMonths(pk, who.get(pk, ""), dict(found)) for pk, found in months.items()]
    return sorted(people, key=lambda person: (-person.answers, person.name))


def quality_warnings(referrals: QuerySet[Referral]) -> Ratio:
    """Referrals with at least one photo (not removed) that carries a quality warning."""
    return Ratio(sum(facts.warned_by_clinic(referrals).values()), sent_count(referrals))


# --- Decisions ----------------------------------------------------------------------------


def _mix(referrals: QuerySet[Referral], position: int, choices: list[str]) -> list[tuple[str, int]]:
    counts: Counter[str] = Counter()
    for pair, n in facts.answer_mix(referrals).items():
        counts[pair[position]] += n
    return [(value, counts[value]) for value in choices]


def diagnosis_mix(referrals: QuerySet[Referral]) -> list[tuple[str, int]]:
    return _mix(referrals, 0, list(Diagnosis.values))


def action_mix(referrals: QuerySet[Referral]) -> list[tuple[str, int]]:
    return _mix(referrals, 1, list(Action.values))


def closed_without_action(referrals: QuerySet[Referral]) -> Ratio:
    """Answers that needed neither excision, referral, SVF nor a check-up ("no action")."""
    mix = facts.answer_mix(referrals)
    closed = sum(n for (_diagnosis, action), n in mix.items() if action == Action.NONE)
    return Ratio(closed, sum(mix.values()))


# --- Outcomes -----------------------------------------------------------------------------


def follow_up_coverage(referrals: QuerySet[Referral], actions: tuple[str, ...]) -> Ratio:
    """Answers recommending excision, referral or SVF that have a registered follow-up."""
    due = sum(n for (_d, action), n in facts.answer_mix(referrals).items() if action in actions)
    done = sum(1 for row in facts.follow_up_rows(referrals) if row.action in actions)
    return Ratio(done, due)


def _excised(referrals: QuerySet[Referral]) -> list[facts.FollowUpRow]:
    return [row for row in facts.follow_up_rows(referrals) if row.outcome == Outcome.EXCISED]


def lead_times(referrals: QuerySet[Referral]) -> dict[str, list[int]]:
    """Days from the referral's sending (its local date) to the excision, per place."""
    result: dict[str, list[int]] = defaultdict(list)
    for row in _excised(referrals):
        if row.lead_days is not None:
            result[row.place].append(row.lead_days)
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
    excised = _excised(referrals)
    pads = Counter(row.pad_diagnosis for row in excised if row.pad_diagnosis)
    return Excisions(
        excised=len(excised),
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


def _pad_pairs(referrals: QuerySet[Referral]) -> list[facts.FollowUpRow]:
    return [row for row in _excised(referrals) if row.pad_diagnosis]


def concordance(referrals: QuerySet[Referral]) -> Concordance:
    return Concordance(pairs=[(row.diagnosis, row.pad_diagnosis) for row in _pad_pairs(referrals)])


def concordance_by_reviewer(referrals: QuerySet[Referral]) -> list[tuple[int, str, Concordance]]:
    pairs: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for row in _pad_pairs(referrals):
        pairs[row.author_id].append((row.diagnosis, row.pad_diagnosis))
    who = facts.names(pairs)
    return sorted(
        ((uid, who.get(uid, ""), Concordance(found)) for uid, found in pairs.items()),
        key=lambda row: row[1],
    )
