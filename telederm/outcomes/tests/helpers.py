"""Builders for the outcomes tests (and the permission matrix's extras).

``sent_referral`` goes through the real referral services (start, patient, lesion, history,
submit); only the photo pipeline is skipped: the two photos are stored as rows, which is what
sending and the statistics look at (the pipeline has its own tests). Answers, complements and
follow-ups go through their real services too; the timestamps are set afterwards with
``QuerySet.update`` so that the history has known answers.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from telederm.accounts.models import User
from telederm.audit.services import Actor
from telederm.images.models import LesionImage
from telederm.outcomes.models import FollowUp
from telederm.outcomes.services import FollowUpData, save_follow_up
from telederm.referrals import services
from telederm.referrals.models import ComplementRequest, Patient, Referral, ReferralStatus
from telederm.referrals.tests.helpers import _a_site, draft
from telederm.review import casework
from telederm.review import services as review
from telederm.review.models import Answer
from telederm.testing import World


def local(day: date, hour: int = 8) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def sent_referral(
    world: World, sent_at: datetime, *, author: User | None = None, warning: bool = False
) -> Referral:
    author = author or world.gp_a
    referral = draft(world, author)
    link = services.add_lesion(
        referral=referral, body_site=_a_site(), laterality="L", by=Actor(user=author)
    )
    for kind in ("overview", "dermoscopic"):
        flagged = warning and kind == "overview"
        LesionImage.objects.create(
            referral_lesion=link,
            kind=kind,
            upload_id=uuid.uuid4(),
            original="test/original.jpg",
            thumbnail="test/thumbnail.jpg",
            screen="test/screen.jpg",
            mime_type="image/jpeg",
            extension="jpg",
            size_bytes=1000,
            sha256="0" * 64,
            width=1200,
            height=900,
            uploaded_by=author,
            warnings=["blurry"] if flagged else [],
            warnings_accepted=flagged,
        )
    services.update_history(
        referral=referral,
        data={"question": "Melanom?", "suspicion": "uncertain", "duration": "1-6m"},
        by=Actor(user=author),
    )
    referral = services.submit_referral(referral=referral, by=Actor(user=author))
    Referral.objects.filter(pk=referral.pk).update(
        sent_at=sent_at, deadline=timezone.localdate(sent_at) + timedelta(days=7)
    )
    referral.refresh_from_db()
    return referral


def answer(
    referral: Referral,
    derm: User,
    *,
    diagnosis: str,
    action: str,
    answered_at: datetime,
    complement: tuple[float, float] | None = None,
) -> Answer:
    """Take, (ask a complement: days after sending for the question and the reply,) answer."""
    review.take_case(referral=referral, by=Actor(user=derm))
    if complement is not None:
        asked = casework.request_complement(
            referral=referral, question="Ny bild?", by=Actor(user=derm)
        )
        gp = referral.author
        casework.reply_complement(referral=referral, reply="Här.", by=Actor(user=gp))
        assert referral.sent_at is not None
        ComplementRequest.objects.filter(pk=asked.pk).update(
            asked_at=referral.sent_at + timedelta(days=complement[0]),
            replied_at=referral.sent_at + timedelta(days=complement[1]),
        )
    result = review.send_answer(
        referral=referral,
        diagnosis=diagnosis,
        certainty="probable",
        action=action,
        follow_up_months=6 if action == "follow_up" else None,
        text_to_gp="Bedömning.",
        by=Actor(user=derm),
    )
    Referral.objects.filter(pk=referral.pk).update(answered_at=answered_at)
    Answer.objects.filter(pk=result.pk).update(sent_at=answered_at)
    return result


def follow_up(referral: Referral, by: User, **fields: Any) -> FollowUp:
    if "breslow_mm" in fields and fields["breslow_mm"] is not None:
        fields["breslow_mm"] = Decimal(str(fields["breslow_mm"]))
    return save_follow_up(referral=referral, data=FollowUpData(**fields), by=Actor(user=by))


_bare_counter = iter(range(1, 10**6))


def bare_referral(
    world: World,
    *,
    sent_at: datetime,
    status: str = ReferralStatus.SENT,
    unit: Any = None,
    clinic: Any = None,
) -> Referral:
    """A sent referral made straight in the database: for large simulated histories (the
    forecast) and the permission matrix, where going through every service costs too much."""
    number = next(_bare_counter)
    patient, _created = Patient.objects.get_or_create(
        personal_number="191212121212", defaults={"birth_date": date(1912, 12, 12), "sex": "male"}
    )
    return Referral.objects.create(
        number=f"TX{uuid.uuid4().hex[:6]}-{number:06d}",
        clinic=clinic or world.clinic_a,
        author=world.gp_a,
        patient=patient,
        status=status,
        sent_at=sent_at,
        deadline=timezone.localdate(sent_at) + timedelta(days=7),
        review_unit=unit or world.unit_x,
        assigned_to=world.derm_x if status != ReferralStatus.SENT else None,
    )


def bare_answer(
    referral: Referral, author: User, answered_at: datetime, action: str = "excision"
) -> Answer:
    Referral.objects.filter(pk=referral.pk).update(
        status=ReferralStatus.ANSWERED, answered_at=answered_at, assigned_to=author
    )
    referral.refresh_from_db()
    return Answer.objects.create(
        referral=referral,
        diagnosis="atypical_naevus",
        icd10="D22.9",
        certainty="probable",
        action=action,
        text_to_gp="Bedömning.",
        author=author,
        sent_at=answered_at,
    )


def outcomes_extras(world: World) -> dict[str, Any]:
    """For the permission matrix: an answer of unit X to clinic A recommending excision."""
    sent = timezone.now() - timedelta(days=10)
    referral = bare_referral(world, sent_at=sent, status=ReferralStatus.IN_REVIEW)
    bare_answer(referral, world.derm_x, sent + timedelta(days=2))
    return {"follow_up_referral": referral.public_id}
