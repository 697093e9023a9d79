"""The whole journey of a referral in a real browser against the real server (issue #6).

Every page on the way is checked with axe-core (no serious or critical WCAG 2.1 AA problem),
must be Swedish, and is saved as a screenshot (see ``browser.screenshot_dir``).
"""

from __future__ import annotations

import re

import pytest

from telederm.e2e.journeys import (
    Journeys,
    admin_adds_user,
    pages_at_320_and_1920,
    upload_survives_dropped_connection,
)

# One worker runs all journeys (they build on each other and share one server).
pytestmark = [pytest.mark.service("chromium"), pytest.mark.xdist_group("browser")]


def test_gp_sends_a_referral_from_the_phone(journeys: Journeys) -> None:
    sent = journeys.gp_sends_referral()
    assert re.fullmatch(r"TD\d\d-\d{6}", sent.number)


def test_dermatologist_takes_the_top_case_zooms_consults_and_answers(journeys: Journeys) -> None:
    answered = journeys.dermatologist_answers()
    assert answered == journeys.gp_sends_referral()


def test_gp_sees_the_new_answer_reads_it_and_replies(journeys: Journeys) -> None:
    journeys.gp_reads_answer()


def test_center_admin_adds_a_user_who_activates_and_logs_in(journeys: Journeys) -> None:
    assert admin_adds_user(journeys) == "vera.nystrom@demo.telederm.se"


def test_dropped_connection_during_upload_loses_nothing_and_doubles_nothing(
    journeys: Journeys,
) -> None:
    assert upload_survives_dropped_connection(journeys) == 2


def test_pages_fit_a_320_px_phone_and_a_1920_px_screen(journeys: Journeys) -> None:
    # Visit.check fails on any page wider than its window (sideways scrolling).
    assert len(pages_at_320_and_1920(journeys)) == 6
