"""Log review for region administrators. Searching and exporting the log are themselves logged.

The criteria travel in a POST and live in the session, never in the URL: a personnummer in a
query string would end up in every proxy and access log.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from telederm.accounts import access
from telederm.accounts.models import Role
from telederm.audit import review
from telederm.audit.forms import AuditSearchForm
from telederm.audit.models import Action
from telederm.audit.services import Actor, record

SESSION_KEY = "audit_search"
EXPORT_LIMIT = 100_000


def _criteria(form: AuditSearchForm) -> dict[str, str]:
    return {k: str(v) for k, v in form.cleaned_data.items() if v}


def _form(request: HttpRequest) -> AuditSearchForm:
    saved: dict[str, Any] | None = request.session.get(SESSION_KEY)
    return AuditSearchForm(saved) if saved else AuditSearchForm()


def audit_search_view(request: HttpRequest) -> HttpResponse:
    user = access.me(request)
    events = review.region_events(user)
    if request.method == "POST":
        if "clear" in request.POST:
            request.session.pop(SESSION_KEY, None)
            return redirect("audit:search")
        form = AuditSearchForm(request.POST)
        if form.is_valid():
            request.session[SESSION_KEY] = {
                name: request.POST.get(name) for name in form.fields if request.POST.get(name)
            }
            return redirect("audit:search")
        return render(request, "audit/search.html", {"form": form, "page": None}, status=422)
    form = _form(request)
    if form.is_bound and not form.is_valid():
        request.session.pop(SESSION_KEY, None)
        form = AuditSearchForm()
    data = form.cleaned_data if form.is_bound else {}
    page = Paginator(review.filtered(events, data), 50).get_page(request.GET.get("page"))
    # Fetch the rows before logging this search, so that its own event cannot push a real
    # match off the page.
    page.object_list = list(page.object_list)
    rows = [(event, review.is_flagged(event)) for event in page.object_list]
    # Reading the log shows who read which patient's data: that read is logged too.
    record(
        Action.AUDIT_SEARCHED,
        by=Actor.from_request(request),
        role=Role.REGION_ADMIN,
        detail={"criteria": _criteria(form) if form.is_bound else {}, "page": page.number},
    )
    return render(
        request,
        "audit/search.html",
        {"form": form, "page": page, "rows": rows, "searching": form.is_bound},
    )


def audit_export_view(request: HttpRequest) -> StreamingHttpResponse:
    """The current search as CSV (safe against formula injection), newest first."""
    user = access.me(request)
    events = review.region_events(user)
    form = _form(request)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    selected = review.filtered(events, data)[:EXPORT_LIMIT]
    record(
        Action.AUDIT_EXPORTED,
        by=Actor.from_request(request),
        role=Role.REGION_ADMIN,
        detail={"criteria": _criteria(form) if data else {}},
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return review.csv_response(
        f"audit-{stamp}.csv",
        review.event_header(),
        (review.event_row(event) for event in selected.iterator(chunk_size=2000)),
    )
