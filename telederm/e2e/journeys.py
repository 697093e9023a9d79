"""The journeys of issue #6, each once per session, in the order the clinic lives them.

A test asks for the journey it checks; a journey first runs the ones it builds on (the
dermatologist can only answer a referral a GP has sent). Results are kept, so in one session
every journey runs once, and a test run on its own (``pytest -k dermatologist``) still gets
the referral it needs. The tests share an xdist group: with ``-n`` one worker runs them all,
against one server.

Pages are found by what a person sees: roles, labels and the Swedish words on them.
"""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from telederm.e2e.browser import DESKTOP, PHONE, Personas, Visit, log_in
from telederm.e2e.server import DemoServer
from telederm.images import synthetic

GP = "gp.norrmalm@demo.telederm.se"
DERMATOLOGIST = "derm@demo.telederm.se"
CENTER_ADMIN = "center.norrmalm@demo.telederm.se"
COLLEAGUE = "Hugo Hudläkare"  # derm2@, same review unit
PATIENT = "19680423-2004"  # a woman born 1968 (a valid, made-up number)
QUESTION = "Ny pigmenterad förändring på övre delen av ryggen, växt under sommaren. Melanom?"
ANSWER_TEXT = "Dermatoskopiskt ett benignt nevus med regelbundet nätverk. Ingen åtgärd behövs."
GP_REPLY = "Tack! Patienten är informerad."

T = TypeVar("T")


@dataclass(frozen=True)
class Photos:
    overview: Path  # a phone-sized overview photo: passes the quality check
    dermoscopic: Path  # the CC0 thumbnail as it is: few pixels, so a quality warning
    dermoscopic_ok: Path  # a phone-sized dermoscopic photo: passes


@dataclass(frozen=True)
class SentReferral:
    number: str
    url: str


def make_photos(folder: Path) -> Photos:
    """Copies of the CC0 ISIC images (testdata/), one as is and two as phone photos."""
    isic = synthetic.TESTDATA / "ISIC_0000164.jpg"
    lesion = synthetic.isic_image("ISIC_0000164")
    thumbnail = folder / "dermatoskop-liten.jpg"
    shutil.copyfile(isic, thumbnail)

    def save(image: Any, name: str) -> Path:
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=88)
        path = folder / name
        path.write_bytes(buffer.getvalue())
        return path

    size = (2016, 1512)
    return Photos(
        overview=save(
            synthetic.overview_photo(lesion, size=size, seed=6, lesion_fraction=0.12),
            "oversikt.jpg",
        ),
        dermoscopic=thumbnail,
        dermoscopic_ok=save(synthetic.dermoscopic_photo(lesion, size=size, seed=6), "dermato.jpg"),
    )


