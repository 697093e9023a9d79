"""Every figure of the statistics against a history with known answers (``history.py``).

Run on SQLite and on PostgreSQL (``DATABASE_URL``): the numbers must be exactly the same.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from django.utils import timezone

from telederm.outcomes import queries as q
from telederm.outcomes.access import FOLLOW_UP_ACTIONS
from telederm.outcomes.numbers import Ratio, median, percentile
from telederm.outcomes.tests import helpers
from telederm.outcomes.tests.history import History, build
from telederm.referrals.models import Referral
from telederm.testing import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(world: World) -> History:
    return build(world)


def test_median_and_nearest_rank_percentile() -> None:
    assert median([]) is None
    assert median([3, 1, 2]) == 2
    assert median([4, 1, 2, 3]) == 2.5
    values = list(range(1, 41))
    assert percentile(values, 90) == 36  # the 36th of 40
    assert percentile(values, 50) == 20
    assert percentile([7], 90) == 7
    assert percentile(list(range(1, 11)), 90) == 9
    assert percentile([], 90) is None


def test_every_figure_of_the_history(world: World, history: History) -> None:
    everything = Referral.objects.filter(clinic=world.clinic_a)
    period = q.sent_between(everything, history.base, history.today)
    assert period.count() == 42  # 40 answered + 2 open; the two older ones are outside

    # Time to answer: 6·i hours for i = 1…40, sent at 08:00.
    turnaround = q.turnaround(period)
    assert turnaround.n == 40
    assert turnaround.median == pytest.approx(5.125)  # (5.0 + 5.25) / 2
    assert turnaround.p90 == pytest.approx(9.0)  # the 36th value: 36 · 6 h
    assert turnaround.within_promise == Ratio(30, 40)
    assert turnaround.same_day == Ratio(2, 40)
    assert turnaround.by_next_day == Ratio(6, 40)
    assert turnaround.histogram() == [
        ("0", 2), ("1", 4), ("2", 4), ("3", 4), ("4", 4), ("5", 4), ("6", 4), ("7", 4),
        ("8–14", 10), ("15+", 0),
    ]  # fmt: skip

    complements = q.complements(period)
    assert complements.with_complement == Ratio(3, 40)
    assert complements.rounds == 3
    assert median(complements.round_days) == pytest.approx(1.5)
    assert median(complements.turnaround_with) == pytest.approx(5.5)
    assert median(complements.turnaround_without) == pytest.approx(4.75)

    # Volumes and quality.
    months = Counter(timezone.localdate(r.sent_at).replace(day=1) for r in period)
    assert q.monthly_volumes(period) == dict(months)
    assert q.clinic_monthly_volumes(period) == {world.clinic_a.name: dict(months)}
    reviewers = {f.name.split()[0]: f for f in q.reviewer_volumes(period)}
    assert reviewers["Disa"].answers == reviewers["Dan"].answers == 20
    assert median(reviewers["Disa"].turnaround) == pytest.approx(5.0)
    assert median(reviewers["Dan"].turnaround) == pytest.approx(5.25)
    assert q.quality_warnings(period) == Ratio(4, 42)
    assert q.quality_warnings(everything) == Ratio(6, 44)

    # Decisions.
    assert dict(q.diagnosis_mix(period)) == {
        "benign_naevus": 6,
        "atypical_naevus": 17,
        "seborrhoeic_keratosis": 3,
        "dermatofibroma": 2,
        "haemangioma": 0,
        "solar_lentigo": 0,
        "melanoma_in_situ": 6,
        "invasive_melanoma": 4,
        "bcc": 2,
        "scc": 0,
        "actinic_keratosis": 0,
        "other": 0,
    }
    assert dict(q.action_mix(period)) == {
        "none": 10,
        "follow_up": 10,
        "excision": 12,
        "refer": 4,
        "svf": 4,
    }
    assert q.closed_without_action(period) == Ratio(10, 40)

    # Outcomes.
    assert q.follow_up_coverage(period, FOLLOW_UP_ACTIONS) == Ratio(19, 20)
    lead = q.lead_times(period)
    assert sorted(lead["clinic"]) == [5, 7, 9, 10, 11, 12, 13, 14, 16]
    assert median(lead["clinic"]) == 11
    assert percentile(lead["clinic"], 90) == 16
    assert median(lead["dermatology"]) == pytest.approx(26.5)
    assert percentile(lead["dermatology"], 90) == 45
    assert lead["other"] == [40]
    every = [d for days in lead.values() for d in days]
    assert len(every) == 18
    assert median(every) == pytest.approx(13.5)
    assert percentile(every, 90) == 40
    assert q.lead_time_histogram(every) == [
        ("0–7", 3), ("8–14", 7), ("15–30", 5), ("31–60", 3), ("61–90", 0), ("91+", 0)
    ]  # fmt: skip

    excisions = q.excisions(period)
    assert (excisions.excised, excisions.with_pad) == (18, 16)
    assert (excisions.melanoma_in_situ, excisions.melanoma_invasive) == (2, 2)
    assert excisions.other_malignant == 2
    assert excisions.number_needed_to_excise == pytest.approx(4.0)
    assert excisions.benign == Ratio(10, 16)

    concordance = q.concordance(period)
    assert concordance.group_agreement == Ratio(12, 16)
    assert concordance.exact_agreement == Ratio(8, 16)
    assert concordance.by_pad_group() == {
        q.MELANOMA: Ratio(3, 4),
        q.OTHER_MALIGNANT: Ratio(2, 2),
        q.BENIGN: Ratio(7, 10),
    }
    matrix = concordance.matrix()
    assert matrix[(q.MELANOMA, q.MELANOMA)] == 3
    assert matrix[(q.MELANOMA, q.BENIGN)] == 3
    assert matrix[(q.BENIGN, q.MELANOMA)] == 1
    assert matrix[(q.BENIGN, q.BENIGN)] == 7
    assert matrix[(q.OTHER_MALIGNANT, q.OTHER_MALIGNANT)] == 2
    assert sum(matrix.values()) == 16
    per_reviewer = {name.split()[0]: c for _id, name, c in q.concordance_by_reviewer(period)}
    assert per_reviewer["Disa"].group_agreement == Ratio(6, 8)
    assert per_reviewer["Disa"].exact_agreement == Ratio(5, 8)
    assert per_reviewer["Dan"].group_agreement == Ratio(6, 8)
    assert per_reviewer["Dan"].exact_agreement == Ratio(3, 8)


def test_period_filter_uses_local_dates(world: World, history: History) -> None:
    everything = Referral.objects.filter(clinic=world.clinic_a)
    first_day = q.sent_between(everything, history.base, history.base)
    assert first_day.count() == 2  # i = 1 and 2
    before = q.sent_between(
        everything, history.base - timedelta(days=10), history.base - timedelta(days=1)
    )
    assert before.count() == 2
    assert q.turnaround(before).median == pytest.approx(1 / 24)


def test_answers_per_reviewer_and_month_of_the_history(world: World, history: History) -> None:
    """Disa answers the odd referrals, Dan the even ones; referral i is sent at 08:00 on day
    base + (i - 1) // 2 and answered 6·i hours later: the month of each answer follows from
    that, independently of the database."""
    expected: dict[str, Counter[date]] = {"Disa": Counter(), "Dan": Counter()}
    for i in range(1, 41):
        sent = helpers.local(history.base + timedelta(days=(i - 1) // 2))
        answered_on = timezone.localdate(sent + timedelta(hours=6 * i))
        expected["Disa" if i % 2 else "Dan"][answered_on.replace(day=1)] += 1
    period = q.sent_between(Referral.objects.all(), history.base, history.today)

    found = {person.name.split()[0]: person for person in q.reviewer_monthly_volumes(period)}

    assert set(found) == {"Disa", "Dan"}
    assert found["Disa"].months == dict(expected["Disa"])
    assert found["Dan"].months == dict(expected["Dan"])
    assert found["Disa"].answers == found["Dan"].answers == 20  # 43 and 44 are outside
    assert found["Disa"].user_id == world.derm_x.pk
    # The row totals are the "answers per reviewer" table's counts.
    totals = {f.name.split()[0]: f.answers for f in q.reviewer_volumes(period)}
    assert totals == {name: person.answers for name, person in found.items()}
    # Every referral, also the two sent before the period (both Disa's, answered in an hour).
    everything = {
        person.name.split()[0]: person.answers
        for person in q.reviewer_monthly_volumes(Referral.objects.all())
    }
    assert everything == {"Disa": 22, "Dan": 20}
