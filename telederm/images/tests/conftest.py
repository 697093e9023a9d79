"""Fixtures shared by the tests of photos sent in pieces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from telederm.images import chunks

SMALL = 16 * 1024


@pytest.fixture
def own_media(settings: Any, tmp_path: Path) -> None:
    """A media folder of the test's own, so that "no file left behind" can be checked."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> int:
    """16 KiB pieces, so that a small photo comes in several."""
    monkeypatch.setattr(chunks, "CHUNK_BYTES", SMALL)
    return SMALL
