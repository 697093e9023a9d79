"""Login in two steps (password, then a one-time code), logout and the lockout page."""

from __future__ import annotations

import time
from typing import Any

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.models import Device

from telederm.accounts import trust
from telederm.accounts.forms import CodeForm, LoginForm
from telederm.accounts.middleware import LOGIN_AT
from telederm.accounts.models import SmsDevice, User
from telederm.accounts.services.otp import (
    CodeResult,
    SendResult,
    confirmed_totp,
    primary_sms_device,
    send_code,
    verify_sms_code,
    verify_totp_code,
)
from telederm.audit.models import Action
from telederm.audit.services import Actor, record, record_security_event
from telederm.lib.identifiers import mask_mobile
from telederm.web.decorators import public

PENDING = "telederm_pending_login"
PENDING_SECONDS = 10 * 60
BACKEND = "django.contrib.auth.backends.ModelBackend"

CODE_ERRORS = {
    CodeResult.WRONG: gettext_lazy("The code is wrong. Check the digits and try again."),
    CodeResult.MALFORMED: gettext_lazy("The code has 6 digits."),
    CodeResult.EXPIRED: gettext_lazy("The code has expired. Send a new code."),
    CodeResult.USED: gettext_lazy("This code has already been used. Send a new code."),
    CodeResult.TOO_MANY_TRIES: gettext_lazy("Too many wrong tries for this code. Send a new code."),
}
SEND_MESSAGES = {
    SendResult.SENT: gettext_lazy("A new code has been sent by SMS."),
    SendResult.LIMITED: gettext_lazy(
        "You have asked for three codes in ten minutes. Wait a few minutes, then send a new code."
    ),
    SendResult.FAILED: gettext_lazy(
        "The SMS could not be sent just now. Try again in a minute, or use your authenticator app."
    ),
}


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, {request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("web:start")


def _pending_user(request: HttpRequest) -> User | None:
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    return User.objects.filter(pk=pending.get("u"), is_active=True).first()


def _complete_login(request: HttpRequest, user: User, device: Device, method: str) -> None:
    login(request, user, backend=BACKEND)
    otp_login(request, device)
    request.session[LOGIN_AT] = time.time()
    request.session.pop(PENDING, None)
    record(Action.LOGIN_SUCCEEDED, by=Actor.from_request(request), detail={"method": method})


@public
@never_cache
@sensitive_post_parameters("password")
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("web:start")
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        user = authenticate(request, username=email, password=form.cleaned_data["password"])
        if getattr(request, "axes_locked_out", False):
            record_security_event(
                Action.LOGIN_LOCKED_OUT, by=Actor.from_request(request), email=email, success=False
            )
            return lockout_response(request, None, None)
        if user is None:
            record_security_event(
                Action.LOGIN_FAILED, by=Actor.from_request(request), email=email, success=False
            )
            form.add_error(None, _("The e-mail address or the password is wrong."))
        else:
            assert isinstance(user, User)
            next_url = _safe_next(request, request.GET.get("next"))
            device = trust.trusted_device(request, user)
            if device is not None:
                _complete_login(request, user, device, method="trusted_device")
                return redirect(next_url)
            request.session[PENDING] = {"u": user.pk, "at": time.time(), "next": next_url}
            record(Action.LOGIN_PASSWORD_OK, by=Actor.from_request(request).with_user(user))
            if confirmed_totp(user) is None:
                result = send_code(
                    user=user, device=primary_sms_device(user), by=Actor.from_request(request)
                )
                if result is not SendResult.SENT:
                    messages.warning(request, SEND_MESSAGES[result])
                return redirect("accounts:code")
            return redirect(reverse("accounts:code") + "?method=totp")
    return render(request, "accounts/login.html", {"form": form})


@public
@never_cache
def code_view(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is None:
        messages.info(request, _("Your login has timed out. Log in again."))
        return redirect("accounts:login")
    totp = confirmed_totp(user)
    method = request.GET.get("method") or request.POST.get("method") or ""
    if method not in ("sms", "totp") or (method == "totp" and totp is None):
        method = "sms"
    sms_device = primary_sms_device(user)
    form = CodeForm(request.POST or None, initial={"remember": trust.may_trust(user)})
    if request.method == "POST" and form.is_valid():
        actor = Actor.from_request(request)
        device: SmsDevice | Any
        if method == "totp" and totp is not None:
            device = totp
            result = verify_totp_code(
                user=user, device=totp, code=form.cleaned_data["code"], by=actor
            )
        else:
            device = sms_device
            result = verify_sms_code(
                user=user, device=sms_device, code=form.cleaned_data["code"], by=actor
            )
        if result is CodeResult.OK:
            next_url = request.session.get(PENDING, {}).get("next") or reverse("web:start")
            _complete_login(request, user, device, method=method)
            response = redirect(_safe_next(request, next_url))
            if form.cleaned_data.get("remember") and trust.may_trust(user):
                trust.remember(response, user, device)
            return response
        form.add_error("code", CODE_ERRORS[result])
    return render(
        request,
        "accounts/code.html",
        {
            "form": form,
            "method": method,
            "has_totp": totp is not None,
            "masked_mobile": mask_mobile(sms_device.number),
            "may_trust": trust.may_trust(user),
        },
    )


@public
@require_POST
def resend_code_view(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is None:
        messages.info(request, _("Your login has timed out. Log in again."))
        return redirect("accounts:login")
    result = send_code(user=user, device=primary_sms_device(user), by=Actor.from_request(request))
    (messages.success if result is SendResult.SENT else messages.warning)(
        request, SEND_MESSAGES[result]
    )
    return redirect(reverse("accounts:code") + "?method=sms")


@public
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        record(Action.LOGOUT, by=Actor.from_request(request))
    logout(request)
    messages.info(request, _("You are logged out."))
    return redirect("accounts:login")


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """Shown after too many failures for an address or account: the same whether it exists."""
    message = _(
        "Too many failed attempts. Wait 15 minutes and try again, or reset your password. "
        "Contact your center administrator if the problem remains."
    )
    return render(
        request,
        "accounts/login.html",
        {"form": LoginForm(), "lockout_message": message},
        status=429,
    )
