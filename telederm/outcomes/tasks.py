"""Periodic work of the outcomes app (queued by ``manage.py run_periodic``)."""

from __future__ import annotations

from django_tasks import task

from telederm.outcomes.reminders import send_reminders


@task()
def remind_follow_ups_task() -> int:
    return send_reminders()
