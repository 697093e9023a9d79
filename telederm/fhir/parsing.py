"""Reading a request body into validated ``fhir.resources`` R4B models, with precise errors."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from fhir.resources.R4B.resource import Resource
from pydantic import ValidationError as PydanticValidationError

from telederm.fhir.outcomes import FhirError, validation_issues

JSON_TYPES = {"application/fhir+json", "application/json", "application/json+fhir"}
# The resource types a referral submission may contain (inline, contained or bundle entries).
SUBMISSION_TYPES = frozenset(
    {
        "ServiceRequest",
        "Patient",
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "Media",
        "Binary",
        "Observation",
    }
)

R = TypeVar("R", bound=Resource)
# FHIR strings hold no control characters but tab, CR and LF
# (https://hl7.org/fhir/R4/datatypes.html#string), and PostgreSQL cannot store NUL at all.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def control_character_error(where: str) -> FhirError:
    return FhirError.of(
        400,
        "invalid",
        _("%(where)s contains a control character, which FHIR does not allow.") % {"where": where},
        expression=where,
    )


def _strings(data: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every key and string in a JSON value, with where it is."""
    if isinstance(data, str):
        yield where, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield where, key
            yield from _strings(value, f"{where}.{key}")
    elif isinstance(data, list):
        for n, value in enumerate(data):
            yield from _strings(value, f"{where}[{n}]")


def read_json(request: HttpRequest) -> dict[str, Any]:
    """The body as a JSON object; 415 for another format, 413 when too large, 400 when broken."""
    if request.content_type not in JSON_TYPES:
        raise FhirError.of(
            415,
            "not-supported",
            _("Send the resource as JSON (Content-Type: application/fhir+json)."),
        )
    limit = settings.TELEDERM_FHIR_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise _too_large(limit)
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise _too_large(limit)
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise FhirError.of(
            400, "structure", _("The body is not valid JSON: %(error)s") % {"error": exc}
        ) from exc
    if not isinstance(data, dict):
        raise FhirError.of(400, "structure", _("The body must be one JSON object (a resource)."))
    root = data.get("resourceType")
    for where, text in _strings(data, root if isinstance(root, str) else "$"):
        if CONTROL.search(text):
            raise control_character_error(where[:200])
    return data


def _too_large(limit: int) -> FhirError:
    return FhirError.of(
        413,
        "too-long",
        _("The request is larger than %(mb)d MB.") % {"mb": limit // (1024 * 1024)},
    )


def parse_resource(
    model: type[R], data: dict[str, Any], *, allowed_inside: frozenset[str] = frozenset()
) -> R:
    """Validate ``data`` as ``model`` (with the R4B models); 400 with every problem found.

    ``allowed_inside`` lists the resource types that may appear as contained resources or bundle
    entries; anything else is refused before the models see it.
    """
    expected = model.get_resource_type()
    got = data.get("resourceType")
    if got != expected:
        raise FhirError.of(
            400,
            "invalid",
            _("Expected a %(expected)s resource, got %(got)s.")
            % {"expected": expected, "got": json.dumps(got)},
            expression="resourceType",
        )
    _check_inner_types(data, expected, allowed_inside)
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        raise FhirError(400, validation_issues(expected, exc)) from exc
    except (KeyError, TypeError, ValueError, RecursionError) as exc:
        raise FhirError.of(
            400, "structure", _("The %(type)s could not be read.") % {"type": expected}
        ) from exc


def _check_inner_types(data: dict[str, Any], root: str, allowed: frozenset[str]) -> None:
    inner: list[tuple[str, Any]] = []
    contained = data.get("contained")
    if isinstance(contained, list):
        inner += [(f"{root}.contained[{n}]", item) for n, item in enumerate(contained)]
    entries = data.get("entry") if root == "Bundle" else None
    if isinstance(entries, list):
        for n, entry in enumerate(entries):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if resource is None:
                continue
            where = f"Bundle.entry[{n}].resource"
            inner.append((where, resource))
            if isinstance(resource, dict) and isinstance(resource.get("contained"), list):
                inner += [
                    (f"{where}.contained[{m}]", item)
                    for m, item in enumerate(resource["contained"])
                ]
    for where, item in inner:
        kind = item.get("resourceType") if isinstance(item, dict) else None
        if kind not in allowed:
            raise FhirError.of(
                400 if not isinstance(kind, str) else 422,
                "not-supported",
                _("A resource of type %(type)s is not accepted here. Accepted: %(allowed)s.")
                % {"type": json.dumps(kind), "allowed": ", ".join(sorted(allowed))},
                expression=where,
            )
