"""A referral from FHIR: through the same services as the web wizard, all or nothing.

``submit`` acts as the requesting GP (the client's ``Actor`` with the GP as user), so every rule
of the UI holds: clinic membership, telederma active, licence, completeness, image validation.
Everything runs in one transaction; photo files written by ``add_image`` for a request that then
fails are deleted again, because the database rollback cannot remove files.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import parse_qsl

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from telederm.accounts.models import Organisation, OrganisationKind, User
from telederm.audit.services import Actor
from telederm.fhir.codes import EXT_ACCEPT_WARNINGS
from telederm.fhir.models import ApiClient, FhirReferralLink
from telederm.fhir.outcomes import FhirError, Issue
from telederm.fhir.parsing import CONTROL, control_character_error
from telederm.fhir.search import parse_token
from telederm.fhir.submission import Submission
from telederm.images.models import LesionImage
from telederm.images.services import accept_warnings, add_image, delete_files
from telederm.referrals import access, services
from telederm.referrals.models import Referral, ReferralLesion


@dataclass(frozen=True)
class Outcome:
    referral: Referral
    created: bool


def conditional_identifiers(query: str, where: str) -> list[tuple[str, str]]:
    """The identifiers of an ``If-None-Exist`` header (or a conditional-create query string).

    Only ``identifier=<system>|<value>`` is supported: that is what a repeat can be found by.
    """
    found = []
    for name, value in parse_qsl(query.lstrip("?"), keep_blank_values=True):
        if CONTROL.search(name + value):
            raise control_character_error(where)
        if name != "identifier":
            raise FhirError.of(
                400,
                "not-supported",
                _("Conditional create supports only identifier=<system>|<value>, not %(name)s.")
                % {"name": name},
                expression=where,
            )
        system, code = parse_token(value)
        if not system or not code:
            raise FhirError.of(
                400,
                "invalid",
                _("Give the identifier as <system>|<value>."),
                expression=where,
            )
        found.append((system[:255], code[:255]))
    return found


def existing(client: ApiClient, identifiers: list[tuple[str, str]]) -> Referral | None:
    for system, value in identifiers:
        link = (
            FhirReferralLink.objects.filter(client=client, system=system, value=value)
            .select_related("referral")
            .first()
        )
        if link is not None:
            return link.referral
    return None


def _clinic(client: ApiClient, hsa_id: str) -> Organisation:
    """The clinic, if the client may act for it; an unknown and a foreign clinic look the same."""
    clinic = client.organisations.filter(hsa_id=hsa_id, kind=OrganisationKind.CLINIC).first()
    if clinic is None:
        raise FhirError.of(
            422,
            "not-found",
            _("Unknown clinic %(hsa_id)s.") % {"hsa_id": hsa_id},
            expression="ServiceRequest.requester",
        )
    return clinic


def _practitioner(hsa_id: str, clinic: Organisation) -> User:
    user = User.objects.filter(hsa_id__iexact=hsa_id, is_active=True).first()
    if user is None or not access.gp_clinics(user).filter(pk=clinic.pk).exists():
        raise FhirError.of(
            422,
            "business-rule",
            _("The practitioner %(hsa_id)s is not an active GP at %(clinic)s.")
            % {"hsa_id": hsa_id, "clinic": clinic.name},
            expression="ServiceRequest.requester",
        )
    return user


def submit(
    *,
    client: ApiClient,
    submission: Submission,
    conditional: list[tuple[str, str]],
    by: Actor,
) -> Outcome:
    identifiers = list(dict.fromkeys([*submission.identifiers, *conditional]))
    found = existing(client, identifiers)
    if found is not None:
        return Outcome(found, created=False)
    clinic = _clinic(client, submission.clinic_hsa)
    gp = by.with_user(_practitioner(submission.practitioner_hsa, clinic))
    stored: list[LesionImage] = []
    try:
        referral = _create(client, submission, identifiers, clinic, gp, stored)
    except IntegrityError:
        # A concurrent request with the same identifier won the race: return its referral.
        _delete_files(stored)
        found = existing(client, identifiers)
        if found is None:
            raise
        return Outcome(found, created=False)
    except BaseException:
        _delete_files(stored)
        raise
    return Outcome(referral, created=True)


def _create(
    client: ApiClient,
    submission: Submission,
    identifiers: list[tuple[str, str]],
    clinic: Organisation,
    gp: Actor,
    stored: list[LesionImage],
) -> Referral:
    try:
        with transaction.atomic():
            referral = services.start_referral(clinic=clinic, by=gp)
            # Taken first, so that a concurrent repeat waits here (PostgreSQL) or finds it.
            for system, value in identifiers:
                FhirReferralLink.objects.create(
                    client=client, system=system, value=value, referral=referral
                )
            patient = submission.patient
            services.set_patient(
                referral=referral,
                personal_number=patient.number,
                name=patient.name,
                protected_identity=patient.protected,
                by=gp,
            )
            links = [
                services.add_lesion(
                    referral=referral,
                    body_site=part.site,
                    laterality=part.laterality,
                    label=part.label,
                    by=gp,
                )
                for part in submission.lesions
            ]
            _add_images(submission, links, gp, stored)
            if submission.history:
                services.update_history(referral=referral, data=submission.history, by=gp)
            return services.submit_referral(referral=referral, by=gp)
    except ValidationError as exc:
        raise FhirError(422, [Issue("business-rule", message) for message in exc.messages]) from exc
    except PermissionDenied as exc:
        raise FhirError.of(
            403, "forbidden", _("The practitioner may not send referrals from this clinic.")
        ) from exc


def _add_images(
    submission: Submission, links: list[ReferralLesion], gp: Actor, stored: list[LesionImage]
) -> None:
    for part in submission.images:
        try:
            image, _created = add_image(
                link=links[part.lesion],
                kind=part.kind,
                raw=part.raw,
                upload_id=uuid.uuid4(),
                by=gp,
            )
        except ValidationError as exc:
            raise FhirError.of(
                422, "business-rule", " ".join(exc.messages), expression=part.where
            ) from exc
        stored.append(image)
        if image.warnings:
            if not part.accept_warnings:
                raise FhirError.of(
                    422,
                    "business-rule",
                    _(
                        "The photo has quality warnings (%(warnings)s). Send a better photo, or "
                        "set the extension %(url)s to true on the Media to use it anyway."
                    )
                    % {"warnings": ", ".join(image.warnings), "url": EXT_ACCEPT_WARNINGS},
                    expression=part.where,
                )
            accept_warnings(image=image, by=gp)


def _delete_files(images: list[LesionImage]) -> None:
    """Remove the files of photos whose rows were rolled back (add_image wrote them first)."""
    for image in images:
        delete_files(image)
