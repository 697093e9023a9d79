"""Sending SMS through a gateway interface.

``ConsoleFileSmsBackend`` (the default, demo only) prints each message and appends it as one JSON
line to ``DATA_DIR/sms/outbox.jsonl``, where the demo and the tests read one-time codes.
``HttpSmsBackend`` talks to a production gateway whose request format is configured in settings:
URL, method, body template with ``{to}``, ``{message}`` and ``{sender}``, content type and an
optional ``Authorization`` header.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string


class SmsError(Exception):
    """The gateway did not accept the message."""


@dataclass(frozen=True)
class Sms:
    to: str
    message: str


class SmsBackend:
    def send(self, sms: Sms) -> None:
        raise NotImplementedError


class ConsoleFileSmsBackend(SmsBackend):
    def send(self, sms: Sms) -> None:
        folder = Path(settings.TELEDERM_SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {"at": timezone.now().isoformat(), "to": sms.to, "message": sms.message},
            ensure_ascii=False,
        )
        with (folder / "outbox.jsonl").open("a", encoding="utf-8") as outbox:
            outbox.write(line + "\n")
        sys.stdout.write(f"[sms] to={sms.to} {sms.message}\n")
        sys.stdout.flush()


def _json_escape(value: str) -> str:
    # The body template is usually JSON; escape values so a quote in a message cannot break it.
    return json.dumps(value, ensure_ascii=False)[1:-1]


def _form_escape(value: str) -> str:
    return urllib.parse.quote_plus(value)


def _verbatim(value: str) -> str:
    return value


class HttpSmsBackend(SmsBackend):
    def send(self, sms: Sms) -> None:
        url = settings.TELEDERM_SMS_HTTP_URL
        if not url:
            raise SmsError("TELEDERM_SMS_HTTP_URL is not set")
        content_type = settings.TELEDERM_SMS_HTTP_CONTENT_TYPE
        escape: Callable[[str], str]
        if "json" in content_type:
            escape = _json_escape
        elif "x-www-form-urlencoded" in content_type:
            escape = _form_escape
        else:
            escape = _verbatim
        body = (
            settings.TELEDERM_SMS_HTTP_BODY.replace("{to}", escape(sms.to))
            .replace("{sender}", escape(settings.TELEDERM_SMS_SENDER))
            .replace("{message}", escape(sms.message))
        )
        request = urllib.request.Request(  # noqa: S310 (URL comes from settings)
            url,
            data=body.encode("utf-8"),
            method=settings.TELEDERM_SMS_HTTP_METHOD,
            headers={"Content-Type": content_type},
        )
        if settings.TELEDERM_SMS_HTTP_AUTH_HEADER:
            request.add_header("Authorization", settings.TELEDERM_SMS_HTTP_AUTH_HEADER)
        try:
            with urllib.request.urlopen(  # noqa: S310
                request, timeout=settings.TELEDERM_SMS_HTTP_TIMEOUT
            ) as response:
                if not 200 <= response.status < 300:
                    raise SmsError(f"gateway answered {response.status}")
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SmsError(f"gateway unreachable or refused: {exc}") from exc


def send_sms(to: str, message: str) -> None:
    backend_class = import_string(settings.TELEDERM_SMS_BACKEND)
    backend: SmsBackend = backend_class()
    backend.send(Sms(to=to, message=message))
