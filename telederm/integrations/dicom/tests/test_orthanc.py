"""The archive client against a real Orthanc with the DICOMweb plugin."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections.abc import Callable

import pytest
from pydicom.encaps import generate_frames
from pydicom.uid import JPEGBaseline8Bit

from telederm.integrations.dicom.client import ArchiveClient, ArchiveError
from telederm.integrations.dicom.mapping import (
    DERMOSCOPIC_PHOTOGRAPHY_IMAGE_STORAGE,
    ENCAPSULATED_PDF_STORAGE,
    VL_PHOTOGRAPHIC_IMAGE_STORAGE,
    StudyFacts,
    image_dataset,
    report_pdf_dataset,
)
from telederm.integrations.dicom.tests.conftest import MakeFacts, OrthancServer

pytestmark = pytest.mark.service("orthanc")

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SOP_CLASS_UID = "00080016"
SOP_INSTANCE_UID = "00080018"


def value(instance: dict[str, object], tag: str) -> object:
    entry = instance.get(tag)
    assert isinstance(entry, dict), f"{tag} missing"
    return entry["Value"][0]


def orthanc_count(server: OrthancServer, what: str) -> int:
    with urllib.request.urlopen(f"{server.http}/{what}", timeout=5) as response:  # noqa: S310
        return len(json.load(response))


def test_store_find_and_retrieve_a_study(
    running_orthanc: OrthancServer,
    study: StudyFacts,
    make_facts: MakeFacts,
    pipeline_jpeg: Callable[[int], bytes],
    overview_jpeg: bytes,
) -> None:
    client = ArchiveClient(running_orthanc.url, timeout=10)
    dermoscopic = pipeline_jpeg(1)
    derm = image_dataset(image_bytes=dermoscopic, image=make_facts(dermoscopic), study=study)
    overview = image_dataset(
        image_bytes=overview_jpeg,
        image=make_facts(overview_jpeg, "overview", instance_number=2),
        study=study,
    )
    pdf = report_pdf_dataset(
        pdf_bytes=PDF, study=study, title="Remiss TD26-000001", document_uid_seed=uuid.uuid4()
    )

    client.store([derm, overview, pdf])

    found = client.find_study(derm.StudyInstanceUID)
    assert len(found) == 3
    assert {value(i, SOP_CLASS_UID) for i in found} == {
        DERMOSCOPIC_PHOTOGRAPHY_IMAGE_STORAGE,
        VL_PHOTOGRAPHIC_IMAGE_STORAGE,
        ENCAPSULATED_PDF_STORAGE,
    }
    assert {value(i, SOP_INSTANCE_UID) for i in found} == {
        derm.SOPInstanceUID,
        overview.SOPInstanceUID,
        pdf.SOPInstanceUID,
    }

    back = client.retrieve_instance(
        derm.StudyInstanceUID, derm.SeriesInstanceUID, derm.SOPInstanceUID
    )
    assert back.file_meta.TransferSyntaxUID == JPEGBaseline8Bit
    frame = next(generate_frames(back.PixelData, number_of_frames=1))
    assert frame[: len(dermoscopic)] == dermoscopic
    assert len(frame) - len(dermoscopic) == len(dermoscopic) % 2
    for keyword in (
        "PatientID",
        "IssuerOfPatientID",
        "AccessionNumber",
        "SOPClassUID",
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "ImageLaterality",
        "Modality",
    ):
        assert back[keyword].value == derm[keyword].value, keyword
    assert back.AnatomicRegionSequence[0].CodeValue == "14975008"
    assert str(back.PatientName) == "Tolvansson^Tolvan"


def test_storing_the_same_image_twice_keeps_one_instance(
    running_orthanc: OrthancServer,
    study: StudyFacts,
    make_facts: MakeFacts,
    dermoscopic_jpeg: bytes,
) -> None:
    client = ArchiveClient(running_orthanc.url, timeout=10)
    facts = make_facts(dermoscopic_jpeg)
    first = image_dataset(image_bytes=dermoscopic_jpeg, image=facts, study=study)
    client.store([first])
    client.store([image_dataset(image_bytes=dermoscopic_jpeg, image=facts, study=study)])
    found = client.find_study(first.StudyInstanceUID)
    assert [value(i, SOP_INSTANCE_UID) for i in found] == [first.SOPInstanceUID]


def test_unknown_study_finds_nothing(running_orthanc: OrthancServer) -> None:
    assert ArchiveClient(running_orthanc.url).find_study(f"2.25.{uuid.uuid4().int}") == []


def test_http_error_is_an_archive_error(running_orthanc: OrthancServer) -> None:
    client = ArchiveClient(running_orthanc.http + "/no-such-root", timeout=5)
    with pytest.raises(ArchiveError, match="HTTP 404"):
        client.retrieve_instance("1.2.3", "1.2.3.4", "1.2.3.4.5")
    client.store([])  # nothing to send: no request at all


def test_stopped_archive_fails_promptly(
    orthanc: OrthancServer, study: StudyFacts, make_facts: MakeFacts, dermoscopic_jpeg: bytes
) -> None:
    ds = image_dataset(
        image_bytes=dermoscopic_jpeg, image=make_facts(dermoscopic_jpeg), study=study
    )
    client = ArchiveClient(orthanc.url, timeout=3)
    orthanc.stop()
    try:
        started = time.monotonic()
        with pytest.raises(ArchiveError, match="cannot connect") as raised:
            client.store([ds])
        assert time.monotonic() - started < 5
        assert orthanc.url in str(raised.value)
    finally:
        orthanc.start()
    client.store([ds])  # back again: the same client works
    assert len(client.find_study(ds.StudyInstanceUID)) == 1
    assert orthanc_count(orthanc, "instances") >= 1
