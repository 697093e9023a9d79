"""The GP's pages: wizard, upload endpoint, files, and who may reach them."""

from __future__ import annotations

import io
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from telederm.audit.models import Action, AuditEvent
from telederm.images.models import LesionImage
from telederm.referrals.models import Referral, ReferralStatus
from telederm.referrals.tests.helpers import _a_site, complete, draft, send
from telederm.testing import World, login, photo

pytestmark = pytest.mark.django_db


def upload(
    client: Client,
    referral: Referral,
    kind: str,
    upload_id: str | None = None,
    data: bytes | None = None,
):
    link = referral.lesion_links.get()
    return client.post(
        reverse("referrals:upload", args=[referral.public_id, link.pk]),
        {
            "file": io.BytesIO(data if data is not None else photo(kind)),
            "kind": kind,
            "upload_id": upload_id or str(uuid.uuid4()),
        },
    )


def test_gp_walks_through_the_wizard_and_sends(client: Client, world: World) -> None:
    login(client, world.gp_a)
    response = client.post(reverse("referrals:start"))
    referral = Referral.objects.get()
    assert response["Location"] == reverse("referrals:patient", args=[referral.public_id])

    check = client.get(
        reverse("referrals:patient_check", args=[referral.public_id]),
        {"personal_number": "19121212-1213"},
    )
    assert "field__error" in check.content.decode()
    response = client.post(
        reverse("referrals:patient", args=[referral.public_id]),
        {"personal_number": "191212121212", "name": ""},
    )
    assert response["Location"] == reverse("referrals:lesions", args=[referral.public_id])

    page = client.get(reverse("referrals:lesions", args=[referral.public_id]))
    assert page.status_code == 200
    assert "19121212-1212" in page.content.decode()  # the patient is always visible
    response = client.post(
        reverse("referrals:lesions", args=[referral.public_id]),
        {"body_site": _a_site(), "laterality": "L", "label": "Större naevus"},
    )
    link = referral.lesion_links.get()
    assert response["Location"] == reverse("referrals:photos", args=[referral.public_id, link.pk])
    assert client.get(response["Location"]).status_code == 200

    for kind in ("overview", "dermoscopic"):
        answer = upload(client, referral, kind)
        assert answer.status_code == 201
        assert "image-card" in answer.content.decode()
    for image in LesionImage.objects.all():
        if image.warnings:
            client.post(
                reverse("referrals:image_accept", args=[referral.public_id, image.public_id])
            )

    response = client.post(
        reverse("referrals:history", args=[referral.public_id]),
        {"question": "Melanom?", "suspicion": "melanoma", "duration": "1-6m", "itch": "on"},
    )
    assert response["Location"] == reverse("referrals:review", args=[referral.public_id])
    review = client.get(response["Location"])
    assert review.status_code == 200
    response = client.post(reverse("referrals:send", args=[referral.public_id]))
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT
    assert response["Location"] == reverse("referrals:detail", args=[referral.public_id])
    detail = client.get(response["Location"])
    assert referral.number
    assert referral.number in detail.content.decode()
    assert AuditEvent.objects.filter(action=Action.REFERRAL_VIEWED).count() == 1


