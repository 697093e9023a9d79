"""The patient's log extract: every access to one patient's data, on screen and as a PDF.

Patients may ask who has read their record (patientdatalagen 8 kap. 2 §); the region
administrator makes the extract. Making it is itself logged, with the patient.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from telederm.accounts import access
from telederm.accounts.models import Role
from telederm.audit import review
from telederm.audit.forms import PatientExtractForm
from telederm.audit.models import Action as AuditAction
from telederm.audit.models import AuditEvent
from telederm.audit.services import Actor, record
from telederm.lib.pdf import Document

LIMIT = 5000


def patient_events(user_events: QuerySet[AuditEvent], number: str) -> list[AuditEvent]:
    return list(user_events.filter(patient_id=number).order_by("occurred_at", "id")[:LIMIT])


def _rows(events: list[AuditEvent]) -> list[list[str]]:
    return [
        [
            timezone.localtime(e.occurred_at).strftime("%Y-%m-%d %H:%M"),
            e.actor_name or e.actor_email or _("System"),
            e.actor_hsa_id,
            e.organisation_name,
            e.get_action_display(),
        ]
        for e in events
    ]


def extract_pdf(number: str, events: list[AuditEvent], made_by: str) -> bytes:
    """In Swedish: the extract goes to the patient."""
    with override("sv"):
        now = timezone.localtime()
        doc = Document(_("Log extract for %(number)s") % {"number": number}, now)
        doc.paragraph(
            _(
                "Every recorded access to and change of this patient's data in Telederm, "
                "oldest first. Made %(when)s by %(who)s."
            )
            % {"when": now.strftime("%Y-%m-%d %H:%M"), "who": made_by}
        )
        if not events:
            doc.paragraph(_("No accesses are recorded for this patient."))
        else:
            doc.table(
                [_("Time"), _("Who"), _("HSA-ID"), _("Unit"), _("What")],
                _rows(events),
            )
        return doc.output()


def patient_extract_view(request: HttpRequest) -> HttpResponse:
    user = access.me(request)
    user_events = review.region_events(user)
    form = PatientExtractForm(request.POST if request.method == "POST" else None)
    if not form.is_bound or not form.is_valid():
        status = 422 if form.is_bound else 200
        return render(request, "audit/patient_extract.html", {"form": form}, status=status)
    number = form.cleaned_data["personal_number"]
    events = patient_events(user_events, number)
    as_pdf = "pdf" in request.POST
    record(
        AuditAction.PATIENT_LOG_EXTRACTED,
        by=Actor.from_request(request),
        role=Role.REGION_ADMIN,
        patient_id=number,
        detail={"events": len(events), "format": "pdf" if as_pdf else "screen"},
    )
    if as_pdf:
        response = HttpResponse(
            extract_pdf(number, events, user.full_name), content_type="application/pdf"
        )
        response["Content-Disposition"] = 'attachment; filename="loggutdrag.pdf"'
        response["Cache-Control"] = "no-store"
        return response
    return render(
        request,
        "audit/patient_extract.html",
        {"form": form, "number": number, "events": events, "limit": LIMIT},
    )
