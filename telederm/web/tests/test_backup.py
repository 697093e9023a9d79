"""Backup and restore: a backup restores into an empty instance with every referral, every
image (by SHA-256) and every audit event; a damaged backup is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from telederm.audit.models import AuditEvent
from telederm.audit.services import Actor
from telederm.images.models import LesionImage
from telederm.referrals.models import Referral
from telederm.referrals.tests.helpers import send
from telederm.review import services as review
from telederm.testing import World
from telederm.web.backup import MANIFEST, BackupError, backup, restore

pytestmark = pytest.mark.django_db
ROOT = Path(settings.BASE_DIR)

CHECK = """
import hashlib, json
from django.core.files.storage import default_storage
from telederm.audit.models import AuditEvent
from telederm.images.models import LesionImage
from telederm.referrals.models import Referral
images = {}
for image in LesionImage.objects.all():
    with default_storage.open(image.original.name, "rb") as handle:
        images[str(image.public_id)] = [image.sha256, hashlib.sha256(handle.read()).hexdigest()]
print(json.dumps({
    "referrals": sorted(r.number or str(r.public_id) for r in Referral.objects.all()),
    "images": images,
    "audit": sorted(AuditEvent.objects.values_list("id", flat=True)),
    "answers": list(Referral.objects.filter(answer__isnull=False).values_list("number", flat=True)),
}))
"""


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _history(world: World) -> list[Referral]:
    first, second = send(world), send(world)
    review.take_case(referral=first, by=Actor(user=world.derm_x))
    review.send_answer(
        referral=first,
        diagnosis="benign_naevus",
        certainty="certain",
        action="none",
        text_to_gp="Benignt nevus.",
        by=Actor(user=world.derm_x),
    )
    return [first, second]


def test_backup_restores_into_an_empty_instance(world: World, tmp_path: Path) -> None:
    referrals = _history(world)
    folder = backup(tmp_path / "backups")
    fresh = tmp_path / "fresh"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{fresh / 'restored.sqlite3'}",
        "TELEDERM_DATA_DIR": str(fresh),
        "TELEDERM_MODE": "demo",
    }
    output = _manage(env, "restore", str(folder))
    assert "restored" in output
    found = json.loads(_manage(env, "shell", "-c", CHECK).strip().splitlines()[-1])

    assert found["referrals"] == sorted(str(r.number) for r in referrals)
    assert found["answers"] == [referrals[0].number]
    images = LesionImage.objects.all()
    assert len(images) == 4
    assert found["images"] == {str(i.public_id): [i.sha256, i.sha256] for i in images}
    assert found["audit"] == sorted(AuditEvent.objects.values_list("id", flat=True))


def test_restore_refuses_a_damaged_file(world: World, tmp_path: Path) -> None:
    _history(world)
    folder = backup(tmp_path / "backups")
    manifest = json.loads((folder / MANIFEST).read_text())
    name = next(iter(manifest["files"]))
    damaged = folder / "files" / name
    damaged.write_bytes(damaged.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(BackupError, match="SHA-256"):
        # The check comes before the database is touched, so this instance is safe to use.
        _restore_ignoring_emptiness(folder)


def _restore_ignoring_emptiness(folder: Path) -> None:
    from unittest import mock

    with mock.patch("telederm.web.backup.User.objects.exists", return_value=False):
        restore(folder)


def test_restore_refuses_an_instance_that_is_in_use(world: World, tmp_path: Path) -> None:
    folder = backup(tmp_path / "backups")
    with pytest.raises(BackupError, match="not empty"):
        restore(folder)


def test_the_commands_pair_up(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("backup", str(tmp_path))
    folder = Path(capsys.readouterr().out.strip())
    assert (folder / MANIFEST).exists()
    assert json.loads((folder / MANIFEST).read_text())["rows"]["accounts.User"] >= 1
