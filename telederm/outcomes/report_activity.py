"""Tables about the work itself: time to answer, complements, volumes, photo quality, decisions."""

from __future__ import annotations

from django.utils.translation import gettext as _

from telederm.outcomes import queries as q
from telederm.outcomes.access import Perspective
from telederm.outcomes.charts import bar_chart
from telederm.outcomes.forms import Filters
from telederm.outcomes.numbers import Ratio, count_cell
from telederm.outcomes.tables import (
    Column,
    Table,
    days_text,
    key_table,
    ratio_columns,
    ratio_header,
    ratio_text,
)
from telederm.review.models import Action, Diagnosis


def turnaround_table(p: Perspective, cols: list[Column], f: Filters) -> Table:
    data = {c.label: q.turnaround(c.referrals) for c in cols}

    def t(c: Column) -> q.Turnaround:
        return data[c.label]

    return key_table(
        "turnaround",
        _("Time from referral to answer"),
        cols,
        [
            (_("Referrals sent"), lambda c: count_cell(q.sent_count(c.referrals), c.suppress)),
            (_("Answered"), lambda c: count_cell(t(c).n, c.suppress)),
            (_("Median"), lambda c: days_text(t(c).median, t(c).n, c.suppress)),
            (_("90th percentile"), lambda c: days_text(t(c).p90, t(c).n, c.suppress)),
            (_("Answered within 7 days"), lambda c: ratio_text(t(c).within_promise, c.suppress)),
            (_("Answered the same day"), lambda c: ratio_text(t(c).same_day, c.suppress)),
            (_("Answered by the next day"), lambda c: ratio_text(t(c).by_next_day, c.suppress)),
        ],
    )


def turnaround_days_table(p: Perspective, cols: list[Column], f: Filters) -> Table:
    hists = [q.turnaround(c.referrals).histogram() for c in cols]
    rows = [
        [label, *(count_cell(h[i][1], c.suppress) for h, c in zip(hists, cols, strict=True))]
        for i, (label, _n) in enumerate(hists[0])
    ]
    title = _("Answers by days after sending")
    chart = bar_chart(
        "chart-turnaround", title, hists[0], _("Day 0 is the day the referral was sent.")
    )
    header = [_("Days"), *(c.label for c in cols)]
    return Table("turnaround_days", title, header, rows, chart, per_column=True)


def complements_table(p: Perspective, cols: list[Column], f: Filters) -> Table:
    data = {c.label: q.complements(c.referrals) for c in cols}

    def median_of(values: list[float], c: Column) -> str:
        return days_text(q.median(values), len(values), c.suppress)

    return key_table(
        "complements",
        _("Complement requests"),
        cols,
        [
            (
                _("Answered referrals with a complement request"),
                lambda c: ratio_text(data[c.label].with_complement, c.suppress),
            ),
            (_("Complement rounds"), lambda c: count_cell(data[c.label].rounds, c.suppress)),
            (
                _("Median days per round (question to reply)"),
                lambda c: median_of(data[c.label].round_days, c),
            ),
            (
                _("Median time to answer, with a complement"),
                lambda c: median_of(data[c.label].turnaround_with, c),
            ),
            (
                _("Median time to answer, without a complement"),
                lambda c: median_of(data[c.label].turnaround_without, c),
            ),
        ],
    )


def monthly_table(p: Perspective, cols: list[Column], f: Filters) -> Table:
    months = q.months_between(f.start, f.end)
    volumes = [q.monthly_volumes(c.referrals) for c in cols]
    rows = [
        [
            month.strftime("%Y-%m"),
            *(count_cell(v.get(month, 0), c.suppress) for v, c in zip(volumes, cols, strict=True)),
        ]
        for month in months
    ]
    title = _("Referrals sent per month")
    chart_rows = [(month.strftime("%Y-%m"), volumes[0].get(month, 0)) for month in months]
    chart = bar_chart("chart-monthly", title, chart_rows, cols[0].label)
    header = [_("Month"), *(c.label for c in cols)]
    return Table("monthly", title, header, rows, chart, per_column=True)


def clinics_table(p: Perspective, cols: list[Column], f: Filters) -> Table | None:
    if p.is_clinic:
        return None  # the monthly table is the clinic's own
    months = q.months_between(f.start, f.end)
    suppress = p.suppress_per_clinic
    rows = []
    for name, volumes in q.clinic_monthly_volumes(cols[0].referrals).items():
        counts = [volumes.get(month, 0) for month in months]
        cells = [count_cell(n, suppress) for n in counts]
        rows.append([name, *cells, count_cell(sum(counts), suppress)])
    return Table(
        "clinics",
        _("Referrals per clinic and month"),
        [_("Clinic"), *(month.strftime("%Y-%m") for month in months), _("Total")],
        rows,
        note=_("Counts from 1 to 4 are shown as <5.") if suppress else "",
    )


