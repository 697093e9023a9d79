"""Fill PostgreSQL with a realistic history for the benchmarks (``manage.py generate_history``).

Organisations and people go through the ORM; the bulk (patients, referrals, lesions, photos,
answers, messages, events, audit) is streamed with ``COPY`` in id order, which is what makes a
million referrals take minutes rather than hours. The photos share one placeholder file each
(an overview and a dermoscopic photo): the benchmarks measure the database, not the disk.

The history spreads referrals evenly over ``years`` ending today; those of the last week are
still open (sent or being assessed), older ones are answered (a few withdrawn).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.utils import timezone
from psycopg.types.json import Jsonb

from telederm.accounts.models import Role
from telederm.audit.models import Action, AuditEvent
from telederm.images.models import LesionImage
from telederm.messaging.models import Message
from telederm.referrals.bodysites import BODY_SITES
from telederm.referrals.models import (
    Lesion,
    Patient,
    Referral,
    ReferralCounter,
    ReferralEvent,
    ReferralLesion,
)
from telederm.review.models import ICD10, Answer, Diagnosis
from telederm.web.bench.people import (
    DERMOSCOPIC,
    OVERVIEW,
    People,
    patient_number,
    people,
    placeholders,
)

DIAGNOSES = [
    ("benign_naevus", 55),
    ("seborrhoeic_keratosis", 15),
    ("atypical_naevus", 10),
    ("dermatofibroma", 4),
    ("solar_lentigo", 4),
    ("melanoma_in_situ", 4),
    ("invasive_melanoma", 3),
    ("bcc", 4),
    ("actinic_keratosis", 1),
]
ACTIONS = {"benign_naevus": "none", "seborrhoeic_keratosis": "none", "atypical_naevus": "follow_up"}


def _next_id(model: type[models.Model]) -> int:
    last = model._default_manager.aggregate(m=models.Max("pk"))["m"]
    return int(last or 0) + 1


def _copy(model: type[models.Model], columns: Sequence[str], rows: Iterator[Sequence[Any]]) -> int:
    table = model._meta.db_table
    count = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    return count


def _reset_sequences(*model_list: type[models.Model]) -> None:
    with connection.cursor() as cursor:
        for model in model_list:
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
            )


def generate(
    *,
    referrals: int,
    clinics: int = 200,
    units: int = 3,
    years: float = 5,
    seed: int = 7,
    progress: Callable[[str], None] = print,
) -> People:
    if connection.vendor != "postgresql":
        raise RuntimeError("generate_history fills PostgreSQL (it streams rows with COPY)")
    rng = random.Random(seed)
    crew = people(clinics, units, gps_per_clinic=4, derms_per_unit=10)
    placeholders()
    now = timezone.now()
    span = timedelta(days=365 * years)  # fractions allowed: 0.025 ≈ 9 days
    first: dict[type[models.Model], int] = {
        m: _next_id(m)
        for m in (Patient, Lesion, Referral, ReferralLesion, LesionImage, Answer, Message)
    }
    first[ReferralEvent] = _next_id(ReferralEvent)
    first[AuditEvent] = _next_id(AuditEvent)
    patients = max(1, referrals * 2 // 3)
    sites = [s.code for s in BODY_SITES]
    diagnoses = [d for d, w in DIAGNOSES for _ in range(w)]

    progress(f"patients: {patients}")
    _copy(
        Patient,
        [
            "id",
            "public_id",
            "personal_number",
            "coordination_number",
            "birth_date",
            "sex",
            "name",
            "protected_identity",
            "created_at",
            "updated_at",
        ],
        (
            (
                first[Patient] + n,
                uuid.UUID(int=rng.getrandbits(128), version=4),
                patient_number(n)[1],
                False,
                patient_number(n)[0],
                "female" if n % 2 else "male",
                f"Patient {n}",
                False,
                now - span,
                now - span,
            )
            for n in range(patients)
        ),
    )
    # One plan per referral, made once and used by every table below.
    plans = []
    counters: dict[int, int] = {}
    clinic_ids = [c.pk for c in crew.clinics]
    unit_of = {c.pk: c.default_review_unit_id for c in crew.clinics}
    for n in range(referrals):
        sent = now - span + span * ((n + 0.5) / referrals)
        year = timezone.localtime(sent).year
        counters[year] = counters.get(year, 0) + 1
        clinic = clinic_ids[rng.randrange(len(clinic_ids))]
        unit = unit_of[clinic]
        age = now - sent
        status = "answered"
        if age < timedelta(days=7):
            status = rng.choice(["sent", "sent", "in_review"])
        elif rng.random() < 0.01:
            status = "withdrawn"
        plans.append(
            (
                n,
                sent,
                f"TD{year % 100:02d}-{counters[year]:06d}",
                clinic,
                unit,
                rng.choice(crew.gps[clinic]),
                rng.choice(crew.dermatologists[unit]) if unit else None,
                status,
                rng.randrange(patients),
                rng.choice(diagnoses),
            )
        )
    progress(f"referrals: {referrals}")
    _copy(
        Referral,
        [
            "id",
            "public_id",
            "number",
            "clinic_id",
            "author_id",
            "patient_id",
            "status",
            "duration",
            "changed_size",
            "changed_shape",
            "changed_colour",
            "itch",
            "bleeding",
            "ulceration",
            "previous_melanoma",
            "family_melanoma",
            "skin_type",
            "naevi_count",
            "question",
            "suspicion",
            "free_text",
            "sent_at",
            "deadline",
            "withdrawn_at",
            "withdraw_reason",
            "review_unit_id",
            "assigned_to_id",
            "assigned_at",
            "answered_at",
            "created_at",
            "updated_at",
        ],
        (
            (
                first[Referral] + n,
                uuid.UUID(int=rng.getrandbits(128), version=4),
                number,
                clinic,
                gp,
                first[Patient] + patient,
                status,
                "1-6m",
                n % 3 == 0,
                n % 5 == 0,
                n % 7 == 0,
                False,
                False,
                False,
                "no",
                "unknown",
                "II",
                "few",
                "Förändrat sig senaste halvåret?",
                "melanoma" if n % 25 == 0 else "uncertain" if n % 3 else "benign",
                "",
                sent,
                timezone.localdate(sent) + timedelta(days=7),
                sent + timedelta(days=1) if status == "withdrawn" else None,
                "Dubblett" if status == "withdrawn" else "",
                unit,
                derm if status in ("in_review", "answered") else None,
                sent + timedelta(hours=20) if status in ("in_review", "answered") else None,
                sent + timedelta(days=2) if status == "answered" else None,
                sent - timedelta(minutes=15),
                sent + timedelta(days=2),
            )
            for n, sent, number, clinic, unit, gp, derm, status, patient, _d in plans
        ),
    )
    progress("lesions and photos")
    _copy(
        Lesion,
        [
            "id",
            "public_id",
            "patient_id",
            "body_site",
            "laterality",
            "label",
            "first_clinic_id",
            "created_at",
        ],
        (
            (
                first[Lesion] + n,
                uuid.UUID(int=rng.getrandbits(128), version=4),
                first[Patient] + patient,
                sites[n % len(sites)],
                "U",
                "",
                clinic,
                sent,
            )
            for n, sent, _num, clinic, _u, _g, _d, _s, patient, _x in plans
        ),
    )
    _copy(
        ReferralLesion,
        ["id", "referral_id", "lesion_id", "position", "created_at"],
        (
            (first[ReferralLesion] + n, first[Referral] + n, first[Lesion] + n, 0, sent)
            for n, sent, *_rest in plans
        ),
    )
    _copy(
        LesionImage,
        [
            "id",
            "public_id",
            "referral_lesion_id",
            "kind",
            "upload_id",
            "original",
            "thumbnail",
            "screen",
            "mime_type",
            "extension",
            "size_bytes",
            "sha256",
            "width",
            "height",
            "orientation",
            "captured_at",
            "device_model",
            "metrics",
            "warnings",
            "warnings_accepted",
            "uploaded_by_id",
            "created_at",
            "removed_at",
        ],
        (
            (
                first[LesionImage] + 2 * n + k,
                uuid.UUID(int=rng.getrandbits(128), version=4),
                first[ReferralLesion] + n,
                kind,
                uuid.UUID(int=rng.getrandbits(128), version=4),
                name,
                name,
                name,
                "image/jpeg",
                "jpg",
                250_000,
                "0" * 64,
                1200,
                900,
                1,
                sent,
                "Bench phone",
                Jsonb({}),
                Jsonb([]),
                False,
                gp,
                sent,
                None,
            )
            for n, sent, _num, _c, _u, gp, *_rest in plans
            for k, (kind, name) in enumerate((("overview", OVERVIEW), ("dermoscopic", DERMOSCOPIC)))
        ),
    )
    answered = [p for p in plans if p[7] == "answered"]
    progress(f"answers: {len(answered)}")
    _copy(
        Answer,
        [
            "id",
            "public_id",
            "referral_id",
            "diagnosis",
            "icd10",
            "certainty",
            "action",
            "follow_up_months",
            "text_to_gp",
            "teaching_comment",
            "author_id",
            "sent_at",
            "second_reading_comment",
            "read_at",
            "read_by_id",
        ],
        (
            (
                first[Answer] + i,
                uuid.UUID(int=rng.getrandbits(128), version=4),
                first[Referral] + n,
                diagnosis,
                ICD10.get(Diagnosis(diagnosis), ""),
                "probable",
                ACTIONS.get(diagnosis, "excision"),
                3 if ACTIONS.get(diagnosis) == "follow_up" else None,
                "Bedömning enligt bilderna.",
                "",
                derm,
                sent + timedelta(days=2),
                "",
                sent + timedelta(days=3),
                gp,
            )
            for i, (n, sent, _num, _c, _u, gp, derm, _s, _p, diagnosis) in enumerate(answered)
        ),
    )
    progress("messages, events and audit log")
    _copy(
        Message,
        [
            "id",
            "public_id",
            "referral_id",
            "clinic_id",
            "review_unit_id",
            "channel",
            "author_id",
            "author_role",
            "body",
            "client_key",
            "created_at",
        ],
        (
            (
                first[Message] + i,
                uuid.UUID(int=rng.getrandbits(128), version=4),
                first[Referral] + n,
                clinic,
                unit,
                "clinic",
                gp,
                Role.GP,
                "Tack för svaret!",
                uuid.UUID(int=rng.getrandbits(128), version=4),
                sent + timedelta(days=3),
            )
            for i, (n, sent, _num, clinic, unit, gp, *_rest) in enumerate(answered[::3])
        ),
    )

    def events() -> Iterator[tuple[Any, ...]]:
        i = first[ReferralEvent]
        for n, sent, _num, _c, _u, _g, _d, status, _p, _x in plans:
            yield (i, first[Referral] + n, "sent", sent)
            i += 1
            if status == "answered":
                yield (i, first[Referral] + n, "answered", sent + timedelta(days=2))
                i += 1

    _copy(ReferralEvent, ["id", "referral_id", "kind", "created_at"], events())

    def audit() -> Iterator[tuple[Any, ...]]:
        i = first[AuditEvent]
        pnr = {}
        for _n, sent, number, clinic, unit, gp, derm, status, patient, _x in plans:
            if patient not in pnr:
                pnr[patient] = patient_number(patient)[1]
            steps: list[tuple[str, int | None, int | None, datetime]] = [
                (Action.REFERRAL_CREATED, gp, clinic, sent - timedelta(minutes=15)),
                (Action.REFERRAL_SENT, gp, clinic, sent),
            ]
            if derm and status in ("in_review", "answered"):
                steps.append((Action.REFERRAL_VIEWED, derm, unit, sent + timedelta(hours=20)))
            if status == "answered":
                steps += [
                    (Action.ANSWER_SENT, derm, unit, sent + timedelta(days=2)),
                    (Action.REFERRAL_VIEWED, gp, clinic, sent + timedelta(days=3)),
                ]
            for action, actor, org, when in steps:
                name, email, hsa = crew.names[actor or 0]
                yield (
                    i,
                    when,
                    action,
                    True,
                    actor,
                    email,
                    hsa,
                    name,
                    "",
                    org,
                    "",
                    "",
                    "referrals.referral",
                    "",
                    number,
                    pnr[patient],
                    None,
                    "",
                    Jsonb({}),
                )
                i += 1

    _copy(
        AuditEvent,
        [
            "id",
            "occurred_at",
            "action",
            "success",
            "actor_id",
            "actor_email",
            "actor_hsa_id",
            "actor_name",
            "actor_role",
            "organisation_id",
            "organisation_hsa_id",
            "organisation_name",
            "target_type",
            "target_id",
            "target_label",
            "patient_id",
            "ip",
            "user_agent",
            "detail",
        ],
        audit(),
    )
    for year, last in counters.items():
        ReferralCounter.objects.update_or_create(year=year, defaults={"last": last})
    _reset_sequences(
        Patient,
        Lesion,
        Referral,
        ReferralLesion,
        LesionImage,
        Answer,
        Message,
        ReferralEvent,
        AuditEvent,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    progress(f"done; media in {settings.MEDIA_ROOT}")
    return crew
