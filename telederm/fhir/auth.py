"""Bearer tokens for system clients: issue (shown once), check, and what a client may reach."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from telederm.accounts.models import Organisation, OrganisationKind
from telederm.audit.models import Action
from telederm.audit.services import Actor, record
from telederm.fhir.models import ApiClient, Scope
from telederm.referrals.models import SUBMITTED_STATES, Referral, ReferralStatus

TOKEN_PREFIX = "tdfhir_"  # noqa: S105 (a visible prefix, so leaked tokens can be recognised)
# Writing last_used_at on every call would make each read a write; once a minute is enough.
TOUCH_INTERVAL = timedelta(minutes=1)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_client(
    *, name: str, organisations: Iterable[Organisation], scopes: Iterable[str], by: Actor
) -> tuple[ApiClient, str]:
    """Register a client; returns it with its token, which is never stored or shown again."""
    name = name.strip()
    scopes = sorted(set(scopes))
    organisations = list(organisations)
    if not name:
        raise ValidationError("Give the client a name.")
    unknown = set(scopes) - set(Scope.values)
    if unknown or not scopes:
        raise ValidationError(f"Choose scopes from: {', '.join(Scope.values)}.")
    if not organisations or any(org.kind != OrganisationKind.CLINIC for org in organisations):
        raise ValidationError("A client acts for one or more clinics.")
    if ApiClient.objects.filter(name=name).exists():
        raise ValidationError(f"A client named {name!r} already exists.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        client = ApiClient.objects.create(
            name=name, token_digest=token_digest(token), scopes=scopes
        )
        client.organisations.set(organisations)
        record(
            Action.API_CLIENT_CREATED,
            by=by,
            target=client,
            target_label=name,
            detail={"scopes": scopes, "organisations": [org.hsa_id for org in organisations]},
        )
    return client, token


@dataclass(frozen=True)
class Authentication:
    """The outcome of reading the Authorization header: a client, or why there is none."""

    client: ApiClient | None
    reason: str = ""
    client_name: str = ""


def authenticate(request: HttpRequest) -> Authentication:
    scheme, _sep, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return Authentication(None, "no_token")
    client = ApiClient.objects.filter(token_digest=token_digest(token)).first()
    if client is None:
        return Authentication(None, "unknown_token")
    if not client.active:
        return Authentication(None, "inactive_client", client.name)
    now = timezone.now()
    if client.last_used_at is None or now - client.last_used_at > TOUCH_INTERVAL:
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
    return Authentication(client)


def referrals_for(client: ApiClient) -> QuerySet[Referral]:
    """The referrals a client may read: the sent (and withdrawn) ones of its clinics.

    Drafts are never visible: a referral sent through the API is created and sent in one
    transaction, and the web UI's drafts are the GP's private work in progress.
    """
    return Referral.objects.filter(
        clinic__in=client.organisations.all(),
        status__in=[*SUBMITTED_STATES, ReferralStatus.WITHDRAWN],
    ).select_related("patient", "clinic", "author", "review_unit")
