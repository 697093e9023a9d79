"""Errors as OperationOutcome, and every FHIR response (validated model → JSON).

Views raise ``FhirError`` (status, issue type, message); ``views.fhir_endpoint`` turns it into an
OperationOutcome with the right HTTP status. Messages are English source strings translated
with gettext; the language is the one the client asked for (see ``views.client_language``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpResponse
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.resource import Resource
from pydantic import ValidationError as PydanticValidationError

FHIR_JSON = "application/fhir+json; charset=utf-8"


@dataclass(frozen=True)
class Issue:
    """One ``OperationOutcome.issue``: ``code`` is from the FHIR IssueType value set."""

    code: str
    diagnostics: str
    expression: tuple[str, ...] = ()
    severity: str = "error"


@dataclass(eq=False)
class FhirError(Exception):
    """A request that cannot be served, with the HTTP status and what to tell the client."""

    status: int
    issues: list[Issue] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        status: int,
        code: str,
        message: str,
        *,
        expression: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> FhirError:
        where = (expression,) if expression else ()
        return cls(status, [Issue(code, message, where)], dict(headers or {}))

    def __str__(self) -> str:
        return f"{self.status}: " + "; ".join(issue.diagnostics for issue in self.issues)


def fhir_response(
    resource: Resource, status: int = 200, headers: dict[str, str] | None = None
) -> HttpResponse:
    response = HttpResponse(resource.model_dump_json(), status=status, content_type=FHIR_JSON)
    # Every answer of the API may carry patient data: never keep it in a shared cache.
    response["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def outcome(issues: list[Issue]) -> OperationOutcome:
    return OperationOutcome.model_validate(
        {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": issue.severity,
                    "code": issue.code,
                    "diagnostics": issue.diagnostics,
                    **({"expression": list(issue.expression)} if issue.expression else {}),
                }
                for issue in issues
            ],
        }
    )


def error_response(error: FhirError) -> HttpResponse:
    return fhir_response(outcome(error.issues), status=error.status, headers=error.headers)


def _path(root: str, location: tuple[Any, ...]) -> str:
    """A pydantic error location as a FHIRPath-like expression: ``Bundle.entry[2].resource``."""
    parts = [root]
    for step in location:
        if isinstance(step, int):
            parts[-1] += f"[{step}]"
        else:
            parts.append(str(step))
    return ".".join(parts)


def validation_issues(root: str, error: PydanticValidationError) -> list[Issue]:
    """One issue per problem pydantic found, each saying where it is."""
    issues = []
    for problem in error.errors()[:20]:
        message = str(problem.get("msg", "invalid")).replace("\n", " ")
        message = " ".join(message.split())
        code = "required" if problem.get("type") == "missing" else "structure"
        issues.append(Issue(code, message, (_path(root, tuple(problem.get("loc", ()))),)))
    return issues
