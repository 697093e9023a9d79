"""The signed-in user's own account: authenticator app, mobile number, trusted device."""

from __future__ import annotations

import base64
import io

import segno
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from telederm.accounts import trust
from telederm.accounts.forms import CodeForm, MobileChangeForm, TotpConfirmForm
from telederm.accounts.models import User
from telederm.accounts.services import otp
from telederm.accounts.views.auth import CODE_ERRORS, SEND_MESSAGES
from telederm.audit.services import Actor
from telederm.lib.identifiers import format_mobile


def _me(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def profile_view(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    return render(
        request,
        "accounts/profile.html",
        {
            "me": user,
            "mobile": format_mobile(user.mobile),
            "totp": otp.confirmed_totp(user),
            "memberships": user.active_memberships(),
            "licence": user.valid_licence(),
            "trusted": trust.COOKIE in request.COOKIES,
        },
    )


def _qr_data_uri(url: str) -> str:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=5, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def totp_enrol_view(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None or (request.method == "GET" and "new" in request.GET):
        device = otp.start_totp_enrolment(user=user)
    form = TotpConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if otp.confirm_totp_enrolment(
            user=user, device=device, code=form.cleaned_data["code"], by=Actor.from_request(request)
        ):
            messages.success(
                request,
                _("The authenticator app is ready. You can use it the next time you log in."),
            )
            return redirect("accounts:profile")
        form.add_error(
            "code", _("The code does not match. Check the time on your phone and try again.")
        )
    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "accounts/totp_enrol.html",
        {
            "form": form,
            "qr": _qr_data_uri(device.config_url),
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        },
    )


@require_POST
def totp_remove_view(request: HttpRequest) -> HttpResponse:
    otp.remove_totp(user=_me(request), by=Actor.from_request(request))
    messages.success(request, _("The authenticator app has been removed. Codes will come by SMS."))
    return redirect("accounts:profile")


@sensitive_post_parameters("password")
def mobile_change_view(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    form = MobileChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not user.check_password(form.cleaned_data["password"]):
            form.add_error("password", _("The password is wrong."))
        elif form.cleaned_data["mobile"] == user.mobile:
            form.add_error("mobile", _("This is already your number."))
        else:
            result = otp.start_mobile_change(
                user=user, new_mobile=form.cleaned_data["mobile"], by=Actor.from_request(request)
            )
            if result is otp.SendResult.SENT:
                return redirect("accounts:mobile_confirm")
            form.add_error(None, SEND_MESSAGES[result])
    return render(request, "accounts/mobile_change.html", {"form": form})


def mobile_confirm_view(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    pending = otp.pending_mobile_device(user)
    if pending is None:
        return redirect("accounts:mobile_change")
    form = CodeForm(request.POST or None)
    form.fields.pop("remember")
    if request.method == "POST" and form.is_valid():
        result = otp.finish_mobile_change(
            user=user, code=form.cleaned_data["code"], by=Actor.from_request(request)
        )
        if result is otp.CodeResult.OK:
            messages.success(request, _("Your mobile number has been changed."))
            return redirect("accounts:profile")
        form.add_error("code", CODE_ERRORS[result])
    return render(
        request,
        "accounts/mobile_confirm.html",
        {"form": form, "number": format_mobile(pending.number)},
    )


@require_POST
def forget_device_view(request: HttpRequest) -> HttpResponse:
    response = redirect("accounts:profile")
    trust.forget(response)
    messages.success(
        request, _("This device is no longer trusted: the next login asks for a code.")
    )
    return response
