"""PAD (histopathology) results in: ``POST /fhir/DiagnosticReport`` with a pathology report.

The report fills the follow-up of a referral through ``outcomes.services`` — ``check`` and
``save_follow_up`` — so the rules, the row lock and the audit events are exactly those of the
web form. The follow-up needs a person as its author: the extension ``registered-by`` names a
GP or center administrator of the referral's clinic (the client is the clinic's system and never
acts as a reviewer), and the audit log shows "<person> via <client>" next to the client's own
``fhir.write`` event. A client reaches only referrals of its own clinics; any other referral is
"not found", as on read. The client's identifiers make a repeat return the stored result
(``FhirPathologyLink``, the same scheme as ``FhirReferralLink`` for referrals).

docs/fhir.md ("PAD in") describes the resource.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils.translation import gettext as _
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.practitioner import Practitioner

from telederm.accounts.access import active_memberships
from telederm.accounts.models import Role, User
from telederm.fhir import codes
from telederm.fhir.auth import referrals_for
from telederm.fhir.endpoint import Call
from telederm.fhir.models import ApiClient, FhirPathologyLink
from telederm.fhir.outcomes import FhirError, Issue, fhir_response
from telederm.fhir.parsing import parse_resource, read_json
from telederm.fhir.pathology_out import pathology_report
from telederm.fhir.pathology_parse import (
    ROOT,
    STATUSES,
    Pad,
    check_kind,
    extension_of,
    read_pad,
    unprocessable,
)
from telederm.fhir.references import Refs, expect_type, hsa_id_of, identifiers_of
from telederm.fhir.referral_in import conditional_identifiers
from telederm.fhir.search import reference_id
from telederm.fhir.views import as_uuid, audit_read, audit_write, by_id, read_diagnostic_report
from telederm.outcomes.access import FOLLOW_UP_ACTIONS
from telederm.outcomes.models import FollowUp, Outcome
from telederm.outcomes.services import FollowUpData, check, save_follow_up
from telederm.referrals.models import Referral, ReferralStatus

INSIDE = frozenset({"Observation", "Practitioner"})
# A report with one of these replaces a PAD result already registered; "final" never does.
REPLACING = frozenset(STATUSES[1:])
REGISTRAR_ROLES = (Role.GP, Role.CENTER_ADMIN)


def _referral(call: Call, report: DiagnosticReport) -> Referral:
    where = f"{ROOT}.basedOn"
    targets = report.basedOn or []
    if len(targets) != 1 or not targets[0].reference:
        raise unprocessable(
            "required", _("basedOn must name the referral: ServiceRequest/<id>."), where
        )
    wanted = targets[0].reference
    key = as_uuid(reference_id(wanted, "ServiceRequest", where))
    referral = referrals_for(call.client).filter(public_id=key).first() if key else None
    if referral is None:
        # Another clinic's referral looks exactly like one that does not exist.
        raise FhirError.of(
            404,
            "not-found",
            _("%(reference)s was not found.") % {"reference": wanted},
            expression=where,
        )
    return referral


def _registrar(report: DiagnosticReport, refs: Refs, referral: Referral) -> User:
    extension, where = extension_of(report, codes.EXT_REGISTERED_BY)
    if extension is None or extension.valueReference is None:
        raise unprocessable(
            "required",
            _(
                "Say who registers the result: the extension %(url)s with a valueReference to "
                "the clinician (HSA-ID)."
            )
            % {"url": codes.EXT_REGISTERED_BY},
            where,
        )
    place = f"{where}.valueReference"
    target = refs.resolve(extension.valueReference, place)
    expect_type(target, (Practitioner,), place)
    hsa_id = hsa_id_of(identifiers_of(extension.valueReference, target), _("clinician"), place)
    user = User.objects.filter(hsa_id__iexact=hsa_id, is_active=True).first()
    if user is None or not (
        active_memberships(user)
        .filter(organisation=referral.clinic, role__in=REGISTRAR_ROLES)
        .exists()
    ):
        raise unprocessable(
            "business-rule",
            _("%(hsa_id)s is not a GP or center administrator at %(clinic)s.")
            % {"hsa_id": hsa_id, "clinic": referral.clinic.name},
            place,
        )
    return user


def _check_due(referral: Referral) -> None:
    answer = getattr(referral, "answer", None)
    if (
        referral.status != ReferralStatus.ANSWERED
        or answer is None
        or answer.sent_at is None
        or answer.action not in FOLLOW_UP_ACTIONS
    ):
        raise unprocessable(
            "business-rule",
            _(
                "The referral has no answer recommending excision, the dermatology clinic or "
                "SVF, so no PAD result can be registered on it."
            ),
            f"{ROOT}.basedOn",
        )


# --- registering ---------------------------------------------------------------------------

FIELD_PATHS = {
    "done_on": f"{ROOT}.effectiveDateTime",
    "pad_diagnosis": f"{ROOT}.conclusionCode",
    "pad_invasion": f"{ROOT}.conclusionCode",
    "breslow_mm": f"{ROOT}.result",
    "pad_reference": f"{ROOT}.identifier",
}


@contextmanager
def service_errors(pad: Pad) -> Iterator[None]:
    """The follow-up service's ValidationError as an OperationOutcome, one issue per problem,
    each pointing at the element it came from."""
    try:
        yield
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            issues = [
                Issue("business-rule", message, (pad.where.get(name, FIELD_PATHS.get(name, ROOT)),))
                for name, messages in exc.message_dict.items()
                for message in messages
            ]
        else:
            issues = [Issue("business-rule", message) for message in exc.messages]
        raise FhirError(422, issues) from exc
    except PermissionDenied as exc:
        raise unprocessable(
            "business-rule", _("The clinician may not register the follow-up of this referral.")
        ) from exc


def merged(pad: Pad, existing: FollowUp | None) -> FollowUpData:
    """The follow-up to store: an excision with the PAD result. The date and place of an
    excision registered earlier (on the web, before the result came) are kept when the report
    leaves them out."""
    earlier = existing if existing is not None and existing.outcome == Outcome.EXCISED else None
    return FollowUpData(
        outcome=Outcome.EXCISED,
        done_on=pad.done_on or (earlier.done_on if earlier else None),
        place=pad.place or (earlier.place if earlier else ""),
        pad_diagnosis=pad.diagnosis,
        pad_invasion=pad.invasion,
        breslow_mm=pad.breslow,
        pad_reference=pad.reference or (earlier.pad_reference if earlier else ""),
    )


def _guard(existing: FollowUp | None, clean: FollowUpData, replaces: bool) -> None:
    """A final report never silently overwrites a different PAD result already registered."""
    if existing is None or not existing.has_pad or replaces:
        return
    before = (existing.pad_diagnosis, existing.pad_invasion, existing.breslow_mm)
    if before != (clean.pad_diagnosis, clean.pad_invasion, clean.breslow_mm):
        raise FhirError.of(
            409,
            "conflict",
            _(
                "A different PAD result is already registered for this referral. Send the "
                "report with status corrected to replace it."
            ),
            expression=f"{ROOT}.status",
        )


def _identifiers(call: Call, report: DiagnosticReport) -> list[tuple[str, str]]:
    own = [
        (identifier.system[:255], identifier.value[:255])
        for identifier in report.identifier or []
        if identifier.system and identifier.value
    ]
    conditional = conditional_identifiers(
        call.request.headers.get("If-None-Exist", ""), "If-None-Exist"
    ) + conditional_identifiers(call.request.GET.urlencode(), "query")
    return list(dict.fromkeys([*own, *conditional]))


def _linked(client: ApiClient, identifiers: list[tuple[str, str]], referral: Referral) -> bool:
    """Whether this client already sent one of these identifiers for this referral; an
    identifier it used for another referral's PAD result is a conflict."""
    found = False
    for system, value in identifiers:
        link = FhirPathologyLink.objects.filter(client=client, system=system, value=value).first()
        if link is not None and link.referral_id != referral.pk:
            raise FhirError.of(
                409,
                "conflict",
                _("The identifier already names the PAD result of another referral."),
                expression=f"{ROOT}.identifier",
            )
        found = found or link is not None
    return found


