"""A referral's threads: read (marks read, logged) and post; invite a colleague to consult."""

from __future__ import annotations

import uuid
from uuid import UUID

from django.contrib import messages as flash
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from telederm.accounts.access import me
from telederm.accounts.models import User
from telederm.audit.models import Action
from telederm.audit.services import Actor
from telederm.lib.forms import add_validation_error
from telederm.messaging import services
from telederm.messaging.forms import MessageForm
from telederm.messaging.models import Channel, Message
from telederm.referrals import access
from telederm.referrals.audit import audit_referral
from telederm.referrals.models import Referral


def _thread(request: HttpRequest, referral_id: UUID, channel: str) -> tuple[Referral, str]:
    if channel not in Channel.values:
        raise Http404
    user = me(request)
    referral = access.get_referral_for(user, referral_id)
    role = services.role_in_thread(user, referral, channel)
    if role is None:
        raise Http404
    return referral, role


def thread_view(request: HttpRequest, referral_id: UUID, channel: str) -> HttpResponse:
    referral, role = _thread(request, referral_id, channel)
    # The case page shows two threads (clinic and consultation): ids must differ per channel.
    auto_id = f"id_{channel}_%s"
    form = MessageForm(request.POST or None, initial={"client_key": uuid.uuid4()}, auto_id=auto_id)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.post_message(
                    referral=referral,
                    channel=channel,
                    body=form.cleaned_data["body"],
                    client_key=form.cleaned_data["client_key"],
                    by=Actor.from_request(request),
                )
            except ValidationError as exc:
                add_validation_error(form, exc)
                status = 422
            else:
                form = MessageForm(initial={"client_key": uuid.uuid4()}, auto_id=auto_id)
        else:
            status = 422
    services.mark_read(referral=referral, channel=channel, user=me(request))
    # Reading the thread is reading patient data.
    audit_referral(
        Action.THREAD_READ, referral, by=Actor.from_request(request), role=role, channel=channel
    )
    htmx = getattr(request, "htmx", False)
    return render(
        request,
        "messaging/thread.html" if htmx else "messaging/thread_page.html",
        {
            "referral": referral,
            "channel": channel,
            "role": role,
            "items": services.thread(referral, channel),
            "form": form,
        },
        status=status,
    )


@require_POST
def invite_view(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    user = me(request)
    referral = access.get_referral_for(user, referral_id)
    if not access.is_reviewer(user, referral):
        raise Http404
    try:
        colleague = User.objects.filter(
            public_id=uuid.UUID(request.POST.get("colleague", ""))
        ).first()
    except ValueError:
        colleague = None
    if colleague is None:
        flash.error(request, _("Choose a colleague."))
    else:
        try:
            services.invite_consultant(
                referral=referral, colleague=colleague, by=Actor.from_request(request)
            )
        except ValidationError as exc:
            flash.error(request, " ".join(exc.messages))
        else:
            flash.success(
                request,
                _("%(name)s has been asked to consult on the case.")
                % {"name": colleague.full_name},
            )
    return redirect("review:case", referral_id=referral.public_id)


def inbox_view(request: HttpRequest) -> HttpResponse:
    """The referrals with unread messages for the user, newest first."""
    unread = services.unread_messages(me(request)).select_related("referral", "author")
    threads: dict[tuple[int, str], Message] = {}
    for message in unread.order_by("-created_at")[:200]:
        threads.setdefault((message.referral_id, message.channel), message)
    return render(request, "messaging/inbox.html", {"threads": list(threads.values())})
