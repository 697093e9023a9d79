"""Swedish personal identity numbers (personnummer) and coordination numbers (samordningsnummer).

The check digit and parsing come from the ``personnummer`` package; this module adds the
distinctions a GP needs to fix a typo (format, date, check digit, future date) and returns the
12-digit form that Telederm stores (``YYYYMMDDNNNC``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from personnummer import personnummer as pnr

_SHAPE = re.compile(r"^(?P<century>\d{2})?(?P<yymmdd>\d{6})(?P<sep>[-+]?)(?P<tail>\d{4})$")
MAX_AGE = 130


@dataclass(frozen=True)
class PatientId:
    number: str  # 12 digits
    coordination: bool  # samordningsnummer (day + 60)
    birth_date: date
    sex: str  # "male" | "female" (from the second-last digit)

    def age(self, on: date | None = None) -> int:
        on = on or timezone.localdate()
        years = on.year - self.birth_date.year
        return years - ((on.month, on.day) < (self.birth_date.month, self.birth_date.day))

    @property
    def display(self) -> str:
        return f"{self.number[:8]}-{self.number[8:]}"


def parse_patient_id(value: str) -> PatientId:
    """Validate a personnummer or samordningsnummer; raise ValidationError saying what is wrong."""
    compact = re.sub(r"\s+", "", value or "")
    match = _SHAPE.match(compact)
    if not match:
        raise ValidationError(
            _("Write the personnummer as ÅÅÅÅMMDD-NNNN (12 digits) or ÅÅMMDD-NNNN."),
            code="pnr_format",
        )
    if match["tail"].startswith("000"):
        raise ValidationError(_("The last four digits cannot start with 000."), code="pnr_format")
    yymmdd = match["yymmdd"]
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    coordination = day > 60
    if not 1 <= month <= 12 or not 1 <= (day - 60 if coordination else day) <= 31:
        raise ValidationError(_("The date in the number does not exist."), code="pnr_date")
    try:
        parsed = pnr.parse(compact)
    except pnr.PersonnummerException as exc:
        # The shape and month/day range are right, so either the date (e.g. 31 April) or the
        # check digit is wrong: tell them apart by re-checking the date alone.
        century = match["century"] or _guess_century(yymmdd, match["sep"])
        real_day = day - 60 if coordination else day
        try:
            date(int(century + yymmdd[:2]), month, real_day)
        except ValueError:
            raise ValidationError(
                _("The date in the number does not exist."), code="pnr_date"
            ) from exc
        raise ValidationError(
            _("The check digit does not match. Check the last four digits."), code="pnr_check"
        ) from exc
    number = parsed.format(True)
    birth = date(
        int(parsed.full_year), int(parsed.month), int(parsed.day) - (60 if coordination else 0)
    )
    today = timezone.localdate()
    if birth > today:
        raise ValidationError(_("The birth date lies in the future."), code="pnr_future")
    if today.year - birth.year > MAX_AGE:
        raise ValidationError(
            _("The birth date is more than %(years)d years ago: check the century.")
            % {"years": MAX_AGE},
            code="pnr_too_old",
        )
    return PatientId(
        number=number,
        coordination=coordination,
        birth_date=birth,
        sex="male" if parsed.is_male() else "female",
    )


def _guess_century(yymmdd: str, separator: str) -> str:
    # Same rule as the tax agency: a 10-digit number is at most 100 years old, unless '+'.
    today = timezone.localdate()
    year = int(yymmdd[:2])
    century = today.year // 100 - (1 if year > today.year % 100 else 0)
    if separator == "+":
        century -= 1
    return f"{century:02d}"


def normalise_patient_id(value: str) -> str:
    return parse_patient_id(value).number
