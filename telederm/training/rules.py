"""What other apps ask the training app: has this clinic's equipment passed its test?

Kept free of views and services so that ``referrals`` can import it without importing the rest
of the training app (which in turn never imports ``referrals``). The rule itself (a clinic's
first referral needs a passed test) is enforced in ``referrals.services``.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from telederm.accounts.models import Organisation
from telederm.training.models import EquipmentTest

EQUIPMENT_TEST_MISSING = _(
    "The clinic's equipment has not passed the equipment test yet, so no referrals can be sent "
    "from it. Ask your center administrator to register the phone and dermatoscope and take a "
    "test photo under Equipment on the clinic page."
)


def equipment_test_required() -> bool:
    return bool(settings.TELEDERM_REQUIRE_EQUIPMENT_TEST)


def has_passed_equipment_test(clinic: Organisation) -> bool:
    """Whether equipment in use at the clinic has passed an equipment test."""
    return EquipmentTest.objects.filter(
        equipment__clinic=clinic, equipment__in_use=True, passed=True
    ).exists()
