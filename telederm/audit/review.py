"""Log review queries: the region's events, the search filters, flagged reads, safe CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from typing import Any

from django.db.models import Q, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from telederm.accounts import access
from telederm.accounts.models import Membership, Organisation, User
from telederm.audit.models import AuditEvent

# Set by ``referrals.audit`` on every read of patient data: the reader's tie to the referral.
NO_RELATION = "none"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def region_events(user: User) -> QuerySet[AuditEvent]:
    """Events a region administrator may review: those in their regions' units and those of
    people who have (had) a role there. Raises ``PermissionDenied`` for anyone else."""
    access.require_region_admin(user)
    regions = access.administered_regions(user)
    units = Organisation.objects.filter(Q(pk__in=regions) | Q(region__in=regions)).values("pk")
    people = Membership.objects.filter(organisation__in=units).values("user_id")
    return AuditEvent.objects.filter(Q(organisation_id__in=units) | Q(actor_id__in=people))


def filtered(events: QuerySet[AuditEvent], data: dict[str, Any]) -> QuerySet[AuditEvent]:
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
    date_from: date | None = data.get("date_from")
    if date_from:
        events = events.filter(occurred_at__gte=datetime.combine(date_from, time.min, zone))
    date_to: date | None = data.get("date_to")
    if date_to:
        events = events.filter(occurred_at__lte=datetime.combine(date_to, time.max, zone))
    if data.get("failures_only"):
        events = events.filter(success=False)
    if data.get("flagged_only"):
        events = flagged(events)
    return events


def flagged(events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
    """Reads of patient data by someone with no role on the referral's clinic or unit."""
    return events.filter(detail__relation=NO_RELATION)


def is_flagged(event: AuditEvent) -> bool:
    return isinstance(event.detail, dict) and event.detail.get("relation") == NO_RELATION


def csv_cell(value: object) -> str:
    """A spreadsheet must show the text, never run it: cells that would start a formula get a
    leading apostrophe (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    text = text.replace("\x00", "")
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(
    filename: str, header: list[str], rows: Iterable[Iterable[object]]
) -> StreamingHttpResponse:
    """Stream a CSV (UTF-8 with BOM, so that Excel shows å, ä and ö) without holding it all."""
    writer = csv.writer(_Echo(), delimiter=";")

    def lines() -> Iterator[str]:
        yield "\ufeff" + writer.writerow([csv_cell(h) for h in header])
        for row in rows:
            yield writer.writerow([csv_cell(cell) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def event_header() -> list[str]:
    return [
        _("Time"),
        _("Event"),
        _("Outcome"),
        _("User"),
        _("HSA-ID"),
        _("Role"),
        _("Unit"),
        _("Unit HSA-ID"),
        _("Target"),
        _("Patient"),
        _("From"),
        _("Flag"),
    ]


def event_row(event: AuditEvent) -> list[object]:
    return [
        timezone.localtime(event.occurred_at).strftime("%Y-%m-%d %H:%M:%S"),
        event.get_action_display(),
        "" if event.success else _("Failed"),
        event.actor_name or event.actor_email,
        event.actor_hsa_id,
        event.actor_role,
        event.organisation_name,
        event.organisation_hsa_id,
        event.target_label or event.target_type,
        event.patient_id,
        event.ip or "",
        _("No role on the referral") if is_flagged(event) else "",
    ]
