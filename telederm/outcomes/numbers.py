"""Exact small statistics in Python: the same result on SQLite and PostgreSQL.

- ``median``: the middle value; with an even count the mean of the two middle values.
- ``percentile``: nearest rank: the smallest value with at least p % of the values at or below
  it (for 40 values the 90th percentile is the 36th smallest). Always an observed value.
- ``Ratio``: a share always carried with its numerator and denominator.
- Suppression: in views across clinics, counts from 1 to 4 are shown as "<5", and every figure
  derived from fewer than five cases (a share, a median) is withheld.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

SMALL = 5
SUPPRESSED = "<5"
WITHHELD = "–"


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (0 < p ≤ 100)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(round(p / 100 * len(ordered), 9)))
    return float(ordered[rank - 1])


@dataclass(frozen=True)
class Ratio:
    part: int
    whole: int

    @property
    def percent(self) -> float | None:
        return None if self.whole == 0 else 100 * self.part / self.whole

    def __add__(self, other: Ratio) -> Ratio:
        return Ratio(self.part + other.part, self.whole + other.whole)


def is_small(count: int) -> bool:
    return 0 < count < SMALL


def count_cell(count: int, suppress: bool = False) -> int | str:
    return SUPPRESSED if suppress and is_small(count) else count


def ratio_cells(ratio: Ratio, suppress: bool = False) -> list[object]:
    """Numerator, denominator and percentage (one decimal) as table cells."""
    if suppress and (is_small(ratio.part) or is_small(ratio.whole)):
        whole = count_cell(ratio.whole, suppress)
        return [count_cell(ratio.part, suppress), whole, WITHHELD]
    percent = ratio.percent
    return [ratio.part, ratio.whole, WITHHELD if percent is None else round(percent, 1)]


def value_cell(value: float | None, n: int, suppress: bool = False, digits: int = 1) -> object:
    """A median or percentile over ``n`` cases (withheld when ``n`` is small and suppressed)."""
    if value is None or (suppress and n < SMALL):
        return WITHHELD
    return round(value, digits)
