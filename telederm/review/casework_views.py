"""Views for case work: complement, hand-over, moving, amendments (see ``casework``)."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from telederm.accounts.access import me
from telederm.accounts.models import Organisation, OrganisationKind, User
from telederm.audit.services import Actor
from telederm.referrals import access
from telederm.review import casework
from telederm.review.views import _case


@require_POST
def complement_view(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    referral = _case(request, referral_id)
    try:
        casework.request_complement(
            referral=referral,
            question=request.POST.get("question", ""),
            by=Actor.from_request(request),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("review:case", referral_id=referral.public_id)
    messages.success(request, _("The clinic has been asked for a complement."))
    return redirect("review:queue")


@require_POST
def hand_over_view(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    referral = _case(request, referral_id)
    colleague = _user_from_post(request, "colleague")
    try:
        if colleague is None:
            raise ValidationError(_("Choose a colleague."))
        casework.hand_over(referral=referral, colleague=colleague, by=Actor.from_request(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("review:case", referral_id=referral.public_id)
    messages.success(
        request, _("The case has been handed over to %(name)s.") % {"name": colleague.full_name}
    )
    return redirect("review:queue")


@require_POST
def move_view(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    referral = _case(request, referral_id)
    unit_key = _uuid(request.POST.get("unit", ""))
    unit = (
        Organisation.objects.filter(public_id=unit_key, kind=OrganisationKind.REVIEW_UNIT).first()
        if unit_key
        else None
    )
    try:
        if unit is None:
            raise ValidationError(_("Choose a review unit."))
        casework.move_to_unit(
            referral=referral,
            unit=unit,
            reason=request.POST.get("reason", ""),
            by=Actor.from_request(request),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("review:case", referral_id=referral.public_id)
    messages.success(request, _("The case has been moved to %(unit)s.") % {"unit": unit.name})
    return redirect("review:queue")


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


def _user_from_post(request: HttpRequest, name: str) -> User | None:
    key = _uuid(request.POST.get(name, ""))
    return User.objects.filter(public_id=key).first() if key else None


@require_POST
def complement_reply_view(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    """The GP answers the dermatologist's complement question (photos are added separately)."""
    referral = access.get_referral_for(me(request), referral_id)
    if not access.can_add_images(me(request), referral):
        raise Http404
    try:
        casework.reply_complement(
            referral=referral, reply=request.POST.get("reply", ""), by=Actor.from_request(request)
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Your answer has been sent to the dermatologist."))
    return redirect("referrals:detail", referral_id=referral.public_id)


@require_POST
def amend_view(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    referral = _case(request, referral_id)
    try:
        casework.amend_answer(
            referral=referral,
            text=request.POST.get("text", ""),
            reason=request.POST.get("reason", ""),
            by=Actor.from_request(request),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The addendum has been sent to the clinic."))
    return redirect("review:case", referral_id=referral.public_id)
