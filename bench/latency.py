"""Benchmark: server time of the busiest pages with a small and a large history.

Run from the repository root, after filling two PostgreSQL databases with
``manage.py generate_history`` (see docs/performance.md):

    .venv/bin/python bench/latency.py \\
        --small postgres://postgres@127.0.0.1:5432/telederm_bench_small \\
        --large postgres://postgres@127.0.0.1:5432/telederm_bench_large [--runs 40]

Each database is measured in its own child process. The child signs in the personas of the
generated history in Django's test client (in-process: the figure is the server's own time for
a request, middleware, views, queries and templates, without network) and requests each page
``runs`` times after five warm-up requests. It prints p50/p95 per page, the large/small ratio
of the p50 (target ≤ 1.5) and each page's p50 against a trivial view (``/healthz``) measured in
the same run, and the number of SQL queries per page.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _child(runs: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telederm.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from telederm.accounts.models import Membership, Role
    from telederm.referrals.models import Referral, ReferralStatus
    from telederm.testing import login

    derm = Membership.objects.filter(role=Role.DERMATOLOGIST).order_by("pk").first()
    gp = Membership.objects.filter(role=Role.GP).order_by("pk").first()
    if derm is None or gp is None:
        sys.exit("no bench personas: run manage.py generate_history first")
    open_case = (
        Referral.objects.filter(review_unit=derm.organisation, status=ReferralStatus.SENT)
        .order_by("-sent_at")
        .first()
    )
    assert open_case is not None
    referrals = Referral.objects.count()

    pages = {
        "trivial view (/healthz)": (None, reverse("web:healthz")),
        "review queue": (derm.user, reverse("review:queue")),
        "case page": (derm.user, reverse("review:case", args=[open_case.public_id])),
        "clinic start page": (gp.user, reverse("web:start")),
        "GP referral list": (gp.user, reverse("referrals:index")),
    }
    results: dict[str, Any] = {"referrals": referrals, "pages": {}}
    for name, (user, url) in pages.items():
        client = Client(HTTP_HOST="localhost")
        if user is not None:
            login(client, user)
        for _ in range(5):
            assert client.get(url).status_code == 200, (name, url)
        executed: list[str] = []

        def count(execute: Any, sql: str, *rest: Any, log: list[str] = executed) -> Any:
            log.append(sql)
            return execute(sql, *rest)

        with connection.execute_wrapper(count):
            client.get(url)
        times = []
        for _ in range(runs):
            began = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - began) * 1000)
        times.sort()
        results["pages"][name] = {
            "p50": statistics.median(times),
            "p95": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
            "queries": len(executed),
        }
    return results


def _measure(url: str, runs: int) -> dict[str, Any]:
    env = {**os.environ, "DATABASE_URL": url, "TELEDERM_MODE": "demo"}
    out = subprocess.run(  # noqa: S603 (this script, as its own child)
        [sys.executable, __file__, "--child", "--runs", str(runs)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        sys.exit(f"measuring {url} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small")
    parser.add_argument("--large")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.runs)))
        return
    small, large = _measure(args.small, args.runs), _measure(args.large, args.runs)
    trivial_small = small["pages"]["trivial view (/healthz)"]["p50"]
    trivial_large = large["pages"]["trivial view (/healthz)"]["p50"]
    print(
        f"referrals: small {small['referrals']:,}, large {large['referrals']:,}; runs {args.runs}"
    )
    header = (
        f"{'page':26} {'small p50':>9} {'p95':>7} {'large p50':>9} {'p95':>7} "
        f"{'large/small':>11} {'vs trivial':>10} {'queries':>8}"
    )
    print(header)
    for name, s in small["pages"].items():
        big = large["pages"][name]
        print(
            f"{name:26} {s['p50']:8.1f}ms {s['p95']:6.1f}ms {big['p50']:8.1f}ms "
            f"{big['p95']:6.1f}ms {big['p50'] / s['p50']:10.2f}× "
            f"{big['p50'] / trivial_large:9.1f}× {s['queries']:>3}/{big['queries']:<3}"
        )
    print(f"trivial view p50: small {trivial_small:.2f} ms, large {trivial_large:.2f} ms")


if __name__ == "__main__":
    main()
