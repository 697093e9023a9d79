"""Load test: GPs sending referrals and dermatologists answering them at the same time, against
the real system on PostgreSQL, and afterwards a check that nothing was lost or duplicated.

Run from the repository root (PostgreSQL on 127.0.0.1:5432, a superuser without password):

    .venv/bin/python bench/load.py [--gps 50] [--dermatologists 10] [--minutes 3] [--keep]

It creates a fresh database (``telederm_load_<random>``), migrates it, and starts the system as
deployed, through ``telederm.e2e.server.DemoServer``: gunicorn with ``2 × cores`` workers of
4 threads (docs/deployment.md; ``--web-workers``, ``--web-threads``, 1 for sync workers) and two
``db_worker`` processes, on loopback. The GPs are spread
over ``--clinics`` clinics (licence; tested equipment), the dermatologists over ``--units``
review units; each gets a session as after a login with password and SMS code, made in the
database (``telederm.testing.login``), and sends forms with the CSRF token as a browser does.

Each GP, in a thread of its own (``bench/load_clients.py``), sends referral after referral:
new → patient → lesion → overview photo (in 1 MiB pieces) and dermoscopic photo (one request),
each with its own upload id → history → review page → send. Each dermatologist takes the next
case, opens it and its photos, answers and goes back to the queue. No pause between requests
unless ``--think`` (mean seconds). At ``--minutes`` no new referral or case is begun; the ones
under way are finished.

Printed: requests, throughput, p50/p95/p99 per action, every error (a non-success answer or an
exception), the load average at start and end, and the checks of ``bench/load_db.py`` (sent
referrals == the sends the GPs saw succeed, unique gap-free numbers, each photo once with the
SHA-256 one ingest of its bytes gives, no orphan file, one answer per answered referral, no
failed task). Exit status 1 when there was an error or a check failed. The database and the
data folder are dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import load_db  # noqa: E402
from load_clients import Ledger, Plan, run_dermatologist, run_gp  # noqa: E402


def _postgres(admin_url: str, statement: sql.Composed) -> None:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(statement)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _report(ledger: Ledger, began: float, ended: float) -> int:
    seconds = ended - began
    samples = ledger.samples
    errors = [s for s in samples if not s.ok]
    print(
        f"\nrequests: {len(samples)} in {seconds:.1f} s (start to the last user's finish) = "
        f"{len(samples) / seconds:.1f} req/s; "
        f"referrals sent {len(ledger.sent)} ({len(ledger.sent) / seconds * 60:.0f}/min), "
        f"answered {len(ledger.answered)}; 'take next' with nothing waiting: {ledger.empty_takes}"
    )
    print(
        f"{'action':14} {'count':>7} {'req/s':>7} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8} {'errors':>6}"
    )
    kinds = list(dict.fromkeys(s.kind for s in samples))
    for kind in [*kinds, "all"]:
        mine = [s for s in samples if kind in ("all", s.kind)]
        ms = [s.ms for s in mine]
        print(
            f"{kind:14} {len(mine):7d} {len(mine) / seconds:7.1f} "
            + " ".join(f"{_percentile(ms, q):6.0f}ms" for q in (0.5, 0.95, 0.99, 1.0))
            + f" {sum(not s.ok for s in mine):6d}"
        )
    for note in dict.fromkeys(ledger.errors[:20]):
        print(f"  error: {note}")
    return len(errors)


def _run(args: argparse.Namespace, url: str, workdir: Path) -> int:
    from telederm.e2e.server import DemoServer

    secret = secrets.token_urlsafe(50)
    server = DemoServer(workdir, database_url=url, extra_env={"DJANGO_SECRET_KEY": secret})
    # This process reads and writes the same database and data folder as the servers.
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "telederm.settings",
            "DATABASE_URL": url,
            "TELEDERM_MODE": "demo",
            "TELEDERM_DATA_DIR": str(server.data_dir),
            "DJANGO_SECRET_KEY": secret,
            "TELEDERM_LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from telederm.images.chunks import CHUNK_BYTES
    from telederm.referrals.bodysites import BODY_SITES

    server.manage("migrate", "--no-input")
    gps, derms = load_db.personas(args.gps, args.dermatologists, args.clinics, args.units)
    plan_photos = load_db.photos(args.photos)
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(" on ")[0]
    connection.close()
    try:
        server.start_web(workers=args.web_workers, threads=args.web_threads)
        for number in range(args.db_workers):
            server.start_worker(worker_id=f"load-{number + 1}")
        server.wait_until_up()
        load_start = os.getloadavg()
        print(
            f"{args.gps} GPs in {args.clinics} clinics, {args.dermatologists} dermatologists in "
            f"{args.units} review units, {args.minutes} min, think time {args.think} s; "
            f"gunicorn {args.web_workers} workers × {args.web_threads} threads, "
            f"{args.db_workers} db_worker; "
            f"{version}; {os.cpu_count()} cores; load average at start "
            + " ".join(f"{x:.2f}" for x in load_start),
            flush=True,
        )
        began = time.monotonic()
        plan = Plan(
            base_url=server.base_url,
            session_cookie=settings.SESSION_COOKIE_NAME,
            deadline=began + args.minutes * 60,
            timeout=args.timeout,
            think=args.think,
            chunk_bytes=CHUNK_BYTES,
            sites=tuple(site.code for site in BODY_SITES),
            photos=plan_photos,
        )
        ledger = Ledger()
        threads = [
            threading.Thread(target=run_gp, args=(plan, gp, ledger, load_db.patients(n)))
            for n, gp in enumerate(gps)
        ]
        threads += [
            threading.Thread(target=run_dermatologist, args=(plan, d, ledger)) for d in derms
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        ended = time.monotonic()
        load_end = os.getloadavg()
        errors = _report(ledger, began, ended)
        print("load average at end " + " ".join(f"{x:.2f}" for x in load_end))
        tasks, failed, unfinished = load_db.wait_for_tasks(timeout=120)
        checks = load_db.verify(ledger)
        checks.append(
            (
                "no failed or unfinished task",
                not failed and not unfinished,
                f"{tasks} tasks, {failed} failed, {unfinished} unfinished",
            )
        )
        checks.append(("no error answer or exception", not errors, f"{errors} errors"))
        print(f"\nchecks ({load_db.media_bytes() / 2**20:.0f} MiB of photos stored):")
        for what, passed, detail in checks:
            print(f"  [{'ok' if passed else 'FAILED'}] {what} ({detail})")
        connection.close()
        return 0 if all(passed for _what, passed, _detail in checks) else 1
    finally:
        server.stop()
        if args.keep:
            print(f"kept: database {url}, data folder {workdir}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gps", type=int, default=50)
    parser.add_argument("--dermatologists", type=int, default=10)
    parser.add_argument("--clinics", type=int, default=10)
    parser.add_argument("--units", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--think", type=float, default=0.0, help="mean pause between requests (s)")
    parser.add_argument("--web-workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--web-threads", type=int, default=4, help="1: sync workers")
    parser.add_argument("--db-workers", type=int, default=2)
    parser.add_argument("--photos", type=int, default=4, help="photo pairs to choose from")
    parser.add_argument("--timeout", type=float, default=120, help="per request (s)")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--keep", action="store_true", help="keep the database and data folder")
    args = parser.parse_args()
    name = f"telederm_load_{secrets.token_hex(4)}"
    _postgres(
        f"{args.postgres}/postgres", sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    )
    workdir = Path(tempfile.mkdtemp(prefix="telederm-load-"))
    try:
        status = _run(args, f"{args.postgres}/{name}", workdir)
    finally:
        if not args.keep:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            _postgres(f"{args.postgres}/postgres", drop)
            shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(status)


if __name__ == "__main__":
    main()
