"""Tables of the statistics page, and how their cells are written.

A table is what the page shows, what its chart draws and what its CSV holds, so the three can
never disagree. A *column* is a set of referrals: the perspective's own (filtered) ones, and for
a clinic the region's totals beside them, where small counts are suppressed. Every share is
written with its numerator and denominator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.formats import number_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from telederm.outcomes.numbers import WITHHELD, Ratio, ratio_cells, value_cell
from telederm.referrals.models import Referral


@dataclass
class Table:
    slug: str
    title: str
    header: list[str]
    rows: Sequence[Sequence[object]]
    chart: SafeString | None = None
    note: str = ""
    # After the first cell, each row holds one equally wide group of cells per column.
    per_column: bool = False


@dataclass(frozen=True)
class Column:
    label: str
    referrals: QuerySet[Referral]
    suppress: bool = False
    # Computed only to guard another column (see report.guard_differences), never shown.
    hidden: bool = False


Cell = Callable[[Column], object]


def num(value: object, digits: int = 1) -> str:
    """A number as the reader's language writes it (decimal comma in Swedish)."""
    if isinstance(value, float):
        return number_format(value, digits)
    return str(value)


def ratio_text(ratio: Ratio, suppress: bool = False) -> str:
    part, whole, percent = ratio_cells(ratio, suppress)
    if percent == WITHHELD:
        return _("%(part)s of %(whole)s") % {"part": part, "whole": whole}
    return _("%(part)s of %(whole)s (%(percent)s %%)") % {
        "part": part,
        "whole": whole,
        "percent": num(percent),
    }


def days_text(value: float | None, n: int, suppress: bool = False) -> str:
    shown = value_cell(value, n, suppress)
    return WITHHELD if shown == WITHHELD else _("%(days)s days") % {"days": num(shown)}


def ratio_columns(ratio: Ratio, suppress: bool = False) -> list[object]:
    """Numerator, denominator and percentage in three cells."""
    return [num(cell) for cell in ratio_cells(ratio, suppress)]


def key_table(slug: str, title: str, cols: list[Column], rows: list[tuple[str, Cell]]) -> Table:
    """Key figures: one row per figure (label, cell function), one cell per column."""
    return Table(
        slug,
        title,
        [_("Figure"), *(c.label for c in cols)],
        [[label, *(cell(c) for c in cols)] for label, cell in rows],
        per_column=True,
    )


def ratio_header(first: str, cols: list[Column]) -> list[str]:
    header = [first]
    for column in cols:
        header += [column.label, _("of"), "%"]
    return header
