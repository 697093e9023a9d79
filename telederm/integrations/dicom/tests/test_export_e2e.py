"""From a sent referral to the real archive: the outbox, the task, documents and an outage."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from pydicom.encaps import generate_frames

from telederm.audit.services import Actor
from telederm.images.models import LesionImage
from telederm.integrations import outbox
from telederm.integrations.dicom.client import ArchiveClient
from telederm.integrations.dicom.mapping import study_uid
from telederm.integrations.dicom.tests.conftest import OrthancServer
from telederm.integrations.models import ExportJob
from telederm.integrations.tasks import export_due_task
from telederm.referrals.models import Referral
from telederm.referrals.tests.helpers import send
from telederm.review import casework
from telederm.review import services as review
from telederm.testing import World

pytestmark = pytest.mark.django_db

SOP_UID = "00080018"
STUDY_UID = "0020000D"
SERIES_UID = "0020000E"
SOP_CLASS_UID = "00080016"
ACCESSION_NUMBER = "00080050"
MODALITY = "00080060"
ENCAPSULATED_PDF = "1.2.840.10008.5.1.4.1.1.104.1"


@pytest.fixture
def archive(running_orthanc: OrthancServer, settings: Any) -> OrthancServer:
    settings.TELEDERM_DICOM_URL = running_orthanc.url
    settings.TELEDERM_DICOM_TIMEOUT = 5
    return running_orthanc


def _answer(world: World, referral: Referral) -> None:
    review.take_case(referral=referral, by=Actor(user=world.derm_x))
    review.send_answer(
        referral=referral,
        diagnosis="atypical_naevus",
        certainty="probable",
        action="follow_up",
        follow_up_months=3,
        text_to_gp="Dysplastiskt nevus – ny bild om tre månader.",
        by=Actor(user=world.derm_x),
    )


def _instances(orthanc: OrthancServer, referral: Referral) -> list[dict[str, Any]]:
    return ArchiveClient(orthanc.url).find_study(str(study_uid(referral.public_id)))


def _value(instance: dict[str, Any], tag: str) -> str:
    return str(instance[tag]["Value"][0])


def _run_until_quiet() -> None:
    """Run the periodic task the way ``run_periodic`` does, making every waiting job due."""
    for _ in range(5):
        ExportJob.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        export_due_task.call()


def test_sent_and_answered_referral_reaches_the_archive_once(
    world: World, archive: OrthancServer
) -> None:
    referral = send(world)
    export_due_task.call()
    stored = _instances(archive, referral)
    photos = LesionImage.objects.filter(referral_lesion__referral=referral)
    assert len(stored) == photos.count() + 1  # the photos and the referral document
    assert {_value(i, ACCESSION_NUMBER) for i in stored} == {referral.number}

    _answer(world, referral)
    _run_until_quiet()
    stored = _instances(archive, referral)
    documents = [i for i in stored if _value(i, SOP_CLASS_UID) == ENCAPSULATED_PDF]
    assert len(documents) == 2  # referral and answer
    assert len(stored) == photos.count() + 2
    assert set(ExportJob.objects.values_list("status", flat=True)) == {ExportJob.Status.DONE}

    # The archive holds the very JPEG bytes the GP sent (no re-encoding).
    client = ArchiveClient(archive.url)
    image_instances = [i for i in stored if _value(i, MODALITY) in ("DMS", "XC")]
    retrieved_digests = set()
    for instance in image_instances:
        ds = client.retrieve_instance(
            _value(instance, STUDY_UID), _value(instance, SERIES_UID), _value(instance, SOP_UID)
        )
        frame = next(generate_frames(ds.PixelData, number_of_frames=1))
        retrieved_digests.add(hashlib.sha256(frame.rstrip(b"\0")).hexdigest())
    stored_digests = set()
    for image in photos:
        with image.original.open("rb") as handle:
            stored_digests.add(hashlib.sha256(handle.read().rstrip(b"\0")).hexdigest())
    assert retrieved_digests == stored_digests


def test_answer_document_is_a_pdf_in_the_study(world: World, archive: OrthancServer) -> None:
    referral = send(world)
    _answer(world, referral)
    _run_until_quiet()
    client = ArchiveClient(archive.url)
    documents = [
        i for i in _instances(archive, referral) if _value(i, SOP_CLASS_UID) == ENCAPSULATED_PDF
    ]
    titles = []
    for instance in documents:
        ds = client.retrieve_instance(
            _value(instance, STUDY_UID), _value(instance, SERIES_UID), _value(instance, SOP_UID)
        )
        pdf = bytes(ds.EncapsulatedDocument)[: int(ds.EncapsulatedDocumentLength)]
        assert pdf.startswith(b"%PDF-")
        titles.append(str(ds.DocumentTitle))
        assert ds.PatientID == "191212121212"
    assert sorted(titles) == [
        f"Remiss teledermatoskopi {referral.number}",
        f"Svar teledermatoskopi {referral.number}",
    ]


def test_an_amendment_adds_a_new_answer_version(world: World, archive: OrthancServer) -> None:
    referral = send(world)
    _answer(world, referral)
    _run_until_quiet()
    before = len(_instances(archive, referral))
    casework.amend_answer(
        referral=referral,
        text="Tillägg: även excision går bra.",
        reason="Klargörande",
        by=Actor(user=world.derm_x),
    )
    _run_until_quiet()
    assert len(_instances(archive, referral)) == before + 1


def test_archive_down_for_a_while_loses_nothing_and_duplicates_nothing(
    world: World, archive: OrthancServer, settings: Any
) -> None:
    settings.TELEDERM_EXPORT_MAX_ATTEMPTS = 3
    first = send(world)
    export_due_task.call()
    archive.stop()
    try:
        second = send(world)
        _answer(world, first)
        delivered = export_due_task.call()
        assert delivered == 0
        waiting = ExportJob.objects.exclude(status=ExportJob.Status.DONE)
        assert waiting.count() == 2
        assert {job.attempts for job in waiting} <= {0, 1}
        tried = [job for job in waiting if job.attempts == 1]
        assert len(tried) == 1  # the first failure ends the round: the rest wait
        assert tried[0].last_error.startswith("ArchiveError:")
    finally:
        archive.start()
    _run_until_quiet()
    assert set(ExportJob.objects.values_list("status", flat=True)) == {ExportJob.Status.DONE}
    for referral in (first, second):
        stored = _instances(archive, referral)
        uids = Counter(_value(i, SOP_UID) for i in stored)
        assert uids
        assert max(uids.values()) == 1
    photos = LesionImage.objects.filter(referral_lesion__referral=second).count()
    assert len(_instances(archive, second)) == photos + 1
    assert len(_instances(archive, first)) == (
        LesionImage.objects.filter(referral_lesion__referral=first).count() + 2
    )


def test_a_job_fails_after_the_limit_and_the_admin_retries_it(
    world: World, archive: OrthancServer, settings: Any
) -> None:
    settings.TELEDERM_EXPORT_MAX_ATTEMPTS = 2
    archive.stop()
    try:
        referral = send(world)
        for _ in range(3):
            ExportJob.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
            export_due_task.call()
        job = ExportJob.objects.get()
        assert job.status == ExportJob.Status.FAILED
        assert job.attempts == 2
    finally:
        archive.start()
    export_due_task.call()
    assert _instances(archive, referral) == []  # a failed job waits for a person
    outbox.retry(job=job, by=Actor(user=world.region_admin))
    export_due_task.call()
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE
    assert len(_instances(archive, referral)) == 3
