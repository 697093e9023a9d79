"""Sweep stored files that no photo row points to, and pieces of uploads that never finished.

An upload writes its files before the row that points to them commits (``services.add_image``);
a crash in between (a killed worker, a lost database connection) leaves files nothing points to.
They hold patient photos, so they must not linger: the periodic sweep deletes those older than
``min_age`` (younger ones may belong to an upload that is still committing).

A photo sent in pieces (``images.chunks``) has a day to arrive whole; after that its pieces
and rows are dropped (``remove_stale_uploads``), as are piece files no row names.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.files.storage import Storage, default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from telederm.images.chunks import PARTIAL_ROOT, delete_all_quietly, drop_pieces
from telederm.images.models import ChunkedUpload, LesionImage, UploadChunk

ROOTS = ("originals", "derivatives")
DEFAULT_MIN_AGE = timedelta(hours=1)
STALE_UPLOAD_AGE = timedelta(hours=24)


def _listdir(storage: Storage, folder: str) -> tuple[list[str], list[str]]:
    # Not ``storage.exists(folder)``: an object store has no folders, only keys with a prefix,
    # so it would answer "no" and the sweep would never look.
    try:
        return storage.listdir(folder)
    except FileNotFoundError:
        return [], []


def _files_under(storage: Storage, folder: str) -> list[str]:
    folders, files = _listdir(storage, folder)
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
        shards, loose = _listdir(storage, root)
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


def remove_stale_uploads(*, max_age: timedelta = STALE_UPLOAD_AGE) -> int:
    """Drop chunked uploads started more than ``max_age`` ago (finished or not) with their
    pieces, then piece files that no row names; returns the number of uploads dropped.

    A finished upload's row only served to answer repeated pieces; the photo itself keeps its
    ``upload_id``, so a piece repeated even later still gets the stored photo back.
    """
    cutoff = timezone.now() - max_age
    dropped = 0
    for pk in ChunkedUpload.objects.filter(created_at__lte=cutoff).values_list("pk", flat=True):
        with transaction.atomic():
            # An upload being finished at this moment holds its lock: leave it for next time.
            upload = ChunkedUpload.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if upload is None:
                continue
            drop_pieces(upload)
            upload.delete()
        dropped += 1
    storage = default_storage
    leftovers = [
        name
        for name in _files_under(storage, PARTIAL_ROOT)
        if storage.get_modified_time(name) <= cutoff
    ]
    named = set(UploadChunk.objects.filter(name__in=leftovers).values_list("name", flat=True))
    delete_all_quietly([name for name in leftovers if name not in named])
    return dropped
