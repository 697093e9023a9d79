"""Log review for region administrators. Searching the log is itself logged."""

from __future__ import annotations

from datetime import datetime, time

from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from telederm.accounts import access
from telederm.accounts.models import Role
from telederm.audit.forms import AuditSearchForm
from telederm.audit.models import Action, AuditEvent
from telederm.audit.services import Actor, record


def _filtered(form: AuditSearchForm) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.all()
    data = form.cleaned_data
    if who := data.get("who"):
        events = events.filter(
            Q(actor_email__icontains=who)
            | Q(actor_hsa_id__iexact=who)
            | Q(actor_name__icontains=who)
        )
    if patient := data.get("patient"):
        events = events.filter(patient_id__contains=patient.replace("-", "").strip())
    if unit := data.get("unit"):
        events = events.filter(
            Q(organisation_name__icontains=unit) | Q(organisation_hsa_id__iexact=unit)
        )
    if action := data.get("action"):
        events = events.filter(action=action)
    zone = timezone.get_current_timezone()
    if date_from := data.get("date_from"):
        events = events.filter(occurred_at__gte=datetime.combine(date_from, time.min, zone))
    if date_to := data.get("date_to"):
        events = events.filter(occurred_at__lte=datetime.combine(date_to, time.max, zone))
    if data.get("failures_only"):
        events = events.filter(success=False)
    return events


def audit_search_view(request: HttpRequest) -> HttpResponse:
    access.require_region_admin(access.me(request))
    form = AuditSearchForm(request.GET or None)
    page = None
    if form.is_valid() or not form.is_bound:
        events = _filtered(form) if form.is_bound else AuditEvent.objects.all()
        page = Paginator(events, 50).get_page(request.GET.get("page"))
        # Fetch the rows before logging this search, so that the search's own event cannot
        # push a real match off the page.
        page.object_list = list(page.object_list)
        criteria = {k: str(v) for k, v in form.cleaned_data.items() if v} if form.is_bound else {}
        # Reading the log shows who read which patient's data: that read is logged too.
        record(
            Action.AUDIT_SEARCHED,
            by=Actor.from_request(request),
            role=Role.REGION_ADMIN,
            detail={"criteria": criteria, "page": page.number},
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/search.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )
