"""The dermatologist's queue and case page, and the GP marking an answer as read."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from telederm.accounts.access import me
from telederm.accounts.models import Organisation, OrganisationKind, Role, User
from telederm.audit.models import Action as AuditAction
from telederm.audit.services import Actor, record
from telederm.images.models import WARNING_LABELS, LesionImage
from telederm.lib.forms import add_validation_error
from telederm.referrals import access
from telederm.referrals import services as referral_services
from telederm.referrals.bodysites import get_site
from telederm.referrals.models import Referral, ReferralStatus
from telederm.review import services
from telederm.review.forms import AnswerForm
from telederm.review.models import Answer, AnswerDraft

# Cases per page of the queue: the most urgent first, the rest a click away. A page of 50 renders
# in a fraction of the time 200 took (docs/performance.md) and fits a screen or two.
QUEUE_PAGE_SIZE = 50

TABS = ("all", "mine", "unassigned", "overdue", "complement", "second_reading", "consultation")


def _require_reviewer(request: HttpRequest) -> None:
    if not access.review_units(me(request)).exists():
        raise PermissionDenied


def queue_view(request: HttpRequest) -> HttpResponse:
    _require_reviewer(request)
    user = me(request)
    tab = request.GET.get("tab", "all")
    if tab not in TABS:
        tab = "all"
    queue = services.queue_for(user)
    consulting = services.consultations_for(user)
    today = timezone.localdate()
    # One aggregate over the open cases instead of a count per tab.
    counts = queue.order_by().aggregate(
        all=Count("pk"),
        mine=Count("pk", filter=Q(assigned_to=user)),
        unassigned=Count("pk", filter=Q(status=ReferralStatus.SENT)),
        overdue=Count("pk", filter=Q(deadline__lt=today)),
        complement=Count("pk", filter=Q(status=ReferralStatus.COMPLEMENT_REQUESTED)),
    )
    counts["second_reading"] = (
        queue.filter(status=ReferralStatus.SECOND_READING).exclude(answer__author=user).count()
    )
    counts["consultation"] = consulting.count()
    if tab == "mine":
        queue = queue.filter(assigned_to=user)
    elif tab == "unassigned":
        queue = queue.filter(status=ReferralStatus.SENT)
    elif tab == "overdue":
        queue = queue.filter(deadline__lt=today)
    elif tab == "complement":
        queue = queue.filter(status=ReferralStatus.COMPLEMENT_REQUESTED)
    elif tab == "second_reading":
        queue = queue.filter(status=ReferralStatus.SECOND_READING).exclude(answer__author=user)
    elif tab == "consultation":
        queue = consulting
    page = _page_number(request)
    start = (page - 1) * QUEUE_PAGE_SIZE
    cases = list(_with_image_counts(queue)[start : start + QUEUE_PAGE_SIZE + 1])
    has_next = len(cases) > QUEUE_PAGE_SIZE
    cases = cases[:QUEUE_PAGE_SIZE]
    record(
        AuditAction.QUEUE_VIEWED,
        by=Actor.from_request(request),
        role=Role.DERMATOLOGIST,
        detail={"tab": tab},
    )
    return render(
        request,
        "review/queue.html",
        {
            "cases": [
                (
                    case,
                    {"count": case.image_count, "warnings": case.image_warnings},
                    case.days_left(),
                    -(case.days_left() or 0),
                )
                for case in cases
            ],
            "tab": tab,
            "counts": counts,
            "tabs": TABS,
            "page": page,
            "previous_page": page - 1 if page > 1 else None,
            "next_page": page + 1 if has_next else None,
            "first_shown": start + 1,
            "last_shown": start + len(cases),
        },
    )


def _page_number(request: HttpRequest) -> int:
    """``?page=N`` (1 when missing or not a sensible number)."""
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        return 1
    return page if 1 <= page <= 10_000 else 1


def _with_image_counts(queue: QuerySet[Referral]) -> QuerySet[Referral]:
    """Each case's number of photos and of photos with quality warnings, counted in the
    database (two correlated subqueries) instead of loading every photo of 200 cases."""
    photos = LesionImage.objects.filter(
        referral_lesion__referral=OuterRef("pk"), removed_at__isnull=True
    )

    def counted(images: QuerySet[LesionImage]) -> Subquery:
        return Subquery(
            images.order_by()
            .values("referral_lesion__referral")
            .annotate(n=Count("pk"))
            .values("n"),
            output_field=IntegerField(),
        )

    return queue.annotate(
        image_count=Coalesce(counted(photos), 0),
        image_warnings=Coalesce(counted(photos.exclude(warnings=[])), 0),
    )


def _case(request: HttpRequest, referral_id: UUID, *, consultant_ok: bool = False) -> Referral:
    user = me(request)
    referral = access.get_referral_for(user, referral_id)
    if access.is_reviewer(user, referral):
        return referral
    if consultant_ok and access.is_consultant(user, referral):
        return referral
    raise Http404


def _colleagues(referral: Referral, user: User) -> list[User]:
    units = Organisation.objects.filter(
        region_id=referral.clinic.region_id, kind=OrganisationKind.REVIEW_UNIT
    )
    return list(
        User.objects.filter(
            is_active=True,
            memberships__organisation__in=units,
            memberships__role__in=[Role.DERMATOLOGIST, Role.UNIT_LEAD],
            memberships__ended_at__isnull=True,
        )
        .exclude(pk=user.pk)
        .distinct()
        .order_by("last_name", "first_name")
    )


def _case_context(
    request: HttpRequest, referral: Referral, form: AnswerForm | None
) -> dict[str, object]:
    user = me(request)
    links = list(referral.lesion_links.select_related("lesion").prefetch_related("images"))
    reviewer = access.is_reviewer(user, referral)
    return {
        "referral": referral,
        "links": [
            (
                link,
                get_site(link.lesion.body_site),
                [i for i in link.images.all() if i.removed_at is None],
            )
            for link in links
        ],
        "mine": referral.status == ReferralStatus.IN_REVIEW and referral.assigned_to_id == user.pk,
        "form": form,
        "answer": getattr(referral, "answer", None)
        if referral.status in (ReferralStatus.ANSWERED, ReferralStatus.SECOND_READING)
        else None,
        "returned": _returned_answer(referral),
        "earlier": _earlier_images(referral, user),
        "warning_labels": WARNING_LABELS,
        "is_reviewer": reviewer,
        "colleagues": _colleagues(referral, user) if reviewer else [],
        "consultants": list(referral.consultants.select_related("user")),
        "unit_colleagues": [
            c for c in _colleagues(referral, user) if access.is_reviewer(c, referral)
        ]
        if reviewer
        else [],
        "other_units": Organisation.objects.filter(
            region_id=referral.clinic.region_id, kind=OrganisationKind.REVIEW_UNIT, is_active=True
        ).exclude(pk=referral.review_unit_id or 0)
        if reviewer
        else [],
        "complements": list(referral.complements.select_related("asked_by", "replied_by")),
    }


def case_view(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    referral = _case(request, referral_id, consultant_ok=True)
    user = me(request)
    referral_services.record_view(referral=referral, by=Actor.from_request(request))
    mine = referral.status == ReferralStatus.IN_REVIEW and referral.assigned_to_id == user.pk
    returned = _returned_answer(referral)
    draft = AnswerDraft.objects.filter(referral=referral, author=user).first()
    if draft is not None:
        form = AnswerForm(initial=draft.data)
    else:
        form = AnswerForm(instance=returned) if returned else AnswerForm()
    context = _case_context(request, referral, form if mine else None)
    return render(request, "review/case.html", context)


def _earlier_images(referral: Referral, user: User) -> list[tuple[Referral, list[object]]]:
    """Photos of the same patient from earlier submitted referrals the reviewer may see."""
    if referral.patient_id is None:
        return []
    earlier = (
        access.referrals_visible_to(user)
        .filter(patient_id=referral.patient_id, sent_at__lt=referral.sent_at)
        .exclude(pk=referral.pk)
        .prefetch_related("lesion_links__images")
        .order_by("-sent_at")[:5]
    )
    return [
        (
            old,
            [
                i
                for link in old.lesion_links.all()
                for i in link.images.all()
                if i.removed_at is None
            ],
        )
        for old in earlier
    ]


@require_POST
def take_view(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    referral = _case(request, referral_id)
    try:
        services.take_case(referral=referral, by=Actor.from_request(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("review:case", referral_id=referral.public_id)


@require_POST
def take_next_view(request: HttpRequest) -> HttpResponse:
    _require_reviewer(request)
    referral = services.take_next(by=Actor.from_request(request))
    if referral is None:
        messages.info(request, _("No case is waiting to be taken."))
        return redirect("review:queue")
    return redirect("review:case", referral_id=referral.public_id)


@require_POST
def release_view(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    referral = _case(request, referral_id)
    try:
        services.release_case(referral=referral, by=Actor.from_request(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("review:case", referral_id=referral.public_id)
    messages.success(request, _("The case is back in the queue."))
    return redirect("review:queue")


@require_POST
def answer_view(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    referral = _case(request, referral_id)
    form = AnswerForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.send_answer(
                referral=referral,
                diagnosis=data["diagnosis"],
                certainty=data["certainty"],
                action=data["action"],
                follow_up_months=data["follow_up_months"],
                text_to_gp=data["text_to_gp"],
                teaching_comment=data["teaching_comment"],
                by=Actor.from_request(request),
            )
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(
                request, _("The answer to %(number)s has been sent.") % {"number": referral.number}
            )
            return redirect("review:queue")
    return render(request, "review/case.html", _case_context(request, referral, form), status=422)


@require_POST
def answer_read_view(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    referral = access.get_referral_for(me(request), referral_id)
    if (
        referral.status != ReferralStatus.ANSWERED
        or not access.gp_clinics(me(request)).filter(pk=referral.clinic_id).exists()
    ):
        raise Http404
    services.mark_answer_read(referral=referral, by=Actor.from_request(request))
    return redirect("referrals:detail", referral_id=referral.public_id)


def _returned_answer(referral: Referral) -> Answer | None:
    """An answer a second reader sent back for changes (it waits for its author's revision)."""
    if referral.status != ReferralStatus.IN_REVIEW:
        return None
    return Answer.objects.filter(referral=referral, sent_at__isnull=True).first()


@require_POST
def second_read_view(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    referral = _case(request, referral_id)
    agree = request.POST.get("decision") == "agree"
    try:
        services.second_read(
            referral=referral,
            agree=agree,
            comment=request.POST.get("comment", ""),
            by=Actor.from_request(request),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("review:case", referral_id=referral.public_id)
    messages.success(
        request,
        _("You agreed: the answer has been sent to the clinic.")
        if agree
        else _("Your proposal has been sent back to the author."),
    )
    return redirect("review:queue")


@require_POST
def answer_draft_view(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    """Autosave of the answer form (htmx, on change)."""
    referral = _case(request, referral_id)
    try:
        services.save_answer_draft(
            referral=referral, data=request.POST.dict(), by=Actor.from_request(request)
        )
    except ValidationError:
        return render(request, "referrals/includes/saved.html", {"errors": True}, status=409)
    return render(request, "referrals/includes/saved.html")
