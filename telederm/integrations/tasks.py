"""Periodic delivery of the outbox (queued by ``manage.py run_periodic``)."""

from __future__ import annotations

from django_tasks import task

from telederm.integrations import outbox
from telederm.integrations.models import ExportJob


@task()
def export_due_task() -> int:
    if not outbox.enabled_targets():
        return 0
    from telederm.integrations import dicom_export

    outbox.plan_jobs()
    delivered, _failed = outbox.deliver_due(dicom_export.send, target=ExportJob.Target.DICOM)
    return delivered
