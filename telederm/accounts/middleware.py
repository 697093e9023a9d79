"""Login enforcement and session lifetime."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils.translation import gettext as _

from telederm.audit.models import Action
from telederm.audit.services import Actor, record

LOGIN_AT = "telederm_login_at"


class SessionLifetimeMiddleware:
    """End a session 12 hours after login, however active (the idle limit is the cookie age)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            login_at = request.session.get(LOGIN_AT)
            limit = settings.TELEDERM_SESSION_ABSOLUTE_SECONDS
            if login_at is None or time.time() - float(login_at) > limit:
                record(Action.SESSION_EXPIRED, by=Actor.from_request(request))
                logout(request)
                messages.info(request, _("Your session has ended. Please log in again."))
        return self.get_response(request)


class RequireVerifiedLoginMiddleware:
    """Every view needs a user who passed both factors, unless the view is marked public."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: Any,
        view_kwargs: Any,
    ) -> HttpResponse | None:
        if getattr(view_func, "telederm_public", False):
            return None
        user = request.user
        if user.is_authenticated and getattr(user, "is_verified", lambda: False)():
            return None
        if user.is_authenticated:
            logout(request)
        if getattr(request, "htmx", False):
            response = HttpResponse(status=401)
            response["HX-Redirect"] = resolve_url(settings.LOGIN_URL)
            return response
        return redirect_to_login(request.get_full_path())
