"""Start page, about page, language switch and error pages."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from telederm.accounts import access
from telederm.accounts.models import Organisation, OrganisationKind, Role, User
from telederm.accounts.services import users as user_services
from telederm.referrals import access as referral_access
from telederm.referrals.models import ReferralStatus
from telederm.referrals.services import equipment_missing
from telederm.web.decorators import public


def start(request: HttpRequest) -> HttpResponse:
    user = access.me(request)
    memberships = list(user.active_memberships())
    roles = {m.role for m in memberships}
    licence = user.valid_licence() if Role.GP in roles else None
    regions = [m.organisation for m in memberships if m.role == Role.REGION_ADMIN]
    gp_clinics = [m.organisation for m in memberships if m.role == Role.GP]
    # Clinics whose first referral waits for a passed equipment test: no "New referral" there.
    untested = [clinic for clinic in gp_clinics if equipment_missing(clinic)]
    visible = referral_access.referrals_visible_to(user)
    units = referral_access.review_units(user)
    in_queue = visible.filter(
        review_unit__in=units, status__in=[ReferralStatus.SENT, ReferralStatus.IN_REVIEW]
    )
    return render(
        request,
        "web/start.html",
        {
            "memberships": memberships,
            "roles": roles,
            "licence": licence,
            "is_gp": Role.GP in roles,
            "gp_clinics": [clinic for clinic in gp_clinics if clinic not in untested],
            "untested_clinics": untested,
            "draft_count": visible.filter(status=ReferralStatus.DRAFT, author=user).count(),
            "is_reviewer": units.exists(),
            "queue_unassigned": in_queue.filter(status=ReferralStatus.SENT).count(),
            "queue_mine": in_queue.filter(assigned_to=user).count(),
            "unread_answers": visible.filter(
                clinic__in=referral_access.gp_clinics(user),
                status=ReferralStatus.ANSWERED,
                answer__read_at__isnull=True,
            ).count(),
            "waiting_count": visible.filter(
                clinic__in=referral_access.gp_clinics(user),
                status__in=[ReferralStatus.SENT, ReferralStatus.IN_REVIEW],
            ).count(),
            "admin_orgs": [m.organisation for m in memberships if m.role == Role.CENTER_ADMIN],
            "regions": regions,
            "region_clinic_count": Organisation.objects.filter(
                region__in=regions, kind=OrganisationKind.CLINIC
            ).count()
            if regions
            else 0,
        },
    )


@public
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers (and the benchmarks' trivial view): no database, no template."""
    return HttpResponse("ok", content_type="text/plain")


@public
def about(request: HttpRequest) -> HttpResponse:
    return render(request, "web/about.html")


@public
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "/"
    response = HttpResponseRedirect(target)
    if language in dict(settings.LANGUAGES):
        if isinstance(request.user, User):
            user_services.set_language(user=request.user, language=language)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=not settings.DEMO,
            httponly=True,
        )
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "web/csrf_failure.html", status=403)
