"""SIGKILL the process that sends a referral at many moments: afterwards there is no half-sent
referral and no row pointing at a missing file; running again completes the work exactly once,
and the sweep removes the files a crash left with nothing pointing at them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from telederm.referrals.tests.crash_client import CRASH_POINTS

ROOT = Path(settings.BASE_DIR)


class Instance:
    """A separate Telederm instance: its own SQLite file and media folder."""

    def __init__(self, folder: Path, template: Path | None = None) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
            "TELEDERM_DATA_DIR": str(folder),
            "TELEDERM_MODE": "demo",
            "TELEDERM_SMS_BACKEND": "telederm.lib.sms.ConsoleFileSmsBackend",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        if template is not None:
            shutil.copy(template, folder / "db.sqlite3")

    def call(self, *args: str) -> str:
        result = subprocess.run(  # noqa: S603
            [sys.executable, *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    def client(self, mode: str) -> dict[str, Any]:
        out = self.call("-m", "telederm.referrals.tests.crash_client", mode)
        return dict(json.loads(out.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    instance = Instance(tmp_path_factory.mktemp("template"))
    instance.call("manage.py", "migrate", "--no-input", "-v", "0")
    instance.call("-m", "telederm.referrals.tests.crash_client", "setup")
    return instance.folder / "db.sqlite3"


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_killed_at_any_moment_loses_nothing_and_duplicates_nothing(
    template: Path, tmp_path: Path, point: str
) -> None:
    instance = Instance(tmp_path / "instance", template)
    killed = subprocess.run(
        [sys.executable, "-m", "telederm.referrals.tests.crash_client", "run"],
        env={**instance.env, "CRASH_AT": point},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, f"{point} was never reached: {killed.stderr}"

    after_crash = instance.client("check")
    assert after_crash["half_sent"] == []
    assert after_crash["rows_without_file"] == []
    assert after_crash["damaged"] == []
    assert after_crash["referrals"] in (0, 1)

    done = instance.client("finish")
    assert done["number"]
    assert done["referrals"] == 1
    assert done["sent"] == 1
    assert done["images"] == 2
    assert len(set(done["upload_ids"])) == 2
    assert done["half_sent"] == []
    assert done["rows_without_file"] == []
    assert done["damaged"] == []
    assert done["unreferenced_files"] == []
    # The unit's notification was queued exactly once, with the referral: never lost.
    assert done["notifications"] == [str(pk) for pk in done["referral_ids"]]
