"""Helpers for the browser journeys: accessibility checks, screenshots, language and logins.

Every page a journey reaches goes through ``Visit.check``: it waits until the page has loaded
(htmx fragments included), runs axe-core (from the npm registry, ``node_modules/axe-core``) for
WCAG 2.1 A/AA and fails on a serious or critical violation, fails on a page wider than its window
and on English left on a Swedish page, notes controls too small for a finger, and saves a
full-page screenshot when asked. ``Visit`` notices every navigation of the page, so a journey
that reaches a page without checking it fails at the end (``Visit.finish``), as does one whose
pages wrote errors to the browser's console (a script error, a style the CSP refused).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Frame, Page, expect

from telederm.accounts.management.commands.seed_demo import (
    DEMO_PASSWORD,
    FICTION_MOBILE_FIRST,
    PERSONAS,
)
from telederm.e2e.server import DemoServer

AXE_PATH = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}

# The structure of a page: its elements' tags, classes and roles. axe-core takes about half a
# second per page, so a page whose structure it has already seen (the start page after each
# login, say) is not checked again; anything new on it (a card, a warning, an error) is.
STRUCTURE = """() => {
    const seen = new Set();
    for (const el of document.body.querySelectorAll("*")) {
        seen.add(`${el.tagName}.${el.getAttribute("class") || ""}.${el.getAttribute("role") || ""}`);
    }
    return `${window.innerWidth}|${document.documentElement.lang}|${[...seen].sort().join(" ")}`;
}"""
_AXE_SEEN: set[str] = set()

# Controls smaller than a fingertip (44 × 44 CSS px, UX.md) on a phone-sized window. Links inside
# running text are left out: they cannot grow without breaking the sentence (WCAG 2.5.8).
SMALL_TARGETS = """() => {
    if (window.innerWidth > 600) return [];
    const small = [];
    const controls = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]';
    for (const el of document.querySelectorAll(controls)) {
        const box = el.getBoundingClientRect();
        if (!box.width || !box.height || getComputedStyle(el).visibility === "hidden") continue;
        // The body map's regions follow the body; the list below it is the large alternative.
        if (el.closest(".sr-only, .skip-link, .bodymap__skip, .bodymap__region")) continue;
        const hosts = [el.closest("label") || el, ...(el.labels || [])];
        const boxes = hosts.map((host) => host.getBoundingClientRect());
        if (boxes.some((b) => b.height >= 44 && b.width >= 44)) continue;
        const hostBox = boxes[0];
        const parent = el.parentElement;
        if (el.tagName === "A" && parent && parent.textContent.trim() !== el.textContent.trim()
            && getComputedStyle(el).display === "inline") continue;
        const name = (el.getAttribute("aria-label") || el.textContent || el.name || "").trim().slice(0, 40);
        small.push(`${el.tagName.toLowerCase()} "${name}" ${Math.round(hostBox.width)}×${Math.round(hostBox.height)}`);
    }
    return small;
}"""

STICKY = """() => document.querySelectorAll(".sticky-actions").forEach(
    (element) => { element.style.position = "%s"; })"""

HTMX_SETTLED = """() => document.querySelectorAll(
    '[hx-trigger="load"], .htmx-request, .htmx-settling, .htmx-swapping').length === 0"""

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP = {"viewport": {"width": 1440, "height": 900}}

# Words of English that never occur in Swedish running text: one of them on a Swedish page means
# a string that was not marked for translation or has no Swedish yet.
_ENGLISH = re.compile(
    r"\b(the|and|of|to|or|your|you|with|please|this|from|which|have|will|should|referral|"
    r"answer|photo|lesion|send|upload|patient's|manage|passed|failed|equipment|exam|take|add|"
    r"edit|delete|save|cancel|open|search|users?|show|back|previous|new|none)\b",
    re.IGNORECASE,
)
# Wider than the window means sideways scrolling on a phone: a layout fault on any page.
OVERFLOW = """() => {
    const width = document.documentElement.clientWidth;
    const wide = [];
    for (const el of document.body.querySelectorAll("*")) {
        const box = el.getBoundingClientRect();
        if (box.width && box.right > width + 1 && !el.closest(".table-wrap, .viewer-container")) {
            wide.push(`${el.tagName.toLowerCase()}.${el.className} (${Math.round(box.right)}px)`);
        }
    }
    if (document.documentElement.scrollWidth <= width) return [];
    return wide.length ? wide.slice(0, 5) : [`page (${document.documentElement.scrollWidth}px)`];
}"""


def screenshot_dir() -> Path:
    """``$TELEDERM_SCREENSHOTS``, else ``var/screenshots`` in the checkout."""
    configured = os.environ.get("TELEDERM_SCREENSHOTS")
    folder = Path(configured) if configured else Path(settings.BASE_DIR) / "var" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """All WCAG 2.1 A/AA violations axe-core finds on the page as it is now."""
    # Injected with evaluate, which the page's Content-Security-Policy does not govern (a
    # <script> tag would be refused: the policy allows only the site's own files).
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_PATH.read_text(encoding="utf-8"))
    results = page.evaluate(
        """async (tags) => {
            const result = await window.axe.run(document, {
                runOnly: {type: "tag", values: tags},
                resultTypes: ["violations"],
            });
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => ({target: n.target.join(" "), summary: n.failureSummary})),
            }));
        }""",
        WCAG_TAGS,
    )
    return list(results)


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['impact']}: {violation['id']} – {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {node['target']}: {node['summary']}")
    return "\n".join(lines)


def english_on_swedish_page(page: Page) -> list[str]:
    """Lines of visible text on a Swedish page that contain words only English has."""
    if page.evaluate("() => document.documentElement.lang") != "sv":
        return []
    text = page.evaluate("() => document.body.innerText")
    return [line.strip() for line in text.splitlines() if _ENGLISH.search(line)]


@dataclass
class Visit:
    """One browser tab of one persona in one journey."""

    page: Page
    journey: str
    language: str = "sv"  # what <html lang> must say: Swedish unless the user chose English
    checked: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    expected_console_errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("framenavigated", self._navigated)
        self.page.on("console", self._console)
        self.page.on(
            "pageerror", lambda error: self.console_errors.append(f"{self.page.url}: {error}")
        )

    def _console(self, message: ConsoleMessage) -> None:
        # Errors in the browser's console: a script error, a refused inline style.
        if message.type == "error":
            self.console_errors.append(f"{self.page.url}: {message.text[:300]}")

    def _navigated(self, frame: Frame) -> None:
        if frame == self.page.main_frame and frame.url != "about:blank":
            self.unchecked.append(frame.url)

    def check(self, shot: str | None = None, *, full_page: bool = True) -> None:
        """Accessibility and language of the page as it is now; a screenshot when named.

        Serious and critical violations fail the journey; moderate and minor ones, and controls
        smaller than a fingertip on a phone, are written to ``axe-notes.txt`` beside the
        screenshots, to be looked at.
        """
        self.page.wait_for_load_state("load")
        # Parts of a page arrive by htmx after the load event (message threads): wait for them.
        self.page.wait_for_function(HTMX_SETTLED)
        where = f"{self.journey}: {self.page.url}"
        url_path = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}|\d+", "#", urlsplit(self.page.url).path)
        structure = hashlib.sha256(
            (url_path + self.page.evaluate(STRUCTURE)).encode("utf-8")
        ).hexdigest()
        fresh = structure not in _AXE_SEEN
        _AXE_SEEN.add(structure)
        violations = axe_violations(self.page) if fresh else []
        small = self.page.evaluate(SMALL_TARGETS) if fresh else []
        blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
        notes = [v for v in violations if v["impact"] not in BLOCKING_IMPACTS]
        if notes or small:
            with (screenshot_dir() / "axe-notes.txt").open("a", encoding="utf-8") as report:
                report.write(f"{where}\n{describe(notes)}\n")
                report.writelines(f"    small touch target: {target}\n" for target in small)
                report.write("\n")
        assert not blocking, f"axe found serious or critical problems on {where}\n" + describe(
            blocking
        )
        language = self.page.evaluate("() => document.documentElement.lang")
        assert language == self.language, f"{where} is in {language!r}, not {self.language!r}"
        too_wide = self.page.evaluate(OVERFLOW)
        assert not too_wide, f"{where} is wider than the window: {too_wide}"
        english = english_on_swedish_page(self.page)
        assert not english, f"English text on a Swedish page ({where}): {english}"
        self.checked.append(self.page.url)
        self.unchecked = [url for url in self.unchecked if url != self.page.url]
        if shot:
            path = screenshot_dir() / f"{self.journey}-{shot}.png"
            # In a picture of the whole page a sticky button would cover the content wherever
            # the window's bottom edge happened to be. (Through the CSSOM: the page's
            # Content-Security-Policy refuses the <style> Playwright's `style` option adds.)
            if full_page:
                self.page.evaluate(STICKY % "static")
            self.page.screenshot(path=str(path), full_page=full_page, scale="css")
            if full_page:
                self.page.evaluate(STICKY % "")
            self.shots.append(path)

    def goto(self, url: str, shot: str | None = None) -> None:
        self.page.goto(url)
        self.check(shot)

    def finish(self) -> None:
        # A script error or a style the Content-Security-Policy refused means something on the
        # page does not work; a journey names the errors it causes on purpose.
        unexpected = [
            error
            for error in self.console_errors
            if not any(allowed in error for allowed in self.expected_console_errors)
        ]
        assert not unexpected, f"{self.journey}: errors in the browser console: {unexpected}"
        assert not self.unchecked, f"{self.journey}: pages reached but never checked: " + ", ".join(
            self.unchecked
        )


class Personas:
    """Logged-in browser state per persona, so each persona gets (and spends) one SMS code.

    The SMS backend allows three codes per user in ten minutes; the stored state (session and
    trusted-device cookies) lets later journeys open new tabs as the same persona.
    """

    def __init__(self, browser: Browser, server: DemoServer) -> None:
        self.browser = browser
        self.server = server
        self.states: dict[str, Any] = {}

    def context(self, email: str | None, device: dict[str, Any]) -> BrowserContext:
        state = self.states.get(email) if email else None
        context = self.browser.new_context(
            base_url=self.server.base_url, storage_state=state, locale="sv-SE", **device
        )
        # Generous: CI machines and developers' laptops run the rest of the suite beside us.
        context.set_default_timeout(30_000)
        return context

    def remember(self, email: str, context: BrowserContext) -> None:
        self.states[email] = context.storage_state()

    def logged_in(self, email: str, visit: Visit, *, shot_prefix: str | None = None) -> None:
        """Make sure the tab is logged in as ``email``: stored state, else password and code."""
        page = visit.page
        if email in self.states:
            visit.goto("/")
            if "/login" not in page.url:
                return
        log_in(visit, self.server, email, DEMO_PASSWORD, shot_prefix=shot_prefix)
        self.remember(email, page.context)


def mobile_of(email: str) -> str:
    """The demo persona's mobile number (seed_demo gives them in order from a fiction range)."""

    for index, persona in enumerate(PERSONAS):
        if persona[0] == email:
            return f"+46701740{FICTION_MOBILE_FIRST + index}"
    raise KeyError(email)


def log_in(
    visit: Visit,
    server: DemoServer,
    email: str,
    password: str,
    *,
    mobile: str | None = None,
    shot_prefix: str | None = None,
) -> None:
    """Password, then the SMS code read from the demo's SMS file, as a person would type it."""
    page = visit.page
    visit.goto("/login/", shot=f"{shot_prefix}-login" if shot_prefix else None)
    page.get_by_label("E-post").fill(email)
    page.get_by_label("Lösenord").fill(password)
    sent_before = server.sms_count()
    page.get_by_role("button", name="Fortsätt").click()
    page.wait_for_url("**/login/code/**")
    visit.check(shot=f"{shot_prefix}-code" if shot_prefix else None)
    code = server.wait_for_code(mobile or mobile_of(email), after=sent_before)
    page.get_by_label("Engångskod").fill(code)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    visit.check()
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible()
