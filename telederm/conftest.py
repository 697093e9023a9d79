from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import LazySettings

from telederm.accounts.models import Role
from telederm.accounts.tests.factories import (
    ClinicFactory,
    RegionFactory,
    ReviewUnitFactory,
    licensed_gp,
    member,
)
from telederm.audit.maintenance import set_audit_maintenance
from telederm.testing import World
from telederm.training.fixtures import give_tested_equipment


@pytest.fixture(autouse=True)
def _test_settings(settings: LazySettings, tmp_path: Path) -> None:
    # Tasks run at once (on commit) in tests; SMS and e-mail files go to a per-test folder.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.TELEDERM_SMS_FILE_PATH = tmp_path / "sms"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    settings.TELEDERM_SMS_BACKEND = "telederm.lib.sms.ConsoleFileSmsBackend"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db: None) -> World:
    region = RegionFactory.create(name="Region Test")
    clinic_a = ClinicFactory.create(region=region, name="Vårdcentral A")
    clinic_b = ClinicFactory.create(region=region, name="Vårdcentral B")
    unit_x = ReviewUnitFactory.create(region=region, name="Hudkliniken X")
    unit_y = ReviewUnitFactory.create(region=region, name="Hudkliniken Y")
    # The clinics' equipment has passed its test, so the first-referral rule (a passed equipment
    # test) holds for them as for any real clinic; training/tests cover clinics without one.
    give_tested_equipment(clinic_a)
    give_tested_equipment(clinic_b)
    return World(
        region=region,
        clinic_a=clinic_a,
        clinic_b=clinic_b,
        unit_x=unit_x,
        unit_y=unit_y,
        region_admin=member(region, Role.REGION_ADMIN, first_name="Rut"),
        admin_a=member(clinic_a, Role.CENTER_ADMIN, first_name="Alice"),
        admin_b=member(clinic_b, Role.CENTER_ADMIN, first_name="Bob"),
        gp_a=licensed_gp(clinic_a, first_name="Gustav"),
        gp_b=licensed_gp(clinic_b, first_name="Greta"),
        derm_x=member(unit_x, Role.DERMATOLOGIST, first_name="Disa"),
        derm_y=member(unit_y, Role.DERMATOLOGIST, first_name="Hugo"),
    )


@pytest.fixture
def live_db(transactional_db: None) -> Iterator[None]:
    """A database with real commits (for concurrency and live-server tests).

    The append-only audit triggers stay active during the test; at teardown they are switched
    off so that pytest-django can empty the tables. Tests of the triggers themselves switch them
    on again explicitly inside their own transaction.
    """
    set_audit_maintenance(False)
    yield
    set_audit_maintenance(True)
