"""Building referrals for tests through the real services."""

from __future__ import annotations

import uuid

from telederm.accounts.models import User
from telederm.audit.services import Actor
from telederm.images.models import LesionImage
from telederm.images.services import accept_warnings, add_image
from telederm.referrals import services
from telederm.referrals.models import Referral, ReferralLesion
from telederm.testing import World, photo

PATIENT = "19121212-1212"


def draft(world: World, author: User | None = None, *, patient: str = PATIENT) -> Referral:
    author = author or world.gp_a
    clinic = world.clinic_a if author != world.gp_b else world.clinic_b
    referral = services.start_referral(clinic=clinic, by=Actor(user=author))
    services.set_patient(referral=referral, personal_number=patient, by=Actor(user=author))
    referral.refresh_from_db()
    return referral


def add_photo(link: ReferralLesion, kind: str, author: User, seed: int = 1) -> LesionImage:
    image, _created = add_image(
        link=link,
        kind=kind,
        raw=photo(kind, seed=seed),
        upload_id=uuid.uuid4(),
        by=Actor(user=author),
    )
    if image.warnings:
        accept_warnings(image=image, by=Actor(user=author))
    return image


def complete(world: World, author: User | None = None, *, patient: str = PATIENT) -> Referral:
    """A draft with everything it needs to be sent."""
    author = author or world.gp_a
    referral = draft(world, author, patient=patient)
    link = services.add_lesion(
        referral=referral, body_site=_a_site(), laterality="L", by=Actor(user=author)
    )
    add_photo(link, "overview", author, seed=2)
    add_photo(link, "dermoscopic", author, seed=3)
    services.update_history(
        referral=referral,
        data={"question": "Är detta ett melanom?", "suspicion": "uncertain", "duration": "1-6m"},
        by=Actor(user=author),
    )
    referral.refresh_from_db()
    return referral


def _a_site() -> str:
    from telederm.referrals.bodysites import BODY_SITES

    return next(site.code for site in BODY_SITES if site.lateral)


def send(world: World, author: User | None = None) -> Referral:
    author = author or world.gp_a
    referral = complete(world, author)
    return services.submit_referral(referral=referral, by=Actor(user=author))
