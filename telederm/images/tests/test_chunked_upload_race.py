"""Two servers receive the last piece of one photo at the same moment (PostgreSQL): the photo
is stored once, by one call of ``services.add_image``."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

import pytest
from django.db import connection, connections

from telederm.audit.models import Action, AuditEvent
from telederm.audit.services import Actor
from telederm.images import chunks, services
from telederm.images.models import LesionImage, UploadChunk
from telederm.images.processing import ingest
from telederm.images.tests.test_chunked_upload import pieces_of, stored_sha
from telederm.referrals import services as referrals
from telederm.referrals.models import ReferralLesion
from telederm.referrals.tests.helpers import _a_site, draft
from telederm.testing import World, photo

pytestmark = [pytest.mark.postgres_only, pytest.mark.usefixtures("own_media")]


@pytest.fixture
def pg_link(live_db: None, world: World) -> ReferralLesion:
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency is tested on PostgreSQL")
    referral = draft(world)
    return referrals.add_lesion(
        referral=referral, body_site=_a_site(), laterality="L", by=Actor(user=world.gp_a)
    )


def _race(
    link: ReferralLesion,
    user: Any,
    sends: list[tuple[int, bytes]],
    upload_id: uuid.UUID,
    total: int,
) -> list[chunks.Outcome]:
    barrier = Barrier(len(sends))

    def send(piece: tuple[int, bytes]) -> chunks.Outcome:
        try:
            barrier.wait(timeout=30)
            return chunks.receive_chunk(
                link=ReferralLesion.objects.select_related("referral").get(pk=link.pk),
                piece=chunks.Piece(
                    upload_id=upload_id,
                    kind="dermoscopic",
                    total_bytes=total,
                    offset=piece[0],
                    data=piece[1],
                ),
                by=Actor(user=user),
            )
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(sends)) as pool:
        return list(pool.map(send, sends))


@pytest.mark.parametrize("same_piece", [True, False], ids=["same-last-piece", "two-last-pieces"])
def test_two_servers_receiving_the_last_piece_at_once_store_one_photo(
    pg_link: ReferralLesion,
    world: World,
    small_pieces: int,
    monkeypatch: pytest.MonkeyPatch,
    same_piece: bool,
) -> None:
    calls: list[uuid.UUID] = []
    real_add_image = services.add_image

    def counting_add_image(**kwargs: Any) -> Any:
        calls.append(kwargs["upload_id"])
        time.sleep(0.2)  # a slow ingest widens the window in which the other one could enter
        return real_add_image(**kwargs)

    monkeypatch.setattr(services, "add_image", counting_add_image)
    raw = photo("dermoscopic", seed=9)
    pieces = pieces_of(raw, small_pieces)
    upload_id = uuid.uuid4()
    early = pieces[:-1] if same_piece else pieces[:-2]
    for offset, data in early:
        chunks.receive_chunk(
            link=pg_link,
            piece=chunks.Piece(upload_id, "dermoscopic", len(raw), offset, data),
            by=Actor(user=world.gp_a),
        )
    last = [pieces[-1], pieces[-1]] if same_piece else pieces[-2:]
    outcomes = _race(pg_link, world.gp_a, last, upload_id, len(raw))

    image = LesionImage.objects.get()
    assert calls == [upload_id]
    assert [outcome.image for outcome in outcomes if outcome.created] == [image]
    # The other request found the photo stored, or (two pieces) finished before the last one
    # was recorded and was told which piece was still missing.
    for outcome in outcomes:
        assert outcome.image == image or (outcome.image is None and outcome.missing)
    assert image.sha256 == ingest(raw, kind="dermoscopic").sha256 == stored_sha(image)
    assert AuditEvent.objects.filter(action=Action.IMAGE_UPLOADED).count() == 1
    assert UploadChunk.objects.count() == 0
