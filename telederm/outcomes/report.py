"""The statistics report: which tables, in which sections, for which referrals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from telederm.outcomes import facts
from telederm.outcomes import queries as q
from telederm.outcomes import report_activity as activity
from telederm.outcomes import report_outcomes as outcomes
from telederm.outcomes.access import Perspective, base_referrals, region_referrals
from telederm.outcomes.forms import Filters
from telederm.outcomes.numbers import SUPPRESSED, WITHHELD
from telederm.outcomes.tables import Column, Table

Builder = Callable[[Perspective, list[Column], Filters], Table | None]

SECTIONS: list[tuple[object, list[Builder]]] = [
    (
        gettext_lazy("Time to answer"),
        [activity.turnaround_table, activity.turnaround_days_table, activity.complements_table],
    ),
    (
        gettext_lazy("Volumes"),
        [
            activity.monthly_table,
            activity.clinics_table,
            activity.reviewers_table,
            activity.reviewer_months_table,
            activity.quality_table,
        ],
    ),
    (
        gettext_lazy("Decisions"),
        [activity.decisions_table, activity.diagnoses_table, activity.actions_table],
    ),
    (
        gettext_lazy("Outcomes"),
        [
            outcomes.outcomes_table,
            outcomes.lead_times_table,
            outcomes.lead_time_days_table,
            outcomes.concordance_table,
            outcomes.concordance_groups_table,
            outcomes.concordance_reviewers_table,
        ],
    ),
]
# The CSV export names a table by its slug; the builder is found by the slug it produces.
BUILDERS: dict[str, Builder] = {
    builder.__name__.removesuffix("_table"): builder
    for _title, builders in SECTIONS
    for builder in builders
}


def columns(perspective: Perspective, filters: Filters) -> list[Column]:
    """The perspective's own referrals (with the filters), and for a clinic the region's totals
    (plus, hidden, the other clinics alone: see ``guard_differences``)."""
    own = q.sent_between(base_referrals(perspective), filters.start, filters.end)
    if filters.clinic is not None:
        own = own.filter(clinic=filters.clinic)
    if filters.unit is not None:
        own = own.filter(review_unit=filters.unit)
    if filters.reviewer is not None:
        own = own.filter(answer__author=filters.reviewer)
    result = [Column(perspective.organisation.name, own)]
    if perspective.is_clinic:
        region = q.sent_between(region_referrals(perspective), filters.start, filters.end)
        label = _("%(region)s, all clinics") % {"region": perspective.region.name}
        result.append(Column(label, region, suppress=True))
        others = region.exclude(clinic=perspective.organisation)
        result.append(Column("", others, suppress=True, hidden=True))
        # The own clinic and the other clinics are parts of the region's column: their figures
        # are cut out of the region's rows instead of being fetched again (facts.narrow).
        clinic = perspective.organisation.pk
        if (filters.clinic, filters.unit, filters.reviewer) == (None, None, None):
            facts.narrow(own, region, lambda pk: pk == clinic)
        facts.narrow(others, region, lambda pk: pk != clinic)
    return result


def _suppressed(cell: object) -> bool:
    return str(cell) == WITHHELD or SUPPRESSED in str(cell)


def guard_differences(table: Table, cols: list[Column]) -> Table:
    """A region total minus the clinic's own figure is the other clinics' figure: where that is
    a small count (or rests on fewer than five cases), the region's cells are withheld too.
    Then the hidden column is dropped."""
    hidden = [i for i, c in enumerate(cols) if c.hidden]
    if not table.per_column or not hidden:
        return table
    width = (len(table.header) - 1) // len(cols)

    def group(cells: list[object], index: int) -> list[object]:
        return cells[1 + index * width : 1 + (index + 1) * width]

    region, others = hidden[0] - 1, hidden[0]
    rows = []
    for row in table.rows:
        cells = list(row)
        if any(_suppressed(cell) for cell in group(cells, others)):
            start = 1 + region * width
            cells[start : start + width] = [WITHHELD] * width
        rows.append(cells[: 1 + others * width] + cells[1 + (others + 1) * width :])
    header = table.header[: 1 + others * width] + table.header[1 + (others + 1) * width :]
    return replace(table, header=header, rows=rows)


@dataclass
class Section:
    title: str
    tables: list[Table]


def build(perspective: Perspective, filters: Filters) -> list[Section]:
    cols = columns(perspective, filters)
    sections = []
    for title, builders in SECTIONS:
        tables = [
            guard_differences(t, cols)
            for b in builders
            if (t := b(perspective, cols, filters)) is not None
        ]
        sections.append(Section(str(title), tables))
    return sections


def build_one(perspective: Perspective, filters: Filters, slug: str) -> Table:
    builder = BUILDERS.get(slug)
    cols = columns(perspective, filters)
    table = builder(perspective, cols, filters) if builder else None
    if table is None:
        raise Http404
    return guard_differences(table, cols)
