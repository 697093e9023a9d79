"""The GP's new-referral wizard: patient → lesions → photos → history → review and send."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from telederm.accounts.access import me
from telederm.audit.services import Actor
from telederm.images.models import WARNING_LABELS, ImageKind
from telederm.images.processing import WARNING_MESSAGES
from telederm.lib.forms import add_validation_error
from telederm.referrals import access, services
from telederm.referrals.bodysites import get_site
from telederm.referrals.forms import HistoryForm, LesionForm, PatientForm
from telederm.referrals.models import SUBMITTED_STATES, Referral, ReferralLesion, ReferralStatus

STEPS = ("patient", "lesions", "history", "review")


def _draft(request: HttpRequest, referral_id: UUID) -> Referral:
    referral = access.get_referral_for(me(request), referral_id, write=True)
    if referral.status != ReferralStatus.DRAFT:
        raise Http404
    return referral


def _context(referral: Referral, step: str, **extra: object) -> dict[str, object]:
    return {"referral": referral, "step": step, "steps": STEPS, **extra}


@require_POST
def start_view(request: HttpRequest) -> HttpResponse:
    user = me(request)
    clinics = list(access.gp_clinics(user))
    wanted = request.POST.get("clinic")
    clinic = next((c for c in clinics if str(c.public_id) == wanted), None)
    if clinic is None:
        if len(clinics) != 1:
            raise Http404
        clinic = clinics[0]
    try:
        client_key: UUID | None = UUID(request.POST.get("client_key", ""))
    except ValueError:
        client_key = None  # an older page without the key: no double-submit guard, still works
    try:
        referral = services.start_referral(
            clinic=clinic, by=Actor.from_request(request), client_key=client_key
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("web:start")
    return redirect("referrals:patient", referral_id=referral.public_id)


def patient_view(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    referral = _draft(request, referral_id)
    initial = {}
    if referral.patient:
        initial = {
            "personal_number": referral.patient.display_number,
            "name": referral.patient.name,
            "protected_identity": referral.patient.protected_identity,
        }
    form = PatientForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_patient(
                referral=referral,
                personal_number=form.cleaned_data["personal_number"],
                name=form.cleaned_data["name"],
                protected_identity=form.cleaned_data["protected_identity"],
                by=Actor.from_request(request),
            )
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            return redirect("referrals:lesions", referral_id=referral.public_id)
    return render(request, "referrals/step_patient.html", _context(referral, "patient", form=form))


def patient_check_view(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    """Instant validation while typing (htmx): the derived age and sex, or what is wrong."""
    _draft(request, referral_id)
    form = PatientForm({"personal_number": request.GET.get("personal_number", "")})
    form.is_valid()
    parsed = getattr(form, "parsed", None)
    return render(
        request,
        "referrals/includes/patient_check.html",
        {"errors": form.errors.get("personal_number"), "parsed": parsed},
    )


def lesions_view(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    referral = _draft(request, referral_id)
    if referral.patient is None:
        return redirect("referrals:patient", referral_id=referral.public_id)
    form = LesionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            link = services.add_lesion(
                referral=referral,
                body_site=form.cleaned_data["body_site"],
                laterality=form.cleaned_data["laterality"],
                label=form.cleaned_data["label"],
                by=Actor.from_request(request),
            )
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            return redirect("referrals:photos", referral_id=referral.public_id, link_id=link.pk)
    links = list(referral.lesion_links.select_related("lesion").prefetch_related("images"))
    earlier = referral.patient.lesions.exclude(referral_links__referral=referral).order_by(
        "-created_at"
    )[:10]
    return render(
        request,
        "referrals/step_lesions.html",
        _context(
            referral,
            "lesions",
            form=form,
            links=[(link, get_site(link.lesion.body_site), _image_counts(link)) for link in links],
            earlier=[(lesion, get_site(lesion.body_site)) for lesion in earlier],
        ),
    )


def _image_counts(link: ReferralLesion) -> dict[str, int]:
    counts = {ImageKind.OVERVIEW.value: 0, ImageKind.DERMOSCOPIC.value: 0}
    for image in link.images.all():
        if image.removed_at is None:
            counts[image.kind] += 1
    return counts


@require_POST
def lesion_existing_view(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    """Point this referral at a lesion from an earlier referral of the same patient."""
    referral = _draft(request, referral_id)
    if referral.patient is None:
        raise Http404
    lesion = referral.patient.lesions.filter(public_id=request.POST.get("lesion", "")).first()
    if lesion is None:
        raise Http404
    link = services.add_lesion(
        referral=referral,
        body_site=lesion.body_site,
        laterality=lesion.laterality,
        existing=lesion,
        by=Actor.from_request(request),
    )
    return redirect("referrals:photos", referral_id=referral.public_id, link_id=link.pk)


@require_POST
def lesion_remove_view(request: HttpRequest, referral_id: UUID, link_id: int) -> HttpResponse:
    referral = _draft(request, referral_id)
    link = referral.lesion_links.filter(pk=link_id).first()
    if link is None:
        raise Http404
    services.remove_lesion(link=link, by=Actor.from_request(request))
    messages.success(request, _("The lesion has been removed from the referral."))
    return redirect("referrals:lesions", referral_id=referral.public_id)


def photos_view(request: HttpRequest, referral_id: UUID, link_id: int) -> HttpResponse:
    referral = _draft(request, referral_id)
    link = referral.lesion_links.select_related("lesion").filter(pk=link_id).first()
    if link is None:
        raise Http404
    images = [image for image in link.images.all() if image.removed_at is None]
    return render(
        request,
        "referrals/step_photos.html",
        _context(
            referral,
            "lesions",
            link=link,
            site=get_site(link.lesion.body_site),
            images=images,
            warning_messages=WARNING_MESSAGES,
        ),
    )


def history_view(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    referral = _draft(request, referral_id)
    form = HistoryForm(request.POST or None, instance=referral)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in HistoryForm.Meta.fields}
        try:
            services.update_history(referral=referral, data=data, by=Actor.from_request(request))
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            if getattr(request, "htmx", False):
                return render(request, "referrals/includes/saved.html")
            return redirect("referrals:review", referral_id=referral.public_id)
    if getattr(request, "htmx", False):
        return render(request, "referrals/includes/saved.html", {"errors": form.errors}, status=422)
    return render(request, "referrals/step_history.html", _context(referral, "history", form=form))


def review_view(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    referral = access.get_referral_for(me(request), referral_id, write=True)
    if referral.status in SUBMITTED_STATES:
        return redirect("referrals:detail", referral_id=referral.public_id)
    if referral.status != ReferralStatus.DRAFT:
        raise Http404
    problems = services.problems_before_sending(referral)
    links = list(referral.lesion_links.select_related("lesion").prefetch_related("images"))
    return render(
        request,
        "referrals/step_review.html",
        _context(
            referral,
            "review",
            problems=problems,
            links=[
                (
                    link,
                    get_site(link.lesion.body_site),
                    [i for i in link.images.all() if i.removed_at is None],
                )
                for link in links
            ],
            licence=me(request).valid_licence(),
            equipment_missing=services.equipment_missing(referral.clinic),
            warning_labels=WARNING_LABELS,
        ),
    )


@require_POST
def send_view(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    user = me(request)
    referral = access.get_referral_for(user, referral_id, write=True)
    try:
        sent = services.submit_referral(referral=referral, by=Actor.from_request(request))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("referrals:review", referral_id=referral.public_id)
    messages.success(
        request,
        _("Referral %(number)s has been sent. The answer is due by %(deadline)s.")
        % {"number": sent.number, "deadline": sent.deadline},
    )
    return redirect("referrals:detail", referral_id=sent.public_id)
