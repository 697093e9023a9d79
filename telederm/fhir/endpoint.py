"""The frame around every FHIR view: token, rate limit, scope, language, audit of refusals, and
errors as OperationOutcome (never an HTML page, a login redirect or a 500 for bad input)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt

from telederm.audit.models import Action
from telederm.audit.services import Actor, record
from telederm.fhir.auth import authenticate
from telederm.fhir.models import ApiClient
from telederm.fhir.outcomes import FhirError, error_response
from telederm.fhir.parsing import CONTROL
from telederm.web import ratelimit
from telederm.web.decorators import public

logger = logging.getLogger(__name__)

PUBLIC = "public"  # a route anyone may call (the CapabilityStatement)
ANY_CLIENT = "client"  # any authenticated client, whatever its scopes


@dataclass(frozen=True)
class Call:
    """One authenticated API call: the request, the client, and the actor for the audit log."""

    request: HttpRequest
    client: ApiClient
    actor: Actor
    base: str  # absolute URL of the FHIR base, without the trailing slash

    def url(self, resource_type: str, resource_id: object) -> str:
        return f"{self.base}/{resource_type}/{resource_id}"


Handler = Callable[..., HttpResponse]


@dataclass(frozen=True)
class Route:
    scope: str
    handler: Handler


def client_language(request: HttpRequest) -> str:
    """Swedish unless the client asks for English with Accept-Language.

    Unlike a browser's, an API client's Accept-Language is a deliberate choice of its operator,
    so it is honoured (the web UI ignores the browser's and goes by the user's own choice).
    """
    supported = dict(settings.LANGUAGES)
    ranked = []
    for position, part in enumerate(request.META.get("HTTP_ACCEPT_LANGUAGE", "").split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in supported and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else settings.LANGUAGE_CODE


def printable(text: str, limit: int) -> str:
    """Request text for the audit log: a control character (NUL above all, which PostgreSQL
    cannot store) must not turn a refusal into a failed write and a 500."""
    return CONTROL.sub("\N{REPLACEMENT CHARACTER}", text[:limit])


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("fhir:root")).rstrip("/")


def endpoint(**routes: Route) -> Callable[..., HttpResponse]:
    """A view serving the given HTTP methods (``GET=Route(...)``, ``POST=Route(...)``)."""

    @csrf_exempt
    @public
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        language = client_language(request)
        with translation.override(language):
            response = _serve(request, routes, kwargs)
        response["Content-Language"] = language
        return response

    view.fhir_routes = dict(routes)  # type: ignore[attr-defined]
    return view


def routes_of(view: Callable[..., Any]) -> dict[str, Route]:
    """The methods a view made by ``endpoint`` serves, with their scopes (the route table that
    the OpenAPI document and the permission tests are generated from); {} for any other view."""
    return dict(getattr(view, "fhir_routes", {}))


def _serve(request: HttpRequest, routes: dict[str, Route], kwargs: dict[str, Any]) -> HttpResponse:
    actor = Actor(
        user=None,
        ip=request.META.get("REMOTE_ADDR") or None,
        user_agent=printable(request.META.get("HTTP_USER_AGENT", ""), 300),
    )
    client: ApiClient | None = None
    try:
        route = routes.get(request.method or "")
        if route is None:
            raise FhirError.of(
                405,
                "not-supported",
                _("%(method)s is not supported here.") % {"method": request.method},
                headers={"Allow": ", ".join(sorted(routes))},
            )
        if route.scope == PUBLIC:
            return route.handler(request, **kwargs)
        client = _client(request, actor, route.scope)
        call = Call(request, client, replace(actor, api_client=client.name), base_url(request))
        return route.handler(call, **kwargs)
    except FhirError as error:
        if client is not None:
            _record_failure(request, replace(actor, api_client=client.name), error)
        return error_response(error)
    except Http404:
        missing = FhirError.of(404, "not-found", _("Not found."))
        if client is not None:
            _record_failure(request, replace(actor, api_client=client.name), missing)
        return error_response(missing)
    except Exception:
        logger.exception("FHIR %s %s failed", request.method, request.path)
        return error_response(
            FhirError.of(500, "exception", _("Something went wrong on our side. Try again later."))
        )


def _client(request: HttpRequest, actor: Actor, scope: str) -> ApiClient:
    authentication = authenticate(request)
    client = authentication.client
    if client is None:
        record(
            Action.FHIR_DENIED,
            by=replace(actor, api_client=authentication.client_name),
            success=False,
            detail={
                "reason": authentication.reason,
                "method": request.method,
                "path": printable(request.path, 200),
            },
        )
        raise FhirError.of(
            401,
            "login",
            _("Give a valid API token: Authorization: Bearer <token>."),
            headers={"WWW-Authenticate": 'Bearer realm="telederm-fhir"'},
        )
    _throttle(request, actor, client)
    if scope != ANY_CLIENT and not client.has_scope(scope):
        record(
            Action.FHIR_DENIED,
            by=replace(actor, api_client=client.name),
            success=False,
            detail={"reason": "scope", "scope": scope, "method": request.method},
        )
        raise FhirError.of(
            403,
            "forbidden",
            _("This client lacks the scope %(scope)s.") % {"scope": scope},
        )
    return client


def _throttle(request: HttpRequest, actor: Actor, client: ApiClient) -> None:
    """Refuse a client's call beyond ``TELEDERM_FHIR_RATE_LIMIT`` per window (429)."""
    limit = ratelimit.Limit(
        "fhir", settings.TELEDERM_FHIR_RATE_LIMIT, settings.TELEDERM_FHIR_RATE_WINDOW_SECONDS
    )
    verdict = ratelimit.hit(limit, str(client.public_id))
    if verdict.allowed:
        return
    if verdict.first_refusal:  # once per window, so a client in a loop cannot flood the log
        record(
            Action.FHIR_DENIED,
            by=replace(actor, api_client=client.name),
            success=False,
            detail={"reason": "throttled", "method": request.method, "limit": limit.hits},
        )
    seconds = verdict.retry_after
    raise FhirError.of(
        429,
        "throttled",
        ngettext(
            "Too many requests from this client. Try again in %(seconds)d second.",
            "Too many requests from this client. Try again in %(seconds)d seconds.",
            seconds,
        )
        % {"seconds": seconds},
        headers={"Retry-After": str(seconds)},
    )


def _record_failure(request: HttpRequest, actor: Actor, error: FhirError) -> None:
    if error.status in (401, 403):
        return  # recorded where it was decided
    if error.status == 404:
        action = Action.FHIR_DENIED
    elif request.method == "POST":
        action = Action.FHIR_WRITE
    else:
        action = Action.FHIR_READ
    record(
        action,
        by=actor,
        success=False,
        detail={
            "status": error.status,
            "method": request.method,
            "path": printable(request.path, 200),
            "problem": printable("; ".join(issue.diagnostics for issue in error.issues), 500),
        },
    )
