"""The FHIR endpoints: metadata, referrals in (ServiceRequest, transaction Bundle), referrals
and answers out (ServiceRequest, DiagnosticReport). Messages are in ``communications.py``."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.servicerequest import ServiceRequest

from telederm.audit.models import Action
from telederm.audit.services import API_CLIENT_ROLE, record
from telederm.fhir import codes, resources_out
from telederm.fhir.auth import referrals_for
from telederm.fhir.capability import capability_statement
from telederm.fhir.endpoint import Call, base_url
from telederm.fhir.models import FhirReferralLink
from telederm.fhir.outcomes import FhirError, fhir_response
from telederm.fhir.parsing import SUBMISSION_TYPES, parse_resource, read_json
from telederm.fhir.references import Refs
from telederm.fhir.referral_in import Outcome, conditional_identifiers, submit
from telederm.fhir.search import Search, parse_token, patient_number, read_search, reference_id
from telederm.fhir.submission import read_service_request
from telederm.referrals.models import Referral
from telederm.review.models import Answer

MATCHED_TYPES = {"Patient", "Practitioner", "PractitionerRole", "Organization"}
T = TypeVar("T", bound=Model)


def as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def not_found(resource_type: str, resource_id: str) -> FhirError:
    return FhirError.of(
        404,
        "not-found",
        _("%(type)s/%(id)s was not found.") % {"type": resource_type, "id": resource_id},
    )


def by_id(queryset: QuerySet[T], resource_id: str) -> T | None:
    """The row whose public id is ``resource_id`` (None when it is no UUID or not there)."""
    key = as_uuid(resource_id)
    return queryset.filter(public_id=key).first() if key else None


def find(queryset: QuerySet[T], resource_type: str, resource_id: str) -> T:
    """The row whose public id is ``resource_id``, else a 404 OperationOutcome."""
    found = by_id(queryset, resource_id)
    if found is None:
        raise not_found(resource_type, resource_id)
    return found


def _audit(action: Action, call: Call, referral: Referral, detail: dict[str, object]) -> None:
    record(
        action,
        by=call.actor,
        role=API_CLIENT_ROLE,
        organisation=referral.clinic,
        target=referral,
        target_label=referral.number or "",
        patient_id=referral.patient.personal_number if referral.patient else "",
        detail=detail,
    )


def audit_read(call: Call, referral: Referral, resource: str, interaction: str) -> None:
    _audit(Action.FHIR_READ, call, referral, {"resource": resource, "interaction": interaction})


def audit_write(call: Call, referral: Referral, detail: dict[str, object]) -> None:
    """What the client wrote on a referral (``detail`` names the resource and the outcome)."""
    _audit(Action.FHIR_WRITE, call, referral, detail)


def audit_search(call: Call, resource: str, search: Search, found: list[Referral]) -> None:
    """Each referral whose data went out is logged with its patient; an empty search once."""
    for referral in dict.fromkeys(found):
        audit_read(call, referral, resource, "search")
    if not found:
        asked = search.params.get("patient.identifier", "")
        record(
            Action.FHIR_READ,
            by=call.actor,
            role=API_CLIENT_ROLE,
            patient_id=(patient_number(asked, "patient.identifier") or "") if asked else "",
            detail={"resource": resource, "interaction": "search", "query": search.params},
        )


def page(call: Call, resource: str, search: Search, items: QuerySet[Any]) -> tuple[list[Any], Any]:
    total = items.count()
    chosen = list(items[search.offset : search.offset + search.count])
    more = search.offset + search.count < total
    url = f"{call.base}/{resource}"

    def bundle(resources: list[Resource]) -> Bundle:
        return resources_out.searchset(
            resources,
            base=call.base,
            self_url=f"{url}?{search.query(search.offset)}",
            total=total,
            next_url=f"{url}?{search.query(search.offset + search.count)}" if more else None,
        )

    return chosen, bundle


# --- metadata -------------------------------------------------------------------------------


def metadata(request: HttpRequest) -> HttpResponse:
    return fhir_response(capability_statement(base_url(request)))


def unknown_path(call: Call, **_kwargs: Any) -> HttpResponse:
    raise FhirError.of(
        404,
        "not-supported",
        _("Nothing is served at %(path)s; see %(base)s/metadata.")
        % {"path": call.request.path, "base": call.base},
    )


# --- referrals in -----------------------------------------------------------------------------


def _written(call: Call, outcome: Outcome, via: str) -> None:
    audit_write(
        call,
        outcome.referral,
        {"resource": "ServiceRequest", "via": via, "created": outcome.created},
    )


def create_service_request(call: Call) -> HttpResponse:
    data = read_json(call.request)
    request = parse_resource(
        ServiceRequest, data, allowed_inside=SUBMISSION_TYPES - {"ServiceRequest"}
    )
    submission = read_service_request(request, Refs.of([], request))
    conditional = conditional_identifiers(
        call.request.headers.get("If-None-Exist", ""), "If-None-Exist"
    ) + conditional_identifiers(call.request.GET.urlencode(), "query")
    outcome = submit(
        client=call.client, submission=submission, conditional=conditional, by=call.actor
    )
    _written(call, outcome, "ServiceRequest")
    location = call.url("ServiceRequest", outcome.referral.public_id)
    return fhir_response(
        resources_out.service_request(outcome.referral, call.client),
        status=201 if outcome.created else 200,
        headers={"Location": location},
    )


def transaction(call: Call) -> HttpResponse:
    data = read_json(call.request)
    bundle = parse_resource(Bundle, data, allowed_inside=SUBMISSION_TYPES)
    if bundle.type != "transaction":
        raise FhirError.of(
            422,
            "not-supported",
            _("Send a Bundle of type transaction (this one is %(type)s).") % {"type": bundle.type},
            expression="Bundle.type",
        )
    entries = []
    requests = []
    for n, entry in enumerate(bundle.entry or []):
        where = f"Bundle.entry[{n}]"
        if entry.resource is None or entry.request is None or entry.request.method != "POST":
            raise FhirError.of(
                422,
                "not-supported",
                _("Every entry needs a resource and request.method POST."),
                expression=where,
            )
        entries.append((entry.fullUrl, entry.resource, f"{where}.resource"))
        requests.append(entry)
    positions = [n for n, (_u, item, _w) in enumerate(entries) if isinstance(item, ServiceRequest)]
    if len(positions) != 1:
        raise FhirError.of(
            422,
            "invalid",
            _("The Bundle must hold exactly one ServiceRequest (the referral)."),
            expression="Bundle.entry",
        )
    position = positions[0]
    request = entries[position][1]
    assert isinstance(request, ServiceRequest)
    submission = read_service_request(
        request, Refs.of(entries, request), where=entries[position][2]
    )
    entry_request = requests[position].request
    conditional = conditional_identifiers(
        (entry_request.ifNoneExist if entry_request else None) or "",
        f"Bundle.entry[{position}].request",
    )
    outcome = submit(
        client=call.client, submission=submission, conditional=conditional, by=call.actor
    )
    _written(call, outcome, "transaction")
    response_entries: list[dict[str, Any]] = []
    for n, (_url, item, _where) in enumerate(entries):
        if n == position:
            response_entries.append(
                {
                    "resource": resources_out.service_request(outcome.referral, call.client),
                    "response": {
                        "status": "201 Created" if outcome.created else "200 OK",
                        "location": f"ServiceRequest/{outcome.referral.public_id}",
                    },
                }
            )
        else:
            created = outcome.created and item.get_resource_type() not in MATCHED_TYPES
            response_entries.append(
                {"response": {"status": "201 Created" if created else "200 OK"}}
            )
    reply = Bundle.model_validate(
        {"resourceType": "Bundle", "type": "transaction-response", "entry": response_entries}
    )
    return fhir_response(reply)


# --- referrals out ----------------------------------------------------------------------------


def read_service_request_view(call: Call, resource_id: str) -> HttpResponse:
    referral = find(referrals_for(call.client), "ServiceRequest", resource_id)
    audit_read(call, referral, "ServiceRequest", "read")
    return fhir_response(resources_out.service_request(referral, call.client))


def search_service_requests(call: Call) -> HttpResponse:
    search = read_search(call.request, ("identifier", "patient.identifier"))
    referrals = referrals_for(call.client)
    if "identifier" in search.params:
        system, value = parse_token(search.params["identifier"])
        links = FhirReferralLink.objects.filter(client=call.client, value=value)
        if system is not None:
            links = links.filter(system=system)
        by_number = Q(number=value) if system in (None, codes.REFERRAL_NUMBER) else Q(pk__in=[])
        referrals = referrals.filter(by_number | Q(pk__in=links.values("referral")))
    referrals = _by_patient(referrals, search, "patient__personal_number")
    chosen, bundle = page(call, "ServiceRequest", search, referrals.order_by("-sent_at", "-pk"))
    audit_search(call, "ServiceRequest", search, chosen)
    return fhir_response(
        bundle([resources_out.service_request(referral, call.client) for referral in chosen])
    )


def _by_patient(items: QuerySet[Any], search: Search, field: str) -> QuerySet[Any]:
    if "patient.identifier" not in search.params:
        return items
    number = patient_number(search.params["patient.identifier"], "patient.identifier")
    return items.filter(**{field: number}) if number else items.none()


# --- answers out ------------------------------------------------------------------------------


def _answers(call: Call) -> QuerySet[Answer]:
    """Sent answers of the client's referrals; an answer waiting for a second reading has no
    ``sent_at`` and is never shown."""
    return (
        Answer.objects.filter(referral__in=referrals_for(call.client), sent_at__isnull=False)
        .select_related("referral__patient", "referral__clinic", "referral__review_unit", "author")
        .select_related("second_reader")
        .prefetch_related("amendments")
    )


def read_diagnostic_report(call: Call, resource_id: str) -> HttpResponse:
    answer = find(_answers(call), "DiagnosticReport", resource_id)
    audit_read(call, answer.referral, "DiagnosticReport", "read")
    return fhir_response(resources_out.diagnostic_report(answer))


def search_diagnostic_reports(call: Call) -> HttpResponse:
    search = read_search(call.request, ("based-on", "patient.identifier"))
    answers = _answers(call)
    if "based-on" in search.params:
        key = as_uuid(reference_id(search.params["based-on"], "ServiceRequest", "based-on"))
        answers = answers.filter(referral__public_id=key) if key else answers.none()
    answers = _by_patient(answers, search, "referral__patient__personal_number")
    chosen, bundle = page(call, "DiagnosticReport", search, answers.order_by("-sent_at", "-pk"))
    audit_search(call, "DiagnosticReport", search, [answer.referral for answer in chosen])
    return fhir_response(bundle([resources_out.diagnostic_report(answer) for answer in chosen]))
