import pytest
from django.core.exceptions import ValidationError

from telederm.lib.identifiers import (
    format_mobile,
    normalise_hsa_id,
    normalise_kombikakod,
    normalise_mobile,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("SE2321000016-ABC1", "SE2321000016-ABC1"),
        ("se2321000016-abc1", "SE2321000016-ABC1"),
        ("  SE2321000016-1 ", "SE2321000016-1"),
        ("SE5560360793-X9Y8Z7", "SE5560360793-X9Y8Z7"),
        ("SE2321000016-" + "A" * 18, "SE2321000016-" + "A" * 18),  # exactly 31 characters
    ],
)
def test_valid_hsa_ids_are_normalised(raw: str, expected: str) -> None:
    assert normalise_hsa_id(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("SE2321000016-" + "A" * 19, "hsa_too_long"),  # 32 characters
        ("2321000016-ABC1", "hsa_format"),  # no SE
        ("SE232100001-ABC1", "hsa_format"),  # nine digits
        ("SE2321000016ABC1", "hsa_format"),  # no hyphen
        ("SE2321000016-", "hsa_format"),  # no local part
        ("SE2321000016-AB C", "hsa_format"),  # space in local part
        ("SE2321000016-ÅÄÖ", "hsa_format"),
        ("SE2321000017-ABC1", "hsa_orgnr"),  # wrong check digit
        ("", "hsa_format"),
    ],
)
def test_invalid_hsa_ids_are_refused_with_a_reason(raw: str, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        normalise_hsa_id(raw)
    assert info.value.code == code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("070-123 45 67", "+46701234567"),
        ("0701234567", "+46701234567"),
        ("+46 70 123 45 67", "+46701234567"),
        ("0046701234567", "+46701234567"),
        ("073 987 65 43", "+46739876543"),
    ],
)
def test_swedish_mobiles_are_stored_as_e164(raw: str, expected: str) -> None:
    assert normalise_mobile(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("08-123 456 78", "mobile_not_mobile"),  # Stockholm landline
        ("+4721234567", "mobile_invalid"),  # Norwegian number
        ("070-123", "mobile_invalid"),
        ("abc", "mobile_format"),
        ("", "mobile_format"),
    ],
)
def test_bad_mobiles_are_refused_with_a_reason(raw: str, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        normalise_mobile(raw)
    assert info.value.code == code


def test_mobile_is_shown_in_national_format() -> None:
    assert format_mobile("+46701234567") == "070-123 45 67"


@pytest.mark.parametrize(
    ("raw", "expected"), [("11010nor", "11010NOR"), (" 110 10 ", "11010"), ("ABC", "ABC")]
)
def test_kombikakod_is_normalised(raw: str, expected: str) -> None:
    assert normalise_kombikakod(raw) == expected


@pytest.mark.parametrize("raw", ["AB", "11010-NOR", "X" * 21, "ÅÄÖ12"])
def test_bad_kombikakod_is_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        normalise_kombikakod(raw)
