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
from telederm.referrals.models import Referral, ReferralStatus
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
    # The visibility rules of referrals.access written out for these states, with the ids as
    # constants, so that each count is one indexed query (docs/performance.md).
    clinic_ids = [clinic.pk for clinic in gp_clinics]
    unit_ids = list(referral_access.review_units(user).values_list("pk", flat=True))
    in_queue = Referral.objects.filter(
        review_unit__in=unit_ids, status__in=[ReferralStatus.SENT, ReferralStatus.IN_REVIEW]
    )
    at_clinics = Referral.objects.filter(clinic__in=clinic_ids)
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
            "draft_count": at_clinics.filter(status=ReferralStatus.DRAFT, author=user).count(),
            "is_reviewer": bool(unit_ids),
            "queue_unassigned": in_queue.filter(status=ReferralStatus.SENT).count(),
            "queue_mine": in_queue.filter(assigned_to=user).count(),
            "unread_answers": at_clinics.filter(
                status=ReferralStatus.ANSWERED, pk__in=referral_access.unread_answer_referrals()
            ).count(),
            "waiting_count": at_clinics.filter(
                status__in=[ReferralStatus.SENT, ReferralStatus.IN_REVIEW]
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
