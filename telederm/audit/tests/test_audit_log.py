"""The audit log: snapshots, append-only in the database, durable security events, the search."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from telederm.accounts.models import Membership, Role
from telederm.audit.maintenance import set_audit_maintenance
from telederm.audit.models import Action, AuditEvent
from telederm.audit.services import Actor, record, record_security_event
from telederm.testing import World, login

pytestmark = pytest.mark.django_db
STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture
def event(world: World) -> AuditEvent:
    return record(
        Action.USER_CHANGED,
        by=Actor(user=world.admin_a, ip="192.0.2.10", user_agent="Firefox/140"),
        role=Role.CENTER_ADMIN,
        organisation=world.clinic_a,
        target=world.gp_a,
        target_label=world.gp_a.full_name,
        detail={"fields": ["title"]},
    )


def _stored(event: AuditEvent) -> dict[str, object]:
    return model_to_dict(AuditEvent.objects.get(pk=event.pk))


# --- record() ---------------------------------------------------------------------------------


def test_record_stores_a_snapshot_of_actor_organisation_target_and_client(world: World) -> None:
    admin = world.admin_a
    event = record(
        Action.USER_CHANGED,
        by=Actor(user=admin, ip="2001:db8::7", user_agent="Mozilla/5.0 (Telederm test)"),
        role=Role.CENTER_ADMIN,
        organisation=world.clinic_a,
        target=world.gp_a,
        target_label=world.gp_a.full_name,
        patient_id="191212121212",
        detail={"fields": ["title"]},
    )

    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.action == Action.USER_CHANGED
    assert stored.success is True
    assert stored.actor_id == admin.pk
    assert stored.actor_email == admin.email
    assert stored.actor_hsa_id == admin.hsa_id
    assert stored.actor_name == admin.full_name
    assert stored.actor_role == Role.CENTER_ADMIN
    assert stored.organisation_id == world.clinic_a.pk
    assert stored.organisation_name == "Vårdcentral A"
    assert stored.organisation_hsa_id == world.clinic_a.hsa_id
    assert stored.target_type == "accounts.user"
    assert stored.target_id == str(world.gp_a.public_id)
    assert stored.target_label == world.gp_a.full_name
    assert stored.patient_id == "191212121212"
    assert stored.ip == "2001:db8::7"
    assert stored.user_agent == "Mozilla/5.0 (Telederm test)"
    assert stored.detail == {"fields": ["title"]}


def test_snapshot_keeps_the_old_name_after_the_user_is_renamed(world: World) -> None:
    event = record(Action.LOGOUT, by=Actor(user=world.gp_a), organisation=world.clinic_a)
    old_name = world.gp_a.full_name
    world.gp_a.last_name = "Omdöpt"
    world.gp_a.save()
    world.clinic_a.name = "Vårdcentral A (ny)"
    world.clinic_a.save()

    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor_name == old_name
    assert stored.organisation_name == "Vårdcentral A"


def test_record_uses_the_primary_key_for_targets_without_public_id(world: World) -> None:
    membership = Membership.objects.get(user=world.gp_a)
    event = record(Action.MEMBERSHIP_ADDED, by=Actor.system(), target=membership)

    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.target_type == "accounts.membership"
    assert stored.target_id == str(membership.pk)


def test_record_by_the_system_or_an_unknown_person_keeps_the_given_email(db: None) -> None:
    event = record(
        Action.RESET_REQUESTED,
        by=Actor(user=None, ip="198.51.100.4", user_agent="curl/8"),
        success=False,
        email="nobody@example.se",
    )

    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor_id is None
    assert stored.actor_email == "nobody@example.se"
    assert (stored.actor_hsa_id, stored.actor_name, stored.actor_role) == ("", "", "")
    assert stored.organisation_id is None
    assert (stored.target_type, stored.target_id) == ("", "")
    assert stored.success is False
    assert stored.ip == "198.51.100.4"
    assert Actor.system().user_agent == "system"


# --- append-only ------------------------------------------------------------------------------


def test_queryset_update_is_refused_by_the_database(event: AuditEvent) -> None:
    before = _stored(event)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(actor_email="forged@example.se")
    assert _stored(event) == before


def test_saving_a_changed_instance_is_refused_by_the_database(event: AuditEvent) -> None:
    before = _stored(event)
    event.success = False
    event.detail = {"forged": True}
    with pytest.raises(DatabaseError), transaction.atomic():
        event.save()
    assert _stored(event) == before


def test_queryset_delete_is_refused_by_the_database(event: AuditEvent) -> None:
    before = _stored(event)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert _stored(event) == before


def test_instance_delete_is_refused_by_the_database(event: AuditEvent) -> None:
    before = _stored(event)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.get(pk=event.pk).delete()
    assert _stored(event) == before


def test_raw_sql_update_is_refused_by_the_database(event: AuditEvent) -> None:
    before = _stored(event)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET actor_email = %s, success = %s WHERE id = %s",
            ["forged@example.se", False, event.pk],
        )
    assert _stored(event) == before


def test_raw_sql_delete_is_refused_by_the_database(event: AuditEvent) -> None:
    before = _stored(event)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert _stored(event) == before


def test_raw_sql_delete_of_the_whole_table_is_refused(event: AuditEvent) -> None:
    count = AuditEvent.objects.count()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.count() == count >= 1


def test_truncate_is_refused_on_postgresql(event: AuditEvent) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_new_events_can_still_be_appended_after_a_refused_change(event: AuditEvent) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(success=False)
    later = record(Action.LOGOUT, by=Actor.system())
    assert AuditEvent.objects.filter(pk__in=[event.pk, later.pk]).count() == 2


def test_flush_empties_the_audit_log_only_with_the_maintenance_switch(event: AuditEvent) -> None:
    if connection.vendor == "postgresql":
        # Check the deferred foreign keys of this test's transaction now, so that TRUNCATE
        # meets only the audit trigger (as it does at a transactional test's teardown).
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    # flush reports the trigger's refusal as a CommandError.
    with pytest.raises(CommandError), transaction.atomic():
        call_command("flush", interactive=False, verbosity=0)
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    set_audit_maintenance(True)
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists()


# --- security events --------------------------------------------------------------------------


def test_security_event_persists_although_the_callers_later_work_is_rolled_back(
    world: World,
) -> None:
    class CallerFailed(Exception):
        pass

    security = record_security_event(
        Action.OTP_FAILED,
        by=Actor(user=world.gp_a, ip="203.0.113.9", user_agent="Safari"),
        success=False,
        detail={"method": "sms"},
    )
    written: list[AuditEvent] = []

    def callers_later_work() -> None:
        with transaction.atomic():
            written.append(record(Action.LOGIN_SUCCEEDED, by=Actor(user=world.gp_a)))
            raise CallerFailed

    with pytest.raises(CallerFailed):
        callers_later_work()

    stored = AuditEvent.objects.get(pk=security.pk)
    assert stored.action == Action.OTP_FAILED
    assert stored.success is False
    assert stored.actor_id == world.gp_a.pk
    assert stored.ip == "203.0.113.9"
    assert stored.detail == {"method": "sms"}
    assert not AuditEvent.objects.filter(pk=written[0].pk).exists()


def test_security_event_refuses_to_be_nested_in_a_callers_transaction(world: World) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        record_security_event(Action.LOGIN_FAILED, by=Actor(user=world.gp_a), success=False)
    assert not AuditEvent.objects.filter(action=Action.LOGIN_FAILED).exists()


# --- search view ------------------------------------------------------------------------------


@pytest.fixture
def logged_events(world: World) -> dict[str, AuditEvent]:
    """Events by different people, in different units, of different kinds and dates."""

    def at(day: int) -> datetime:
        return datetime(2025, 3, day, 12, 0, tzinfo=STOCKHOLM)

    def snapshot(user, organisation, action: Action, day: int) -> AuditEvent:
        return AuditEvent.objects.create(
            occurred_at=at(day),
            action=action,
            actor_id=user.pk,
            actor_email=user.email,
            actor_hsa_id=user.hsa_id,
            actor_name=user.full_name,
            organisation_id=organisation.pk,
            organisation_name=organisation.name,
            organisation_hsa_id=organisation.hsa_id,
        )

    return {
        "gp_a_login": snapshot(world.gp_a, world.clinic_a, Action.LOGIN_SUCCEEDED, 1),
        "gp_b_login": snapshot(world.gp_b, world.clinic_b, Action.LOGIN_SUCCEEDED, 3),
        "admin_a_created": snapshot(world.admin_a, world.clinic_a, Action.USER_CREATED, 5),
        "derm_x_logout": snapshot(world.derm_x, world.unit_x, Action.LOGOUT, 7),
    }


def _search(client: Client, **criteria: str) -> set[int]:
    """Search as the page does: the criteria are posted (never in the URL), then shown."""
    posted = client.post(reverse("audit:search"), criteria)
    assert posted.status_code == 302
    response = client.get(posted["Location"])
    assert response.status_code == 200
    page = response.context["page"]
    assert page is not None
    return {event.pk for event in page.object_list}


def _ids(events: dict[str, AuditEvent], *names: str) -> set[int]:
    return {events[name].pk for name in names}


def test_region_admin_filters_the_log_by_user(
    client: Client, world: World, logged_events: dict[str, AuditEvent]
) -> None:
    login(client, world.region_admin)
    assert _search(client, who=world.gp_a.email.upper()) == _ids(logged_events, "gp_a_login")
    assert _search(client, who=world.gp_b.hsa_id) == _ids(logged_events, "gp_b_login")
    assert _search(client, who=world.derm_x.first_name) == _ids(logged_events, "derm_x_logout")


def test_region_admin_filters_the_log_by_unit(
    client: Client, world: World, logged_events: dict[str, AuditEvent]
) -> None:
    login(client, world.region_admin)
    assert _search(client, unit="vårdcentral a") == _ids(
        logged_events, "gp_a_login", "admin_a_created"
    )
    assert _search(client, unit=world.unit_x.hsa_id or "") == _ids(logged_events, "derm_x_logout")


def test_region_admin_filters_the_log_by_event(
    client: Client, world: World, logged_events: dict[str, AuditEvent]
) -> None:
    login(client, world.region_admin)
    assert _search(client, action=Action.LOGIN_SUCCEEDED) == _ids(
        logged_events, "gp_a_login", "gp_b_login"
    )
    assert _search(client, action=Action.USER_CREATED, unit="Vårdcentral A") == _ids(
        logged_events, "admin_a_created"
    )


def test_region_admin_filters_the_log_by_date_in_swedish_time(
    client: Client, world: World, logged_events: dict[str, AuditEvent]
) -> None:
    login(client, world.region_admin)
    assert _search(client, date_from="2025-03-03", date_to="2025-03-05") == _ids(
        logged_events, "gp_b_login", "admin_a_created"
    )
    assert _search(client, date_from="2025-03-06", date_to="2025-03-31") == _ids(
        logged_events, "derm_x_logout"
    )
    assert _search(client, date_to="2025-03-01") == _ids(logged_events, "gp_a_login")


def test_each_search_is_itself_logged_with_its_criteria(
    client: Client, world: World, logged_events: dict[str, AuditEvent]
) -> None:
    login(client, world.region_admin)
    client.post(reverse("audit:search"), {"who": "Gustav"})
    client.get(reverse("audit:search"), REMOTE_ADDR="192.0.2.55")
    client.post(reverse("audit:search"), {"unit": "Hudkliniken X", "action": Action.LOGOUT})
    client.get(reverse("audit:search"))

    searches = list(
        AuditEvent.objects.filter(action=Action.AUDIT_SEARCHED).order_by("occurred_at", "id")
    )
    assert len(searches) == 2
    assert all(search.actor_id == world.region_admin.pk for search in searches)
    assert all(search.actor_role == Role.REGION_ADMIN for search in searches)
    assert searches[0].detail == {"criteria": {"who": "Gustav"}, "page": 1}
    assert searches[0].ip == "192.0.2.55"
    assert searches[1].detail == {
        "criteria": {"unit": "Hudkliniken X", "action": "auth.logout"},
        "page": 1,
    }


@pytest.mark.parametrize("persona", ["gp_a", "admin_a", "derm_x"])
def test_audit_search_is_forbidden_for_everyone_but_region_admins(
    client: Client, world: World, logged_events: dict[str, AuditEvent], persona: str
) -> None:
    login(client, getattr(world, persona))
    response = client.post(reverse("audit:search"), {"who": "Gustav"})
    assert response.status_code == 403
    assert client.get(reverse("audit:search")).status_code == 403
    assert world.gp_a.email not in response.content.decode()
    assert not AuditEvent.objects.filter(action=Action.AUDIT_SEARCHED).exists()


def test_anonymous_visitor_is_sent_to_login_from_the_audit_search(
    client: Client, logged_events: dict[str, AuditEvent]
) -> None:
    response = client.get(reverse("audit:search"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_search_lists_every_event_that_matched_when_it_ran(client: Client, world: World) -> None:
    earlier = [
        record(Action.LOGIN_SUCCEEDED, by=Actor(user=world.gp_a), organisation=world.clinic_a),
        record(Action.LOGOUT, by=Actor(user=world.gp_a), organisation=world.clinic_a),
        record(Action.LOGIN_SUCCEEDED, by=Actor(user=world.derm_x), organisation=world.unit_x),
    ]
    login(client, world.region_admin)
    today = timezone.localdate().isoformat()

    client.post(reverse("audit:search"), {"date_from": today})
    response = client.get(reverse("audit:search"))

    page = response.context["page"]
    assert page.paginator.count == len(earlier)
    assert {event.pk for event in page.object_list} == {event.pk for event in earlier}
