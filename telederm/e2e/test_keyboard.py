"""Journey 1's form steps with the keyboard alone: Tab, Space, Enter and typing."""

from __future__ import annotations

import re

import pytest

from telederm.e2e.journeys import Journeys, gp_sends_with_keyboard

# One worker runs all journeys (they build on each other and share one server).
pytestmark = [pytest.mark.service("chromium"), pytest.mark.xdist_group("browser")]


def test_gp_can_send_a_referral_without_a_mouse(journeys: Journeys) -> None:
    assert re.fullmatch(r"TD\d\d-\d{6}", gp_sends_with_keyboard(journeys))
