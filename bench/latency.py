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


def setup_django() -> None:
    """Django in this process, with the settings of the environment (``DATABASE_URL``)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telederm.settings")
    import django

    django.setup()


def time_pages(
    pages: dict[str, tuple[Any, str]],
    runs: int,
    headers: dict[str, dict[str, str]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Server time of each page (name: (user or None, URL)) in Django's test client: five
    warm-up requests, the SQL queries of one request, then p50/p95 of ``runs`` requests (ms).
    ``headers``: extra request headers per page name (an API token, say)."""
    from django.db import connection
    from django.test import Client

    from telederm.testing import login

    results: dict[str, dict[str, Any]] = {}
    for name, (user, url) in pages.items():
        client = Client(HTTP_HOST="localhost", headers=(headers or {}).get(name, {}))
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
        results[name] = {
            "p50": statistics.median(times),
            "p95": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
            "queries": len(executed),
        }
    return results


def personas() -> tuple[Any, Any, Any]:
    """The generated history's first dermatologist and GP (memberships) and the newest case
    waiting in the dermatologist's unit."""
    from telederm.accounts.models import Membership, Role
    from telederm.referrals.models import Referral, ReferralStatus

    derm = Membership.objects.filter(role=Role.DERMATOLOGIST).order_by("pk").first()
    gp = Membership.objects.filter(role=Role.GP).order_by("pk").first()
    if derm is None or gp is None:
        sys.exit("no bench personas: run manage.py generate_history first")
    case = (
        Referral.objects.filter(review_unit=derm.organisation, status=ReferralStatus.SENT)
        .order_by("-sent_at")
        .first()
    )
    if case is None:
        sys.exit("no open case in the history: generate more referrals")
    return derm, gp, case


def _child(runs: int) -> dict[str, Any]:
    setup_django()
    from django.urls import reverse

    from telederm.referrals.models import Referral

    derm, gp, open_case = personas()
    referrals = Referral.objects.count()
    fhir_headers = _fhir_client(gp.organisation, open_case)

    pages = {
        "trivial view (/healthz)": (None, reverse("web:healthz")),
        "review queue": (derm.user, reverse("review:queue")),
        "case page": (derm.user, reverse("review:case", args=[open_case.public_id])),
        "clinic start page": (gp.user, reverse("web:start")),
        "GP referral list": (gp.user, reverse("referrals:index")),
        "FHIR search by patient": (None, fhir_headers["url"]),
    }
    extra = {"FHIR search by patient": fhir_headers["headers"]}
    return {"referrals": referrals, "pages": time_pages(pages, runs, extra)}


def run_child(script: str, url: str, args: list[str]) -> dict[str, Any]:
    """Run ``script --child *args`` against the database at ``url``; its last line of output
    is the JSON it measured."""
    env = {**os.environ, "DATABASE_URL": url, "TELEDERM_MODE": "demo"}
    out = subprocess.run(  # noqa: S603 (a benchmark script of ours, as its own child)
        [sys.executable, script, "--child", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        sys.exit(f"measuring {url} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _fhir_client(clinic: Any, case: Any) -> dict[str, Any]:
    """A FHIR client of the GP's clinic (made once per database) and a search for the
    ServiceRequests of a patient of that clinic."""
    from telederm.audit.services import Actor
    from telederm.fhir.auth import create_api_client
    from telederm.fhir.codes import PERSONNUMMER
    from telederm.fhir.models import ApiClient, Scope
    from telederm.referrals.models import Referral

    ApiClient.objects.filter(name="bench-latency").delete()
    _client, token = create_api_client(
        name="bench-latency",
        organisations=[clinic],
        scopes=[Scope.REFERRAL_READ],
        by=Actor.system(),
    )
    patient = (
        Referral.objects.filter(clinic=clinic, patient__isnull=False)
        # Histories generated before the generator's fix hold some invalid "000" serials.
        .exclude(patient__personal_number__regex=r"^[0-9]{8}000")
        .select_related("patient")
        .order_by("-sent_at")
        .first()
    )
    assert patient is not None
    assert patient.patient is not None
    number = patient.patient.personal_number
    return {
        "headers": {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"},
        "url": f"/fhir/ServiceRequest?patient.identifier={PERSONNUMMER}|{number}",
    }


def _measure(url: str, runs: int) -> dict[str, Any]:
    return run_child(__file__, url, ["--runs", str(runs)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small")
    parser.add_argument("--large")
    # Optional: a database with the large one's present (the same open cases and recent
    # activity) but almost no past; large/present isolates what the history itself costs.
    parser.add_argument("--present")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.runs)))
        return
    small, large = _measure(args.small, args.runs), _measure(args.large, args.runs)
    present = _measure(args.present, args.runs) if args.present else None
    trivial_small = small["pages"]["trivial view (/healthz)"]["p50"]
    trivial_large = large["pages"]["trivial view (/healthz)"]["p50"]
    print(
        f"referrals: small {small['referrals']:,}, large {large['referrals']:,}"
        + (f", present {present['referrals']:,}" if present else "")
        + f"; runs {args.runs}"
    )
    header = (
        f"{'page':26} {'small p50':>9} {'p95':>7} {'large p50':>9} {'p95':>7} "
        f"{'large/small':>11} {'vs trivial':>10} {'queries':>8}"
    )
    if present:
        header += f" {'present p50':>11} {'large/present':>13}"
    print(header)
    for name, s in small["pages"].items():
        big = large["pages"][name]
        line = (
            f"{name:26} {s['p50']:8.1f}ms {s['p95']:6.1f}ms {big['p50']:8.1f}ms "
            f"{big['p95']:6.1f}ms {big['p50'] / s['p50']:10.2f}× "
            f"{big['p50'] / trivial_large:9.1f}× {s['queries']:>3}/{big['queries']:<3}"
        )
        if present:
            now = present["pages"][name]
            line += f" {now['p50']:9.1f}ms {big['p50'] / now['p50']:12.2f}×"
        print(line)
    print(f"trivial view p50: small {trivial_small:.2f} ms, large {trivial_large:.2f} ms")


if __name__ == "__main__":
    main()
