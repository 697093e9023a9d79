"""Following references inside a submission: to contained resources (``#id``), to bundle
entries (``fullUrl`` or ``Type/id``), or by identifier alone (``Reference.identifier``)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource

from telederm.fhir import codes
from telederm.fhir.outcomes import FhirError


def unprocessable(message: str, where: str, code: str = "invalid") -> FhirError:
    return FhirError.of(422, code, message, expression=where)


class Refs:
    """Finds what a reference points at: a contained resource (``#id``) or a bundle entry
    (its ``fullUrl``, or ``Type/id``)."""

    def __init__(
        self,
        entries: dict[str, tuple[Resource, str]],
        local: dict[str, tuple[Resource, str]],
        every: list[tuple[Resource, str]],
    ) -> None:
        self.entries = entries
        self.local = local
        self.every = every  # every bundle entry, addressable or not

    @classmethod
    def of(cls, entries: list[tuple[str | None, Resource, str]], container: Resource) -> Refs:
        found: dict[str, tuple[Resource, str]] = {}
        for full_url, resource, where in entries:
            if full_url:
                found[full_url] = (resource, where)
            if resource.id:
                found[f"{resource.get_resource_type()}/{resource.id}"] = (resource, where)
        every = [(resource, where) for _url, resource, where in entries]
        return cls(found, cls._contained(container, where_of(entries, container)), every)

    @staticmethod
    def _contained(container: Resource, where: str) -> dict[str, tuple[Resource, str]]:
        return {
            f"#{item.id}": (item, f"{where}.contained[{n}]")
            for n, item in enumerate(getattr(container, "contained", None) or [])
            if item.id
        }

    def within(self, resource: Resource, where: str) -> Refs:
        """References inside a bundle entry resolve ``#id`` against that entry's contained."""
        inner = self._contained(resource, where)
        return Refs(self.entries, inner or self.local, self.every)

    def resolve(self, reference: Reference, where: str) -> Resource | None:
        """The resource, or None for a reference that carries only an identifier."""
        if not reference.reference:
            if reference.identifier is None:
                raise unprocessable(_("The reference is empty."), where, "required")
            return None
        return self.lookup(reference.reference, where)

    def lookup(self, address: str, where: str) -> Resource:
        target = self.local.get(address) or self.entries.get(address)
        if target is None:
            raise unprocessable(
                _("%(ref)s is neither a contained resource nor an entry of the Bundle.")
                % {"ref": address},
                where,
            )
        return target[0]

    def all_of(self, kind: type[Resource]) -> list[tuple[Resource, str]]:
        seen: dict[int, tuple[Resource, str]] = {}
        for resource, where in [*self.every, *self.local.values()]:
            if isinstance(resource, kind):
                seen.setdefault(id(resource), (resource, where))
        return list(seen.values())


def where_of(entries: list[tuple[str | None, Resource, str]], resource: Resource) -> str:
    for _url, item, where in entries:
        if item is resource:
            return where
    return resource.get_resource_type()


def identifiers_of(reference: Reference | None, resource: Resource | None) -> list[Identifier]:
    if resource is not None:
        return list(getattr(resource, "identifier", None) or [])
    return [reference.identifier] if reference and reference.identifier else []


def hsa_id_of(identifiers: list[Identifier], what: str, where: str) -> str:
    for identifier in identifiers:
        if identifier.system == codes.HSA_ID and identifier.value:
            return identifier.value.strip().upper()
    raise unprocessable(
        _("The %(what)s needs an HSA-ID (identifier system %(system)s).")
        % {"what": what, "system": codes.HSA_ID},
        where,
        "required",
    )


def expect_type(resource: Resource | None, kinds: tuple[type[Resource], ...], where: str) -> None:
    if resource is not None and not isinstance(resource, kinds):
        raise unprocessable(
            _("The reference points at a %(got)s; expected %(expected)s.")
            % {
                "got": resource.get_resource_type(),
                "expected": " or ".join(kind.get_resource_type() for kind in kinds),
            },
            where,
        )
