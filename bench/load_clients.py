"""The users of the load test (``bench/load.py``): GPs and dermatologists as browsers would be.

Plain ``requests`` against the real server, no Django in here: each user has its own cookies
(the session made in the load script's setup, the ``csrftoken`` the first page sets) and sends
each form the way the browser does (``csrfmiddlewaretoken`` field and ``X-CSRFToken`` header,
no redirects followed automatically). Every request is timed and recorded with its status; an
answer other than the one the page gives on success (status and, for redirects, where to) is an
error, as is any exception (refused connection, timeout).

What the users saw succeed is written into a ``Ledger``, which the database checks compare with
what was stored.
"""

from __future__ import annotations

import random
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import requests

UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
SCREEN_RE = re.compile(rf'src="(/referrals/{UUID_RE}/images/{UUID_RE}/screen/)"')
# Seconds of pause after which a user opens a new connection (gunicorn's keep-alive is 2 s).
IDLE_CLOSE = 1.0
DIAGNOSES = ("benign_naevus", "seborrhoeic_keratosis", "dermatofibroma", "solar_lentigo")


@dataclass(frozen=True)
class Photo:
    kind: str  # "overview" or "dermoscopic"
    data: bytes
    sha256: str  # of the original one ingest of these bytes stores


@dataclass(frozen=True)
class Persona:
    user_id: int
    session_key: str


@dataclass
class Sample:
    kind: str
    began: float  # time.monotonic()
    ms: float
    status: int  # 0: no answer (exception)
    ok: bool


@dataclass
class Ledger:
    """What the users saw: every request, and what they saw succeed (keyed by referral id)."""

    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=dict)  # referral → GP user id
    uploads: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # (upload id, sha)
    sent: dict[str, int] = field(default_factory=dict)  # referral → GP user id
    answered: dict[str, int] = field(default_factory=dict)  # referral → dermatologist user id
    empty_takes: int = 0  # "take next" found nothing waiting
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class Plan:
    base_url: str
    session_cookie: str
    deadline: float  # time.monotonic(): no new referral or case after it
    timeout: float
    think: float  # mean pause between a user's requests (s); 0: none
    chunk_bytes: int  # the browser sends a photo larger than this in pieces of this size
    sites: tuple[str, ...]  # body-site codes
    photos: tuple[tuple[Photo, Photo], ...]  # (overview, dermoscopic) pairs


class Failed(Exception):
    """A request that did not get the answer of success (already recorded as an error)."""


class Browser:
    def __init__(self, plan: Plan, persona: Persona, ledger: Ledger) -> None:
        self.plan = plan
        self.persona = persona
        self.ledger = ledger
        self.http = requests.Session()
        self.http.cookies.set(plan.session_cookie, persona.session_key)

    def call(
        self, kind: str, method: str, path: str, status: int, to: str | None = None, **kw: Any
    ) -> requests.Response:
        """One request; ``status`` is the success answer, ``to`` a pattern of the redirect's
        target (``Location``) when it is a redirect."""
        if self.plan.think:
            pause = random.expovariate(1 / self.plan.think)
            time.sleep(pause)
            if pause > IDLE_CLOSE:
                # gunicorn closes a keep-alive connection idle for 2 s; a request sent on it
                # as it closes meets a reset, which a browser answers by sending it again on a
                # new connection. A fresh connection after a long pause avoids that race
                # instead of retrying (which could hide the server's own failures).
                self.http.close()
        began = time.monotonic()
        try:
            response = self.http.request(
                method,
                self.plan.base_url + path,
                allow_redirects=False,
                timeout=self.plan.timeout,
                **kw,
            )
        except requests.RequestException as exc:
            self._record(kind, began, 0, False, f"{kind} {method} {path}: {exc!r}")
            raise Failed from exc
        ok = response.status_code == status
        if ok and to is not None:
            ok = re.fullmatch(to, response.headers.get("Location", "")) is not None
        where = response.headers.get("Location", "")
        note = f"{kind} {method} {path}: {response.status_code} {where} {response.text[-300:]!r}"
        self._record(kind, began, response.status_code, ok, note)
        if not ok:
            raise Failed
        return response

    def _record(self, kind: str, began: float, status: int, ok: bool, note: str) -> None:
        sample = Sample(kind, began, (time.monotonic() - began) * 1000, status, ok)
        with self.ledger.lock:
            self.ledger.samples.append(sample)
            if not ok:
                self.ledger.errors.append(note)

    def get(self, kind: str, path: str) -> requests.Response:
        return self.call(kind, "GET", path, 200)

    def post(
        self,
        kind: str,
        path: str,
        data: dict[str, str],
        status: int = 302,
        to: str | None = None,
        **kw: Any,
    ) -> requests.Response:
        token = self.http.cookies.get("csrftoken") or ""
        return self.call(
            kind,
            "POST",
            path,
            status,
            to,
            data={"csrfmiddlewaretoken": token, **data},
            headers={"X-CSRFToken": token},
            **kw,
        )

    def moved_to(self, kind: str, path: str, data: dict[str, str], to: str) -> re.Match[str]:
        response = self.post(kind, path, data, 302, to)
        match = re.fullmatch(to, response.headers["Location"])
        assert match is not None
        return match