class Journeys:
    def __init__(self, personas: Personas, server: DemoServer, workdir: Path) -> None:
        self.personas = personas
        self.server = server
        self.photos = make_photos(workdir)
        self._done: dict[str, Any] = {}

    def _once(self, name: str, run: Callable[[], T]) -> T:
        if name not in self._done:
            try:
                self._done[name] = run()
            except Exception as exc:
                self._done[name] = exc
                raise
        result = self._done[name]
        if isinstance(result, Exception):
            pytest.fail(f"needs journey {name}, which failed: {result}", pytrace=False)
        return cast(T, result)

    @contextmanager
    def tab(self, journey: str, email: str | None, device: dict[str, Any]) -> Iterator[Visit]:
        context = self.personas.context(email, device)
        visit = Visit(context.new_page(), journey)
        try:
            if email:
                self.personas.logged_in(email, visit, shot_prefix="00")
            yield visit
            visit.finish()
        finally:
            context.close()

    # --- journey 1: the GP sends a referral from the phone ---------------------------------------

    def gp_sends_referral(self) -> SentReferral:
        return self._once("j1", self._gp_sends_referral)

    def _gp_sends_referral(self) -> SentReferral:
        with self.tab("j1", GP, PHONE) as visit:
            page = visit.page
            visit.check("01-start")
            page.get_by_role("button", name=re.compile("Ny remiss")).click()
            page.wait_for_url("**/patient/")
            visit.check()
            fill_patient(page, PATIENT)
            expect(page.locator("#pnr-check")).to_contain_text("Kvinna")
            visit.check("02-patient")
            page.get_by_role("button", name="Nästa: hudförändringar").click()
            page.wait_for_url("**/lesions/")
            visit.check("03-lesions")

            # The body map: tap the upper back on the picture of the back.
            page.locator("svg[data-view=back] [data-site=upper_back]").tap()
            expect(page.get_by_label("Lokalisation")).to_have_value("upper_back")
            expect(page.locator("[data-bodymap-status]")).to_contain_text("Övre delen av ryggen")
            visit.check("04-bodymap-chosen")
            page.get_by_role("button", name="Lägg till hudförändring och ta bilder").click()
            page.wait_for_url("**/photos/")
            visit.check("05-photos-empty")

            upload_with_progress(visit, "overview", self.photos.overview, shot="06-uploading")
            overview = page.locator(".image-card:not(.image-card--pending)").filter(
                has_text="Översiktsbild"
            )
            expect(overview).to_contain_text("Kvaliteten är bra")
            page.locator("input[data-kind=dermoscopic]").set_input_files(self.photos.dermoscopic)
            dermoscopic = page.locator(".image-card:not(.image-card--pending)").filter(
                has_text="Dermatoskopisk bild"
            )
            expect(dermoscopic).to_contain_text("få pixlar")
            expect(dermoscopic.get_by_role("button", name="Ta om")).to_be_visible()
            visit.check("07-quality-warning")
            dermoscopic.get_by_role("button", name="Använd ändå").click()
            expect(
                page.locator(".image-card").filter(has_text="Dermatoskopisk bild")
            ).to_contain_text("Du valde att använda den ändå")
            visit.check("08-photos-done")

            page.get_by_role("link", name="Klar med den här hudförändringen").click()
            page.wait_for_url("**/lesions/")
            visit.check("09-lesion-list")
            page.get_by_role("link", name="Nästa: anamnes").click()
            page.wait_for_url("**/history/")
            visit.check()
            choose(page, "Hur länge har hudförändringen funnits?", "1–6 månader")
            page.get_by_label("Ändrad storlek").check()
            choose(page, "Din egen bedömning", "Misstänkt melanom")
            page.get_by_label("Din frågeställning till dermatologen").fill(QUESTION)
            expect(page.locator("#autosave")).to_contain_text("Sparat")
            visit.check("10-history")
            page.get_by_role("button", name="Nästa: granska och skicka").click()
            page.wait_for_url("**/review/")
            visit.check("11-check-and-send")
            page.get_by_role("button", name="Skicka remiss").click()
            page.wait_for_url(re.compile(r"/referrals/[0-9a-f-]+/$"))
            visit.check("12-sent")
            expect(page.get_by_role("status")).to_contain_text("har skickats")
            expect(page.locator(".timeline")).to_contain_text("Skickad")
            expect(page.locator(".timeline")).to_contain_text("Under bedömning")
            number = page.locator("h1").inner_text().strip()
            assert re.fullmatch(r"TD\d\d-\d{6}", number), number
            url = page.url
            # The clinic's list shows it among those waiting, with the days left.
            page.get_by_role("link", name="Remisser", exact=True).first.click()
            page.wait_for_url("**/referrals/")
            visit.check("13-referrals-waiting")
            waiting = page.locator("#waiting tr").filter(has_text=number)
            expect(waiting).to_contain_text("7 dagar kvar")
            return SentReferral(number=number, url=url)

    # --- journey 2: the dermatologist answers at the desk ----------------------------------------

    def dermatologist_answers(self) -> SentReferral:
        return self._once("j2", self._dermatologist_answers)

    def _dermatologist_answers(self) -> SentReferral:
        sent = self.gp_sends_referral()
        with self.tab("j2", DERMATOLOGIST, DESKTOP) as visit:
            page = visit.page
            visit.check("01-start")
            page.get_by_role("navigation", name="Huvudmeny").get_by_role(
                "link", name=re.compile("Granskningskö")
            ).click()
            page.wait_for_url("**/review/")
            visit.check("02-queue")
            first_row = page.locator("table tbody tr").first
            expect(first_row).to_contain_text(sent.number)
            expect(first_row).to_contain_text("Misstänkt melanom")
            first_row.get_by_role("link", name=sent.number).click()
            page.wait_for_url("**/review/*/")
            visit.check("03-case")
            page.get_by_role("button", name="Ta ärendet").click()
            expect(page.get_by_role("button", name="Skicka svar")).to_be_visible()
            visit.check()

            zoom_in_viewer(visit)

            page.get_by_label("Fråga en kollega").select_option(label=COLLEAGUE)
            page.get_by_role("button", name="Fråga", exact=True).click()
            page.wait_for_load_state("load")
            expect(
                page.get_by_text(re.compile("Tillfrågade kollegor:.*" + COLLEAGUE))
            ).to_be_visible()
            visit.check("05-consultation-asked")

            page.get_by_label("Diagnos").select_option(label="Benignt nevus")
            choose(page, "Säkerhet", "Säker")
            choose(page, "Rekommenderad åtgärd", "Ingen åtgärd")
            page.get_by_label("Svar till distriktsläkaren").fill(ANSWER_TEXT)
            visit.check("06-answer-filled")
            page.get_by_role("button", name="Skicka svar").click()
            page.wait_for_url("**/review/")
            visit.check("07-answer-sent")
            expect(page.get_by_role("status")).to_contain_text(sent.number)
            expect(page.locator("table")).not_to_contain_text(sent.number)
        return sent

    # --- journey 3: the GP reads the answer on the phone and replies ----------------------------

    def gp_reads_answer(self) -> SentReferral:
        return self._once("j3", self._gp_reads_answer)

    def _gp_reads_answer(self) -> SentReferral:
        sent = self.dermatologist_answers()
        with self.tab("j3", GP, PHONE) as visit:
            page = visit.page
            visit.check("01-start-new-answer")
            nav = page.get_by_role("navigation", name="Huvudmeny")
            expect(nav.get_by_role("link", name=re.compile("Remisser"))).to_contain_text(
                "1 nya svar"
            )
            page.get_by_role("link", name=re.compile("1 nytt svar")).click()
            page.wait_for_url("**/referrals/#answers")
            visit.check("02-referrals")
            row = page.locator("tr").filter(has_text=sent.number)
            expect(row).to_contain_text("Nytt")
            row.get_by_role("link", name=sent.number).click()
            page.wait_for_url(sent.url)
            visit.check("03-answer")
            answer = page.locator(".answer-box")
            expect(answer).to_contain_text("Benignt nevus")
            expect(answer).to_contain_text("Ingen åtgärd")
            expect(answer).to_contain_text(ANSWER_TEXT)
            page.get_by_role("button", name="Markera som läst").click()
            page.wait_for_url(sent.url)
            expect(page.get_by_text(re.compile("Läst .* av Gustav Läkarsson"))).to_be_visible()
            visit.check()
            thread = page.locator("#thread-clinic")
            thread.get_by_label("Nytt meddelande").fill(GP_REPLY)
            thread.get_by_role("button", name="Skicka meddelande").click()
            expect(page.locator("#thread-clinic .msg--mine")).to_contain_text(GP_REPLY)
            visit.check("04-replied")
            expect(nav.get_by_role("link", name=re.compile("Remisser"))).not_to_contain_text(
                "nya svar"
            )
        return sent


