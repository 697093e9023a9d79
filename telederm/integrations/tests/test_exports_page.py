"""The region administrator's export page: failed exports listed, retried, scoped to the region."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from telederm.accounts.models import Role
from telederm.accounts.tests.factories import RegionFactory, member
from telederm.audit.models import Action, AuditEvent
from telederm.integrations.models import ExportJob
from telederm.referrals.models import Referral, ReferralEvent
from telederm.testing import World, login

pytestmark = pytest.mark.django_db


def _job(world: World, status: str = ExportJob.Status.FAILED, error: str = "") -> ExportJob:
    referral = Referral.objects.create(
        clinic=world.clinic_a, author=world.gp_a, number="TD26-000042"
    )
    event = ReferralEvent.objects.create(referral=referral, kind=ReferralEvent.Kind.SENT)
    return ExportJob.objects.create(
        event=event,
        target=ExportJob.Target.DICOM,
        status=status,
        attempts=8,
        last_error=error or "ArchiveError: http://pacs/dicom-web: <script>alert(1)</script>",
    )


def test_failed_exports_are_listed_with_their_error(client: Client, world: World) -> None:
    _job(world)
    login(client, world.region_admin)
    response = client.get(reverse("integrations:exports"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "TD26-000042" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the archive's text is escaped
    assert "<script>alert(1)" not in html
    assert "Misslyckad" in html or "Misslyckades" in html


def test_delivered_exports_are_not_on_the_default_tab(client: Client, world: World) -> None:
    _job(world, status=ExportJob.Status.DONE)
    login(client, world.region_admin)
    assert "TD26-000042" not in client.get(reverse("integrations:exports")).content.decode()
    html = client.get(reverse("integrations:exports") + "?status=done").content.decode()
    assert "TD26-000042" in html


def test_retry_puts_the_job_back_in_line_and_is_audited(client: Client, world: World) -> None:
    job = _job(world)
    login(client, world.region_admin)
    with translation.override("en"):
        response = client.post(reverse("integrations:retry", args=[job.pk]), follow=True)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.PENDING
    assert job.attempts == 0
    assert AuditEvent.objects.filter(
        action=Action.EXPORT_RETRIED, actor_id=world.region_admin.pk
    ).exists()
    assert response.status_code == 200


def test_retry_all_retries_every_failed_export_of_the_region(client: Client, world: World) -> None:
    jobs = [_job(world) for _ in range(1)]
    other = Referral.objects.create(clinic=world.clinic_b, author=world.gp_b, number="TD26-000043")
    jobs.append(
        ExportJob.objects.create(
            event=ReferralEvent.objects.create(referral=other, kind=ReferralEvent.Kind.ANSWERED),
            target=ExportJob.Target.DICOM,
            status=ExportJob.Status.FAILED,
        )
    )
    login(client, world.region_admin)
    client.post(reverse("integrations:retry_all"))
    assert {ExportJob.objects.get(pk=j.pk).status for j in jobs} == {ExportJob.Status.PENDING}


def test_another_regions_admin_sees_nothing_and_cannot_retry(client: Client, world: World) -> None:
    job = _job(world)
    outsider = member(RegionFactory.create(name="Region Annan"), Role.REGION_ADMIN)
    login(client, outsider)
    assert "TD26-000042" not in client.get(reverse("integrations:exports")).content.decode()
    assert client.post(reverse("integrations:retry", args=[job.pk])).status_code == 404
    client.post(reverse("integrations:retry_all"))
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED
