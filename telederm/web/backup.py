"""Backup and restore of a whole instance: the database as a portable fixture plus every stored
file, with a manifest (row counts per model, SHA-256 per file) that the restore checks.

The pair is database-neutral (a PostgreSQL backup restores into SQLite and back) and goes
through Django's storage API, so it works the same with local files or an object store. For a
large production database, ``pg_dump`` beside a copy of the object store is faster; this pair is
the one whose result is tested (``web/tests/test_backup.py``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection, models
from django.utils import timezone

from telederm.accounts.models import User
from telederm.images.models import LesionImage

FORMAT_VERSION = 1
DATA_FILE = "data.json.gz"
MANIFEST = "manifest.json"
FILES_DIR = "files"
# Besides Telederm's own apps: the authenticator-app secrets. Sessions, lockout counters and
# finished background tasks are deliberately left out: they are transient.
EXTRA_APPS = ("otp_totp",)
TRANSIENT_MODELS = ("web.RateLimitWindow",)  # request counters of the rate limits


class BackupError(Exception):
    pass


@dataclass(frozen=True)
class RestoreReport:
    rows: dict[str, int]
    files: int


def _app_labels() -> list[str]:
    return [
        config.label
        for config in apps.get_app_configs()
        if config.name.startswith("telederm.") or config.label in EXTRA_APPS
    ]


def _models() -> list[type[models.Model]]:
    return [
        model
        for label in _app_labels()
        for model in apps.get_app_config(label).get_models()
        if model._meta.label not in TRANSIENT_MODELS
    ]


def _counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in _models()}


def _stored_files() -> list[str]:
    names: set[str] = set()
    for image in LesionImage.objects.only("original", "thumbnail", "screen").iterator():
        names.update(f.name for f in (image.original, image.thumbnail, image.screen) if f.name)
    return sorted(names)


def _safe_path(base: Path, name: str) -> Path:
    """A stored file's name as a path inside ``base`` (never outside it)."""
    path = (base / name).resolve()
    if not path.is_relative_to(base.resolve()):
        raise BackupError(f"unsafe file name in backup: {name!r}")
    return path


def backup(target: Path) -> Path:
    """Write a new backup folder under ``target`` and return it."""
    folder = target / f"telederm-{timezone.now():%Y%m%d-%H%M%S}"
    folder.mkdir(parents=True, exist_ok=False)
    files: dict[str, str] = {}
    for name in _stored_files():
        with default_storage.open(name, "rb") as handle:
            data = handle.read()
        path = _safe_path(folder / FILES_DIR, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        files[name] = hashlib.sha256(data).hexdigest()
    call_command(
        "dumpdata",
        *_app_labels(),
        exclude=list(TRANSIENT_MODELS),
        natural_foreign=True,
        output=str(folder / DATA_FILE),
        verbosity=0,
    )
    manifest = {
        "format": FORMAT_VERSION,
        "created_at": timezone.now().isoformat(),
        "database": connection.vendor,
        "rows": _counts(),
        "files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), "utf-8")
    return folder


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{folder} is not a Telederm backup: {exc}") from exc
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    return manifest


def restore(folder: Path) -> RestoreReport:
    """Restore into an empty, migrated instance; checks every file and every row count."""
    manifest = _read_manifest(folder)
    if User.objects.exists():
        raise BackupError("the database is not empty: restore only into a new instance")
    # Files first: they are checked against the manifest before anything is loaded.
    for name, digest in manifest["files"].items():
        data = _safe_path(folder / FILES_DIR, name).read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            raise BackupError(f"{name}: the file does not match its SHA-256 in the manifest")
        if default_storage.exists(name):
            raise BackupError(f"{name}: a file with that name is already stored")
        saved = default_storage.save(name, ContentFile(data))
        if saved != name:
            raise BackupError(f"{name}: stored as {saved}")
    call_command("loaddata", str(folder / DATA_FILE), verbosity=0)
    rows = _counts()
    differing = {
        label: (n, rows.get(label)) for label, n in manifest["rows"].items() if rows.get(label) != n
    }
    if differing:
        raise BackupError(f"row counts differ after restore (expected, found): {differing}")
    return RestoreReport(rows=rows, files=len(manifest["files"]))