RECORD_CARD_TEXTS = """() => {
    window.teledermCardTexts = [];
    const grid = document.getElementById("images");
    new MutationObserver(() => {
        for (const card of grid.querySelectorAll(".image-card--pending figcaption p")) {
            window.teledermCardTexts.push(card.textContent);
        }
    }).observe(grid, {subtree: true, childList: true, characterData: true});
}"""


def fill_patient(page: Page, number: str) -> None:
    page.get_by_label("Personnummer eller samordningsnummer").fill(number)


def choose(page: Page, question: str, answer: str) -> None:
    """Tap one choice of a radio group (the fieldset's legend is the question)."""
    group = page.get_by_role("group", name=question)
    group.get_by_text(answer, exact=True).click()


def upload_with_progress(visit: Visit, kind: str, photo: Path, *, shot: str) -> None:
    """Upload through the file input on a slow line, so the progress bar can be seen moving."""
    page = visit.page
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 20,
            "downloadThroughput": 4 * 1024 * 1024,
            "uploadThroughput": 512 * 1024,
        },
    )
    try:
        page.locator(f"input[data-kind={kind}]").set_input_files(photo)
        bar = page.locator(".image-card--pending progress")
        expect(bar).to_be_visible()
        page.wait_for_function(
            "() => { const b = document.querySelector('.image-card--pending progress');"
            " return b && b.value > 0 && b.value < 100; }"
        )
        expect(page.locator(".image-card--pending")).to_contain_text(
            re.compile("Laddar upp|Kontrollerar kvaliteten")
        )
        visit.check(shot)
    finally:
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        cdp.detach()
    expect(page.locator(".image-card--pending")).to_have_count(0, timeout=30_000)


