"""Search parameters: only those the CapabilityStatement declares; anything else is refused.

Refusing an unknown parameter (instead of ignoring it, which FHIR allows) keeps a typo from
silently widening a search over patient data.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _

from telederm.fhir import codes
from telederm.fhir.outcomes import FhirError
from telederm.fhir.parsing import CONTROL, control_character_error
from telederm.lib.patient_ids import parse_patient_id

DEFAULT_COUNT = 50
MAX_COUNT = 100
PAGING = ("_count", "_offset")


@dataclass(frozen=True)
class Search:
    params: dict[str, str]
    count: int
    offset: int

    def query(self, offset: int) -> str:
        return urlencode({**self.params, "_count": self.count, "_offset": offset})


def parse_token(value: str) -> tuple[str | None, str]:
    """``system|code`` → (system, code); ``|code`` → ("", code); ``code`` → (None, code)."""
    if "|" in value:
        system, code = value.split("|", 1)
        return system, code
    return None, value


def read_search(request: HttpRequest, allowed: tuple[str, ...]) -> Search:
    params: dict[str, str] = {}
    for name in request.GET:
        values = request.GET.getlist(name)
        if CONTROL.search(name) or any(CONTROL.search(value) for value in values):
            raise control_character_error(CONTROL.sub("?", name)[:100])
        if name not in allowed and name not in PAGING and name != "_format":
            raise FhirError.of(
                400,
                "not-supported",
                _("Unknown search parameter %(name)s. Supported: %(allowed)s.")
                % {"name": name, "allowed": ", ".join(allowed)},
                expression=name,
            )
        if len(values) != 1:
            raise FhirError.of(
                400,
                "not-supported",
                _("Give %(name)s once.") % {"name": name},
                expression=name,
            )
        if name in allowed:
            params[name] = values[0]
    if not params:
        raise FhirError.of(
            400,
            "required",
            _("Search by one of: %(allowed)s.") % {"allowed": ", ".join(allowed)},
        )
    return Search(
        params,
        _number(request, "_count", DEFAULT_COUNT, 1, MAX_COUNT),
        _number(request, "_offset", 0, 0, 10**9),
    )


def _number(request: HttpRequest, name: str, default: int, low: int, high: int) -> int:
    raw = request.GET.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise FhirError.of(
            400,
            "invalid",
            _("%(name)s must be a whole number from %(low)d to %(high)d.")
            % {"name": name, "low": low, "high": high},
            expression=name,
        )
    return value


def reference_id(value: str, resource_type: str, name: str) -> str:
    """The id in ``Type/id`` (also as an absolute URL, or just the id)."""
    tail = value.rstrip("/").rsplit("/", 2)
    if len(tail) >= 2:
        if tail[-2] != resource_type:
            raise FhirError.of(
                400,
                "invalid",
                _("%(name)s must refer to a %(type)s.") % {"name": name, "type": resource_type},
                expression=name,
            )
        return tail[-1]
    return value


def patient_number(value: str, name: str) -> str | None:
    """The 12-digit number a ``patient.identifier`` token asks for; None when it cannot match."""
    system, code = parse_token(value)
    if system not in (None, "", *codes.PATIENT_SYSTEMS):
        return None
    try:
        parsed = parse_patient_id(code)
    except ValidationError as exc:
        raise FhirError.of(400, "invalid", " ".join(exc.messages), expression=name) from exc
    if system and system != codes.patient_system(parsed.coordination):
        return None
    return parsed.number
