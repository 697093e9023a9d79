"""The region administrator's pages and the public clinic application form."""

from __future__ import annotations

import math
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from telederm.accounts import access
from telederm.accounts.forms import ApplicationForm, RejectForm
from telederm.accounts.models import ClinicApplication, Organisation, OrganisationKind
from telederm.accounts.queries import MIN_LICENSED_GPS, clinics_with_licence_counts
from telederm.accounts.services.onboarding import (
    ClinicData,
    approve_application,
    reject_application,
    submit_application,
)
from telederm.accounts.services.users import PersonData
from telederm.audit.services import Actor
from telederm.lib.forms import add_validation_error
from telederm.web import ratelimit
from telederm.web.decorators import public


def region_view(request: HttpRequest) -> HttpResponse:
    access.require_region_admin(access.me(request))
    regions = list(access.administered_regions(access.me(request)))
    sections = []
    for region in regions:
        clinics = list(clinics_with_licence_counts(region))
        sections.append(
            {
                "region": region,
                "clinics": clinics,
                "short_clinics": [
                    c for c in clinics if getattr(c, "licensed_gps", 0) < MIN_LICENSED_GPS
                ],
                "review_units": Organisation.objects.filter(
                    region=region, kind=OrganisationKind.REVIEW_UNIT
                ),
                "pending": ClinicApplication.objects.filter(
                    region=region, status=ClinicApplication.Status.PENDING
                ).count(),
            }
        )
    return render(
        request, "accounts/region.html", {"sections": sections, "min_licensed": MIN_LICENSED_GPS}
    )


def applications_view(request: HttpRequest) -> HttpResponse:
    access.require_region_admin(access.me(request))
    applications = ClinicApplication.objects.filter(
        region__in=access.administered_regions(access.me(request))
    )
    return render(
        request,
        "accounts/applications.html",
        {
            "pending": applications.filter(status=ClinicApplication.Status.PENDING),
            "decided": applications.exclude(status=ClinicApplication.Status.PENDING)[:50],
        },
    )


def application_view(request: HttpRequest, application_id: UUID) -> HttpResponse:
    application = access.get_application_for(access.me(request), application_id)
    reject_form = RejectForm(request.POST or None)
    if request.method == "POST":
        actor = Actor.from_request(request)
        try:
            if request.POST.get("decision") == "approve":
                clinic = approve_application(application=application, by=actor)
                messages.success(
                    request,
                    _(
                        "%(name)s is connected. The center administrator has been sent an activation link."
                    )
                    % {"name": clinic.name},
                )
                return redirect("accounts:organisation", org_id=clinic.public_id)
            if reject_form.is_valid():
                reject_application(
                    application=application, reason=reject_form.cleaned_data["reason"], by=actor
                )
                messages.success(
                    request, _("The application has been rejected and the clinic told why.")
                )
                return redirect("accounts:applications")
        except ValidationError as exc:
            if request.POST.get("decision") == "approve":
                for message in exc.messages:
                    messages.error(request, message)
                reject_form = RejectForm()
            else:
                add_validation_error(reject_form, exc)
    return render(
        request,
        "accounts/application.html",
        {"application": application, "reject_form": reject_form},
    )


@public
def apply_view(request: HttpRequest) -> HttpResponse:
    region = Organisation.objects.filter(kind=OrganisationKind.REGION).order_by("pk").first()
    if region is None:
        return render(request, "accounts/apply_closed.html", status=503)
    form = ApplicationForm(request.POST or None)
    if request.method == "POST":
        limited = _too_many_applications(request, form, region)
        if limited is not None:
            return limited
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            submit_application(
                region=region,
                clinic=ClinicData(
                    name=data["clinic_name"],
                    kombikakod=data["kombikakod"],
                    hsa_id=data["clinic_hsa_id"],
                    ehr_integrated=data["ehr_integrated"],
                    address=data["address"],
                    phone=data["phone"],
                ),
                head_name=data["head_name"],
                head_email=data["head_email"],
                head_hsa_id=data["head_hsa_id"],
                admin=PersonData(
                    first_name=data["admin_first_name"],
                    last_name=data["admin_last_name"],
                    email=data["admin_email"],
                    hsa_id=data["admin_hsa_id"],
                    mobile=data["admin_mobile"],
                    title=data["admin_title"],
                ),
                by=Actor.from_request(request),
            )
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            return redirect("accounts:apply_thanks")
    return render(request, "accounts/apply.html", {"form": form, "region": region})


def _too_many_applications(
    request: HttpRequest, form: ApplicationForm, region: Organisation
) -> HttpResponse | None:
    """429 with the form as filled in, beyond TELEDERM_APPLY_RATE_LIMIT posts per network."""
    limit = ratelimit.Limit(
        "apply", settings.TELEDERM_APPLY_RATE_LIMIT, settings.TELEDERM_APPLY_RATE_WINDOW_SECONDS
    )
    verdict = ratelimit.hit(limit, ratelimit.client_network(request))
    if verdict.allowed:
        return None
    minutes = math.ceil(verdict.retry_after / 60)
    form.is_valid()  # so the page also marks any field that needs correcting
    form.add_error(
        None,
        ngettext(
            "Too many applications have been sent from your network. "
            "Try again in %(minutes)d minute.",
            "Too many applications have been sent from your network. "
            "Try again in %(minutes)d minutes.",
            minutes,
        )
        % {"minutes": minutes},
    )
    response = render(request, "accounts/apply.html", {"form": form, "region": region}, status=429)
    response["Retry-After"] = str(verdict.retry_after)
    return response


@public
def apply_thanks_view(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/apply_thanks.html")
