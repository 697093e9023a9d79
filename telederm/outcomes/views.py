"""Follow-up registration, the list of cases awaiting follow-up, statistics and the capacity
forecast of a review unit."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from telederm.accounts.access import me
from telederm.accounts.models import Role, User
from telederm.audit.models import Action
from telederm.audit.review import csv_response
from telederm.audit.services import Actor, record
from telederm.lib.forms import add_validation_error
from telederm.outcomes import access, report
from telederm.outcomes.forecast import forecast, forecast_weeks
from telederm.outcomes.forms import FollowUpForm, StatsFilterForm
from telederm.outcomes.models import FollowUp
from telederm.outcomes.reminders import awaiting, reminder_due_before, reminder_weeks
from telederm.outcomes.services import save_follow_up
from telederm.referrals import access as referral_access
from telederm.referrals.audit import audit_referral
from telederm.referrals.models import Referral


def _back_url(user: User, referral: Referral, role: str) -> str:
    """Where the person came from: the GP's referral page, the dermatologist's case page, or
    (for a center administrator, who has no referral pages) the list of cases awaiting follow-up."""
    if role == Role.GP:
        return reverse("referrals:detail", args=[referral.public_id])
    if role in (Role.DERMATOLOGIST, Role.UNIT_LEAD):
        return reverse("review:case", args=[referral.public_id])
    return reverse("outcomes:awaiting")


@require_http_methods(["GET", "POST"])
def follow_up_view(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    user = me(request)
    referral = access.get_follow_up_referral(user, referral_id)
    role = access.role_for(user, referral)
    existing = FollowUp.objects.filter(referral=referral).select_related("changed_by").first()
    status = 200
    if request.method == "POST":
        form = FollowUpForm(request.POST)
        if form.is_valid():
            try:
                save_follow_up(
                    referral=referral,
                    data=form.data_object(),
                    # 0: the form was opened before any follow-up existed.
                    version=form.cleaned_data.get("version") or 0,
                    by=Actor.from_request(request),
                )
            except ValidationError as error:
                add_validation_error(form, error)
            else:
                messages.success(request, _("The follow-up has been saved."))
                return redirect("outcomes:follow_up", referral_id=referral.public_id)
        status = 422
    else:
        form = FollowUpForm.for_follow_up(existing)
        audit_referral(
            Action.REFERRAL_VIEWED,
            referral,
            by=Actor.from_request(request),
            role=role,
            part="follow_up",
        )
    return render(
        request,
        "outcomes/follow_up.html",
        {
            "referral": referral,
            "answer": referral.answer,
            "follow_up": existing,
            "form": form,
            "back_url": _back_url(user, referral, role),
            "reminder_weeks": reminder_weeks(),
        },
        status=status,
    )


@require_GET
def awaiting_view(request: HttpRequest) -> HttpResponse:
    """The clinic's (and the review unit's) answers that still wait for their follow-up."""
    user = me(request)
    if not (
        referral_access.clinic_staff_clinics(user).exists()
        or referral_access.review_units(user).exists()
    ):
        raise PermissionDenied
    rows = list(awaiting(access.follow_up_referrals(user))[:500])
    record(
        Action.REFERRAL_LIST_VIEWED,
        by=Actor.from_request(request),
        detail={"list": "awaiting_follow_up", "count": len(rows)},
    )
    return render(
        request,
        "outcomes/awaiting.html",
        {
            "rows": rows,
            "overdue_before": reminder_due_before(),
            "reminder_weeks": reminder_weeks(),
        },
    )


def _stats_form(request: HttpRequest, user: User) -> tuple[access.Perspective, StatsFilterForm]:
    perspective = access.get_perspective(user, request.GET.get("scope"))
    form = StatsFilterForm(request.GET, perspective=perspective, scopes=access.perspectives(user))
    return perspective, form


@require_GET
def stats_view(request: HttpRequest) -> HttpResponse:
    user = me(request)
    perspective, form = _stats_form(request, user)
    filters = form.filters()
    query = request.GET.copy()
    query["scope"] = str(perspective.organisation.public_id)
    query["start"], query["end"] = filters.start.isoformat(), filters.end.isoformat()
    return render(
        request,
        "outcomes/stats.html",
        {
            "form": form,
            "perspective": perspective,
            "filters": filters,
            "sections": report.build(perspective, filters),
            "query": query.urlencode(),
            "units": _forecast_units(perspective),
        },
    )


def _forecast_units(perspective: access.Perspective) -> list[object]:
    from telederm.accounts.models import Organisation, OrganisationKind

    if perspective.is_unit:
        return [perspective.organisation]
    if perspective.is_region:
        return list(
            Organisation.objects.filter(
                region=perspective.organisation, kind=OrganisationKind.REVIEW_UNIT
            ).order_by("name")
        )
    return []


@require_GET
def export_view(request: HttpRequest, table: str) -> StreamingHttpResponse:
    """One table of the statistics page as CSV (cells safe against formula injection)."""
    user = me(request)
    perspective, form = _stats_form(request, user)
    filters = form.filters()
    data = report.build_one(perspective, filters, table)
    filename = f"telederm-{table}-{filters.start:%Y%m%d}-{filters.end:%Y%m%d}.csv"
    return csv_response(filename, data.header, data.rows)


@require_GET
def unit_view(request: HttpRequest, unit_id: UUID) -> HttpResponse:
    """A review unit's capacity and whether its current queue will keep the seven-day promise."""
    user = me(request)
    unit = access.get_unit_for_forecast(user, unit_id)
    planned: float | None = None
    raw = request.GET.get("staffing", "").replace(",", ".").strip()
    error = ""
    if raw:
        try:
            planned = float(raw)
        except ValueError:
            planned = None
        if planned is None or not 0 <= planned <= 500:
            planned, error = None, _("Give the dermatologist-days per week as a number, e.g. 10.")
    result = forecast(unit, dermatologist_days_per_week=planned)
    return render(
        request,
        "outcomes/unit.html",
        {
            "unit": unit,
            "forecast": result,
            "capacity": result.capacity,
            "planned": planned,
            "staffing": raw,
            "staffing_error": error,
            "weeks": forecast_weeks(),
        },
    )
