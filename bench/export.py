"""Benchmark: photos per second to a real Orthanc through the outbox, against a bare STOW-RS loop.

Run from the repository root (needs Debian's ``orthanc`` and ``orthanc-dicomweb``):

    .venv/bin/python bench/export.py [--referrals 40]

It makes a fresh demo instance in a temporary data dir (SQLite; ``migrate``, ``seed_demo``),
sends ``--referrals`` referrals with two real photos each through the services (so the photos are
stored and the export jobs queued exactly as in production), and starts two empty Orthanc servers.

- **Outbox**: the worker's loop (``outbox.deliver_due`` with ``dicom_export.send``) until every
  job is done — read each referral, build its instances from the stored files (JPEG carried
  unchanged, the referral PDF rendered), STOW-RS one request per job, mark the job done.
- **Bare STOW-RS**: the same instances (photos and PDFs), already built in memory, posted one
  request per referral with the same client to the second Orthanc: what the archive and the
  network cost alone.

Printed: photos/s (and instances/s) of each and the outbox/bare ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from latency import setup_django  # noqa: E402 (a sibling script)


def _fill(referrals: int, orientation: int) -> None:
    """In the child: the demo GP sends ``referrals`` referrals, each with an overview and a
    dermoscopic 12 MP phone photo, through the services (photos stored, export jobs queued)."""
    setup_django()
    import uuid

    from telederm.accounts.models import Membership, Role
    from telederm.audit.services import Actor
    from telederm.images.services import accept_warnings, add_image
    from telederm.images.synthetic import phone_jpeg
    from telederm.referrals import services
    from telederm.referrals.bodysites import BODY_SITES

    gp = Membership.objects.filter(role=Role.GP).select_related("user", "organisation").first()
    assert gp is not None, "seed_demo makes a GP"
    by = Actor(user=gp.user)
    raw = phone_jpeg(orientation=orientation)
    site = next(s.code for s in BODY_SITES if s.lateral)
    for _ in range(referrals):
        referral = services.start_referral(clinic=gp.organisation, by=by)
        services.set_patient(referral=referral, personal_number="19121212-1212", by=by)
        link = services.add_lesion(referral=referral, body_site=site, laterality="L", by=by)
        for kind in ("overview", "dermoscopic"):
            image, _new = add_image(link=link, kind=kind, raw=raw, upload_id=uuid.uuid4(), by=by)
            if image.warnings:
                accept_warnings(image=image, by=by)
        services.update_history(
            referral=referral,
            data={"question": "Melanom?", "suspicion": "uncertain", "duration": "1-6m"},
            by=by,
        )
        referral.refresh_from_db()
        services.submit_referral(referral=referral, by=by)


def _measure(outbox_url: str, bare_url: str) -> dict[str, Any]:
    setup_django()
    from django.conf import settings

    from telederm.integrations import dicom_export, outbox
    from telederm.integrations.dicom.client import ArchiveClient
    from telederm.integrations.models import ExportJob
    from telederm.referrals.models import Referral, ReferralStatus

    settings.TELEDERM_DICOM_URL = outbox_url
    outbox.plan_jobs()
    jobs = ExportJob.objects.filter(status=ExportJob.Status.PENDING).count()
    referrals = list(
        Referral.objects.filter(status=ReferralStatus.SENT).select_related(
            "patient", "clinic", "author", "review_unit"
        )
    )
    photos = sum(len(dicom_export.datasets_for(r)) for r in referrals)
    began = time.perf_counter()
    while ExportJob.objects.filter(status=ExportJob.Status.PENDING).exists():
        _delivered, failed = outbox.deliver_due(dicom_export.send, target=ExportJob.Target.DICOM)
        if failed:
            sys.exit("an export failed: " + str(ExportJob.objects.exclude(last_error="").first()))
    outbox_seconds = time.perf_counter() - began
    instances = sum(
        len(dicom_export.datasets_for(r))
        + len(dicom_export.document_datasets(r, dicom_export.study_facts(r)))
        for r in referrals
    )

    bare = ArchiveClient(bare_url)
    # The same instances as the outbox sent (photos and referral PDFs), built beforehand.
    prepared = [
        dicom_export.datasets_for(r)
        + dicom_export.document_datasets(r, dicom_export.study_facts(r))
        for r in referrals
    ]
    began = time.perf_counter()
    for datasets in prepared:
        bare.store(datasets)
    bare_seconds = time.perf_counter() - began
    return {
        "jobs": jobs,
        "referrals": len(referrals),
        "photos": photos,
        "instances": instances,
        "outbox_seconds": outbox_seconds,
        "bare_seconds": bare_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--referrals", type=int, default=40)
    # 6: a portrait phone photo, which the export must turn upright (decode, rotate, re-encode);
    # 1: a landscape one, whose JPEG goes into the DICOM file unchanged.
    parser.add_argument("--orientation", type=int, choices=[1, 6], default=6)
    parser.add_argument("--child", choices=["fill", "measure"])
    parser.add_argument("--outbox-url")
    parser.add_argument("--bare-url")
    args = parser.parse_args()
    if args.child == "fill":
        _fill(args.referrals, args.orientation)
        return
    if args.child == "measure":
        print(json.dumps(_measure(args.outbox_url, args.bare_url)))
        return

    setup_django()  # the Orthanc helper of the archive tests imports the app's modules
    from telederm.integrations.dicom.tests.conftest import (
        DICOMWEB_PLUGIN,
        ORTHANC_BINARY,
        OrthancServer,
    )

    if not (ORTHANC_BINARY.exists() and DICOMWEB_PLUGIN.exists()):
        sys.exit("Orthanc is not installed (apt-get install orthanc orthanc-dicomweb)")
    work = Path(tempfile.mkdtemp(prefix="telederm-export-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEDERM_", "DATABASE_"))},
        "TELEDERM_MODE": "demo",
        "TELEDERM_DATA_DIR": str(work / "data"),
        "DATABASE_URL": f"sqlite:///{work / 'telederm.sqlite3'}",
    }
    for name in ("outbox", "bare"):
        (work / name).mkdir()
    servers = [OrthancServer(ORTHANC_BINARY, work / name) for name in ("outbox", "bare")]
    try:
        for step in (["migrate", "-v0"], ["seed_demo"]):
            subprocess.run(  # noqa: S603
                [sys.executable, "manage.py", *step],
                env=env,
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
        for server in servers:
            server.start()

        def child(*extra: str) -> str:
            out = subprocess.run(  # noqa: S603 (this script, as its own child)
                [sys.executable, __file__, *extra],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            if out.returncode:
                sys.exit(out.stderr[-3000:])
            return out.stdout

        child(
            "--child",
            "fill",
            "--referrals",
            str(args.referrals),
            "--orientation",
            str(args.orientation),
        )
        result = json.loads(
            child(
                "--child", "measure", "--outbox-url", servers[0].url, "--bare-url", servers[1].url
            )
            .strip()
            .splitlines()[-1]
        )
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    outbox_rate = result["photos"] / result["outbox_seconds"]
    bare_rate = result["photos"] / result["bare_seconds"]
    print(
        f"orientation {args.orientation}: "
        f"{result['referrals']} referrals, {result['jobs']} export jobs, {result['photos']} photos "
        f"({result['instances']} instances with the referral PDFs)"
    )
    print(
        f"outbox:        {result['outbox_seconds']:6.2f} s  {outbox_rate:7.1f} photos/s  "
        f"{result['instances'] / result['outbox_seconds']:7.1f} instances/s"
    )
    print(
        f"bare STOW-RS:  {result['bare_seconds']:6.2f} s  {bare_rate:7.1f} photos/s  "
        f"{result['instances'] / result['bare_seconds']:7.1f} instances/s"
    )
    print(f"outbox/bare ratio (photos/s): {outbox_rate / bare_rate:.2f}")


if __name__ == "__main__":
    main()