def zoom_in_viewer(visit: Visit) -> None:
    """Open the first photo in the viewer, zoom in with the keyboard, close it with Esc."""
    page = visit.page
    page.locator("a[data-viewer-open]").first.click()
    canvas_image = page.locator(".viewer-container .viewer-canvas img")
    expect(canvas_image).to_be_visible()
    page.wait_for_timeout(300)
    before = canvas_image.bounding_box()
    page.keyboard.press("+")
    page.keyboard.press("+")
    page.wait_for_timeout(300)
    after = canvas_image.bounding_box()
    assert before is not None
    assert after is not None
    assert after["width"] > before["width"] * 1.3, (before, after)
    visit.check("04-viewer-zoomed", full_page=False)  # the viewer covers the window
    page.keyboard.press("Escape")
    expect(page.locator(".viewer-container")).to_be_hidden()


# --- journey 4: the center administrator adds a colleague, who activates the account ---------

NEW_USER = {
    "first": "Vera",
    "last": "Nyström",
    "email": "vera.nystrom@demo.telederm.se",
    "hsa_id": "SE2321000016-TDU050",
    "title": "ST-läkare",
    "mobile": "070-174 06 50",
    "mobile_e164": "+46701740650",
    "password": "sommar-vid-havet-2026",
}


def admin_adds_user(journeys: Journeys) -> str:
    """Journey 4; returns the new user's e-mail address once they have logged in."""
    with journeys.tab("j4", CENTER_ADMIN, DESKTOP) as visit:
        page = visit.page
        visit.check("01-start")
        page.get_by_role("navigation", name="Huvudmeny").get_by_role(
            "link", name="Vårdcentral Norrmalm (demo)"
        ).click()
        page.wait_for_url("**/org/*/")
        visit.check("02-clinic")
        page.get_by_role("link", name="Ny användare").click()
        page.wait_for_url("**/users/new/")
        visit.check()
        page.get_by_label("Förnamn").fill(NEW_USER["first"])
        page.get_by_label("Efternamn").fill(NEW_USER["last"])
        page.get_by_label("E-post").fill(NEW_USER["email"])
        page.get_by_label("HSA-id").fill(NEW_USER["hsa_id"])
        page.get_by_label("Yrkestitel").fill(NEW_USER["title"])
        page.get_by_label("Privat mobilnummer").fill(NEW_USER["mobile"])
        page.get_by_label("Roll").select_option("gp")
        visit.check("03-new-user")
        page.get_by_role("button", name="Skapa användare och skicka aktiveringslänk").click()
        page.wait_for_url("**/org/*/")
        visit.check("04-user-created")
        row = page.locator("tr").filter(has_text=NEW_USER["email"])
        expect(row).to_contain_text("Inte aktiverad")

    mail = journeys.server.wait_for_mail(NEW_USER["email"])
    link = journeys.server.link_in(mail, "/activate/")
    with journeys.tab("j4b", None, PHONE) as visit:
        page = visit.page
        visit.goto(link, shot="01-activate")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Aktivera")
        page.get_by_label("Nytt lösenord").fill(NEW_USER["password"])
        page.get_by_label("Upprepa lösenordet").fill(NEW_USER["password"])
        page.get_by_role("button", name="Spara lösenord").click()
        page.wait_for_url("**/login/")
        visit.check("02-password-set")
        expect(page.get_by_role("status")).to_be_visible()
        log_in(
            visit,
            journeys.server,
            NEW_USER["email"],
            NEW_USER["password"],
            mobile=NEW_USER["mobile_e164"],
        )
        visit.check("03-first-login")
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Välkommen, {NEW_USER['first']}")
    return NEW_USER["email"]


