"""The real Telederm, started as a user starts it, for the browser tests.

One server per test session (per xdist worker): gunicorn on a free loopback port and one
``db_worker``, against a fresh SQLite file in a temporary data dir that ``manage.py migrate`` and
``manage.py seed_demo`` fill first. SMS codes and e-mails land in that data dir (the demo's file
backends), where the tests read them the way a demo user would.

The server always gets its own SQLite file, also when the test session itself runs on
PostgreSQL (``DATABASE_URL=postgres://…``): the pytest-django test database is created and
dropped by pytest and must not be shared with a server process that outlives a test, and the
browser journeys test the pages, not the database engine (the PostgreSQL-specific behaviour has
its own tests).

The same class starts the processes of a deployment one by one (``start_web``,
``start_worker``) against a database and storage given by the caller: the test of several app
servers and workers (``telederm/web/tests/test_two_servers.py``) starts one instance per
process, each with a data dir of its own, so that nothing but the database and the object store
is shared.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings

START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
# Variables of the test session that must not leak into the server (its own data dir, database,
# mode and integrations are set explicitly below).
_PRIVATE_PREFIXES = ("TELEDERM_", "DATABASE_", "DJANGO_")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DemoServerError(RuntimeError):
    pass


class DemoServer:
    """gunicorn + db_worker on a fresh demo database; ``base_url`` is where the browser goes."""

    def __init__(
        self,
        workdir: Path,
        *,
        database_url: str | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.sms_outbox = self.data_dir / "sms" / "outbox.jsonl"
        self.mail_dir = self.data_dir / "mail"
        self.web_log = workdir / "gunicorn.log"
        self.worker_log = workdir / "db_worker.log"
        self._processes: list[subprocess.Popen[bytes]] = []
        env = {k: v for k, v in os.environ.items() if not k.startswith(_PRIVATE_PREFIXES)}
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "telederm.settings",
                "TELEDERM_MODE": "demo",
                "TELEDERM_DATA_DIR": str(self.data_dir),
                "DATABASE_URL": database_url or f"sqlite:///{self.data_dir / 'telederm.sqlite3'}",
                "TELEDERM_BASE_URL": self.base_url,
                "TELEDERM_LOG_LEVEL": "WARNING",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(extra_env or {})
        self.env = env

    # --- life cycle ---------------------------------------------------------------------------

    def manage(self, *args: str) -> str:
        result = subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise DemoServerError(
                f"manage.py {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result.stdout

    def start(self) -> None:
        self.manage("migrate", "--no-input")
        self.manage("seed_demo")
        self.start_web()
        self.start_worker()
        self.wait_until_up()

    def start_web(self, *, workers: int = 2, threads: int = 4) -> None:
        """gunicorn on ``self.port`` (call ``wait_until_up`` before sending requests); with
        ``threads=1`` its workers are sync workers, one request at a time each."""
        self._spawn(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "telederm.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--timeout",
                "60",
                "--graceful-timeout",
                "2",
                # One control socket per user by default: parallel servers (xdist workers, a
                # `make run` beside the tests) would take it from each other.
                "--no-control-socket",
            ],
            self.web_log,
        )

    def start_worker(self, *, worker_id: str | None = None) -> None:
        command = [sys.executable, "manage.py", "db_worker", "--interval", "0.5"]
        command += ["--no-startup-delay", *(["--worker-id", worker_id] if worker_id else [])]
        self._spawn(command, self.worker_log)

    def wait_until_up(self, *, web: bool = True) -> None:
        """Until the web server answers (``web``) and no process has exited at start."""
        deadline = time.monotonic() + START_TIMEOUT
        settled = time.monotonic() + 1.0  # a worker that cannot start fails within a second
        while time.monotonic() < deadline:
            for process in self._processes:
                if process.poll() is not None:
                    self.stop()
                    raise DemoServerError(f"a server process exited at start:\n{self.logs()}")
            if self._answers() if web else time.monotonic() >= settled:
                return
            time.sleep(0.1)
        self.stop()
        raise DemoServerError(f"Telederm did not answer within {START_TIMEOUT}s:\n{self.logs()}")

    def _spawn(self, command: list[str], log_path: Path) -> None:
        with log_path.open("ab") as log:
            self._processes.append(
                subprocess.Popen(  # noqa: S603 (fixed command line)
                    command,
                    cwd=settings.BASE_DIR,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/about/", timeout=2) as response:  # noqa: S310
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        processes, self._processes = self._processes, []
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

    def logs(self) -> str:
        parts = []
        for path in (self.web_log, self.worker_log):
            if path.exists():
                text = path.read_text(encoding="utf-8", errors="replace")
                parts.append(f"--- {path.name}\n{text[-3000:]}")
        return "\n".join(parts)

    # --- what the demo's SMS and e-mail backends wrote ------------------------------------------

    def sms_count(self) -> int:
        if not self.sms_outbox.exists():
            return 0
        return len(self.sms_outbox.read_text(encoding="utf-8").splitlines())

    def wait_for_code(self, to: str, *, after: int, timeout: float = 15.0) -> str:
        """The one-time code in the first SMS to ``to`` among the lines after line ``after``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sms_outbox.exists():
                lines = self.sms_outbox.read_text(encoding="utf-8").splitlines()[after:]
                for line in lines:
                    sms = json.loads(line)
                    if sms["to"] == to:
                        return str(sms["message"].rsplit("#", 1)[1].strip())
            time.sleep(0.1)
        raise AssertionError(f"no SMS to {to} within {timeout}s")

    def wait_for_mail(self, to: str, *, timeout: float = 20.0) -> email.message.EmailMessage:
        """The newest e-mail to ``to`` (sent by the task worker, so it may take a moment)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for path in sorted(self.mail_dir.glob("*.eml"), reverse=True):
                message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                assert isinstance(message, email.message.EmailMessage)
                if to in str(message["To"]):
                    return message
            time.sleep(0.2)
        raise AssertionError(f"no e-mail to {to} within {timeout}s:\n{self.logs()}")

    def link_in(self, message: email.message.EmailMessage, path_prefix: str) -> str:
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        text = body.get_content()
        match = re.search(re.escape(self.base_url + path_prefix) + r"\S+", text)
        assert match, f"no link to {path_prefix} in the e-mail:\n{text}"
        return match.group(0)
