"""SMS through the HTTP gateway backend (against a local HTTP server) and the demo file backend."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from django.conf import LazySettings

from telederm.lib.sms import HttpSmsBackend, Sms, SmsError, send_sms

NUMBER = "+46701740605"


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def text(self) -> str:
        return self.body.decode("utf-8")


@dataclass
class Gateway:
    """What the fake gateway received, and how it should answer the next request."""

    url: str
    requests: list[Received] = field(default_factory=list)
    status: int = 200
    delay: float = 0.0


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up (the timeout test) is expected, not an error


@pytest.fixture
def gateway(settings: LazySettings) -> Iterator[Gateway]:
    state = Gateway(url="")

    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            state.requests.append(
                Received(
                    method=self.command,
                    path=self.path,
                    headers={name.lower(): value for name, value in self.headers.items()},
                    body=self.rfile.read(length),
                )
            )
            if state.delay:
                time.sleep(state.delay)
            payload = b'{"status": "queued"}'
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_POST = _record
        do_PUT = _record

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep the test output quiet

    server = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    state.url = f"http://{host!s}:{port}/api/v1/sms?account=telederm"
    settings.TELEDERM_SMS_BACKEND = "telederm.lib.sms.HttpSmsBackend"
    settings.TELEDERM_SMS_HTTP_URL = state.url
    settings.TELEDERM_SMS_HTTP_METHOD = "POST"
    settings.TELEDERM_SMS_HTTP_BODY = '{"from": "{sender}", "to": "{to}", "message": "{message}"}'
    settings.TELEDERM_SMS_HTTP_CONTENT_TYPE = "application/json"
    settings.TELEDERM_SMS_HTTP_AUTH_HEADER = None
    settings.TELEDERM_SMS_HTTP_TIMEOUT = 5
    settings.TELEDERM_SMS_SENDER = "Telederm"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_json_template_gets_the_values_with_quotes_and_newlines_escaped(
    gateway: Gateway,
) -> None:
    message = 'Din kod är "123456".\nGiltig i 5 minuter. \\ Telederm'
    HttpSmsBackend().send(Sms(to=NUMBER, message=message))

    assert len(gateway.requests) == 1
    request = gateway.requests[0]
    assert request.method == "POST"
    assert request.path == "/api/v1/sms?account=telederm"
    assert request.headers["content-type"] == "application/json"
    assert "authorization" not in request.headers
    assert json.loads(request.text()) == {"from": "Telederm", "to": NUMBER, "message": message}


def test_sender_from_settings_is_escaped_into_the_json_body_too(
    gateway: Gateway, settings: LazySettings
) -> None:
    settings.TELEDERM_SMS_SENDER = 'Region "Test"'
    HttpSmsBackend().send(Sms(to=NUMBER, message="Hej"))

    assert json.loads(gateway.requests[0].text())["from"] == 'Region "Test"'


def test_send_sms_uses_the_configured_backend(gateway: Gateway) -> None:
    send_sms(NUMBER, "Kod 654321")

    assert json.loads(gateway.requests[0].text())["message"] == "Kod 654321"


def test_authorization_header_is_sent_when_configured(
    gateway: Gateway, settings: LazySettings
) -> None:
    settings.TELEDERM_SMS_HTTP_AUTH_HEADER = "Bearer s3cr3t-token"
    HttpSmsBackend().send(Sms(to=NUMBER, message="Hej"))

    assert gateway.requests[0].headers["authorization"] == "Bearer s3cr3t-token"


def test_put_method_is_used_when_configured(gateway: Gateway, settings: LazySettings) -> None:
    settings.TELEDERM_SMS_HTTP_METHOD = "PUT"
    HttpSmsBackend().send(Sms(to=NUMBER, message="Hej"))

    assert [request.method for request in gateway.requests] == ["PUT"]
    assert json.loads(gateway.requests[0].text())["to"] == NUMBER


def test_form_template_is_sent_with_the_form_content_type_and_no_json_escaping(
    gateway: Gateway, settings: LazySettings
) -> None:
    settings.TELEDERM_SMS_HTTP_CONTENT_TYPE = "application/x-www-form-urlencoded"
    settings.TELEDERM_SMS_HTTP_BODY = "to={to}&text={message}"
    HttpSmsBackend().send(Sms(to="0046701740605", message="Din kod är 123456"))

    request = gateway.requests[0]
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.text(), strict_parsing=True) == {
        "to": ["0046701740605"],
        "text": ["Din kod är 123456"],
    }


def test_form_template_values_are_url_encoded(gateway: Gateway, settings: LazySettings) -> None:
    settings.TELEDERM_SMS_HTTP_CONTENT_TYPE = "application/x-www-form-urlencoded"
    settings.TELEDERM_SMS_HTTP_BODY = "to={to}&text={message}"
    message = "Kod 123456 & giltig 5 min (a=b, 100%)"
    HttpSmsBackend().send(Sms(to=NUMBER, message=message))

    assert parse_qs(gateway.requests[0].text()) == {"to": [NUMBER], "text": [message]}


def test_gateway_answering_500_raises_sms_error(gateway: Gateway) -> None:
    gateway.status = 500
    with pytest.raises(SmsError):
        HttpSmsBackend().send(Sms(to=NUMBER, message="Hej"))
    assert len(gateway.requests) == 1


def test_gateway_refusing_the_request_with_401_raises_sms_error(
    gateway: Gateway,
) -> None:
    gateway.status = 401
    with pytest.raises(SmsError):
        HttpSmsBackend().send(Sms(to=NUMBER, message="Hej"))


def test_unreachable_gateway_raises_sms_error(settings: LazySettings) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    # The socket is closed now: nothing listens on that port.
    settings.TELEDERM_SMS_HTTP_URL = f"http://127.0.0.1:{closed_port}/sms"
    settings.TELEDERM_SMS_HTTP_TIMEOUT = 2
    with pytest.raises(SmsError, match="unreachable"):
        HttpSmsBackend().send(Sms(to=NUMBER, message="Hej"))


def test_gateway_slower_than_the_timeout_raises_sms_error(
    gateway: Gateway, settings: LazySettings
) -> None:
    settings.TELEDERM_SMS_HTTP_TIMEOUT = 1
    gateway.delay = 2.0
    started = time.monotonic()
    with pytest.raises(SmsError):
        HttpSmsBackend().send(Sms(to=NUMBER, message="Hej"))
    assert time.monotonic() - started < 1.9


def test_missing_gateway_url_raises_sms_error(settings: LazySettings) -> None:
    settings.TELEDERM_SMS_HTTP_URL = None
    with pytest.raises(SmsError, match="TELEDERM_SMS_HTTP_URL"):
        HttpSmsBackend().send(Sms(to=NUMBER, message="Hej"))


def test_console_backend_appends_one_json_line_per_message(
    settings: LazySettings, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.TELEDERM_SMS_BACKEND = "telederm.lib.sms.ConsoleFileSmsBackend"
    send_sms(NUMBER, "Din kod är 111111")
    send_sms("+46701740606", 'Rad ett\nrad "två"')

    outbox = Path(settings.TELEDERM_SMS_FILE_PATH) / "outbox.jsonl"
    lines = outbox.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert (first["to"], first["message"]) == (NUMBER, "Din kod är 111111")
    assert (second["to"], second["message"]) == ("+46701740606", 'Rad ett\nrad "två"')
    assert first["at"] <= second["at"]
    assert "Din kod är 111111" in capsys.readouterr().out
