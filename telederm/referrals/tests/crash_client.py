"""A GP's whole referral, run as its own process so that a test can SIGKILL it at any moment.

    python -m telederm.referrals.tests.crash_client setup|run|check|finish

``run`` does what the phone does, resuming like the phone does: it continues the GP's open
draft, and every photo carries a fixed upload id, so running it again after a crash completes
the work once. ``check`` prints the invariants as JSON; ``finish`` runs, sweeps orphan files
and checks. Only the test ``test_crash_durability`` uses this module.

``CRASH_AT=<point>`` makes ``run`` SIGKILL itself at that point: between two steps, or inside a
step at its most delicate moment (files written but the row not committed; the referral updated
inside the send transaction but not committed; committed but the after-commit work not run).
The points are reached by wrapping the real functions, not by hooks in the product code.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from unittest import mock

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telederm.settings")
django.setup()

from django.core.files.storage import default_storage  # noqa: E402

from telederm.accounts.models import Role, User  # noqa: E402
from telederm.audit.models import Action, AuditEvent  # noqa: E402
from telederm.audit.services import Actor  # noqa: E402
from telederm.images.cleanup import ROOTS, _files_under, remove_orphan_files  # noqa: E402
from telederm.images.models import LesionImage  # noqa: E402
from telederm.images.services import accept_warnings, add_image  # noqa: E402
from telederm.referrals import services  # noqa: E402
from telederm.referrals.bodysites import BODY_SITES  # noqa: E402
from telederm.referrals.models import Referral, ReferralEvent, ReferralStatus  # noqa: E402
from telederm.testing import photo  # noqa: E402

GP_EMAIL = "crash.gp@example.se"
PATIENT = "19121212-1212"
UPLOADS = {
    "overview": uuid.UUID("00000000-0000-4000-8000-000000000001"),
    "dermoscopic": uuid.UUID("00000000-0000-4000-8000-000000000002"),
}


CRASH_POINTS = (
    "after_start",
    "after_patient",
    "image_files_written",
    "image_row_uncommitted",
    "after_first_image",
    "after_history",
    "send_uncommitted",
    "send_queueing",
    "after_send",
)


def crash(point: str) -> None:
    if os.environ.get("CRASH_AT") == point:
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)


def _crash_before(point: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        crash(point)
        return function(*args, **kwargs)

    return wrapper


def _inside_steps() -> list[Any]:
    """Crash points inside the services, by wrapping what they call at those moments."""
    first_only = {"done": False}
    real_save = LesionImage.save

    def save_row(self: LesionImage, *args: Any, **kwargs: Any) -> None:
        if not first_only["done"]:
            first_only["done"] = True
            crash("image_files_written")  # files on disk, no row yet
            real_save(self, *args, **kwargs)
            crash("image_row_uncommitted")  # row inserted, transaction open
            return
        real_save(self, *args, **kwargs)

    return [
        mock.patch.object(LesionImage, "save", save_row),
        mock.patch.object(
            ReferralEvent.objects,
            "create",
            _crash_before("send_uncommitted", ReferralEvent.objects.create),
        ),
        mock.patch.object(
            services,
            "enqueue_with_transaction",
            _crash_before("send_queueing", services.enqueue_with_transaction),
        ),
    ]


def setup() -> None:
    from telederm.accounts.tests.factories import (
        ClinicFactory,
        RegionFactory,
        ReviewUnitFactory,
        licensed_gp,
        member,
    )

    region = RegionFactory.create(name="Region Krasch")
    clinic = ClinicFactory.create(region=region, name="Vårdcentral Krasch")
    unit = ReviewUnitFactory.create(region=region, name="Hudkliniken Krasch")
    member(unit, Role.DERMATOLOGIST)
    licensed_gp(clinic, email=GP_EMAIL)
    from telederm.training.fixtures import give_tested_equipment

    give_tested_equipment(clinic)
    from telederm.training.fixtures import give_tested_equipment

    give_tested_equipment(clinic)


def run() -> str:
    patches = _inside_steps()
    for patch in patches:
        patch.start()
    try:
        return _run()
    finally:
        for patch in patches:
            patch.stop()


def _run() -> str:
    gp = User.objects.get(email=GP_EMAIL)
    by = Actor(user=gp, user_agent="crash-client")
    referral = Referral.objects.filter(author=gp).order_by("created_at").first()
    if referral is None:
        referral = services.start_referral(clinic=gp.memberships.get().organisation, by=by)
    crash("after_start")
    if referral.status == ReferralStatus.DRAFT:
        services.set_patient(referral=referral, personal_number=PATIENT, by=by)
        crash("after_patient")
        link = referral.lesion_links.first()
        if link is None:
            site = next(s.code for s in BODY_SITES if s.lateral)
            link = services.add_lesion(referral=referral, body_site=site, laterality="L", by=by)
        for seed, (kind, upload_id) in enumerate(UPLOADS.items(), start=2):
            image, _created = add_image(
                link=link, kind=kind, raw=photo(kind, seed=seed), upload_id=upload_id, by=by
            )
            if image.warnings and not image.warnings_accepted:
                accept_warnings(image=image, by=by)
            crash("after_first_image")
        services.update_history(
            referral=referral,
            data={"question": "Melanom?", "suspicion": "uncertain", "duration": "1-6m"},
            by=by,
        )
        crash("after_history")
        referral = services.submit_referral(referral=referral, by=by)
        crash("after_send")
    return referral.number or ""


def check() -> dict[str, object]:
    referrals = list(Referral.objects.all())
    sent = [r for r in referrals if r.status != ReferralStatus.DRAFT]
    half_sent = [
        str(r.public_id)
        for r in sent
        if not (r.number and r.sent_at and r.deadline and r.review_unit_id)
        or not ReferralEvent.objects.filter(referral=r, kind=ReferralEvent.Kind.SENT).exists()
        or not AuditEvent.objects.filter(
            action=Action.REFERRAL_SENT, target_id=str(r.public_id)
        ).exists()
    ]
    referenced: set[str] = set()
    missing: list[str] = []
    damaged: list[str] = []
    for image in LesionImage.objects.all():
        for field in (image.original, image.thumbnail, image.screen):
            referenced.add(field.name)
            if not default_storage.exists(field.name):
                missing.append(field.name)
        if default_storage.exists(image.original.name):
            with default_storage.open(image.original.name, "rb") as handle:
                if hashlib.sha256(handle.read()).hexdigest() != image.sha256:
                    damaged.append(image.original.name)
    stored = {name for root in ROOTS for name in _files_under(default_storage, root)}
    from django_tasks_db.models import DBTaskResult

    notifications = DBTaskResult.objects.filter(task_path__endswith="notify_new_referral_task")
    return {
        "referrals": len(referrals),
        "sent": len(sent),
        "images": LesionImage.objects.count(),
        "upload_ids": sorted(str(i.upload_id) for i in LesionImage.objects.all()),
        "half_sent": half_sent,
        "rows_without_file": missing,
        "damaged": damaged,
        "unreferenced_files": sorted(stored - referenced),
        "notifications": sorted(str(n.args_kwargs["args"][0]) for n in notifications),
        "referral_ids": [r.pk for r in sent],
    }


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "setup":
        setup()
    elif mode == "run":
        print(run())
    elif mode == "check":
        print(json.dumps(check()))
    elif mode == "finish":
        number = run()
        removed = remove_orphan_files(min_age=timedelta(0))
        print(json.dumps({"number": number, "removed": removed, **check()}))
    else:
        raise SystemExit(f"unknown mode {mode}")
