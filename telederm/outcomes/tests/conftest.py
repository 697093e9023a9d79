from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from telederm.accounts.models import User


@pytest.fixture(autouse=True)
def _in_english(request: pytest.FixtureRequest) -> Iterator[None]:
    """Assertions read the English source strings, whatever the Swedish translation says."""
    if "world" in request.fixturenames:
        request.getfixturevalue("world")
        User.objects.update(language=User.Language.ENGLISH)
    with translation.override("en"):
        yield