# --- journey 5: the line drops while a photo uploads ------------------------------------------


def upload_survives_dropped_connection(journeys: Journeys) -> int:
    """Journey 5; returns the number of photos the lesion has at the end."""
    photos = journeys.photos
    with journeys.tab("j5", GP, PHONE) as visit:
        page = visit.page
        visit.check()
        page.get_by_role("button", name=re.compile("Ny remiss")).click()
        page.wait_for_url("**/patient/")
        visit.check()
        fill_patient(page, "19910527-3453")
        expect(page.locator("#pnr-check")).to_contain_text("Man")
        page.get_by_role("button", name="Nästa: hudförändringar").click()
        page.wait_for_url("**/lesions/")
        visit.check()
        # This time the list below the body map, as a GP without a good grip on the map would.
        page.get_by_label("Lokalisation").select_option(label="Underarm, handflatesidan")
        page.get_by_label("Sida (patientens)").select_option("L")
        expect(page.locator("[data-bodymap-status]")).to_contain_text("Underarm, handflatesidan")
        page.get_by_role("button", name="Lägg till hudförändring och ta bilder").click()
        page.wait_for_url("**/photos/")
        visit.check()
        photos_url = page.url
        # The browser reports the two broken uploads below in its console, as it should.
        visit.expected_console_errors += ["ERR_CONNECTION_RESET", "ERR_INTERNET_DISCONNECTED"]

        # 1. The photo reaches the server but the answer is lost on the way back: the browser
        # sends it whole, the server stores it, and the connection breaks before the answer.
        # (Chromium's DevTools protocol pauses the answer; Playwright's own routing cannot, as
        # it sees requests before they are sent and without the file's bytes.)
        lost: list[int] = []
        answered: list[int] = []
        cdp = page.context.new_cdp_session(page)

        def lose_first_answer(event: dict[str, Any]) -> None:
            lost.append(int(event.get("responseStatusCode", 0)))
            cdp.send(
                "Fetch.failRequest",
                {"requestId": event["requestId"], "errorReason": "ConnectionReset"},
            )
            cdp.send("Fetch.disable")

        def note_answer(response: Any) -> None:
            if response.url.endswith("/upload/"):
                answered.append(response.status)

        cdp.on("Fetch.requestPaused", lose_first_answer)
        cdp.send(
            "Fetch.enable", {"patterns": [{"urlPattern": "*/upload/", "requestStage": "Response"}]}
        )
        page.on("response", note_answer)
        # The retry follows within a second: record what the card said rather than race it.
        page.evaluate(RECORD_CARD_TEXTS)
        page.locator("input[data-kind=overview]").set_input_files(photos.overview)
        pending = page.locator(".image-card--pending")
        expect(pending).to_have_count(0, timeout=30_000)
        cdp.detach()
        said = page.evaluate("() => window.teledermCardTexts")
        assert any("Anslutningen bröts – försöker igen" in text for text in said), said
        # The first attempt stored the photo (201); the repeat got the stored one back (200).
        assert lost == [201], lost
        assert answered == [200], answered
        expect(page.locator(".image-card").filter(has_text="Översiktsbild")).to_contain_text(
            "Kvaliteten är bra"
        )

        # 2. The phone goes offline before the upload starts, and comes back.
        page.context.set_offline(True)
        page.locator("input[data-kind=dermoscopic]").set_input_files(photos.dermoscopic_ok)
        expect(pending).to_contain_text("Anslutningen bröts – försöker igen")
        visit.check("01-offline-retrying")
        page.context.set_offline(False)
        expect(pending).to_have_count(0, timeout=30_000)
        expect(page.locator(".image-card").filter(has_text="Dermatoskopisk bild")).to_contain_text(
            "Kvaliteten är bra"
        )
        visit.check("02-recovered")

        # Nothing was lost and nothing doubled: the draft, seen afresh from the server.
        page.goto(photos_url)
        visit.check("03-reloaded")
        expect(page.locator(".patient-banner")).to_contain_text("19910527-3453")
        cards = page.locator(".image-card")
        expect(cards).to_have_count(2)
        count = cards.count()
        page.get_by_role("link", name="Klar med den här hudförändringen").click()
        page.wait_for_url("**/lesions/")
        visit.check("04-lesion-list")
        lesion = page.locator(".lesion-item")
        expect(lesion).to_have_count(1)
        expect(lesion).to_contain_text("Översiktsbild (1)")
        expect(lesion).to_contain_text("Dermatoskopisk bild (1)")
    return count


