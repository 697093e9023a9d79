"""A GP's list of the clinic's referrals, one referral's page, and withdrawal."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from telederm.accounts.access import me
from telederm.audit.models import Action
from telederm.audit.services import Actor, record
from telederm.images.models import WARNING_LABELS
from telederm.images.processing import WARNING_MESSAGES
from telederm.lib.forms import add_validation_error
from telederm.referrals import access, services
from telederm.referrals.bodysites import get_site
from telederm.referrals.forms import WithdrawForm
from telederm.referrals.models import Referral, ReferralStatus


def index_view(request: HttpRequest) -> HttpResponse:
    """The GP's referrals. Each list is the clinic rule of ``access.referrals_visible_to``
    for its states, with the clinic ids as constants: one indexed query each, bounded."""
    user = me(request)
    clinic_ids = list(access.gp_clinics(user).values_list("pk", flat=True))
    at_clinics = Referral.objects.filter(clinic__in=clinic_ids).select_related(
        "patient", "clinic", "author"
    )
    record(Action.REFERRAL_LIST_VIEWED, by=Actor.from_request(request))
    return render(
        request,
        "referrals/index.html",
        {
            "drafts": at_clinics.filter(status=ReferralStatus.DRAFT, author=user)[:50],
            "waiting": at_clinics.filter(
                status__in=[ReferralStatus.SENT, ReferralStatus.IN_REVIEW]
            ).order_by("deadline")[:100],
            "answered": _answered(at_clinics),
            "withdrawn": at_clinics.filter(status=ReferralStatus.WITHDRAWN).order_by(
                "-withdrawn_at"
            )[:20],
            "clinics": list(access.gp_clinics(user)),
        },
    )


def _answered(at_clinics: QuerySet[Referral], limit: int = 50) -> list[Referral]:
    """Unread answers first (SVF before the rest), then the newest read ones.

    Two bounded queries: the unread ones through the partial index on unread answers, the read
    ones walking the (clinic, status, answered_at) index from the newest, instead of sorting
    every answer the clinic ever had.
    """
    answered = at_clinics.filter(status=ReferralStatus.ANSWERED).select_related("answer")
    unread: list[Referral] = list(
        answered.filter(pk__in=access.unread_answer_referrals())
        .annotate(
            svf_first=Case(
                When(answer__action="svf", then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("svf_first", "-answered_at")[:limit]
    )
    if len(unread) >= limit:
        return unread
    read = answered.filter(answer__read_at__isnull=False).order_by("-answered_at")
    return unread + list(read[: limit - len(unread)])


def detail_view(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    user = me(request)
    referral = access.get_referral_for(user, referral_id)
    if referral.status == ReferralStatus.DRAFT:
        return redirect("referrals:review", referral_id=referral.public_id)
    services.record_view(referral=referral, by=Actor.from_request(request))
    links = list(referral.lesion_links.select_related("lesion").prefetch_related("images"))
    return render(
        request,
        "referrals/detail.html",
        {
            "referral": referral,
            "links": [
                (
                    link,
                    get_site(link.lesion.body_site),
                    [i for i in link.images.all() if i.removed_at is None],
                )
                for link in links
            ],
            "can_withdraw": access.can_withdraw(user, referral),
            "answer": getattr(referral, "answer", None)
            if referral.status == ReferralStatus.ANSWERED
            else None,
            "can_mark_read": access.gp_clinics(user).filter(pk=referral.clinic_id).exists(),
            "complements": list(referral.complements.select_related("asked_by", "replied_by")),
            "can_complement": referral.status == ReferralStatus.COMPLEMENT_REQUESTED
            and access.can_add_images(user, referral),
            "withdraw_form": WithdrawForm(),
            "warning_labels": WARNING_LABELS,
        },
    )


def withdraw_view(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    user = me(request)
    referral = access.get_referral_for(user, referral_id)
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.withdraw_referral(
                referral=referral,
                reason=form.cleaned_data["reason"],
                by=Actor.from_request(request),
            )
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(request, _("The referral has been withdrawn."))
            return redirect("referrals:index")
    return render(request, "referrals/withdraw.html", {"referral": referral, "form": form})


def complement_photos_view(request: HttpRequest, referral_id: UUID, link_id: int) -> HttpResponse:
    """Add photos to a lesion while the dermatologist waits for a complement."""
    user = me(request)
    referral = access.get_referral_for(user, referral_id)
    if referral.status != ReferralStatus.COMPLEMENT_REQUESTED or not access.can_add_images(
        user, referral
    ):
        raise Http404
    link = referral.lesion_links.select_related("lesion").filter(pk=link_id).first()
    if link is None:
        raise Http404
    complement = referral.complements.filter(replied_at__isnull=True).order_by("-asked_at").first()
    since = complement.asked_at if complement else referral.sent_at
    return render(
        request,
        "referrals/complement_photos.html",
        {
            "referral": referral,
            "link": link,
            "site": get_site(link.lesion.body_site),
            "complement": complement,
            "images": [
                i
                for i in link.images.all()
                if i.removed_at is None and since and i.created_at >= since
            ],
            "warning_messages": WARNING_MESSAGES,
        },
    )
