from datetime import date

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from telederm.lib.patient_ids import parse_patient_id


@pytest.mark.parametrize(
    ("raw", "number", "coordination", "sex"),
    [
        ("19121212-1212", "191212121212", False, "male"),
        ("191212121212", "191212121212", False, "male"),
        ("19121212 1212", "191212121212", False, "male"),
        ("121212-1212", "201212121212", False, "male"),  # 10 digits: within 100 years
        ("1212121212", "201212121212", False, "male"),
        ("121212+1212", "191212121212", False, "male"),  # '+' = born over 100 years ago
        ("701063-2391", "197010632391", True, "male"),  # samordningsnummer, day + 60
        ("19701063-2391", "197010632391", True, "male"),
        (" 19121212-1212 ", "191212121212", False, "male"),
    ],
)
def test_valid_numbers_are_normalised_to_twelve_digits(
    raw: str, number: str, coordination: bool, sex: str
) -> None:
    parsed = parse_patient_id(raw)
    assert parsed.number == number
    assert parsed.coordination is coordination
    assert parsed.sex == sex


def test_samordningsnummer_birth_date_subtracts_sixty_from_the_day() -> None:
    assert parse_patient_id("701063-2391").birth_date == date(1970, 10, 3)


def test_age_is_derived_from_the_birth_date() -> None:
    parsed = parse_patient_id("19121212-1212")
    assert parsed.age(date(2026, 12, 11)) == 113
    assert parsed.age(date(2026, 12, 12)) == 114


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("19121212-1213", "pnr_check"),  # wrong check digit
        ("19121212-1211", "pnr_check"),
        ("19121332-1212", "pnr_date"),  # day 32
        ("19121312-1212", "pnr_date"),  # month 13
        ("19120431-1212", "pnr_date"),  # 31 April
        ("701093-2391", "pnr_date"),  # coordination day 93 - 60 = 33
        ("abc", "pnr_format"),
        ("", "pnr_format"),
        ("1912121212", "pnr_check"),  # 10 digits, check digit wrong for 1912-12-12 born 2019?
        ("19121212-121", "pnr_format"),  # too short
        ("1912121212123", "pnr_format"),  # 13 digits
        ("19121212/1212", "pnr_format"),
        ("19121212-0002", "pnr_format"),  # serial 000 is never issued
    ],
)
def test_bad_numbers_say_what_is_wrong(raw: str, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_patient_id(raw)
    assert info.value.code == code


def test_future_birth_date_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        parse_patient_id("20991231-1232")
    assert info.value.code in {"pnr_future", "pnr_check"}


def _luhn_digit(nine: str) -> str:
    total = 0
    for index, char in enumerate(nine):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


@given(
    born=st.dates(min_value=date(1930, 1, 1), max_value=date(2020, 12, 31)),
    serial=st.integers(min_value=1, max_value=999),
    coordination=st.booleans(),
    style=st.sampled_from(["12-dash", "12-plain", "10-dash"]),
)
def test_normalisation_round_trips(born: date, serial: int, coordination: bool, style: str) -> None:
    day = born.day + (60 if coordination else 0)
    yymmdd = f"{born.year % 100:02d}{born.month:02d}{day:02d}"
    nine = f"{yymmdd}{serial:03d}"
    number = f"{born.year}{born.month:02d}{day:02d}{serial:03d}{_luhn_digit(nine)}"
    written = {
        "12-dash": f"{number[:8]}-{number[8:]}",
        "12-plain": number,
        "10-dash": f"{number[2:8]}-{number[8:]}",
    }[style]
    parsed = parse_patient_id(written)
    assert parsed.number == number
    assert parsed.birth_date == born
    assert parsed.coordination is coordination
    # Normalising the normalised form changes nothing.
    assert parse_patient_id(parsed.number).number == number
