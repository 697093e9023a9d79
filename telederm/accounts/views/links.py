"""Activation and password reset through e-mailed one-time links."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from telederm.accounts.forms import ResetRequestForm, SetPasswordForm
from telederm.accounts.models import OneTimeLink
from telederm.accounts.services.links import LinkState, find_link
from telederm.accounts.services.users import request_password_reset, set_password_from_link
from telederm.audit.models import Action
from telederm.audit.services import Actor, record_security_event
from telederm.web.decorators import public


def _link_page(request: HttpRequest, token: str, purpose: OneTimeLink.Purpose) -> HttpResponse:
    state, link = find_link(token, purpose)
    if state is not LinkState.VALID or link is None:
        record_security_event(
            Action.LINK_REFUSED,
            by=Actor.from_request(request),
            success=False,
            detail={"state": state.value, "purpose": purpose.value},
        )
        return render(
            request,
            "accounts/link_invalid.html",
            {"state": state.value, "purpose": purpose.value},
            status=410 if state in (LinkState.EXPIRED, LinkState.USED) else 404,
        )
    form = SetPasswordForm(link.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            set_password_from_link(
                link=link, password=form.cleaned_data["password1"], by=Actor.from_request(request)
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Your password is set. Log in with it and the code we send to your phone.")
                if purpose == OneTimeLink.Purpose.ACTIVATION
                else _("Your new password is set. Log in with it and the code sent to your phone."),
            )
            return redirect("accounts:login")
    return render(
        request,
        "accounts/set_password.html",
        {"form": form, "link_user": link.user, "purpose": purpose.value},
    )


@public
@never_cache
@sensitive_post_parameters("password1", "password2")
def activate_view(request: HttpRequest, token: str) -> HttpResponse:
    return _link_page(request, token, OneTimeLink.Purpose.ACTIVATION)


@public
@never_cache
@sensitive_post_parameters("password1", "password2")
def reset_confirm_view(request: HttpRequest, token: str) -> HttpResponse:
    return _link_page(request, token, OneTimeLink.Purpose.PASSWORD_RESET)


@public
@never_cache
def reset_request_view(request: HttpRequest) -> HttpResponse:
    form = ResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        request_password_reset(email=form.cleaned_data["email"], by=Actor.from_request(request))
        return render(request, "accounts/reset_sent.html")
    return render(request, "accounts/reset_request.html", {"form": form})
