"""A clinic's first referral needs equipment that has passed the equipment test."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from telederm.accounts.tests.factories import ClinicFactory, licensed_gp
from telederm.audit.services import Actor
from telederm.referrals import services
from telederm.referrals.models import Referral, ReferralStatus
from telederm.referrals.tests.helpers import complete, send
from telederm.testing import World, login
from telederm.training.equipment import EquipmentData, register_equipment, update_equipment
from telederm.training.models import Equipment
from telederm.training.tests.helpers import jpeg, photo_test
from telederm.training.tests.test_equipment import blurred, sharp

pytestmark = pytest.mark.django_db

MESSAGE = "utrustningstestet|equipment test"  # Swedish by default, English under override


@pytest.fixture
def new_clinic(world: World) -> Any:
    """A clinic that has just been connected: a licensed GP, no equipment yet."""
    clinic = ClinicFactory.create(region=world.region, name="Vårdcentral Ny")
    return clinic


@pytest.fixture
def new_gp(new_clinic: Any) -> Any:
    return licensed_gp(new_clinic, first_name="Nora", language="en")


def _equipment(world: World, clinic: Any) -> Equipment:
    return register_equipment(
        clinic=clinic,
        data=EquipmentData(phone_model="iPhone 15", dermatoscope_model="DermLite DL5"),
        by=Actor(user=world.region_admin),
    )


def test_a_clinic_without_a_passed_equipment_test_cannot_start_a_referral(
    new_clinic: Any, new_gp: Any
) -> None:
    with pytest.raises(ValidationError, match=MESSAGE) as error:
        services.start_referral(clinic=new_clinic, by=Actor(user=new_gp))
    assert error.value.code == "equipment_test_missing"
    assert not Referral.objects.filter(clinic=new_clinic).exists()


def test_a_failed_test_is_not_enough_and_a_passed_test_opens_the_clinic(
    world: World, new_clinic: Any, new_gp: Any
) -> None:
    equipment = _equipment(world, new_clinic)
    failed = photo_test(equipment, jpeg(blurred("ISIC_0000164")), Actor(user=world.region_admin))
    assert not failed.passed
    with translation.override("en"), pytest.raises(ValidationError, match=MESSAGE):
        services.start_referral(clinic=new_clinic, by=Actor(user=new_gp))

    passed = photo_test(equipment, jpeg(sharp("ISIC_0000164")), Actor(user=world.region_admin))
    assert passed.passed
    referral = services.start_referral(clinic=new_clinic, by=Actor(user=new_gp))
    assert referral.status == ReferralStatus.DRAFT


def test_sending_is_refused_while_the_equipment_test_is_missing_and_allowed_after(
    world: World,
) -> None:
    referral = complete(world)  # clinic A: its equipment passed (world fixture)
    equipment = Equipment.objects.filter(clinic=world.clinic_a).get()
    update_equipment(
        equipment=equipment,
        data=EquipmentData(
            phone_model=equipment.phone_model,
            dermatoscope_model=equipment.dermatoscope_model,
            in_use=False,
        ),
        by=Actor(user=world.admin_a),
    )
    with pytest.raises(ValidationError, match=MESSAGE):
        services.submit_referral(referral=referral, by=Actor(user=world.gp_a))
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.DRAFT
    assert referral.number is None

    fresh = _equipment(world, world.clinic_a)
    photo_test(fresh, jpeg(sharp("ISIC_0000249")), Actor(user=world.admin_a))
    sent = services.submit_referral(referral=referral, by=Actor(user=world.gp_a))
    assert sent.status == ReferralStatus.SENT


def test_a_clinic_that_has_sent_referrals_before_is_not_stopped(world: World) -> None:
    """The rule is about the first referral (e.g. clinics that sent before it was turned on)."""
    assert send(world, world.gp_b).status == ReferralStatus.SENT
    Equipment.objects.filter(clinic=world.clinic_b).update(in_use=False)
    referral = services.start_referral(clinic=world.clinic_b, by=Actor(user=world.gp_b))
    assert referral.status == ReferralStatus.DRAFT


def test_the_rule_can_be_switched_off(settings: Any, new_clinic: Any, new_gp: Any) -> None:
    settings.TELEDERM_REQUIRE_EQUIPMENT_TEST = False
    assert services.start_referral(clinic=new_clinic, by=Actor(user=new_gp)).pk


def test_the_gp_start_page_says_why_there_is_no_new_referral_button(
    client: Client, world: World, new_clinic: Any, new_gp: Any
) -> None:
    login(client, new_gp)
    html = client.get(reverse("web:start")).content.decode()
    assert "has not passed the equipment test" in html
    assert reverse("referrals:start") not in html

    equipment = _equipment(world, new_clinic)
    photo_test(equipment, jpeg(sharp("ISIC_0000173")), Actor(user=world.region_admin))
    html = client.get(reverse("web:start")).content.decode()
    assert "has not passed the equipment test" not in html
    assert reverse("referrals:start") in html


def test_the_new_referral_button_refuses_with_the_message(
    client: Client, new_clinic: Any, new_gp: Any
) -> None:
    login(client, new_gp)
    response = client.post(reverse("referrals:start"), follow=True)
    assert "has not passed the equipment test" in response.content.decode()
    assert not Referral.objects.filter(clinic=new_clinic).exists()


def test_the_clinic_pages_warn_the_center_admin(
    client: Client, world: World, new_clinic: Any
) -> None:
    world.region_admin.language = "en"
    world.region_admin.save(update_fields=["language"])
    login(client, world.region_admin)
    for url in (
        reverse("accounts:organisation", args=[new_clinic.public_id]),
        reverse("training:equipment", args=[new_clinic.public_id]),
    ):
        assert "No equipment has passed the equipment test." in client.get(url).content.decode()


def test_the_demo_clinics_have_tested_equipment_and_the_demo_region_a_question_bank() -> None:
    from django.core.management import call_command

    from telederm.accounts.models import Organisation
    from telederm.referrals.services import equipment_missing
    from telederm.training import exam

    call_command("seed_demo", verbosity=0, stdout=None)
    clinics = Organisation.objects.filter(kind="clinic")
    assert clinics.count() == 4
    assert not any(equipment_missing(clinic) for clinic in clinics)
    region = Organisation.objects.get(kind="region")
    assert exam.active_question_count(region) >= exam.rules().questions
