"""Queue background work together with the change that causes it.

When tasks are stored in the application's own database (``django_tasks_db``, the default),
the task row is written inside the caller's transaction: it commits with the change or not at
all, so a crash between the commit and the queueing can neither lose the work nor queue it for
a change that never happened (a transactional outbox). Other backends queue after the commit.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import connection, transaction
from django_tasks.base import Task
from django_tasks_db.backend import DatabaseBackend


def enqueue_with_transaction(task: Task[Any, Any], *args: Any) -> None:
    if isinstance(task.get_backend(), DatabaseBackend) and connection.in_atomic_block:
        task.enqueue(*args)
    else:
        transaction.on_commit(partial(task.enqueue, *args))