def run_gp(plan: Plan, persona: Persona, ledger: Ledger, patients: Iterator[str]) -> None:
    """Referral after referral until the deadline: new → patient → lesion → two photos →
    history → review page → send. After an error the user starts a new referral.
    ``patients``: personnummer for this GP alone (a new patient for each referral)."""
    browser = Browser(plan, persona, ledger)
    rng = random.Random(persona.user_id)
    while time.monotonic() < plan.deadline:
        try:
            if "csrftoken" not in browser.http.cookies:
                browser.get("start page", "/")
            _one_referral(browser, rng, next(patients))
        except Failed:
            time.sleep(1)


def _one_referral(browser: Browser, rng: random.Random, patient: str) -> None:
    plan, ledger, me = browser.plan, browser.ledger, browser.persona.user_id
    pid = browser.moved_to("new", "/referrals/new/", {}, rf"/referrals/({UUID_RE})/patient/")[1]
    with ledger.lock:
        ledger.created[pid] = me
        ledger.uploads[pid] = []
    base = f"/referrals/{pid}"
    browser.moved_to(
        "patient", f"{base}/patient/", {"personal_number": patient}, rf"{base}/lesions/"
    )
    lesion = {"body_site": rng.choice(plan.sites), "laterality": rng.choice("LR")}
    link = browser.moved_to("lesion", f"{base}/lesions/", lesion, rf"{base}/lesions/(\d+)/photos/")[
        1
    ]
    for photo in rng.choice(plan.photos):
        upload_id = str(uuid.uuid4())  # the browser's idempotency key for this file
        with ledger.lock:
            ledger.uploads[pid].append((upload_id, photo.sha256))
        _upload(browser, f"{base}/lesions/{link}/upload/", photo, upload_id)
    suspicion = rng.choices(("benign", "uncertain", "melanoma"), (6, 3, 1))[0]
    history = {"question": "Benignt?", "suspicion": suspicion, "duration": "1-6m"}
    browser.moved_to("history", f"{base}/history/", history, rf"{base}/review/")
    browser.get("review page", f"{base}/review/")
    browser.moved_to("send", f"{base}/send/", {}, rf"{base}/")
    with ledger.lock:
        ledger.sent[pid] = me


def _upload(browser: Browser, path: str, photo: Photo, upload_id: str) -> None:
    """As ``upload.js``: one request, or pieces of ``chunk_bytes`` when the photo is larger."""
    size = browser.plan.chunk_bytes
    fields = {"kind": photo.kind, "upload_id": upload_id}
    if len(photo.data) <= size:
        files = {"file": (f"{photo.kind}.jpg", photo.data, "image/jpeg")}
        browser.post("upload", path, fields, 201, files=files)
        return
    offsets = range(0, len(photo.data), size)
    for offset in offsets:
        piece = {**fields, "offset": str(offset), "total": str(len(photo.data))}
        files = {"chunk": ("chunk", photo.data[offset : offset + size], "application/octet-stream")}
        last = offset == offsets[-1]
        browser.post("upload piece", f"{path}chunk/", piece, 201 if last else 202, files=files)


def run_dermatologist(plan: Plan, persona: Persona, ledger: Ledger) -> None:
    """Case after case until the deadline: take the next one, open it (the page and its
    photos), answer, back to the queue. With nothing waiting: look at the queue again soon."""
    browser = Browser(plan, persona, ledger)
    rng = random.Random(persona.user_id)
    while time.monotonic() < plan.deadline:
        try:
            browser.get("queue", "/review/")
            taken = browser.moved_to(
                "take next", "/review/next/", {}, rf"/review/(?:({UUID_RE})/)?"
            )
            if taken[1] is None:
                with ledger.lock:
                    ledger.empty_takes += 1
                time.sleep(0.5)
                continue
            _answer(browser, rng, taken[1])
        except Failed:
            time.sleep(1)


def _answer(browser: Browser, rng: random.Random, pid: str) -> None:
    page = browser.get("case page", f"/review/{pid}/")
    for url in dict.fromkeys(SCREEN_RE.findall(page.text)):
        browser.get("photo", url)
    answer = {
        "diagnosis": rng.choice(DIAGNOSES),
        "certainty": "probable",
        "action": "none",
        "follow_up_months": "",
        "text_to_gp": "Benign lesion. No follow-up needed.",
        "teaching_comment": "",
    }
    browser.moved_to("answer", f"/review/{pid}/answer/", answer, "/review/")
    with browser.ledger.lock:
        browser.ledger.answered[pid] = browser.persona.user_id
