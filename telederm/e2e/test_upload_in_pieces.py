"""A phone photo larger than one piece goes in pieces (``static/telederm/upload.js``), and a
piece whose answer is lost is sent again on its own: one photo, no double, the usual card."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from telederm.e2e.browser import PHONE
from telederm.e2e.journeys import GP, RECORD_CARD_TEXTS, Journeys, fill_patient
from telederm.images.chunks import CHUNK_BYTES
from telederm.images.synthetic import PhotoExif, dermoscopic_photo, encode_jpeg

pytestmark = [pytest.mark.service("chromium"), pytest.mark.xdist_group("browser")]
CHUNK_URL = "*/upload/chunk/"


def test_large_photo_goes_in_pieces_and_a_lost_piece_is_sent_again(
    journeys: Journeys, tmp_path: Path
) -> None:
    big = tmp_path / "stor-dermatoskopbild.jpg"
    big.write_bytes(encode_jpeg(dermoscopic_photo(seed=31), exif=PhotoExif(orientation=1)))
    pieces = -(-big.stat().st_size // CHUNK_BYTES)
    assert pieces >= 3
    with journeys.tab("pieces", GP, PHONE) as visit:
        page = visit.page
        visit.check()
        page.get_by_role("button", name=re.compile("Ny remiss")).click()
        page.wait_for_url("**/patient/")
        visit.check()
        fill_patient(page, "19121212-1212")
        expect(page.locator("#pnr-check")).to_contain_text("Man")
        page.get_by_role("button", name="Nästa: hudförändringar").click()
        page.wait_for_url("**/lesions/")
        visit.check()
        page.get_by_label("Lokalisation").select_option(label="Underarm, handflatesidan")
        page.get_by_label("Sida (patientens)").select_option("R")
        page.get_by_role("button", name="Lägg till hudförändring och ta bilder").click()
        page.wait_for_url("**/photos/")
        visit.check()
        photos_url = page.url
        visit.expected_console_errors += ["ERR_CONNECTION_RESET"]

        # The second piece reaches the server, but its answer is lost on the way back.
        seen: list[int] = []
        lost: list[int] = []
        cdp = page.context.new_cdp_session(page)

        def lose_second_answer(event: dict[str, Any]) -> None:
            if len(seen) == 1 and not lost:
                lost.append(int(event.get("responseStatusCode", 0)))
                cdp.send(
                    "Fetch.failRequest",
                    {"requestId": event["requestId"], "errorReason": "ConnectionReset"},
                )
                return
            seen.append(int(event.get("responseStatusCode", 0)))
            cdp.send("Fetch.continueRequest", {"requestId": event["requestId"]})

        cdp.on("Fetch.requestPaused", lose_second_answer)
        cdp.send(
            "Fetch.enable", {"patterns": [{"urlPattern": CHUNK_URL, "requestStage": "Response"}]}
        )
        page.evaluate(RECORD_CARD_TEXTS)
        page.locator("input[data-kind=dermoscopic]").set_input_files(big)
        expect(page.locator(".image-card--pending")).to_have_count(0, timeout=60_000)
        cdp.send("Fetch.disable")
        cdp.detach()

        said = page.evaluate("() => window.teledermCardTexts")
        assert any("Anslutningen bröts – försöker igen" in text for text in said), said
        # Piece 1 → 202; piece 2 → 202, answer lost; piece 2 again → 202; … last → 201.
        assert lost == [202], lost
        assert seen == [202] * (pieces - 1) + [201], seen
        card = page.locator(".image-card").filter(has_text="Dermatoskopisk bild")
        expect(card).to_have_count(1)
        expect(card).to_contain_text("Kvaliteten är bra")

        page.goto(photos_url)
        visit.check()
        expect(page.locator(".image-card")).to_have_count(1)
