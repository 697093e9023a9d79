"""Tables about what happened after the answer: excisions, lead time, PAD and concordance."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from telederm.outcomes import queries as q
from telederm.outcomes.access import FOLLOW_UP_ACTIONS, Perspective
from telederm.outcomes.charts import bar_chart
from telederm.outcomes.forms import Filters
from telederm.outcomes.models import Place
from telederm.outcomes.numbers import WITHHELD, count_cell, is_small
from telederm.outcomes.report_activity import hidden_reviewer
from telederm.outcomes.tables import (
    Column,
    Table,
    days_text,
    key_table,
    num,
    ratio_columns,
    ratio_header,
    ratio_text,
)

GROUP_NAMES = {
    q.MELANOMA: gettext_lazy("Melanoma (in situ or invasive)"),
    q.OTHER_MALIGNANT: gettext_lazy("Other malignant (BCC, SCC)"),
    q.BENIGN: gettext_lazy("Benign or not malignant"),
}


def group_names() -> dict[str, str]:
    return {key: str(name) for key, name in GROUP_NAMES.items()}


def nne_text(excisions: q.Excisions, suppress: bool = False) -> str:
    """Number needed to excise, with the counts it comes from."""
    nne = excisions.number_needed_to_excise
    if nne is None:
        return WITHHELD
    if suppress and (is_small(excisions.with_pad) or is_small(excisions.melanomas)):
        return WITHHELD
    return _("%(nne)s (%(excisions)s excisions with PAD / %(melanomas)s melanomas)") % {
        "nne": num(nne),
        "excisions": excisions.with_pad,
        "melanomas": excisions.melanomas,
    }


def outcomes_table(p: Perspective, cols: list[Column], f: Filters) -> Table:
    found = {c.label: q.excisions(c.referrals) for c in cols}
    agreement = {c.label: q.concordance(c.referrals) for c in cols}

    def e(c: Column) -> q.Excisions:
        return found[c.label]

    return key_table(
        "outcomes",
        _("Follow-up and histopathology (PAD)"),
        cols,
        [
            (
                _("Follow-up registered after excision, referral or SVF"),
                lambda c: ratio_text(
                    q.follow_up_coverage(c.referrals, FOLLOW_UP_ACTIONS), c.suppress
                ),
            ),
            (_("Excisions registered"), lambda c: count_cell(e(c).excised, c.suppress)),
            (_("of them with a PAD result"), lambda c: count_cell(e(c).with_pad, c.suppress)),
            (_("Melanoma in situ"), lambda c: count_cell(e(c).melanoma_in_situ, c.suppress)),
            (_("Invasive melanoma"), lambda c: count_cell(e(c).melanoma_invasive, c.suppress)),
            (
                _("Other malignant (BCC, SCC)"),
                lambda c: count_cell(e(c).other_malignant, c.suppress),
            ),
            (_("Number needed to excise (NNE)"), lambda c: nne_text(e(c), c.suppress)),
            (_("Benign excisions"), lambda c: ratio_text(e(c).benign, c.suppress)),
            (
                _("Assessment in the same group as PAD"),
                lambda c: ratio_text(agreement[c.label].group_agreement, c.suppress),
            ),
            (
                _("Assessment with the same diagnosis as PAD"),
                lambda c: ratio_text(agreement[c.label].exact_agreement, c.suppress),
            ),
        ],
    )


def lead_times_table(p: Perspective, cols: list[Column], f: Filters) -> Table:
    per_column = [q.lead_times(c.referrals) for c in cols]
    header = [_("Where")]
    for c in cols:
        header += [c.label, _("Median"), _("90th percentile")]
    rows = []
    places = [(str(code), str(label)) for code, label in Place.choices]
    for code, label in [*places, ("", _("All"))]:
        row: list[object] = [label]
        for times, c in zip(per_column, cols, strict=True):
            days = times.get(code, []) if code else [d for v in times.values() for d in v]
            row += [
                count_cell(len(days), c.suppress),
                days_text(q.median(days), len(days), c.suppress),
                days_text(q.percentile(days, 90), len(days), c.suppress),
            ]
        rows.append(row)
    title = _("Days from referral to excision, by where it was done")
    return Table("lead_times", title, header, rows, per_column=True)


def lead_time_days_table(p: Perspective, cols: list[Column], f: Filters) -> Table:
    hists = [
        q.lead_time_histogram([d for v in q.lead_times(c.referrals).values() for d in v])
        for c in cols
    ]
    rows = [
        [label, *(count_cell(h[i][1], c.suppress) for h, c in zip(hists, cols, strict=True))]
        for i, (label, _n) in enumerate(hists[0])
    ]
    title = _("Excisions by days after the referral")
    chart = bar_chart("chart-lead-time", title, hists[0], cols[0].label)
    header = [_("Days"), *(c.label for c in cols)]
    return Table("lead_time_days", title, header, rows, chart, per_column=True)


def concordance_table(p: Perspective, cols: list[Column], f: Filters) -> Table:
    matrix = q.concordance(cols[0].referrals).matrix()
    names = group_names()
    rows = []
    for tele in q.GROUPS:
        counts = [matrix[(tele, pad)] for pad in q.GROUPS]
        rows.append([names[tele], *counts, sum(counts)])
    totals = [sum(matrix[(tele, pad)] for tele in q.GROUPS) for pad in q.GROUPS]
    rows.append([_("Total"), *totals, sum(totals)])
    return Table(
        "concordance",
        _("Teledermoscopy assessment (rows) against PAD (columns)"),
        [_("Assessment"), *(names[g] for g in q.GROUPS), _("Total")],
        rows,
        note=_("Excised lesions with a PAD result; %(unit)s.") % {"unit": cols[0].label},
    )


def concordance_groups_table(p: Perspective, cols: list[Column], f: Filters) -> Table:
    groups = [q.concordance(c.referrals).by_pad_group() for c in cols]
    rows = []
    for key, name in group_names().items():
        row: list[object] = [name]
        for by_group, c in zip(groups, cols, strict=True):
            row += ratio_columns(by_group[key], c.suppress)
        rows.append(row)
    return Table(
        "concordance_groups",
        _("Per PAD group: assessed in the same group"),
        ratio_header(_("PAD group"), cols),
        rows,
        per_column=True,
    )


def concordance_reviewers_table(p: Perspective, cols: list[Column], f: Filters) -> Table | None:
    if not p.shows_reviewers:
        return None
    rows = []
    for user_id, name, agreement in q.concordance_by_reviewer(cols[0].referrals):
        if hidden_reviewer(p, user_id):
            continue
        rows.append(
            [
                name,
                *ratio_columns(agreement.group_agreement),
                *ratio_columns(agreement.exact_agreement),
            ]
        )
    return Table(
        "concordance_reviewers",
        _("Concordance with PAD per reviewer"),
        [
            _("Reviewer"),
            _("Same group"),
            _("of"),
            "%",
            _("Same diagnosis"),
            _("of"),
            "%",
        ],
        rows,
    )
