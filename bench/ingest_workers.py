"""Benchmark: photos per second through the whole upload pipeline with N worker processes.

Run from the repository root against a PostgreSQL database that ``manage.py migrate`` and
``manage.py generate_history`` have filled (it needs the bench personas), e.g.:

    .venv/bin/python bench/ingest_workers.py \\
        --database postgres://postgres@127.0.0.1:5432/telederm_bench_small [--photos 24]

The pipeline is what an upload request runs after the body has arrived:
``images.services.add_image`` — access check, validation, metadata removal, decode, quality
metrics, derivatives, three files written to the storage (a temporary media dir here), the image
row and its audit event in one transaction. Each worker is its own process with its own database
connection, as gunicorn's sync workers are; every worker uploads ``photos / N`` photos of its own
(a 12 MP phone JPEG, as ``bench/ingest.py``) into draft referrals made for the run.

The yardstick, measured in the same run with the same N processes: one plain Pillow decode of the
same file per photo. Printed per N: photos/s of the pipeline and of the decode, their ratio, and
each worker's peak resident memory (``VmHWM``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from latency import setup_django  # noqa: E402 (a sibling script)


def _photo() -> bytes:
    from telederm.images.synthetic import phone_jpeg

    return phone_jpeg()


def _prepare(drafts: int) -> dict[str, Any]:
    """Draft referrals, each with one lesion, made straight in the database for the run."""
    setup_django()
    from django.db import transaction

    from telederm.accounts.models import Membership, Role
    from telederm.referrals.models import Lesion, Patient, Referral, ReferralLesion, ReferralStatus

    gp = Membership.objects.filter(role=Role.GP).select_related("organisation").first()
    if gp is None:
        sys.exit("no bench personas: run manage.py generate_history first")
    patient = Patient.objects.order_by("pk").first()
    links = []
    with transaction.atomic():
        for _ in range(drafts):
            referral = Referral.objects.create(
                clinic=gp.organisation, author=gp.user, patient=patient, status=ReferralStatus.DRAFT
            )
            lesion = Lesion.objects.create(
                patient=patient, body_site="back", first_clinic=gp.organisation
            )
            links.append(ReferralLesion.objects.create(referral=referral, lesion=lesion).pk)
    return {"user": gp.user.pk, "links": links}


def _worker(kind: str, user_id: int, links: list[int], photo_path: str) -> dict[str, Any]:
    """One worker process: upload (or just decode) one photo per link; time and peak memory."""
    setup_django()
    from PIL import Image

    from telederm.accounts.models import User
    from telederm.audit.services import Actor
    from telederm.images import services
    from telederm.referrals.models import ReferralLesion

    raw = Path(photo_path).read_bytes()
    actor = Actor(user=User.objects.get(pk=user_id))
    targets = list(ReferralLesion.objects.filter(pk__in=links).select_related("referral"))
    began = time.perf_counter()
    for link in targets:
        if kind == "pipeline":
            image, created = services.add_image(
                link=link, kind="dermoscopic", raw=raw, upload_id=uuid.uuid4(), by=actor
            )
            assert created
            assert image.sha256
        else:
            with Image.open(Path(photo_path)) as decoded:
                decoded.load()
    seconds = time.perf_counter() - began
    return {"seconds": seconds, "photos": len(targets), "peak_mib": _peak_mib()}


def _peak_mib() -> float:
    """This process's peak resident memory. ``VmHWM`` starts afresh at exec; ``ru_maxrss``
    would carry over the parent's peak at fork time."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run(kind: str, workers: int, plan: dict[str, Any], photo: str, env: dict[str, str]) -> Any:
    chunks = [plan["links"][i::workers] for i in range(workers)]
    began = time.perf_counter()
    procs = [
        subprocess.Popen(  # noqa: S603 (this script, as its own child)
            [
                sys.executable,
                __file__,
                "--worker",
                kind,
                str(plan["user"]),
                json.dumps(chunk),
                photo,
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for chunk in chunks
    ]
    results = []
    for proc in procs:
        out, _err = proc.communicate(timeout=900)
        if proc.returncode:
            sys.exit(f"a {kind} worker failed")
        results.append(json.loads(out.strip().splitlines()[-1]))
    wall = time.perf_counter() - began
    # Throughput from the workers' own busy time (the slowest one), without process start-up.
    busy = max(r["seconds"] for r in results)
    photos = sum(r["photos"] for r in results)
    return {
        "per_second": photos / busy,
        "wall": wall,
        "peak_mib": max(r["peak_mib"] for r in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database")
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--worker", nargs=4, metavar=("KIND", "USER", "LINKS", "PHOTO"))
    parser.add_argument("--prepare", type=int)
    args = parser.parse_args()
    if args.worker:
        kind, user, links, photo = args.worker
        print(json.dumps(_worker(kind, int(user), json.loads(links), photo)))
        return
    if args.prepare:
        print(json.dumps(_prepare(args.prepare)))
        return
    if not args.database:
        parser.error("--database is required")
    media = Path(tempfile.mkdtemp(prefix="telederm-ingest-"))
    env = {
        **os.environ,
        "DATABASE_URL": args.database,
        "TELEDERM_MODE": "demo",
        "TELEDERM_DATA_DIR": str(media),
        # As a busy worker's allocator behaves (see bench/ingest.py).
        "MALLOC_MMAP_THRESHOLD_": str(256 * 1024 * 1024),
        "MALLOC_TRIM_THRESHOLD_": str(1024 * 1024 * 1024),
    }
    try:
        setup_django()
        photo = media / "photo.jpg"
        photo.write_bytes(_photo())
        print(
            f"photo: {photo.stat().st_size / 1e6:.2f} MB, 12 MP JPEG; {args.photos} photos per "
            f"run; cores: {os.cpu_count()}"
        )
        print(
            f"{'workers':>7} {'pipeline/s':>10} {'decode/s':>9} {'ratio':>6} "
            f"{'peak MiB/worker (pipeline, decode)':>36}"
        )
        for workers in (int(n) for n in args.workers.split(",")):
            made = subprocess.run(  # noqa: S603
                [sys.executable, __file__, "--prepare", str(args.photos)],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            plan = json.loads(made.stdout.strip().splitlines()[-1])
            pipeline = _run("pipeline", workers, plan, str(photo), env)
            decode = _run("decode", workers, plan, str(photo), env)
            print(
                f"{workers:7d} {pipeline['per_second']:10.2f} {decode['per_second']:9.2f} "
                f"{pipeline['per_second'] / decode['per_second']:6.2f} "
                f"{pipeline['peak_mib']:20.0f} {decode['peak_mib']:15.0f}"
            )
    finally:
        shutil.rmtree(media, ignore_errors=True)


if __name__ == "__main__":
    main()
