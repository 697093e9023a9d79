"""Demo referrals with real (CC0) dermoscopic images, in every state a demo visitor should see.

Run after ``seed_demo``. Idempotent: it does nothing when demo referrals exist. The photos are
synthesised from the ISIC thumbnails shipped in ``telederm/images/testdata`` (a dermoscopic
field and an overview photo per lesion) and go through the real upload pipeline.
"""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from telederm.accounts.models import Organisation, User
from telederm.audit.services import Actor
from telederm.images import synthetic
from telederm.images.services import accept_warnings, add_image
from telederm.referrals import services
from telederm.referrals.models import Referral
from telederm.review import services as review_services

DEMO_PATIENTS = ("19121212-1212", "701063-2391")  # the long-known test numbers
ROUTES = {
    "11010NOR": "SE2321000016-TDRU01",
    "11020SOD": "SE2321000016-TDRU02",
    "11030SOL": "SE2321000016-TDRU03",
    "11040HUD": "SE2321000016-TDRU01",
}
# (GP, patient, ISIC image, site, side, suspicion, question, what happens next)
CASES = [
    (
        "gp.norrmalm@demo.telederm.se",
        0,
        "ISIC_0000150",
        "upper_back",
        "U",
        "melanoma",
        "Växande pigmenterad förändring på ryggen, ny sedan i våras. Melanom?",
        "answer",
    ),
    (
        "gp.norrmalm@demo.telederm.se",
        1,
        "ISIC_0000164",
        "thigh_front",
        "L",
        "uncertain",
        "Asymmetriskt nevus, patienten orolig. Behöver det tas bort?",
        "take",
    ),
    (
        "gp2.norrmalm@demo.telederm.se",
        0,
        "ISIC_0000204",
        "shoulder",
        "R",
        "benign",
        "Benignt utseende men har mörknat. Bedömning?",
        "overdue",
    ),
    (
        "gp.norrmalm@demo.telederm.se",
        1,
        "ISIC_0000242",
        "calf",
        "R",
        "melanoma",
        "Oregelbunden pigmentering, blöder ibland.",
        "wait",
    ),
    (
        "gp.sodermalm@demo.telederm.se",
        0,
        "ISIC_0000385",
        "abdomen",
        "U",
        "uncertain",
        "Flera nevi, denna avviker. Uppföljning?",
        "wait",
    ),
]


def _jpeg(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


class Command(BaseCommand):
    help = "Create demo referrals with photos, one answered, one under review, one overdue."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO:
            raise CommandError("seed_demo_referrals only runs in demo mode (TELEDERM_MODE=demo).")
        if Referral.objects.filter(author__email__endswith="@demo.telederm.se").exists():
            self.stdout.write("Demo referrals exist already.")
            return
        for kombika, unit_hsa in ROUTES.items():
            Organisation.objects.filter(kombikakod=kombika).update(
                default_review_unit=Organisation.objects.get(hsa_id=unit_hsa)
            )
        derm = User.objects.get(email="derm@demo.telederm.se")
        derm2 = User.objects.get(email="derm2@demo.telederm.se")
        for number, case in enumerate(CASES, start=1):
            self._case(number, *case, derm=derm, derm2=derm2)
        self.stdout.write(self.style.SUCCESS(f"{len(CASES)} demo referrals ready."))

    def _case(
        self,
        number: int,
        email: str,
        patient: int,
        isic: str,
        site: str,
        side: str,
        suspicion: str,
        question: str,
        then: str,
        *,
        derm: User,
        derm2: User,
    ) -> None:
        gp = User.objects.get(email=email)
        by = Actor(user=gp, user_agent="seed_demo_referrals")
        clinic = gp.active_memberships().get(role="gp").organisation
        lesion = synthetic.isic_image(isic)
        with transaction.atomic():
            referral = services.start_referral(clinic=clinic, by=by)
            services.set_patient(
                referral=referral,
                personal_number=DEMO_PATIENTS[patient],
                name="Tolvan Tolvansson (testperson)" if patient == 0 else "",
                by=by,
            )
            link = services.add_lesion(referral=referral, body_site=site, laterality=side, by=by)
        size = (2016, 1512)
        for kind, photo in (
            (
                "overview",
                synthetic.overview_photo(lesion, size=size, seed=number, lesion_fraction=0.12),
            ),
            ("dermoscopic", synthetic.dermoscopic_photo(lesion, size=size, seed=number)),
        ):
            image, _created = add_image(
                link=link, kind=kind, raw=_jpeg(photo), upload_id=uuid.uuid4(), by=by
            )
            if image.warnings:
                accept_warnings(image=image, by=by)
        services.update_history(
            referral=referral,
            data={
                "question": question,
                "suspicion": suspicion,
                "duration": "1-6m",
                "changed_size": suspicion != "benign",
                "skin_type": "II",
                "naevi_count": "many" if number % 2 else "few",
            },
            by=by,
        )
        referral = services.submit_referral(referral=referral, by=by)
        if then == "overdue":
            sent = timezone.now() - timedelta(days=9)
            Referral.objects.filter(pk=referral.pk).update(
                sent_at=sent, deadline=timezone.localdate(sent) + timedelta(days=7)
            )
        elif then == "take":
            review_services.take_case(referral=referral, by=Actor(user=derm2))
        elif then == "answer":
            review_services.take_case(referral=referral, by=Actor(user=derm))
            review_services.send_answer(
                referral=referral,
                diagnosis="invasive_melanoma",
                certainty="probable",
                action="svf",
                text_to_gp=(
                    "Dermatoskopiskt misstänkt melanom: asymmetri, atypiskt nätverk och "
                    "regressionsstrukturer. Remiss enligt SVF melanom; excidera inte själv."
                ),
                by=Actor(user=derm),
            )
