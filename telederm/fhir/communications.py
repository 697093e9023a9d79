"""Messages as Communication: the clinic thread of a referral, read and written.

The dermatologists' internal consultation thread never leaves through the API. A new message
goes through ``messaging.services.post_message`` as the GP named in ``sender``, so the thread's
rules hold. ``Communication.identifier`` makes a repeat return the first message: the client's
system and value become the message's ``client_key`` (a name-based UUID), which the messaging
service already keeps unique per author.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.translation import gettext as _
from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.practitioner import Practitioner

from telederm.accounts.models import Role, User
from telederm.fhir import codes, resources_out
from telederm.fhir.auth import referrals_for
from telederm.fhir.endpoint import Call
from telederm.fhir.outcomes import FhirError, Issue, fhir_response
from telederm.fhir.parsing import parse_resource, read_json
from telederm.fhir.references import Refs
from telederm.fhir.search import read_search, reference_id
from telederm.fhir.views import as_uuid, audit_read, audit_search, audit_write, find, page
from telederm.messaging.models import Channel, Message
from telederm.messaging.services import post_message, role_in_thread
from telederm.referrals.models import Referral

# Fixed forever: client keys made from it must stay the same for the same identifier.
KEY_NAMESPACE = uuid.UUID("2d0f4f36-93c5-4a8e-9a0e-5bb0f1f2c6a1")


def _messages(call: Call) -> QuerySet[Message]:
    return Message.objects.filter(
        referral__in=referrals_for(call.client), channel=Channel.CLINIC
    ).select_related("referral__patient", "referral__clinic", "referral__review_unit", "author")


def read_communication(call: Call, resource_id: str) -> HttpResponse:
    message = find(_messages(call), "Communication", resource_id)
    audit_read(call, message.referral, "Communication", "read")
    return fhir_response(resources_out.communication(message))


def search_communications(call: Call) -> HttpResponse:
    search = read_search(call.request, ("based-on",))
    key = as_uuid(reference_id(search.params["based-on"], "ServiceRequest", "based-on"))
    messages = _messages(call).filter(referral__public_id=key) if key else _messages(call).none()
    chosen, bundle = page(call, "Communication", search, messages.order_by("created_at", "pk"))
    audit_search(call, "Communication", search, [message.referral for message in chosen])
    return fhir_response(bundle([resources_out.communication(message) for message in chosen]))


def _referral(call: Call, communication: Communication) -> Referral:
    targets = communication.basedOn or []
    if len(targets) != 1 or not targets[0].reference:
        raise FhirError.of(
            422,
            "required",
            _("basedOn must name the referral: ServiceRequest/<id>."),
            expression="Communication.basedOn",
        )
    wanted = targets[0].reference
    key = as_uuid(reference_id(wanted, "ServiceRequest", "Communication.basedOn"))
    referral = referrals_for(call.client).filter(public_id=key).first() if key else None
    if referral is None:
        raise FhirError.of(
            422,
            "not-found",
            _("%(reference)s was not found.") % {"reference": wanted},
            expression="Communication.basedOn",
        )
    return referral


def _sender(communication: Communication, referral: Referral) -> User:
    where = "Communication.sender"
    if communication.sender is None:
        raise FhirError.of(
            422, "required", _("Say who writes: sender (the GP's HSA-ID)."), expression=where
        )
    resource = Refs.of([], communication).resolve(communication.sender, where)
    if resource is not None and not isinstance(resource, Practitioner):
        raise FhirError.of(
            422, "invalid", _("The sender must be a Practitioner."), expression=where
        )
    identifiers = (
        list(resource.identifier or [])
        if resource is not None
        else [i for i in [communication.sender.identifier] if i is not None]
    )
    hsa_id = next(
        (i.value.strip() for i in identifiers if i and i.system == codes.HSA_ID and i.value), ""
    )
    user = User.objects.filter(hsa_id__iexact=hsa_id, is_active=True).first() if hsa_id else None
    # The client is the clinic's system: it writes for the clinic's GPs, never as a reviewer.
    if user is None or role_in_thread(user, referral, Channel.CLINIC) != Role.GP:
        raise FhirError.of(
            422,
            "business-rule",
            _("The sender %(hsa_id)s may not write on this referral.") % {"hsa_id": hsa_id or "?"},
            expression=where,
        )
    return user


def _client_key(
    call: Call, communication: Communication, referral: Referral
) -> tuple[uuid.UUID | None, list[dict[str, str]]]:
    """The message key for the client's identifier (per client and referral), and the
    identifier to echo back."""
    for identifier in communication.identifier or []:
        if identifier.system and identifier.value:
            parts = [call.client.public_id, referral.public_id, identifier.system]
            name = "|".join([*map(str, parts), identifier.value])
            echo = [{"system": identifier.system, "value": identifier.value}]
            return uuid.uuid5(KEY_NAMESPACE, name), echo
    return None, []


def create_communication(call: Call) -> HttpResponse:
    data = read_json(call.request)
    communication = parse_resource(Communication, data, allowed_inside=frozenset({"Practitioner"}))
    referral = _referral(call, communication)
    author = _sender(communication, referral)
    body = "\n\n".join(
        part.contentString.strip()
        for part in communication.payload or []
        if part.contentString and part.contentString.strip()
    )
    if not body:
        raise FhirError.of(
            422,
            "required",
            _("Write the message as payload.contentString."),
            expression="Communication.payload",
        )
    key, echo = _client_key(call, communication, referral)
    earlier = (
        Message.objects.filter(author=author, client_key=key, referral=referral).first()
        if key
        else None
    )
    if earlier is not None:
        message, created = earlier, False
    else:
        try:
            message = post_message(
                referral=referral,
                channel=Channel.CLINIC,
                body=body,
                by=call.actor.with_user(author),
                client_key=key,
            )
        except ValidationError as exc:
            raise FhirError(422, [Issue("business-rule", m) for m in exc.messages]) from exc
        except PermissionDenied as exc:
            raise FhirError.of(
                422, "business-rule", _("The sender may not write on this referral.")
            ) from exc
        created = True
    audit_write(
        call,
        referral,
        {"resource": "Communication", "id": str(message.public_id), "created": created},
    )
    resource = resources_out.communication(message, extra_identifiers=echo)
    return fhir_response(
        resource,
        status=201 if created else 200,
        headers={"Location": call.url("Communication", message.public_id)},
    )
