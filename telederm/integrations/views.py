"""The region administrator's view of the outbox: what did not reach the archive, and a retry."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from telederm.accounts import access
from telederm.accounts.models import User
from telederm.audit.services import Actor
from telederm.integrations import outbox
from telederm.integrations.models import ExportJob

FILTERS = ("failed", "pending", "done", "all")


def _jobs_of(user: User) -> QuerySet[ExportJob]:
    """Jobs of referrals from the clinics of the regions this user administers."""
    access.require_region_admin(user)
    return ExportJob.objects.filter(
        event__referral__clinic__region__in=access.administered_regions(user)
    ).select_related("event__referral__clinic")


def exports_view(request: HttpRequest) -> HttpResponse:
    jobs = _jobs_of(access.me(request))
    shown = request.GET.get("status", "failed")
    if shown not in FILTERS:
        shown = "failed"
    counts = {status: jobs.filter(status=status).count() for status in ExportJob.Status.values}
    listed = jobs if shown == "all" else jobs.filter(status=shown)
    page = Paginator(listed.order_by("-created_at", "-pk"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "integrations/exports.html",
        {
            "page": page,
            "shown": shown,
            "counts": counts,
            "filters": [
                ("failed", _("Failed"), counts["failed"]),
                ("pending", _("Waiting"), counts["pending"]),
                ("done", _("Delivered"), counts["done"]),
                ("all", _("All"), sum(counts.values())),
            ],
            "archive_configured": bool(outbox.enabled_targets()),
        },
    )


@require_POST
def retry_view(request: HttpRequest, job_id: int) -> HttpResponse:
    user = access.me(request)
    try:
        job = _jobs_of(user).get(pk=job_id)
    except ExportJob.DoesNotExist as exc:
        raise Http404 from exc
    if job.status != ExportJob.Status.FAILED:
        messages.info(request, _("That export is not failed; nothing to retry."))
    else:
        outbox.retry(job=job, by=Actor.from_request(request))
        messages.success(request, _("The export will be sent again within a minute."))
    return redirect("integrations:exports")


@require_POST
def retry_all_view(request: HttpRequest) -> HttpResponse:
    user = access.me(request)
    failed = list(_jobs_of(user).filter(status=ExportJob.Status.FAILED))
    for job in failed:
        outbox.retry(job=job, by=Actor.from_request(request))
    messages.success(
        request,
        _("%(count)s failed exports will be sent again within a minute.") % {"count": len(failed)},
    )
    return redirect("integrations:exports")
