"""Uploading photos into a draft, deciding about warnings, and serving files after the check."""

from __future__ import annotations

import uuid
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from telederm.accounts.access import me
from telederm.audit.services import Actor
from telederm.images import chunks, services
from telederm.images.models import LesionImage
from telederm.images.processing import WARNING_MESSAGES
from telederm.referrals import access
from telederm.referrals.models import Referral, ReferralLesion

VARIANTS = ("thumbnail", "screen", "original")


def _link_for_edit(request: HttpRequest, referral_id: UUID, link_id: int) -> ReferralLesion:
    referral = access.get_referral_for(me(request), referral_id, write=True)
    if not access.can_add_images(me(request), referral):
        raise Http404
    link = (
        ReferralLesion.objects.select_related("referral__clinic", "referral__patient", "lesion")
        .filter(pk=link_id, referral=referral)
        .first()
    )
    if link is None:
        raise Http404
    return link


def _card(
    request: HttpRequest, image: LesionImage, referral: Referral, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "referrals/includes/image_card.html",
        {
            "image": image,
            "referral": referral,
            "editable": True,
            "warning_messages": WARNING_MESSAGES,
        },
        status=status,
    )


def _error(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(
        request, "referrals/includes/upload_error.html", {"message": message}, status=status
    )


@require_POST
def upload_view(request: HttpRequest, referral_id: UUID, link_id: int) -> HttpResponse:
    """One photo per request. The browser sends its own ``upload_id`` and repeats the same
    request after a dropped connection; the second time we answer with the stored image."""
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.TELEDERM_IMAGE_MAX_BYTES + 64 * 1024:
        return _error(
            request, _("The photo is larger than 25 MB. Take it again at normal size."), 413
        )
    link = _link_for_edit(request, referral_id, link_id)
    upload = request.FILES.get("file")
    try:
        upload_id = uuid.UUID(request.POST.get("upload_id", ""))
    except ValueError:
        return _error(request, _("The upload was incomplete. Try again."), 400)
    if upload is None:
        return _error(request, _("No photo arrived. Try again."), 400)
    try:
        image, _created = services.add_image(
            link=link,
            kind=request.POST.get("kind", ""),
            raw=upload.read(settings.TELEDERM_IMAGE_MAX_BYTES + 1),
            upload_id=upload_id,
            by=Actor.from_request(request),
        )
    except ValidationError as exc:
        return _error(request, " ".join(exc.messages), 422)
    return _card(request, image, link.referral, status=201 if _created else 200)


# How the chunked upload answers a refused piece (other refusals concern the photo: 422).
CHUNK_STATUS = {
    chunks.INCOMPLETE: 400,
    chunks.TOO_LARGE: 413,
    chunks.CONFLICT: 409,
    chunks.BUSY: 429,
}


@require_POST
def upload_chunk_view(request: HttpRequest, referral_id: UUID, link_id: int) -> HttpResponse:
    """One piece of a large photo (``images.chunks``). The piece that completes the photo is
    answered like ``upload_view`` (the photo's card, 201 or 200 for a repeat); the others with
    202 and the indexes of the pieces the server still lacks."""
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > chunks.CHUNK_BYTES + 64 * 1024:
        return _error(request, _("The upload was incomplete. Try again."), 413)
    link = _link_for_edit(request, referral_id, link_id)
    part = request.FILES.get("chunk")
    if part is None:
        return _error(request, _("No photo arrived. Try again."), 400)
    try:
        piece = chunks.Piece(
            upload_id=uuid.UUID(request.POST.get("upload_id", "")),
            kind=request.POST.get("kind", ""),
            total_bytes=int(request.POST.get("total", "")),
            offset=int(request.POST.get("offset", "")),
            data=part.read(chunks.CHUNK_BYTES + 1),
        )
    except ValueError:
        return _error(request, _("The upload was incomplete. Try again."), 400)
    try:
        outcome = chunks.receive_chunk(link=link, piece=piece, by=Actor.from_request(request))
    except ValidationError as exc:
        status = CHUNK_STATUS.get(str(getattr(exc, "code", "")), 422)
        return _error(request, " ".join(exc.messages), status)
    if outcome.image is None:
        return JsonResponse({"missing": list(outcome.missing)}, status=202)
    return _card(request, outcome.image, link.referral, status=201 if outcome.created else 200)


def _image_for_edit(request: HttpRequest, referral_id: UUID, image_id: UUID) -> LesionImage:
    referral = access.get_referral_for(me(request), referral_id, write=True)
    image = (
        LesionImage.objects.select_related(
            "referral_lesion__referral__clinic", "referral_lesion__referral__patient"
        )
        .filter(public_id=image_id, referral_lesion__referral=referral, removed_at__isnull=True)
        .first()
    )
    if image is None or not access.can_add_images(me(request), referral):
        raise Http404
    return image


@require_POST
def accept_view(request: HttpRequest, referral_id: UUID, image_id: UUID) -> HttpResponse:
    image = _image_for_edit(request, referral_id, image_id)
    services.accept_warnings(image=image, by=Actor.from_request(request))
    return _card(request, image, image.referral_lesion.referral)


@require_POST
def remove_view(request: HttpRequest, referral_id: UUID, image_id: UUID) -> HttpResponse:
    image = _image_for_edit(request, referral_id, image_id)
    services.remove_image(image=image, by=Actor.from_request(request))
    return HttpResponse("")


@require_GET
def file_view(
    request: HttpRequest, referral_id: UUID, image_id: UUID, variant: str
) -> FileResponse:
    """Files are never public: every request passes the referral's access check and is logged."""
    if variant not in VARIANTS:
        raise Http404
    referral = access.get_referral_for(me(request), referral_id)
    image = LesionImage.objects.filter(
        public_id=image_id, referral_lesion__referral=referral
    ).first()
    if image is None:
        raise Http404
    if variant != "thumbnail":
        # Thumbnails are shown on pages whose view is already logged as a referral view.
        services.record_image_view(
            image=image, referral=referral, variant=variant, by=Actor.from_request(request)
        )
    field = getattr(image, variant)
    content_type = image.mime_type if variant == "original" else "image/jpeg"
    response = FileResponse(field.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = (
        f'inline; filename="{referral.number or "utkast"}-{image.public_id.hex[:8]}.'
        f'{image.extension if variant == "original" else "jpg"}"'
    )
    return response
