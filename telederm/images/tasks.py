"""Periodic housekeeping of stored photos (queued by ``manage.py run_periodic``)."""

from __future__ import annotations

import logging

from django_tasks import task

from telederm.images.cleanup import remove_orphan_files, remove_stale_uploads

logger = logging.getLogger(__name__)


@task()
def remove_orphan_files_task() -> int:
    removed = remove_orphan_files()
    if removed:
        logger.warning("removed %s photo files that no row pointed to", removed)
    stale = remove_stale_uploads()
    if stale:
        logger.info("dropped %s chunked uploads older than a day", stale)
    return removed