# --- journey 1 once more, with the keyboard only ----------------------------------------------

KEYBOARD = {"viewport": {"width": 1280, "height": 900}}


def focus_by_tab(page: Page, target: Locator, *, limit: int = 120) -> None:
    """Press Tab until ``target`` has the focus (as a keyboard user finds their way)."""
    target.wait_for(state="attached")
    for _ in range(limit):
        if target.evaluate("(element) => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {target}")


def choose_file_with_space(visit: Visit, photo: Path) -> None:
    """Space on the focused photo button opens the file chooser; Playwright picks the photo.

    Now and then headless Chromium lets a Space pass without opening the chooser; a person
    presses again, and so does this (at most twice more).
    """
    page = visit.page
    for _attempt in range(3):
        try:
            with page.expect_file_chooser(timeout=5_000) as chooser:
                page.keyboard.press("Space")
        except PlaywrightTimeoutError:
            continue
        chooser.value.set_files(photo)
        return
    raise AssertionError(
        f"Space on {page.evaluate('() => document.activeElement.outerHTML')} never opened the "
        f"file chooser; console: {visit.console_errors}"
    )


def gp_sends_with_keyboard(journeys: Journeys) -> str:
    """Journey 1's form steps with Tab, Space, Enter and typing only; returns the number."""
    photos = journeys.photos
    with journeys.tab("kb", GP, KEYBOARD) as visit:
        page = visit.page
        visit.check()
        focus_by_tab(page, page.get_by_role("button", name=re.compile("Ny remiss")))
        page.keyboard.press("Enter")
        page.wait_for_url("**/patient/")
        visit.check()
        focus_by_tab(page, page.get_by_label("Personnummer eller samordningsnummer"))
        page.keyboard.type("19820314-3451")
        expect(page.locator("#pnr-check")).to_contain_text("Man")
        focus_by_tab(page, page.get_by_role("button", name="Nästa: hudförändringar"))
        page.keyboard.press("Enter")
        page.wait_for_url("**/lesions/")
        visit.check()

        # The body map's regions are buttons in the tab order; Space chooses one.
        region = page.locator("svg[data-view=front] [data-site=forearm_front][data-side=R]")
        focus_by_tab(page, region)
        visit.check("01-bodymap-focus")
        page.keyboard.press("Space")
        expect(page.get_by_label("Lokalisation")).to_have_value("forearm_front")
        expect(page.get_by_label("Sida (patientens)")).to_have_value("R")
        focus_by_tab(page, page.get_by_role("button", name="Lägg till hudförändring och ta bilder"))
        page.keyboard.press("Enter")
        page.wait_for_url("**/photos/")
        visit.check()

        # The photo buttons are file inputs: Space opens the phone's camera or file picker,
        # which Playwright answers with the file (no mouse, and no set_input_files needed).
        for kind, photo in (("overview", photos.overview), ("dermoscopic", photos.dermoscopic_ok)):
            focus_by_tab(page, page.locator(f"input[data-kind={kind}]"))
            choose_file_with_space(visit, photo)
            expect(page.locator(".image-card--pending")).to_have_count(0, timeout=30_000)
        expect(page.locator(".image-card").filter(has_text="Kvaliteten är bra")).to_have_count(2)
        visit.check("02-photos")
        focus_by_tab(page, page.get_by_role("link", name="Klar med den här hudförändringen"))
        page.keyboard.press("Enter")
        page.wait_for_url("**/lesions/")
        visit.check()
        focus_by_tab(page, page.get_by_role("link", name="Nästa: anamnes"))
        page.keyboard.press("Enter")
        page.wait_for_url("**/history/")
        visit.check()

        # Tab lands on the first choice of a radio group; Space picks it.
        focus_by_tab(
            page, page.get_by_role("group", name="Din egen bedömning").get_by_label("Benign")
        )
        page.keyboard.press("Space")
        focus_by_tab(page, page.get_by_label("Din frågeställning till dermatologen"))
        page.keyboard.type("Oregelbundet nevus, patienten vill ha en bedömning.")
        focus_by_tab(page, page.get_by_role("button", name="Nästa: granska och skicka"))
        page.keyboard.press("Enter")
        page.wait_for_url("**/review/")
        visit.check("03-check-and-send")
        focus_by_tab(page, page.get_by_role("button", name="Skicka remiss"))
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/referrals/[0-9a-f-]+/$"))
        visit.check("04-sent")
        expect(page.get_by_role("status")).to_contain_text("har skickats")
        return page.locator("h1").inner_text().strip()


