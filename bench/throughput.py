"""Benchmark: authenticated page requests per second through gunicorn, under wrk, on loopback.

Run from the repository root, against a database filled by ``manage.py generate_history``
(see docs/performance.md); needs ``wrk`` (Debian package ``wrk``):

    .venv/bin/python bench/throughput.py \\
        --database postgres://postgres@127.0.0.1:5432/telederm_bench_large [--seconds 20]

It starts gunicorn the way docs/deployment.md recommends — ``2 × cores + 1`` sync workers
(``--workers`` overrides) — in production mode (hashed static files collected into a temporary
data dir), signs the bench personas in (one real session row per connection, in the same
database, rotated by a wrk Lua script), and runs wrk against each page in turn with
``--connections`` keep-alive connections (default 8) from 1 thread. Every
request is authenticated, passes the access checks and, where the page reads patient data,
writes its audit event, exactly as in production. Printed per page: requests/s, wrk's
latency p50/p99, non-2xx answers, and the ratio of its requests/s to the trivial view's
(``/healthz``: no session, no database) measured in the same run.

wrk and gunicorn share the machine's cores, so the absolute figures are a floor; the ratios
are what compares.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from latency import personas, setup_django  # noqa: E402 (a sibling script)


def _sessions() -> dict[str, Any]:
    """In a child with Django set up: session cookies for the personas and the page URLs."""
    setup_django()
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse

    from telederm.referrals.models import Referral
    from telederm.testing import login

    derm, gp, case = personas()
    # One session per connection, as separate browsers of the same person would have: every
    # request saves its session (the idle timeout), so one shared session row would make the
    # connections queue behind each other's row lock.
    cookies: dict[str, list[str]] = {}
    for name, user in (("derm", derm.user), ("gp", gp.user)):
        cookies[name] = []
        for _ in range(int(os.environ.get("BENCH_SESSIONS", "8"))):
            value = login(Client(), user).cookies[settings.SESSION_COOKIE_NAME].value
            cookies[name].append(f"{settings.SESSION_COOKIE_NAME}={value}")
    return {
        "referrals": Referral.objects.count(),
        "pages": [
            ["trivial view (/healthz)", None, reverse("web:healthz")],
            ["review queue", "derm", reverse("review:queue")],
            ["case page", "derm", reverse("review:case", args=[case.public_id])],
            ["clinic start page", "gp", reverse("web:start")],
            ["GP referral list", "gp", reverse("referrals:index")],
        ],
        "cookies": cookies,
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})  # noqa: S310
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    sys.exit(f"gunicorn did not answer {url}")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


_SCRIPT = """
cookies = {%s}
n = 0
request = function()
  n = n + 1
  local headers = {["X-Forwarded-Proto"] = "https"}
  if #cookies > 0 then headers["Cookie"] = cookies[(n %% #cookies) + 1] end
  return wrk.format(nil, nil, headers)
end
"""


def _wrk(url: str, cookies: list[str], seconds: int, connections: int) -> dict[str, float]:
    """wrk with a Lua script that rotates the sessions and sets the header the TLS-terminating
    proxy of docs/deployment.md sets."""
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(_SCRIPT % ", ".join(json.dumps(c) for c in cookies), encoding="utf-8")
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script)]
    command.append(url)
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    finally:
        script.unlink()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.MULTILINE))
    if len(latency) != 2:
        sys.exit(f"unexpected wrk output:\n{out}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50": _ms(latency["50"]),
        "p99": _ms(latency["99"]),
        "non2xx": int(bad.group(1)) if bad else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=False)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_sessions()))
        return
    if not args.database:
        parser.error("--database is required")
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    data_dir = Path(tempfile.mkdtemp(prefix="telederm-throughput-"))
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": args.database,
        "TELEDERM_DATA_DIR": str(data_dir),
        "TELEDERM_MODE": "production",
        "DJANGO_SECRET_KEY": "bench-" + "x" * 60,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "TELEDERM_BASE_URL": f"https://127.0.0.1:{port}",
        "TELEDERM_LOG_LEVEL": "WARNING",
    }
    # Production serves hashed static files from STATIC_ROOT (in the data dir), as deployed.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        env=env,
        cwd=ROOT,
        check=True,
    )
    setup = subprocess.run(  # noqa: S603 (this script, as its own child)
        [sys.executable, __file__, "--child"],
        env={**env, "BENCH_SESSIONS": str(args.connections)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if setup.returncode:
        sys.exit(f"signing in failed:\n{setup.stderr[-3000:]}")
    plan = json.loads(setup.stdout.strip().splitlines()[-1])
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "telederm.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--no-control-socket",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base + "/healthz")
        print(
            f"referrals: {plan['referrals']:,}; gunicorn {args.workers} sync workers; "
            f"wrk 1 thread, {args.connections} connections, {args.seconds} s per page"
        )
        print(f"{'page':26} {'req/s':>8} {'p50':>9} {'p99':>9} {'non-2xx':>8} {'vs trivial':>10}")
        trivial = None
        for name, who, path in plan["pages"]:
            cookie = plan["cookies"][who] if who else []
            _wrk(base + path, cookie, 3, args.connections)  # warm-up
            result = _wrk(base + path, cookie, args.seconds, args.connections)
            trivial = trivial or result["rps"]
            print(
                f"{name:26} {result['rps']:8.1f} {result['p50']:7.1f}ms {result['p99']:7.1f}ms "
                f"{result['non2xx']:8d} {result['rps'] / trivial:9.3f}×"
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
