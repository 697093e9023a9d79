"""``record()``: the one way to write the audit log.

Services pass an ``Actor`` (who, from where) instead of reading a thread-local request, so that
commands and tasks audit the same way as views.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.http import HttpRequest

from telederm.audit.models import Action, AuditEvent

if TYPE_CHECKING:
    from telederm.accounts.models import Organisation, User

# actor_role of events whose actor is a system client rather than a person.
API_CLIENT_ROLE = "api_client"


@dataclass(frozen=True)
class Actor:
    """Who performs an action, and from which address and browser.

    ``api_client`` names the system client (FHIR API) through which the action came: alone for
    the client's own reads, or together with ``user``, the person the client acts for.
    """

    user: User | None
    ip: str | None = None
    user_agent: str = ""
    api_client: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest) -> Actor:
        from telederm.accounts.models import User

        user = request.user if isinstance(request.user, User) else None
        return cls(
            user=user,
            ip=request.META.get("REMOTE_ADDR") or None,
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        )

    @classmethod
    def system(cls) -> Actor:
        return cls(user=None, user_agent="system")

    def with_user(self, user: User) -> Actor:
        return replace(self, user=user)


def record(
    action: Action,
    *,
    by: Actor,
    role: str = "",
    organisation: Organisation | None = None,
    target: models.Model | None = None,
    target_label: str = "",
    patient_id: str = "",
    success: bool = True,
    detail: dict[str, Any] | None = None,
    email: str = "",
) -> AuditEvent:
    """Append one event. Call it inside the service's transaction so both commit together."""
    user = by.user
    target_id = ""
    if target is not None:
        target_id = str(getattr(target, "public_id", None) or target.pk)
    name = user.full_name if user else ""
    if by.api_client:
        # A system client stays visible in the log: as the actor itself, or next to the person
        # it acts for (the person's id and HSA-ID stay in their own columns).
        name = f"{name} via {by.api_client}" if name else by.api_client
        role = role or API_CLIENT_ROLE
        detail = {**(detail or {}), "api_client": by.api_client}
    return AuditEvent.objects.create(
        action=action,
        success=success,
        actor_id=user.pk if user else None,
        actor_email=user.email if user else email,
        actor_hsa_id=user.hsa_id if user else "",
        actor_name=name[:201],
        actor_role=role,
        organisation_id=organisation.pk if organisation else None,
        organisation_hsa_id=(organisation.hsa_id or "") if organisation else "",
        organisation_name=organisation.name if organisation else "",
        target_type=target._meta.label_lower if target is not None else "",
        target_id=target_id,
        target_label=target_label[:200],
        patient_id=patient_id,
        ip=by.ip,
        user_agent=by.user_agent,
        detail=detail or {},
    )


def record_security_event(action: Action, **kwargs: Any) -> AuditEvent:
    """Record a failed security action (bad password, bad code) so that it survives.

    These are written in their own transaction: a caller's later rollback must not erase the
    evidence of an attack. Callers run outside any atomic block (the auth views are not atomic);
    ``durable=True`` makes that an error instead of a silent nesting.
    """
    with transaction.atomic(durable=True):
        return record(action, **kwargs)
