from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import LazySettings


@pytest.fixture(autouse=True)
def _own_media_root(settings: LazySettings, tmp_path: Path) -> None:
    # Question images and test-photo thumbnails go to a folder of this test's own, so that
    # tests which count the files under the shared MEDIA_ROOT (images/tests) never see them.
    settings.MEDIA_ROOT = str(tmp_path / "media")
