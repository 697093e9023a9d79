"""Export a referral's photos to the image archive: facts from the models → datasets (pure
mapping) → STOW-RS (thin client). Called by the outbox for each due job."""

from __future__ import annotations

import uuid
from typing import Literal, cast

from django.conf import settings
from pydicom import Dataset

from telederm.images.models import ImageKind, LesionImage
from telederm.integrations.dicom.client import ArchiveClient
from telederm.integrations.dicom.mapping import (
    ImageFacts,
    StudyFacts,
    image_dataset,
    report_pdf_dataset,
)
from telederm.integrations.documents import answer_pdf, referral_pdf
from telederm.integrations.models import ExportJob
from telederm.referrals.bodysites import get_site
from telederm.referrals.models import Referral, ReferralEvent
from telederm.review.models import Answer

Laterality = Literal["R", "L", "B", "U"]


def study_facts(referral: Referral) -> StudyFacts:
    patient = referral.patient
    assert patient is not None
    assert referral.sent_at is not None
    return StudyFacts(
        referral_public_id=referral.public_id,
        accession_number=referral.number or "",
        patient_id=patient.personal_number,
        patient_id_issuer="1.2.752.129.2.1.3.3"
        if patient.coordination_number
        else "1.2.752.129.2.1.3.1",
        patient_name="" if patient.protected_identity else patient.name,
        birth_date=patient.birth_date,
        sex="M" if patient.sex == "male" else "F",
        study_datetime=referral.sent_at,
        referring_physician=referral.author.full_name,
        clinic_name=referral.clinic.name,
        institution_name=referral.clinic.name,
        study_description="Teledermatoskopi",
    )


def image_facts(image: LesionImage, *, instance_number: int, lesion_number: int) -> ImageFacts:
    lesion = image.referral_lesion.lesion
    site = get_site(lesion.body_site)
    return ImageFacts(
        public_id=image.public_id,
        kind="dermoscopic" if image.kind == ImageKind.DERMOSCOPIC else "overview",
        width=image.width,
        height=image.height,
        orientation=image.orientation,
        captured_at=image.captured_at,
        device_model=image.device_model,
        body_site_code=site.snomed_code,
        body_site_meaning=str(site.snomed_display or site.label),
        laterality=cast(Laterality, lesion.laterality),
        mime_type=image.mime_type,
        sha256=image.sha256,
        instance_number=instance_number,
        lesion_number=lesion_number,
    )


def datasets_for(referral: Referral) -> list[Dataset]:
    study = study_facts(referral)
    result: list[Dataset] = []
    number = 0
    for lesion_number, link in enumerate(
        referral.lesion_links.select_related("lesion").order_by("position", "pk"), start=1
    ):
        for image in link.images.filter(removed_at__isnull=True).order_by("created_at", "pk"):
            number += 1
            with image.original.open("rb") as handle:
                data = handle.read()
            result.append(
                image_dataset(
                    image_bytes=data,
                    image=image_facts(image, instance_number=number, lesion_number=lesion_number),
                    study=study,
                )
            )
    return result


def document_datasets(referral: Referral, study: StudyFacts) -> list[Dataset]:
    """The referral and, once sent, the answer (a new instance per amendment: the archive keeps
    every version; the latest has the highest instance number)."""
    result = [
        report_pdf_dataset(
            pdf_bytes=referral_pdf(referral),
            study=study,
            title=f"Remiss teledermatoskopi {referral.number}",
            document_uid_seed=uuid.uuid5(referral.public_id, "document:referral"),
            instance_number=1,
            content_datetime=referral.sent_at,
        )
    ]
    answer = (
        Answer.objects.select_related("author", "second_reader")
        .filter(referral=referral, sent_at__isnull=False)
        .first()
    )
    if answer is not None:
        version = answer.amendments.count()
        latest = answer.amendments.order_by("-created_at", "-pk").first()
        result.append(
            report_pdf_dataset(
                pdf_bytes=answer_pdf(answer),
                study=study,
                title=f"Svar teledermatoskopi {referral.number}",
                document_uid_seed=uuid.uuid5(referral.public_id, f"document:answer:{version}"),
                instance_number=2 + version,
                content_datetime=latest.created_at if latest else answer.sent_at,
            )
        )
    return result


def send(job: ExportJob) -> None:
    """Deliver the referral's current photos and documents.

    Stable UIDs make repeats harmless: an archive that already holds an instance keeps it, so
    a job retried after a crash or an outage never duplicates anything.
    """
    referral = Referral.objects.select_related("patient", "clinic", "author", "review_unit").get(
        pk=job.event.referral_id
    )
    client = ArchiveClient(
        settings.TELEDERM_DICOM_URL or "",
        username=settings.TELEDERM_DICOM_USERNAME,
        password=settings.TELEDERM_DICOM_PASSWORD,
        timeout=settings.TELEDERM_DICOM_TIMEOUT,
    )
    datasets = datasets_for(referral)
    if job.event.kind != ReferralEvent.Kind.IMAGES_ADDED:
        datasets += document_datasets(referral, study_facts(referral))
    client.store(datasets)
