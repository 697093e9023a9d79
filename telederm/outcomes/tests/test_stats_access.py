"""Who sees which statistics: perspectives, small-count suppression, reviewer rows, CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from telederm.accounts.models import Organisation, Role, User
from telederm.accounts.tests.factories import UserFactory, member
from telederm.outcomes import report
from telederm.outcomes.access import get_perspective, perspectives
from telederm.outcomes.forms import Filters, default_period
from telederm.outcomes.tests import helpers
from telederm.referrals.models import ReferralStatus
from telederm.testing import World, login

pytestmark = pytest.mark.django_db


@pytest.fixture
def dan(world: World) -> User:
    return member(world.unit_x, Role.DERMATOLOGIST, first_name="Dan")


@pytest.fixture
def numbers(world: World, dan: User) -> None:
    """Clinic A: six answers (three by Disa, three by Dan, after two days); clinic B: three
    answers by Disa, the same day. All reviewed by unit X, sent ten days ago."""
    sent = timezone.now() - timedelta(days=10)
    for n in range(6):
        referral = helpers.bare_referral(world, sent_at=sent, status=ReferralStatus.IN_REVIEW)
        helpers.bare_answer(referral, world.derm_x if n < 3 else dan, sent + timedelta(days=2))
    for _n in range(3):
        referral = helpers.bare_referral(
            world, sent_at=sent, status=ReferralStatus.IN_REVIEW, clinic=world.clinic_b
        )
        helpers.bare_answer(referral, world.derm_x, sent + timedelta(hours=1))


def _filters() -> Filters:
    start, end = default_period()
    return Filters(start=start, end=end)


def _table(user: User, slug: str, scope: Organisation | None = None) -> report.Table:
    perspective = get_perspective(user, scope.public_id if scope else None)
    return report.build_one(perspective, _filters(), slug)


def test_each_role_has_its_perspectives(world: World) -> None:
    assert perspectives(world.region_admin) == [world.region]
    assert perspectives(world.gp_a) == [world.clinic_a]
    assert perspectives(world.admin_b) == [world.clinic_b]
    assert perspectives(world.derm_y) == [world.unit_y]


@pytest.mark.parametrize(
    ("persona", "scope", "status"),
    [
        ("gp_a", "clinic_b", 404),
        ("gp_a", "region", 404),
        ("gp_a", "unit_x", 404),
        ("admin_a", "clinic_b", 404),
        ("derm_x", "unit_y", 404),
        ("derm_x", "clinic_a", 404),
        ("region_admin", "clinic_a", 404),
        ("region_admin", "region", 200),
        ("derm_x", "unit_x", 200),
        ("gp_a", "clinic_a", 200),
    ],
)
def test_a_perspective_one_does_not_hold_is_404(
    client: Client, world: World, persona: str, scope: str, status: int
) -> None:
    login(client, getattr(world, persona))
    query = {"scope": str(getattr(world, scope).public_id)}
    assert client.get(reverse("outcomes:stats"), query).status_code == status
    export = client.get(reverse("outcomes:export", args=["turnaround"]), query)
    assert export.status_code == status


def test_without_any_role_the_page_is_403(client: Client, db: None) -> None:
    login(client, UserFactory.create())
    assert client.get(reverse("outcomes:stats")).status_code == 403


def test_a_clinic_sees_its_own_figures_and_the_regions_suppressed(
    client: Client, world: World, numbers: None
) -> None:
    table = _table(world.gp_a, "turnaround")
    header, rows = table.header, {row[0]: row[1:] for row in table.rows}
    assert header[1:] == ["Vårdcentral A", "Region Test, all clinics"]
    # The region's 9 minus the clinic's own 6 would give away clinic B's 3: withheld.
    assert rows["Referrals sent"] == [6, "–"]
    assert rows["Answered the same day"] == ["0 of 6 (0.0 %)", "–"]
    assert rows["Median"] == ["2.0 days", "–"]
    mix = {row[0]: row[1:] for row in _table(world.gp_a, "diagnoses").rows}
    assert mix["Dysplastic / atypical naevus"] == ["6", "6", "100.0", "–", "–", "–"]
    assert mix["Basal cell carcinoma"] == ["0", "6", "0.0", "–", "–", "–"]
    with pytest.raises(Http404):
        _table(world.gp_a, "clinics")  # no table of other clinics
    with pytest.raises(Http404):
        _table(world.gp_a, "reviewers")
    login(client, world.gp_a)
    page = client.get(reverse("outcomes:stats")).content.decode()
    assert "Vårdcentral B" not in page
    assert "Disa" not in page


def test_the_regions_totals_show_when_the_other_clinics_are_not_few(
    world: World, numbers: None
) -> None:
    sent = timezone.now() - timedelta(days=10)
    for _n in range(2):
        referral = helpers.bare_referral(
            world, sent_at=sent, status=ReferralStatus.IN_REVIEW, clinic=world.clinic_b
        )
        helpers.bare_answer(referral, world.derm_x, sent + timedelta(hours=1))
    rows = {row[0]: row[1:] for row in _table(world.gp_a, "turnaround").rows}
    assert rows["Referrals sent"] == [6, 11]
    assert rows["Answered the same day"] == ["0 of 6 (0.0 %)", "5 of 11 (45.5 %)"]
    assert rows["Answered within 7 days"] == ["6 of 6 (100.0 %)", "11 of 11 (100.0 %)"]
    months = _table(world.gp_a, "monthly")
    assert months.header[1:] == ["Vårdcentral A", "Region Test, all clinics"]
    assert [6, 11] in [row[1:] for row in months.rows]


def test_a_unit_sees_clinics_with_small_counts_suppressed(world: World, numbers: None) -> None:
    clinics = {row[0]: row[-1] for row in _table(world.derm_x, "clinics").rows}
    assert clinics == {"Vårdcentral A": 6, "Vårdcentral B": "<5"}
    unsuppressed = {row[0]: row[-1] for row in _table(world.region_admin, "clinics").rows}
    assert unsuppressed == {"Vårdcentral A": 6, "Vårdcentral B": 3}


def test_reviewer_rows_a_dermatologist_sees_only_their_own(
    client: Client, world: World, dan: User, numbers: None
) -> None:
    own = [row[0] for row in _table(world.derm_x, "reviewers").rows]
    assert own == [world.derm_x.full_name]
    lead = member(world.unit_x, Role.UNIT_LEAD, first_name="Lea")
    assert {row[0] for row in _table(lead, "reviewers").rows} == {
        world.derm_x.full_name,
        dan.full_name,
    }
    assert {row[0] for row in _table(world.region_admin, "reviewers").rows} == {
        world.derm_x.full_name,
        dan.full_name,
    }
    # Asking for a colleague's figures does not widen the view.
    login(client, world.derm_x)
    page = client.get(reverse("outcomes:stats"), {"reviewer": str(dan.public_id)})
    assert page.status_code == 200
    assert dan.full_name not in page.content.decode()


def test_region_filters(client: Client, world: World, numbers: None) -> None:
    login(client, world.region_admin)
    url = reverse("outcomes:export", args=["turnaround"])
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(url, {"clinic": str(world.clinic_b.public_id)})
                .getvalue()
                .decode("utf-8-sig")
            ),
            delimiter=";",
        )
    )
    sent = next(row for row in rows if row[0] == "Referrals sent")
    assert sent[1] == "3"
    same_day = next(row for row in rows if row[0] == "Answered the same day")
    assert same_day[1] == "3 of 3 (100.0 %)"


def test_csv_cells_cannot_start_a_formula(client: Client, world: World, numbers: None) -> None:
    Organisation.objects.filter(pk=world.clinic_b.pk).update(name='=HYPERLINK("http://x")')
    User.objects.filter(pk=world.derm_x.pk).update(first_name="+cmd", last_name="|x")
    login(client, world.region_admin)
    response = client.get(reverse("outcomes:export", args=["clinics"]))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.getvalue().decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    names = [row[0] for row in rows[1:]]
    assert '\'=HYPERLINK("http://x")' in names
    reviewers = client.get(reverse("outcomes:export", args=["reviewers"])).getvalue().decode()
    assert "'+cmd |x" in reviewers
    assert client.get(reverse("outcomes:export", args=["nonsense"])).status_code == 404


def test_the_page_shows_tables_charts_and_csv_links(
    client: Client, world: World, numbers: None
) -> None:
    login(client, world.region_admin)
    response = client.get(reverse("outcomes:stats"))
    page = response.content.decode()
    assert response.status_code == 200
    # Turnaround, monthly volumes, answers per reviewer and month, lead time.
    assert page.count("<svg") == 4
    assert "style=" not in page.split("<main", 1)[1]  # the CSP allows no inline style
    for slug in report.BUILDERS:
        assert reverse("outcomes:export", args=[slug]) in page
    assert reverse("outcomes:unit", args=[world.unit_x.public_id]) in page


@pytest.fixture
def months(world: World, dan: User) -> Filters:
    """Answers in January–April 2025 by Disa and Dan (unit X) and Hugo (unit Y); the period is
    January–March, by the day of sending."""

    def one(author: User, sent: date, answered: date, **where: Any) -> None:
        referral = helpers.bare_referral(
            world, sent_at=helpers.local(sent, 22), status=ReferralStatus.IN_REVIEW, **where
        )
        helpers.bare_answer(referral, author, helpers.local(answered, 9))

    one(world.derm_x, date(2025, 1, 10), date(2025, 1, 12))
    one(world.derm_x, date(2025, 1, 30), date(2025, 2, 2))  # sent in January, answered in February
    one(world.derm_x, date(2025, 2, 14), date(2025, 2, 15), clinic=world.clinic_b)
    for _n in range(3):
        one(dan, date(2025, 2, 3), date(2025, 2, 5))
    one(dan, date(2025, 3, 31), date(2025, 4, 1))  # answered after the period: its own column
    one(world.derm_y, date(2025, 2, 10), date(2025, 2, 11), unit=world.unit_y)
    one(dan, date(2024, 12, 20), date(2025, 1, 3))  # sent before the period: not counted
    return Filters(start=date(2025, 1, 1), end=date(2025, 3, 31))


def _months(user: User, filters: Filters) -> report.Table:
    return report.build_one(get_perspective(user, None), filters, "reviewer_months")


def test_answers_per_reviewer_and_month_for_the_region(
    world: World, dan: User, months: Filters
) -> None:
    table = _months(world.region_admin, months)
    assert table.header == ["Reviewer", "2025-01", "2025-02", "2025-03", "2025-04", "Total"]
    assert table.rows == [
        [dan.full_name, 0, 3, 0, 1, 4],
        [world.derm_x.full_name, 1, 2, 0, 0, 3],
        [world.derm_y.full_name, 0, 1, 0, 0, 1],
        ["All reviewers shown", 1, 6, 0, 1, 8],
    ]
    assert table.chart is not None
    assert ">6</text>" in table.chart  # the February bar of the chart: all reviewers shown


def test_answers_per_reviewer_and_month_a_dermatologist_sees_their_own(
    client: Client, world: World, dan: User, months: Filters
) -> None:
    own = _months(world.derm_x, months)
    assert own.header == ["Reviewer", "2025-01", "2025-02", "2025-03", "Total"]
    assert own.rows == [[world.derm_x.full_name, 1, 2, 0, 3]]
    lead = member(world.unit_x, Role.UNIT_LEAD, first_name="Lea")
    assert _months(lead, months).rows == [
        [dan.full_name, 0, 3, 0, 1, 4],
        [world.derm_x.full_name, 1, 2, 0, 0, 3],
        ["All reviewers shown", 1, 5, 0, 1, 7],
    ]
    with pytest.raises(Http404):
        _months(world.gp_a, months)  # a clinic has no reviewer rows
    # The CSV holds the same rows; asking for a colleague's figures does not widen it.
    login(client, world.derm_x)
    query = {"start": "2025-01-01", "end": "2025-03-31", "reviewer": str(dan.public_id)}
    response = client.get(reverse("outcomes:export", args=["reviewer_months"]), query)
    rows = list(csv.reader(io.StringIO(response.getvalue().decode("utf-8-sig")), delimiter=";"))
    assert rows[1:] == [[world.derm_x.full_name, "1", "2", "0", "3"]]
    login(client, world.gp_a)
    export = client.get(reverse("outcomes:export", args=["reviewer_months"]), query)
    assert export.status_code == 404


def test_a_clinics_columns_cut_from_the_regions_rows_equal_their_own_queries(
    world: World, numbers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clinic perspective takes its own and the other clinics' rows out of the region's
    (facts.narrow); fetched separately they give exactly the same page."""
    sent = timezone.now() - timedelta(days=10)
    for n in range(7):  # enough of clinic B's own that the region column is shown
        referral = helpers.bare_referral(
            world, sent_at=sent, status=ReferralStatus.IN_REVIEW, clinic=world.clinic_b
        )
        helpers.bare_answer(referral, world.derm_x, sent + timedelta(hours=n), action="none")
    perspective = get_perspective(world.gp_a, None)
    cut = report.build(perspective, _filters())
    monkeypatch.setattr(report.facts, "narrow", lambda *args: None)
    fetched = report.build(perspective, _filters())

    assert [[t.rows for t in s.tables] for s in cut] == [
        [t.rows for t in s.tables] for s in fetched
    ]
    turnaround = {row[0]: row[1:] for row in cut[0].tables[0].rows}
    assert turnaround["Referrals sent"] == [6, 16]