def test_history_autosaves_with_htmx(client: Client, world: World) -> None:
    referral = draft(world)
    login(client, world.gp_a)
    response = client.post(
        reverse("referrals:history", args=[referral.public_id]),
        {"question": "Fråga", "bleeding": "on"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    referral.refresh_from_db()
    assert referral.question == "Fråga"
    assert referral.bleeding is True


def test_retried_upload_is_stored_once(client: Client, world: World) -> None:
    referral = draft(world)
    from telederm.audit.services import Actor
    from telederm.referrals import services

    services.add_lesion(
        referral=referral, body_site=_a_site(), laterality="L", by=Actor(user=world.gp_a)
    )
    login(client, world.gp_a)
    upload_id = str(uuid.uuid4())
    first = upload(client, referral, "dermoscopic", upload_id)
    second = upload(client, referral, "dermoscopic", upload_id)
    assert first.status_code == 201
    assert second.status_code == 200
    assert LesionImage.objects.count() == 1
    assert AuditEvent.objects.filter(action=Action.IMAGE_UPLOADED).count() == 1


@pytest.mark.parametrize(
    ("data", "status"),
    [(b"", 422), (b"GIF89a" + b"\0" * 100, 422), (b"not an image at all", 422)],
)
def test_hostile_upload_is_refused_and_nothing_is_stored(
    client: Client, world: World, data: bytes, status: int
) -> None:
    referral = draft(world)
    from telederm.audit.services import Actor
    from telederm.referrals import services

    services.add_lesion(
        referral=referral, body_site=_a_site(), laterality="L", by=Actor(user=world.gp_a)
    )
    login(client, world.gp_a)
    response = upload(client, referral, "overview", data=data)
    assert response.status_code == status
    assert "alert--error" in response.content.decode()
    assert LesionImage.objects.count() == 0


def test_image_files_are_served_after_the_check_and_logged(client: Client, world: World) -> None:
    referral = send(world)
    image = LesionImage.objects.filter(kind="dermoscopic").get()
    login(client, world.gp_a)
    response = client.get(
        reverse("referrals:image_file", args=[referral.public_id, image.public_id, "screen"])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "private" in response["Cache-Control"]
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert Image.open(io.BytesIO(body)).size[0] > 0
    event = AuditEvent.objects.get(action=Action.IMAGE_VIEWED)
    assert event.patient_id == "191212121212"
    assert event.detail["variant"] == "screen"


def test_colleague_sees_a_sent_referral_but_not_a_draft(client: Client, world: World) -> None:
    from telederm.accounts.tests.factories import licensed_gp

    colleague = licensed_gp(world.clinic_a)
    sent = send(world)
    own_draft = draft(world)
    login(client, colleague)
    assert client.get(reverse("referrals:detail", args=[sent.public_id])).status_code == 200
    assert client.get(reverse("referrals:patient", args=[own_draft.public_id])).status_code == 404
    assert client.get(reverse("referrals:review", args=[own_draft.public_id])).status_code == 404


def referral_urls(referral: Referral) -> list[tuple[str, str]]:
    link = referral.lesion_links.get()
    image = LesionImage.objects.filter(referral_lesion=link).first()
    assert image is not None
    rid = referral.public_id
    return [
        ("get", reverse("referrals:detail", args=[rid])),
        ("get", reverse("referrals:withdraw", args=[rid])),
        ("post", reverse("referrals:withdraw", args=[rid])),
        ("get", reverse("referrals:patient", args=[rid])),
        ("get", reverse("referrals:patient_check", args=[rid])),
        ("get", reverse("referrals:lesions", args=[rid])),
        ("post", reverse("referrals:lesion_existing", args=[rid])),
        ("post", reverse("referrals:lesion_remove", args=[rid, link.pk])),
        ("get", reverse("referrals:photos", args=[rid, link.pk])),
        ("post", reverse("referrals:upload", args=[rid, link.pk])),
        ("get", reverse("referrals:history", args=[rid])),
        ("get", reverse("referrals:review", args=[rid])),
        ("post", reverse("referrals:send", args=[rid])),
        ("post", reverse("referrals:image_accept", args=[rid, image.public_id])),
        ("post", reverse("referrals:image_remove", args=[rid, image.public_id])),
        *[
            ("get", reverse("referrals:image_file", args=[rid, image.public_id, variant]))
            for variant in ("thumbnail", "screen", "original")
        ],
    ]


@pytest.mark.parametrize("state", ["draft", "sent"])
@pytest.mark.parametrize("persona", ["gp_b", "derm_y", "admin_b", "admin_a"])
def test_outsiders_get_404_for_every_url_of_a_referral(
    client: Client, world: World, state: str, persona: str
) -> None:
    referral = complete(world) if state == "draft" else send(world)
    login(client, getattr(world, persona))
    for method, url in referral_urls(referral):
        response = getattr(client, method)(url)
        assert response.status_code == 404, (persona, method, url, response.status_code)
    referral.refresh_from_db()
    assert referral.status == (ReferralStatus.DRAFT if state == "draft" else ReferralStatus.SENT)
    assert LesionImage.objects.filter(removed_at__isnull=False).count() == 0


def test_anonymous_is_sent_to_login_for_every_referral_url(client: Client, world: World) -> None:
    referral = send(world)
    for method, url in referral_urls(referral):
        response = getattr(client, method)(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
