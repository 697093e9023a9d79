"""The queue shows each case's number of photos and of photos with quality warnings, counted
in the database; removed photos do not count."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from telederm.images.models import LesionImage
from telederm.referrals.tests.helpers import send
from telederm.testing import World, login

pytestmark = pytest.mark.django_db


def test_photo_and_warning_counts_per_case(client: Client, world: World) -> None:
    plain = send(world)
    flagged = send(world)
    photos = list(LesionImage.objects.filter(referral_lesion__referral=flagged).order_by("pk"))
    total = len(photos)
    assert total >= 2
    LesionImage.objects.filter(referral_lesion__referral=plain).update(warnings=[])
    LesionImage.objects.filter(referral_lesion__referral=flagged).update(warnings=[])
    LesionImage.objects.filter(pk=photos[0].pk).update(warnings=["blurry", "dark"])
    LesionImage.objects.filter(pk=photos[1].pk).update(removed_at="2026-01-01T00:00:00Z")
    login(client, world.derm_x)
    rows = {
        case.pk: images for case, images, *_ in client.get(reverse("review:queue")).context["cases"]
    }
    plain_total = LesionImage.objects.filter(referral_lesion__referral=plain).count()
    assert rows[plain.pk] == {"count": plain_total, "warnings": 0}
    assert rows[flagged.pk] == {"count": total - 1, "warnings": 1}


def test_the_queue_comes_in_pages(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from telederm.review import views

    monkeypatch.setattr(views, "QUEUE_PAGE_SIZE", 1)
    first, second = send(world), send(world)
    login(client, world.derm_x)
    page1 = client.get(reverse("review:queue"))
    page2 = client.get(reverse("review:queue"), {"page": 2})
    shown = [page.context["cases"][0][0].pk for page in (page1, page2)]
    assert sorted(shown) == sorted([first.pk, second.pk])
    assert (page1.context["previous_page"], page1.context["next_page"]) == (None, 2)
    assert (page2.context["previous_page"], page2.context["next_page"]) == (1, None)
    assert "page=2" in page1.content.decode()
    assert page1.context["counts"]["all"] == 2
    for nonsense in ("abc", "0", "-1", "99999999"):
        assert client.get(reverse("review:queue"), {"page": nonsense}).context["page"] == 1