@dataclass(frozen=True)
class Registration:
    follow_up: FollowUp
    created: bool  # registered or changed now (201), or what was stored (200)


def register(call: Call, report: DiagnosticReport, referral: Referral) -> Registration:
    """Everything under the referral's row lock, so that two PAD results of one referral sent at
    the same time are registered one after the other: the second sees the first (its
    identifier is then known, or its result is guarded against being overwritten)."""
    identifiers = _identifiers(call, report)
    replaces = report.status in REPLACING
    refs = Refs.of([], report)
    with transaction.atomic():
        Referral.objects.select_for_update(of=("self",)).filter(pk=referral.pk).first()
        stored = FollowUp.objects.filter(referral=referral).first()
        known = _linked(call.client, identifiers, referral)
        if known and stored is not None and not replaces:
            return Registration(stored, created=False)  # a repeat: what was stored, unchanged
        registrar = _registrar(report, refs, referral)
        _check_due(referral)
        pad = read_pad(report, refs)
        wanted = merged(pad, stored)
        with service_errors(pad):
            _guard(stored, check(wanted, referral), replaces)
            for system, value in identifiers:
                FhirPathologyLink.objects.get_or_create(
                    client=call.client, system=system, value=value, referral=referral
                )
            follow_up = save_follow_up(
                referral=referral, data=wanted, version=None, by=call.actor.with_user(registrar)
            )
    changed = stored is None or follow_up.version != stored.version
    return Registration(follow_up, created=changed)


def create_pathology_report(call: Call) -> HttpResponse:
    data = read_json(call.request)
    report = parse_resource(DiagnosticReport, data, allowed_inside=INSIDE)
    check_kind(report)
    referral = _referral(call, report)
    try:
        done = register(call, report, referral)
    except IntegrityError:
        # The same identifier, sent at the same time for another referral, won the race.
        _linked(call.client, _identifiers(call, report), referral)
        raise
    return _answer(call, done.follow_up, created=done.created)


def _answer(call: Call, follow_up: FollowUp, *, created: bool) -> HttpResponse:
    follow_up = FollowUp.objects.select_related(
        "referral__patient", "referral__clinic", "changed_by"
    ).get(pk=follow_up.pk)
    audit_write(
        call,
        follow_up.referral,
        {"resource": ROOT, "id": str(follow_up.public_id), "created": created},
    )
    return fhir_response(
        pathology_report(follow_up, call.client),
        status=201 if created else 200,
        headers={"Location": call.url(ROOT, follow_up.public_id)},
    )


# --- read ----------------------------------------------------------------------------------


def read_report(call: Call, resource_id: str) -> HttpResponse:
    """``GET DiagnosticReport/<id>``: a PAD result of one of the client's referrals (the
    ``Location`` of a create), or else a teledermoscopy answer."""
    follow_up = by_id(
        FollowUp.objects.filter(referral__in=referrals_for(call.client))
        .exclude(pad_diagnosis="")
        .select_related("referral__patient", "referral__clinic", "changed_by"),
        resource_id,
    )
    if follow_up is None:
        return read_diagnostic_report(call, resource_id)
    audit_read(call, follow_up.referral, ROOT, "read")
    return fhir_response(pathology_report(follow_up, call.client))
