"""The public application form takes a limited number of submissions per network address."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import LazySettings
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import ngettext

from telederm.accounts.models import ClinicApplication
from telederm.accounts.tests.test_onboarding import application_form
from telederm.testing import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def limit_two(settings: LazySettings, world: World) -> None:
    settings.TELEDERM_APPLY_RATE_LIMIT = 2
    settings.TELEDERM_APPLY_RATE_WINDOW_SECONDS = 3600


def english() -> Client:
    client = Client()
    client.cookies["telederm_language"] = "en"
    return client


def apply(address: str, n: int, client: Client | None = None, **overrides: str) -> Any:
    """Submit a distinct, valid application (number ``n``) from ``address``."""
    distinct = {
        "clinic_name": f"Vårdcentral Prov {n}",
        "kombikakod": f"PROV{n:02d}",
        "clinic_hsa_id": f"SE2321000016-PRV{n}",
        "admin_email": f"admin{n}@example.se",
        "admin_hsa_id": f"SE2321000016-ADM{n}",
    }
    data = application_form(**{**distinct, **overrides})
    return (client or Client()).post(reverse("accounts:apply"), data, REMOTE_ADDR=address)


def test_submissions_up_to_the_limit_are_accepted(limit_two: None) -> None:
    assert [apply("192.0.2.10", n).status_code for n in range(2)] == [302, 302]
    assert ClinicApplication.objects.count() == 2


def test_the_submission_over_the_limit_gets_429_and_a_clear_message(limit_two: None) -> None:
    apply("192.0.2.10", 0)
    apply("192.0.2.10", 1)

    response = apply("192.0.2.10", 2, client=english())

    assert response.status_code == 429
    assert ClinicApplication.objects.count() == 2  # the third was not taken
    minutes = -(-int(response["Retry-After"]) // 60)
    assert 1 <= minutes <= 60
    with translation.override("en"):
        message = ngettext(
            "Too many applications have been sent from your network. "
            "Try again in %(minutes)d minute.",
            "Too many applications have been sent from your network. "
            "Try again in %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}
    html = response.content.decode()
    assert message in html
    assert 'value="Vårdcentral Prov 2"' in html  # what was typed is kept for later


def test_another_address_is_not_affected(limit_two: None) -> None:
    for n in range(3):
        apply("192.0.2.10", n)
    assert apply("192.0.2.10", 3).status_code == 429

    assert apply("198.51.100.7", 4).status_code == 302


def test_ipv6_addresses_count_by_their_64_prefix(limit_two: None) -> None:
    apply("2001:db8:1:2::a", 0)
    apply("2001:db8:1:2::b", 1)
    assert apply("2001:db8:1:2:ffff::1", 2).status_code == 429
    assert apply("2001:db8:1:3::a", 3).status_code == 302


def test_invalid_submissions_count_too(limit_two: None) -> None:
    for n in range(2):
        assert apply("192.0.2.10", n, kombikakod="").status_code == 200
    assert apply("192.0.2.10", 2).status_code == 429


def test_viewing_the_form_is_not_limited(limit_two: None) -> None:
    for _ in range(5):
        response = Client().get(reverse("accounts:apply"), REMOTE_ADDR="192.0.2.10")
        assert response.status_code == 200
    assert apply("192.0.2.10", 0).status_code == 302
