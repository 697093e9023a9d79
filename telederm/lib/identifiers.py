"""Validation and normalisation of Swedish identifiers used across Telederm.

Each ``normalise_*`` function returns the canonical stored form or raises ``ValidationError``
with a message that tells the user what to fix.
"""

from __future__ import annotations

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.se import orgnr

# SE + 10-digit organisation number + "-" + local part; the catalogue allows at most 31 chars.
_HSA_ID = re.compile(r"^SE(?P<org>\d{10})-(?P<local>[A-Z0-9]+)$")
HSA_ID_MAX_LENGTH = 31
_KOMBIKA = re.compile(r"^[A-Z0-9]{3,20}$")


def normalise_hsa_id(value: str) -> str:
    """Return the HSA-ID in upper case, or raise if it is not a well-formed HSA-ID."""
    candidate = value.strip().upper()
    if len(candidate) > HSA_ID_MAX_LENGTH:
        raise ValidationError(
            _("An HSA-ID has at most %(max)d characters."),
            code="hsa_too_long",
            params={"max": HSA_ID_MAX_LENGTH},
        )
    match = _HSA_ID.match(candidate)
    if not match:
        raise ValidationError(
            _(
                "Write the HSA-ID as SE, ten digits, a hyphen and the local part, e.g. SE2321000016-ABC1."
            ),
            code="hsa_format",
        )
    if not orgnr.is_valid(match["org"]):
        raise ValidationError(
            _("The ten digits after SE are not a valid organisation number (check digit)."),
            code="hsa_orgnr",
        )
    return candidate


def normalise_mobile(value: str) -> str:
    """Return a Swedish mobile number in E.164 (+467…), or raise."""
    try:
        parsed = phonenumbers.parse(value, "SE")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _("Write the mobile number as 070-123 45 67 or +46 70 123 45 67."), code="mobile_format"
        ) from exc
    if not phonenumbers.is_valid_number(parsed) or parsed.country_code != 46:
        raise ValidationError(_("This is not a valid Swedish phone number."), code="mobile_invalid")
    if phonenumbers.number_type(parsed) != phonenumbers.PhoneNumberType.MOBILE:
        raise ValidationError(
            _("This is a landline number; one-time codes need a mobile number."),
            code="mobile_not_mobile",
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def format_mobile(e164: str) -> str:
    """Show a stored E.164 number the way Swedes write it (070-123 45 67)."""
    try:
        parsed = phonenumbers.parse(e164, "SE")
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def mask_mobile(e164: str) -> str:
    """Show only the last two digits, for pages that confirm where a code was sent."""
    return f"•••• •• {e164[-2:]}" if len(e164) > 2 else "••••"


def normalise_kombikakod(value: str) -> str:
    candidate = re.sub(r"\s+", "", value).upper()
    if not _KOMBIKA.match(candidate):
        raise ValidationError(
            _("A kombikakod has 3–20 letters or digits, without spaces or punctuation."),
            code="kombika_format",
        )
    return candidate
