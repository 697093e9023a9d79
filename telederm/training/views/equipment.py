"""The clinic's equipment pages (center admin, region admin) and the equipment test capture."""

from __future__ import annotations

import uuid
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from telederm.accounts.access import me
from telederm.audit.services import Actor
from telederm.lib.forms import add_validation_error
from telederm.training import access, equipment, rules
from telederm.training.forms import EquipmentForm
from telederm.training.models import Equipment, EquipmentTest


def list_view(request: HttpRequest, org_id: UUID) -> HttpResponse:
    clinic = access.get_managed_clinic(me(request), org_id)
    items = list(Equipment.objects.filter(clinic=clinic).all())
    newest = equipment.last_tests(clinic)
    return render(
        request,
        "training/equipment_list.html",
        {
            "clinic": clinic,
            "rows": [(item, newest.get(item.pk)) for item in items],
            "ready": rules.has_passed_equipment_test(clinic),
            "required": rules.equipment_test_required(),
        },
    )


def new_view(request: HttpRequest, org_id: UUID) -> HttpResponse:
    clinic = access.get_managed_clinic(me(request), org_id)
    form = EquipmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            item = equipment.register_equipment(
                clinic=clinic, data=form.data_for_service(), by=Actor.from_request(request)
            )
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(
                request, _("The equipment has been registered. Now take a test photo with it.")
            )
            return redirect("training:equipment_test", org_id=org_id, equipment_id=item.public_id)
    return render(
        request, "training/equipment_form.html", {"clinic": clinic, "form": form, "item": None}
    )


def edit_view(request: HttpRequest, org_id: UUID, equipment_id: UUID) -> HttpResponse:
    clinic = access.get_managed_clinic(me(request), org_id)
    item = access.get_equipment(clinic, equipment_id)
    form = EquipmentForm.for_equipment(item, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            equipment.update_equipment(
                equipment=item, data=form.data_for_service(), by=Actor.from_request(request)
            )
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(request, _("The changes have been saved."))
            return redirect("training:equipment", org_id=org_id)
    return render(
        request,
        "training/equipment_form.html",
        {"clinic": clinic, "form": form, "item": item, "tests": item.tests.all()},
    )


def test_view(request: HttpRequest, org_id: UUID, equipment_id: UUID) -> HttpResponse:
    clinic = access.get_managed_clinic(me(request), org_id)
    item = access.get_equipment(clinic, equipment_id)
    return render(
        request,
        "training/equipment_test.html",
        {
            "clinic": clinic,
            "item": item,
            "tests": item.tests.all()[:10],
            "upload_id": uuid.uuid4(),
        },
    )


def _card(request: HttpRequest, test: EquipmentTest, status: int = 200) -> HttpResponse:
    item = test.equipment
    return render(
        request,
        "training/includes/test_card.html",
        {"test": test, "clinic": item.clinic, "item": item},
        status=status,
    )


def _problem(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(
        request, "referrals/includes/upload_error.html", {"message": message}, status=status
    )


@require_POST
def upload_view(request: HttpRequest, org_id: UUID, equipment_id: UUID) -> HttpResponse:
    """The test photo: sent by upload.js (an HTML fragment back, as in the referral wizard) or
    by the plain form without JavaScript (a redirect back to the test page)."""
    clinic = access.get_managed_clinic(me(request), org_id)
    item = access.get_equipment(clinic, equipment_id)
    fragment = request.headers.get("HX-Request") == "true"
    message, status, test = _run(request, item)
    if fragment:
        if test is None:
            return _problem(request, message, status)
        return _card(request, test, status)
    if test is None:
        messages.error(request, message)
    elif test.passed:
        messages.success(request, _("The equipment passed the test."))
    else:
        messages.error(request, _("The equipment did not pass the test. See what to change."))
    return redirect("training:equipment_test", org_id=org_id, equipment_id=item.public_id)


def _run(request: HttpRequest, item: Equipment) -> tuple[str, int, EquipmentTest | None]:
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.TELEDERM_IMAGE_MAX_BYTES + 64 * 1024:
        return _("The photo is larger than 25 MB. Take it again at normal size."), 413, None
    upload = request.FILES.get("file")
    try:
        upload_id = uuid.UUID(request.POST.get("upload_id", ""))
    except ValueError:
        return _("The upload was incomplete. Try again."), 400, None
    if upload is None:
        return _("No photo arrived. Try again."), 400, None
    try:
        test, created = equipment.run_equipment_test(
            equipment=item,
            raw=upload.read(settings.TELEDERM_IMAGE_MAX_BYTES + 1),
            upload_id=upload_id,
            by=Actor.from_request(request),
        )
    except ValidationError as exc:
        return " ".join(exc.messages), 422, None
    return "", 201 if created else 200, test


@require_GET
def photo_view(
    request: HttpRequest, org_id: UUID, equipment_id: UUID, test_id: UUID
) -> FileResponse:
    clinic = access.get_managed_clinic(me(request), org_id)
    test = access.get_test(access.get_equipment(clinic, equipment_id), test_id)
    if not test.thumbnail:
        raise Http404
    response = FileResponse(test.thumbnail.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response