# --- language: Swedish by default, English on request -----------------------------------------


def switch_language(journeys: Journeys) -> None:
    with journeys.tab("lang", None, PHONE) as visit:
        page = visit.page
        visit.goto("/login/")
        assert page.evaluate("() => document.documentElement.lang") == "sv"
        expect(page.get_by_role("heading", level=1)).to_have_text("Logga in i Telederm")
        expect(page.get_by_label("Lösenord")).to_be_visible()
        page.get_by_role("button", name="English").click()
        page.wait_for_function("() => document.documentElement.lang === 'en'")
        visit.language = "en"
        visit.check("01-login-english")
        expect(page.get_by_role("heading", level=1)).to_have_text("Log in to Telederm")
        expect(page.get_by_label("Password")).to_be_visible()
        expect(page.get_by_role("button", name="Continue")).to_be_visible()
        visit.goto("/about/", shot="02-about-english")
        assert page.evaluate("() => document.documentElement.lang") == "en"
        page.get_by_role("button", name="Svenska").click()
        page.wait_for_function("() => document.documentElement.lang === 'sv'")
        visit.language = "sv"
        visit.check("03-about-swedish")


# --- the smallest phone and the largest desk ---------------------------------------------------

SMALL_PHONE = {**PHONE, "viewport": {"width": 320, "height": 640}}
LARGE_DESK = {"viewport": {"width": 1920, "height": 1080}}


def pages_at_320_and_1920(journeys: Journeys) -> list[str]:
    """The pages of journeys 1–3 on a 320 px phone and a 1920 px screen; returns the shots."""
    sent = journeys.gp_reads_answer()
    shots: list[str] = []
    with journeys.tab("w320", None, SMALL_PHONE) as visit:
        visit.goto("/login/", shot="01-login")
        shots += [p.name for p in visit.shots]
    with journeys.tab("w320", GP, SMALL_PHONE) as visit:
        visit.goto("/", shot="02-start")
        visit.goto("/referrals/", shot="03-referrals")
        visit.goto(sent.url, shot="04-referral")
        shots += [p.name for p in visit.shots]
    with journeys.tab("w1920", DERMATOLOGIST, LARGE_DESK) as visit:
        visit.goto("/review/", shot="01-queue")
        visit.goto(sent.url.replace("/referrals/", "/review/"), shot="02-case")
        shots += [p.name for p in visit.shots]
    return shots
