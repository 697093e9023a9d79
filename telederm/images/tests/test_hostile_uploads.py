"""Hostile uploads through the service: a rejected file is never stored, nothing else changes."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings

from telederm.audit.models import Action, AuditEvent
from telederm.audit.services import Actor
from telederm.images.models import LesionImage
from telederm.images.services import add_image
from telederm.images.tests.test_processing import mutated
from telederm.referrals import services
from telederm.referrals.models import ReferralLesion
from telederm.referrals.tests.helpers import _a_site, draft
from telederm.testing import World

pytestmark = pytest.mark.django_db
HOSTILE = {
    "html": b"<html><script>alert(1)</script></html>",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    "zip": b"PK\x03\x04" + b"\0" * 100,
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n",
    "elf": b"\x7fELF\x02\x01\x01" + b"\0" * 64,
    "jpeg_header_only": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "png_header_only": b"\x89PNG\r\n\x1a\n",
}


def _files() -> set[Path]:
    root = Path(django_settings.MEDIA_ROOT)
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.fixture(autouse=True)
def _own_media(settings: Any, tmp_path: Path) -> None:
    """Photos of this test only: another xdist worker's uploads must not count as new files."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def link(world: World) -> ReferralLesion:
    referral = draft(world)
    return services.add_lesion(
        referral=referral, body_site=_a_site(), laterality="L", by=Actor(user=world.gp_a)
    )


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_files_are_refused_and_leave_nothing_behind(
    world: World, link: ReferralLesion, name: str
) -> None:
    before = _files()
    with pytest.raises(ValidationError):
        add_image(
            link=link,
            kind="dermoscopic",
            raw=HOSTILE[name],
            upload_id=uuid.uuid4(),
            by=Actor(user=world.gp_a),
        )
    assert not LesionImage.objects.exists()
    assert _files() == before
    assert AuditEvent.objects.filter(action=Action.IMAGE_REJECTED).count() == 1


@pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")
@settings(
    max_examples=60,
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(raw=mutated())
def test_mutated_uploads_are_stored_whole_or_not_at_all(
    world: World, link: ReferralLesion, raw: bytes
) -> None:
    before_files, before_rows = _files(), LesionImage.objects.count()
    try:
        image, _created = add_image(
            link=link,
            kind="dermoscopic",
            raw=raw,
            upload_id=uuid.uuid4(),
            by=Actor(user=world.gp_a),
        )
    except ValidationError:
        assert _files() == before_files
        assert LesionImage.objects.count() == before_rows
    else:
        # Accepted: the row and exactly its three files exist, and nothing else was written.
        new = _files() - before_files
        stored = {Path(f.path) for f in (image.original, image.thumbnail, image.screen)}
        assert new == stored
        assert all(path.stat().st_size > 0 for path in stored)
