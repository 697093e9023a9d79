"""Swedish by default on every page the journeys see (``Visit.check`` asserts ``<html lang>``
and looks for English words); English when the user asks for it, and back."""

from __future__ import annotations

import pytest

from telederm.e2e.journeys import Journeys, switch_language

# One worker runs all journeys (they build on each other and share one server).
pytestmark = [pytest.mark.service("chromium"), pytest.mark.xdist_group("browser")]


def test_the_language_switch_shows_english_and_back_swedish(journeys: Journeys) -> None:
    switch_language(journeys)
