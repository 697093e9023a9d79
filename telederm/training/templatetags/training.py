"""Template tags other apps' pages use to show training data without importing the app."""

from __future__ import annotations

from typing import Any

from django import template

from telederm.accounts.models import Organisation
from telederm.training import equipment, rules
from telederm.training.models import Equipment

register = template.Library()


@register.inclusion_tag("training/includes/clinic_equipment.html")
def clinic_equipment(clinic: Organisation) -> dict[str, Any]:
    """The equipment card of the clinic page: each item with its last test."""
    newest = equipment.last_tests(clinic)
    return {
        "clinic": clinic,
        "rows": [
            (item, newest.get(item.pk)) for item in Equipment.objects.filter(clinic=clinic).all()
        ],
        "ready": rules.has_passed_equipment_test(clinic),
        "required": rules.equipment_test_required(),
    }
