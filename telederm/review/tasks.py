"""Periodic work of the review app (queued by ``manage.py run_periodic``)."""

from __future__ import annotations

from django_tasks import task

from telederm.review.deadlines import flag_deadlines


@task()
def flag_deadlines_task() -> int:
    return flag_deadlines()
