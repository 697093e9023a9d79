"""A photo sent in pieces: order, repeats, gaps, bad sizes, outsiders, the bytes, the sweep.

Most tests shrink the piece size to 16 KiB so that a small photo has several pieces; one sends
a 12 MP phone photo in real 1 MiB pieces. The race of two servers receiving the last piece at
once runs on PostgreSQL (``test_chunked_upload_race.py``).
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from telederm.audit.models import Action, AuditEvent
from telederm.audit.services import Actor
from telederm.images import chunks
from telederm.images.cleanup import remove_stale_uploads
from telederm.images.models import ChunkedUpload, LesionImage, UploadChunk
from telederm.images.processing import ingest
from telederm.images.tests.conftest import SMALL
from telederm.images.tests.uploads import phone_upload
from telederm.referrals import services as referrals
from telederm.referrals.models import ReferralLesion
from telederm.referrals.tests.helpers import _a_site, draft
from telederm.testing import World, login, photo

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("own_media")]


@pytest.fixture
def link(world: World) -> ReferralLesion:
    referral = draft(world)
    return referrals.add_lesion(
        referral=referral, body_site=_a_site(), laterality="L", by=Actor(user=world.gp_a)
    )


@pytest.fixture
def gp(client: Client, world: World) -> Client:
    return login(client, world.gp_a)


def _url(link: ReferralLesion) -> str:
    return reverse("referrals:upload_chunk", args=[link.referral.public_id, link.pk])


def pieces_of(raw: bytes, size: int) -> list[tuple[int, bytes]]:
    return [(offset, raw[offset : offset + size]) for offset in range(0, len(raw), size)]


def send_piece(
    client: Client,
    link: ReferralLesion,
    upload_id: uuid.UUID,
    offset: int,
    data: bytes,
    total: int,
    kind: str = "dermoscopic",
) -> Any:
    return client.post(
        _url(link),
        {
            "chunk": SimpleUploadedFile("chunk", data, content_type="application/octet-stream"),
            "kind": kind,
            "upload_id": str(upload_id),
            "offset": str(offset),
            "total": str(total),
        },
    )


def _partial_files() -> list[str]:
    if not default_storage.exists(chunks.PARTIAL_ROOT):
        return []
    return default_storage.listdir(chunks.PARTIAL_ROOT)[1]


def stored_sha(image: LesionImage) -> str:
    with default_storage.open(image.original.name, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def test_pieces_out_of_order_make_one_photo_as_a_whole_upload_would(
    gp: Client, link: ReferralLesion, small_pieces: int, django_capture_on_commit_callbacks: Any
) -> None:
    raw = photo("dermoscopic", seed=5)
    pieces = pieces_of(raw, small_pieces)
    assert len(pieces) >= 3
    upload_id = uuid.uuid4()
    order = [pieces[-1], *pieces[1:-1], pieces[0]]
    answers = []
    with django_capture_on_commit_callbacks(execute=True):
        for offset, data in order:
            assert LesionImage.objects.count() == 0
            answers.append(send_piece(gp, link, upload_id, offset, data, len(raw)))
    assert [answer.status_code for answer in answers[:-1]] == [202] * (len(pieces) - 1)
    assert answers[0].json()["missing"] == list(range(len(pieces) - 1))
    assert answers[-1].status_code == 201
    image = LesionImage.objects.get()
    assert image.upload_id == upload_id
    assert image.sha256 == ingest(raw, kind="dermoscopic").sha256 == stored_sha(image)
    assert str(image.public_id) in answers[-1].content.decode()
    # The pieces are gone once the photo is stored; the upload's row remembers the photo.
    assert UploadChunk.objects.count() == 0
    assert _partial_files() == []
    assert ChunkedUpload.objects.get().image == image
    assert AuditEvent.objects.filter(action=Action.IMAGE_UPLOADED).count() == 1


def test_phone_photo_in_real_pieces_is_stored_as_the_single_upload_stores_it(
    gp: Client, link: ReferralLesion
) -> None:
    """12 MP with EXIF, GPS and XMP: the stored original is the metadata-free JPEG that the
    one-request upload stores for the same file, byte for byte."""
    raw = phone_upload()
    pieces = pieces_of(raw, chunks.CHUNK_BYTES)
    assert len(pieces) == 3
    upload_id = uuid.uuid4()
    answers = [send_piece(gp, link, upload_id, offset, data, len(raw)) for offset, data in pieces]
    assert [a.status_code for a in answers] == [202, 202, 201]
    chunked = LesionImage.objects.get(upload_id=upload_id)
    whole = gp.post(
        reverse("referrals:upload", args=[link.referral.public_id, link.pk]),
        {
            "file": SimpleUploadedFile("photo.jpg", raw, content_type="image/jpeg"),
            "kind": "dermoscopic",
            "upload_id": str(uuid.uuid4()),
        },
    )
    assert whole.status_code == 201
    single = LesionImage.objects.exclude(pk=chunked.pk).get()
    assert chunked.sha256 == single.sha256 == stored_sha(chunked) == stored_sha(single)
    assert hashlib.sha256(raw).hexdigest() != chunked.sha256  # the metadata was removed


def test_repeated_piece_is_harmless_before_and_after_the_photo_is_stored(
    gp: Client, link: ReferralLesion, small_pieces: int
) -> None:
    raw = photo("dermoscopic", seed=6)
    pieces = pieces_of(raw, small_pieces)
    upload_id = uuid.uuid4()
    first = send_piece(gp, link, upload_id, *pieces[0], len(raw))
    again = send_piece(gp, link, upload_id, *pieces[0], len(raw))
    assert first.status_code == again.status_code == 202
    assert UploadChunk.objects.filter(index=0).count() == 1
    for offset, data in pieces[1:]:
        last = send_piece(gp, link, upload_id, offset, data, len(raw))
    assert last.status_code == 201
    # The answer to the last piece was lost; the browser sends it (and the first) again.
    repeat_last = send_piece(gp, link, upload_id, *pieces[-1], len(raw))
    repeat_first = send_piece(gp, link, upload_id, *pieces[0], len(raw))
    assert repeat_last.status_code == repeat_first.status_code == 200
    assert LesionImage.objects.count() == 1
    assert AuditEvent.objects.filter(action=Action.IMAGE_UPLOADED).count() == 1


def test_photo_with_a_missing_piece_is_not_stored(
    gp: Client, link: ReferralLesion, small_pieces: int
) -> None:
    raw = photo("dermoscopic", seed=7)
    pieces = pieces_of(raw, small_pieces)
    upload_id = uuid.uuid4()
    for offset, data in [*pieces[:1], *pieces[2:]]:
        answer = send_piece(gp, link, upload_id, offset, data, len(raw))
    assert answer.status_code == 202
    assert answer.json() == {"missing": [1]}
    assert LesionImage.objects.count() == 0
    assert ChunkedUpload.objects.get().image is None
    assert UploadChunk.objects.count() == len(pieces) - 1


def test_a_piece_whose_stored_file_vanished_is_asked_for_again(
    gp: Client, link: ReferralLesion, small_pieces: int
) -> None:
    raw = photo("dermoscopic", seed=8)
    pieces = pieces_of(raw, small_pieces)
    upload_id = uuid.uuid4()
    for offset, data in pieces[:-1]:
        send_piece(gp, link, upload_id, offset, data, len(raw))
    default_storage.delete(UploadChunk.objects.get(index=1).name)
    answer = send_piece(gp, link, upload_id, *pieces[-1], len(raw))
    assert answer.status_code == 202
    assert answer.json() == {"missing": [1]}
    assert send_piece(gp, link, upload_id, *pieces[1], len(raw)).status_code == 201
    assert LesionImage.objects.get().sha256 == ingest(raw, kind="dermoscopic").sha256


@pytest.mark.parametrize(
    ("offset", "length", "total", "status"),
    [
        (0, SMALL, SMALL * 3 + 1, 202),  # the first piece of a consistent upload
        (0, SMALL, SMALL * 3, 409),  # another total for the same upload id
        (SMALL, SMALL - 1, SMALL * 3 + 1, 400),  # a piece shorter than a piece
        (SMALL + 1, SMALL, SMALL * 3 + 1, 400),  # an offset between pieces
        (SMALL * 4, 1, SMALL * 3 + 1, 400),  # beyond the end
        (-SMALL, SMALL, SMALL * 3 + 1, 400),
    ],
)
def test_inconsistent_pieces_are_refused(
    gp: Client,
    link: ReferralLesion,
    small_pieces: int,
    offset: int,
    length: int,
    total: int,
    status: int,
) -> None:
    upload_id = uuid.UUID(int=1)
    assert send_piece(gp, link, upload_id, 0, b"\xff" * SMALL, SMALL * 3 + 1).status_code == 202
    answer = send_piece(gp, link, upload_id, offset, b"\xff" * length, total)
    assert answer.status_code == status
    assert LesionImage.objects.count() == 0


def test_other_bytes_for_a_stored_piece_are_refused(
    gp: Client, link: ReferralLesion, small_pieces: int
) -> None:
    upload_id = uuid.uuid4()
    total = SMALL * 2
    assert send_piece(gp, link, upload_id, 0, b"\x01" * SMALL, total).status_code == 202
    assert send_piece(gp, link, upload_id, 0, b"\x02" * SMALL, total).status_code == 409
    assert UploadChunk.objects.get().sha256 == hashlib.sha256(b"\x01" * SMALL).hexdigest()
    assert send_piece(
        gp, link, upload_id, 0, b"\x01" * SMALL, total, kind="overview"
    ).status_code == (409)


@pytest.mark.parametrize(
    "fields",
    [
        {"upload_id": "not-a-uuid"},
        {"offset": "zero"},
        {"total": ""},
        {"kind": "selfie"},
    ],
)
def test_malformed_requests_are_refused_without_storing(
    gp: Client, link: ReferralLesion, small_pieces: int, fields: dict[str, str]
) -> None:
    data = {
        "chunk": SimpleUploadedFile("chunk", b"\xff" * 100),
        "kind": "dermoscopic",
        "upload_id": str(uuid.uuid4()),
        "offset": "0",
        "total": "100",
        **fields,
    }
    answer = gp.post(_url(link), data)
    assert answer.status_code == (422 if "kind" in fields else 400)
    assert ChunkedUpload.objects.count() == 0
    assert _partial_files() == []


def test_oversize_photo_is_refused_before_anything_is_stored(
    gp: Client, link: ReferralLesion, settings: Any
) -> None:
    total = settings.TELEDERM_IMAGE_MAX_BYTES + 1
    answer = send_piece(gp, link, uuid.uuid4(), 0, b"\xff" * chunks.CHUNK_BYTES, total)
    assert answer.status_code == 413
    assert ChunkedUpload.objects.count() == 0
    assert _partial_files() == []


def test_piece_larger_than_a_piece_is_refused_unread(gp: Client, link: ReferralLesion) -> None:
    big = b"\xff" * (chunks.CHUNK_BYTES + 128 * 1024)
    assert send_piece(gp, link, uuid.uuid4(), 0, big, len(big)).status_code == 413
    assert ChunkedUpload.objects.count() == 0


def test_another_clinics_gp_gets_404_and_stores_nothing(
    client: Client, world: World, link: ReferralLesion, small_pieces: int
) -> None:
    login(client, world.gp_b)
    answer = send_piece(client, link, uuid.uuid4(), 0, b"\xff" * 100, 100)
    assert answer.status_code == 404
    assert ChunkedUpload.objects.count() == 0
    assert _partial_files() == []


def test_anonymous_visitor_is_sent_to_login(client: Client, link: ReferralLesion) -> None:
    answer = send_piece(client, link, uuid.uuid4(), 0, b"\xff" * 100, 100)
    assert answer.status_code == 302
    assert answer["Location"].startswith(reverse("accounts:login"))


def test_refused_file_is_refused_once_and_a_repeat_gets_the_same_answer(
    gp: Client, link: ReferralLesion, small_pieces: int, django_capture_on_commit_callbacks: Any
) -> None:
    raw = b"%PDF-1.7\n" + b"\0" * (SMALL * 2)
    pieces = pieces_of(raw, small_pieces)
    upload_id = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True):
        answers = [
            send_piece(gp, link, upload_id, offset, data, len(raw)) for offset, data in pieces
        ]
    assert answers[-1].status_code == 422
    repeat = send_piece(gp, link, upload_id, *pieces[-1], len(raw))
    assert repeat.status_code == 422
    assert repeat.content == answers[-1].content
    assert AuditEvent.objects.filter(action=Action.IMAGE_REJECTED).count() == 1
    assert LesionImage.objects.count() == 0
    assert _partial_files() == []


def test_one_user_cannot_keep_too_many_unfinished_uploads(
    gp: Client, link: ReferralLesion, small_pieces: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunks, "MAX_OPEN_UPLOADS", 2)
    for _ in range(2):
        assert send_piece(gp, link, uuid.uuid4(), 0, b"\xff" * SMALL, SMALL * 2).status_code == 202
    assert send_piece(gp, link, uuid.uuid4(), 0, b"\xff" * SMALL, SMALL * 2).status_code == 429
    assert ChunkedUpload.objects.count() == 2


def test_stale_uploads_and_stray_pieces_are_swept_after_a_day(
    gp: Client,
    link: ReferralLesion,
    small_pieces: int,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    old_id, new_id = uuid.uuid4(), uuid.uuid4()
    send_piece(gp, link, old_id, 0, b"\x01" * SMALL, SMALL * 2)
    send_piece(gp, link, new_id, 0, b"\x02" * SMALL, SMALL * 2)
    ChunkedUpload.objects.filter(upload_id=old_id).update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    old_file = UploadChunk.objects.get(upload__upload_id=old_id).name
    # A piece written just before a crash, never recorded: only its age tells it is stale.
    stray = default_storage.save(f"{chunks.PARTIAL_ROOT}/stray.0000.x.part", ContentFile(b"\x03"))
    day_ago = time.time() - 25 * 3600
    os.utime(Path(settings.MEDIA_ROOT) / stray, (day_ago, day_ago))
    with django_capture_on_commit_callbacks(execute=True):
        assert remove_stale_uploads() == 1
    assert list(ChunkedUpload.objects.values_list("upload_id", flat=True)) == [new_id]
    remaining = _partial_files()
    assert len(remaining) == 1
    assert remaining[0] == UploadChunk.objects.get().name.rsplit("/", 1)[1]
    assert not default_storage.exists(old_file)
    assert not default_storage.exists(stray)


def test_a_copy_of_the_last_piece_recorded_after_the_photo_is_dropped(
    gp: Client,
    world: World,
    link: ReferralLesion,
    small_pieces: int,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Two servers get the last piece; one finishes the photo and clears the pieces, then the
    other records its copy (it had seen the upload unfinished). Its copy must not stay behind."""
    raw = photo("dermoscopic", seed=6)
    pieces = pieces_of(raw, small_pieces)
    upload_id = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True):
        for offset, data in pieces:
            send_piece(gp, link, upload_id, offset, data, len(raw))
    upload = ChunkedUpload.objects.get()
    assert upload.image is not None
    assert _partial_files() == []
    late_offset, late_data = pieces[-1]
    with django_capture_on_commit_callbacks(execute=True):
        chunks._store_piece(upload, late_offset // small_pieces, late_data)
        assert UploadChunk.objects.count() == 1
        outcome = chunks._finish(upload.pk, link, Actor(user=world.gp_a))
    assert outcome.image == upload.image
    assert UploadChunk.objects.count() == 0
    assert _partial_files() == []
