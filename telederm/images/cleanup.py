"""Sweep stored files that no photo row points to.

An upload writes its files before the row that points to them commits (``services.add_image``);
a crash in between (a killed worker, a lost database connection) leaves files nothing points to.
They hold patient photos, so they must not linger: the periodic sweep deletes those older than
``min_age`` (younger ones may belong to an upload that is still committing).
"""

from __future__ import annotations

from datetime import timedelta

from django.core.files.storage import Storage, default_storage
from django.db.models import Q
from django.utils import timezone

from telederm.images.models import LesionImage

ROOTS = ("originals", "derivatives")
DEFAULT_MIN_AGE = timedelta(hours=1)


def _files_under(storage: Storage, folder: str) -> list[str]:
    if not storage.exists(folder):
        return []
    folders, files = storage.listdir(folder)
    found = [f"{folder}/{name}" for name in files]
    for sub in folders:
        found.extend(_files_under(storage, f"{folder}/{sub}"))
    return found


def _referenced(shard: str) -> set[str]:
    """The names rows point to in one shard folder (``originals/ab`` and ``derivatives/ab``)."""
    names: set[str] = set()
    key = shard.rsplit("/", 1)[-1]
    rows = LesionImage.objects.filter(
        Q(original__startswith=f"originals/{key}/")
        | Q(thumbnail__startswith=f"derivatives/{key}/")
        | Q(screen__startswith=f"derivatives/{key}/")
    ).values_list("original", "thumbnail", "screen")
    for row in rows:
        names.update(row)
    return names


def orphan_files(
    *, min_age: timedelta = DEFAULT_MIN_AGE, storage: Storage | None = None
) -> list[str]:
    storage = storage or default_storage
    cutoff = timezone.now() - min_age
    orphans: list[str] = []
    for root in ROOTS:
        if not storage.exists(root):
            continue
        shards, loose = storage.listdir(root)
        groups = {f"{root}/{shard}": _files_under(storage, f"{root}/{shard}") for shard in shards}
        groups[root] = [f"{root}/{name}" for name in loose]
        for shard, names in groups.items():
            if not names:
                continue
            referenced = _referenced(shard)
            orphans.extend(
                name
                for name in names
                if name not in referenced and storage.get_modified_time(name) <= cutoff
            )
    return sorted(orphans)


def remove_orphan_files(*, min_age: timedelta = DEFAULT_MIN_AGE) -> int:
    removed = 0
    for name in orphan_files(min_age=min_age):
        # Checked again just before deleting: a row may have committed since the listing.
        if not LesionImage.objects.filter(
            Q(original=name) | Q(thumbnail=name) | Q(screen=name)
        ).exists():
            default_storage.delete(name)
            removed += 1
    return removed
