"""A GP's list of the clinic's referrals, one referral's page, and withdrawal."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Value, When
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
from telederm.referrals.models import ReferralStatus


def index_view(request: HttpRequest) -> HttpResponse:
    user = me(request)
    visible = access.referrals_visible_to(user).select_related("patient", "clinic", "author")
    record(Action.REFERRAL_LIST_VIEWED, by=Actor.from_request(request))
    return render(
        request,
        "referrals/index.html",
        {
            "drafts": visible.filter(status=ReferralStatus.DRAFT, author=user)[:50],
            "waiting": visible.filter(
                clinic__in=access.gp_clinics(user),
                status__in=[ReferralStatus.SENT, ReferralStatus.IN_REVIEW],
            ).order_by("deadline")[:100],
            "answered": visible.filter(
                clinic__in=access.gp_clinics(user), status=ReferralStatus.ANSWERED
            )
            .select_related("answer")
            .annotate(
                svf_unread_first=Case(
                    When(answer__action="svf", answer__read_at__isnull=True, then=Value(0)),
                    When(answer__read_at__isnull=True, then=Value(1)),
                    default=Value(2),
                    output_field=IntegerField(),
                )
            )
            .order_by("svf_unread_first", "-answered_at")[:50],
            "withdrawn": visible.filter(status=ReferralStatus.WITHDRAWN).order_by("-withdrawn_at")[
                :20
            ],
            "clinics": list(access.gp_clinics(user)),
        },
    )


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
