"""A real S3-protocol server for tests: moto's ``ThreadedMotoServer`` on a free loopback port.

It speaks the same HTTP protocol as AWS S3 and MinIO, so boto3 and django-storages talk to it
exactly as to a production object store, with no account and no network beyond loopback. The
storage configuration under test is the one ``telederm/settings.py`` builds from the
``TELEDERM_STORAGE=s3`` variables (``settings_storage``), not a copy of it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

REGION = "eu-north-1"
ACCESS_KEY = "telederm-test-key"
SECRET_KEY = "telederm-test-secret"  # the fake server accepts any key


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def new_bucket(self) -> str:
        """A fresh private bucket, so that tests (and xdist workers) never see each other's."""
        name = f"telederm-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        return name

    def env(self, bucket: str) -> dict[str, str]:
        """The production variables that point Telederm at this server and bucket."""
        return {
            "TELEDERM_STORAGE": "s3",
            "TELEDERM_S3_BUCKET": bucket,
            "TELEDERM_S3_ENDPOINT_URL": self.endpoint_url,
            "TELEDERM_S3_REGION": REGION,
            "TELEDERM_S3_ACCESS_KEY": ACCESS_KEY,
            "TELEDERM_S3_SECRET_KEY": SECRET_KEY,
        }


def settings_storage(env: dict[str, str], data_dir: Path) -> dict[str, Any]:
    """``STORAGES["default"]`` as ``telederm/settings.py`` builds it from ``env`` (read in a
    fresh interpreter, so the settings module runs exactly as at a server's start)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEDERM_", "DATABASE_"))}
    clean.update(env)
    clean["TELEDERM_DATA_DIR"] = str(data_dir)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, telederm.settings as s; print(json.dumps(s.STORAGES['default']))",
        ],
        cwd=settings.BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"settings did not load:\n{result.stderr[-2000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


@contextmanager
def running_s3() -> Iterator[S3Server]:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield S3Server(endpoint_url=f"http://127.0.0.1:{port}")
    finally:
        server.stop()