def hidden_reviewer(p: Perspective, user_id: int) -> bool:
    """A dermatologist sees only their own row among the reviewers (a unit lead sees all)."""
    return p.own_reviewer_only is not None and p.own_reviewer_only.pk != user_id


def reviewers_table(p: Perspective, cols: list[Column], f: Filters) -> Table | None:
    if not p.shows_reviewers:
        return None
    rows: list[list[object]] = [
        [person.name, person.answers, days_text(q.median(person.turnaround), person.answers)]
        for person in q.reviewer_volumes(cols[0].referrals)
        if not hidden_reviewer(p, person.user_id)
    ]
    return Table(
        "reviewers",
        _("Answers per reviewer"),
        [_("Reviewer"), _("Answers"), _("Median time to answer")],
        rows,
    )


def reviewer_months_table(p: Perspective, cols: list[Column], f: Filters) -> Table | None:
    """Answers per reviewer and month, with the same rows as ``reviewers_table``: a dermatologist
    sees their own, a unit lead and the region every reviewer. Not suppressed, like that table:
    the counts are of the reviewers' own answers to their unit's referrals."""
    if not p.shows_reviewers:
        return None
    people = [
        person
        for person in q.reviewer_monthly_volumes(cols[0].referrals)
        if not hidden_reviewer(p, person.user_id)
    ]
    # The month of the answer: a referral sent at the end of the period may be answered after it.
    last = max((month for person in people for month in person.months), default=f.end)
    months = q.months_between(f.start, max(f.end, last))
    totals = [sum(person.months.get(month, 0) for person in people) for month in months]
    rows: list[list[object]] = [
        [person.name, *(person.months.get(month, 0) for month in months), person.answers]
        for person in people
    ]
    if len(people) > 1:
        rows.append([_("All reviewers shown"), *totals, sum(totals)])
    title = _("Answers per reviewer and month")
    labels = [month.strftime("%Y-%m") for month in months]
    chart = bar_chart(
        "chart-reviewer-months",
        title,
        list(zip(labels, totals, strict=True)),
        _("Answers of the reviewers shown, per month of the answer."),
    )
    return Table(
        "reviewer_months",
        title,
        [_("Reviewer"), *labels, _("Total")],
        rows,
        chart,
        note=_("By the month the answer was sent, for the referrals sent in the period."),
    )


def quality_table(p: Perspective, cols: list[Column], f: Filters) -> Table:
    return key_table(
        "quality",
        _("Photo quality"),
        cols,
        [
            (
                _("Referrals with a photo quality warning"),
                lambda c: ratio_text(q.quality_warnings(c.referrals), c.suppress),
            ),
        ],
    )


def decisions_table(p: Perspective, cols: list[Column], f: Filters) -> Table:
    return key_table(
        "decisions",
        _("Decisions"),
        cols,
        [
            (
                _("Closed without excision or follow-up (no action)"),
                lambda c: ratio_text(q.closed_without_action(c.referrals), c.suppress),
            ),
        ],
    )


def _mix_table(
    slug: str,
    title: str,
    first: str,
    cols: list[Column],
    mixes: list[dict[str, int]],
    names: dict[str, str],
) -> Table:
    totals = [sum(mix.values()) for mix in mixes]
    rows = []
    for code, name in names.items():
        row: list[object] = [name]
        for mix, total, c in zip(mixes, totals, cols, strict=True):
            row += ratio_columns(Ratio(mix.get(code, 0), total), c.suppress)
        rows.append(row)
    return Table(slug, title, ratio_header(first, cols), rows, per_column=True)


def diagnoses_table(p: Perspective, cols: list[Column], f: Filters) -> Table:
    mixes = [dict(q.diagnosis_mix(c.referrals)) for c in cols]
    names = {str(code): str(label) for code, label in Diagnosis.choices}
    return _mix_table(
        "diagnoses", _("Diagnoses in the answers"), _("Diagnosis"), cols, mixes, names
    )


def actions_table(p: Perspective, cols: list[Column], f: Filters) -> Table:
    mixes = [dict(q.action_mix(c.referrals)) for c in cols]
    names = {str(code): str(label) for code, label in Action.choices}
    return _mix_table("actions", _("Recommended actions"), _("Action"), cols, mixes, names)
